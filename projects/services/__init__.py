"""Service layer of the projects app: one module per concern; views and tasks stay thin."""
