"""Selectors: read-only queries and probes."""
