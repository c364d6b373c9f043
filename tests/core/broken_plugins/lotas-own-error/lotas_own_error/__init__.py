"""A rule plugin that stops with its own LotasError: its message is for the user."""
from lotas_core import UsageError, hookimpl


@hookimpl
def lotas_eligibility_rules(campaign):
    raise UsageError("Fichier des exclusions locales introuvable : /etc/lotas/exclusions.csv.")
