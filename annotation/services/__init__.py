"""Annotation services: sampling plans, assignments, saving codes, codebook, progress, access."""
