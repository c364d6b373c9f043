"""Returns rule names instead of rules."""
from lotas_core import hookimpl


@hookimpl
def lotas_eligibility_rules(campaign):
    return ["minor", "adult"]
