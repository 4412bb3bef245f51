"""safetynet.warehouse."""
