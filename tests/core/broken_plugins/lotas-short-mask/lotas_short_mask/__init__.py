"""A site rule whose boolean mask is one value short."""
import numpy as np

from lotas_core import EligibilityRule, hookimpl


class Minor(EligibilityRule):
    id = "minor"
    label_fr = "mineurs"
    order = 45

    def excludes(self, facts):
        return np.zeros(len(facts) - 1, dtype=bool)


@hookimpl
def lotas_eligibility_rules(campaign):
    return [Minor()]
