"""Safety Net Monitor: cross-checks social-assistance rolls against other departments' data."""

__version__ = "0.1.0"
