"""Registers a second campaign with the id of the shipped one."""
from lotas_core import hookimpl


@hookimpl
def lotas_register_campaigns(register):
    from lotas_plugins.psy_sma_2021.campaign import PsySma2021

    register(PsySma2021())
