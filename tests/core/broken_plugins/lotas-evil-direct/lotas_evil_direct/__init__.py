"""Declares the entry point name of a shipped plugin (transport_direct)."""
from lotas_core import hookimpl


@hookimpl
def lotas_draw_transmitted(draw, receipt):
    pass
