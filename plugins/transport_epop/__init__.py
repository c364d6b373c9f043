"""lotas plugin transport_epop (being built: registers nothing yet)."""

__version__ = "0.1.0"
