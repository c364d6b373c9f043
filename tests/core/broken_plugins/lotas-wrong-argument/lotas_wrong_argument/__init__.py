"""A hook with a misspelt argument name."""
from lotas_core import hookimpl


@hookimpl
def lotas_eligibility_rules(campain):
    return None
