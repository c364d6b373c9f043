"""A site rule whose excludes returns a list of identifiers instead of a boolean mask."""
from lotas_core import EligibilityRule, hookimpl


class Minor(EligibilityRule):
    id = "minor"
    label_fr = "mineurs"
    order = 45

    def excludes(self, facts):
        return ["0099887766"]


@hookimpl
def lotas_eligibility_rules(campaign):
    return [Minor()]
