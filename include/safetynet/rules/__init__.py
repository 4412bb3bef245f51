"""safetynet.rules."""
