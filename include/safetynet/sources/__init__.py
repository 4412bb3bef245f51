"""safetynet.sources."""
