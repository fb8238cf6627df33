"""Shipped reference data files."""
