"""Raises in lotas_eligibility_rules."""
from lotas_core import hookimpl


@hookimpl
def lotas_eligibility_rules(campaign):
    raise KeyError("IPP 0099887766, mot de passe Tr0ub4dor&3")
