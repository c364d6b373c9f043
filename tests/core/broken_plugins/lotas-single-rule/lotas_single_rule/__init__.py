"""Returns one rule instead of a list of rules."""
from lotas_core import EligibilityRule, hookimpl


class Minor(EligibilityRule):
    id = "minor"
    label_fr = "mineurs"
    order = 45

    def excludes(self, facts):
        return facts.index.isna()


@hookimpl
def lotas_eligibility_rules(campaign):
    return Minor()
