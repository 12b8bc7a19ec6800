"""Models arrive with the platform issues."""
