"""Raises in lotas_register_campaigns, with a patient identifier and a password in its message."""
from lotas_core import hookimpl


@hookimpl
def lotas_register_campaigns(register):
    raise RuntimeError("IPP 0099887766, mot de passe Tr0ub4dor&3")
