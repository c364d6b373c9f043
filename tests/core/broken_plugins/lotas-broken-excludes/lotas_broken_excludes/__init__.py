"""A site rule whose excludes raises."""
from lotas_core import EligibilityRule, hookimpl


class Minor(EligibilityRule):
    id = "minor"
    label_fr = "mineurs"
    order = 45

    def excludes(self, facts):
        raise ValueError("IPP 0099887766, mot de passe Tr0ub4dor&3")


@hookimpl
def lotas_eligibility_rules(campaign):
    return [Minor()]
