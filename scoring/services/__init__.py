"""Scoring services: codes → consistency and reliability → comparison table → exports."""
