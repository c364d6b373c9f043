"""lotas plugin psy_sma_2021 (being built: registers nothing yet)."""

__version__ = "0.1.0"
