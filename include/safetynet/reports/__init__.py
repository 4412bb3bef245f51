"""safetynet.reports."""
