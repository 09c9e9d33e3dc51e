"""The single source of smnb's version."""

__version__ = "0.1.0"
