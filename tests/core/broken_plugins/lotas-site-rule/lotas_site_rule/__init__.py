"""A correct site rule, installed after a draw was made (the provenance tests): it excludes the
patients with fewer than four consultations."""
from lotas_core import EligibilityRule, hookimpl


class Minor(EligibilityRule):
    id = "minor"
    label_fr = "exclusion locale"
    order = 45

    def excludes(self, facts):
        return facts["consultations"] < 4


@hookimpl
def lotas_eligibility_rules(campaign):
    return [Minor()]
