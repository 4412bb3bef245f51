"""safetynet.validation."""
