"""lotas plugin transport_direct (being built: registers nothing yet)."""

__version__ = "0.1.0"
