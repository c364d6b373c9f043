"""What plugins give the core is checked where it enters: the wrong shape is refused by name.

Each check returns the value the core will use, or raises ``PluginFault.invalid`` naming the
plugin; messages name types and sizes, never a value (a value may hold patient data).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from lotas_core.plugin_host.boundary import PluginFault, PluginOrigin, type_name
from lotas_core.reading.records import RecordSource
from lotas_core.selection.campaign import Campaign, EligibilityRule, SampleSizes
from lotas_core.transmission.contract import (
    FORM_FIELDS,
    FORM_PASSWORDS,
    FormConverter,
    ManualForm,
    Receipt,
    Transport,
)

if TYPE_CHECKING:
    import pandas as pd


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def campaign(origin: PluginOrigin, item: object) -> Campaign:
    if not isinstance(item, Campaign):
        raise PluginFault.invalid(origin, "lotas_register_campaigns",
                                  f"enregistre un objet {type_name(item)}, pas une Campaign")
    if not _text(getattr(item, "id", None)):
        raise PluginFault.invalid(origin, "lotas_register_campaigns",
                                  "enregistre une campagne sans identifiant (id)")
    return item


def record_source(origin: PluginOrigin, item: object) -> RecordSource:
    if not isinstance(item, RecordSource):
        raise PluginFault.invalid(origin, "lotas_register_record_sources",
                                  f"enregistre un objet {type_name(item)}, pas une RecordSource")
    if not _text(getattr(item, "id", None)):
        raise PluginFault.invalid(origin, "lotas_register_record_sources",
                                  "enregistre une source sans identifiant (id)")
    return item


def transport_class(origin: PluginOrigin, item: object) -> type[Transport]:
    """A transport is a concrete ``Transport`` class with a name and a pydantic options model."""
    what = "lotas_register_transports"
    if not isinstance(item, type):
        raise PluginFault.invalid(
            origin, what, f"enregistre une instance de {type_name(item)} au lieu de la classe "
            "(register(MaClasse), sans parenthèses)")
    if not issubclass(item, Transport):
        raise PluginFault.invalid(
            origin, what, f"enregistre la classe {item.__name__}, qui n'est pas un Transport")
    if not _text(getattr(item, "name", None)):
        raise PluginFault.invalid(origin, what, f"enregistre {item.__name__} sans nom (name)")
    model = getattr(item, "options_model", None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise PluginFault.invalid(
            origin, what, f"enregistre {item.__name__} sans modèle d'options pydantic "
            "(options_model)")
    title = getattr(item, "title_fr", None)
    if title is not None and not isinstance(title, str):
        raise PluginFault.invalid(origin, what, f"enregistre {item.__name__} avec un title_fr "
                                  f"de type {type_name(title)}")
    if inspect.isabstract(item):
        missing = ", ".join(sorted(getattr(item, "__abstractmethods__", ())))
        raise PluginFault.invalid(origin, what,
                                  f"enregistre {item.__name__} sans les méthodes {missing}")
    problem = manual_form_problem(getattr(item, "manual_form", None), model)
    if problem:
        raise PluginFault.invalid(origin, what, f"enregistre {item.__name__} avec un manual_form "
                                  f"invalide ({problem})")
    return item


def manual_form_problem(form: object, model: type[BaseModel]) -> str:
    """What is wrong with a transport's ``manual_form`` (French; empty when it is usable)."""
    if form is None:
        return ""
    if not isinstance(form, ManualForm):
        return f"objet {type_name(form)} au lieu d'un ManualForm"
    if form.role not in FORM_FIELDS:
        return f"rôle inconnu, attendu : {', '.join(FORM_FIELDS)}"
    known = set(model.model_fields)
    if not isinstance(form.fields, Mapping) or not isinstance(form.password_keys, Mapping) \
            or not isinstance(form.converters, Mapping):
        return "fields, password_keys et converters doivent être des dictionnaires"
    for key, option in form.fields.items():
        if key not in FORM_FIELDS[form.role]:
            return f"champ du formulaire inconnu « {key} » pour le rôle {form.role}"
        if not isinstance(option, str) or option not in known:
            return f"le champ « {key} » ne renvoie à aucune option de options_model"
    for key, secret in form.password_keys.items():
        if key not in FORM_PASSWORDS[form.role] or not _text(secret):
            return f"mot de passe du formulaire inconnu « {key} » pour le rôle {form.role}"
    port = form.default_port
    if port is not None and not (_integer(port) and 1 <= port <= 65535):
        return "default_port doit être un entier de 1 à 65535"
    for option, converter in form.converters.items():
        if option not in form.fields.values():
            return f"convertisseur d'une option absente du formulaire « {option} »"
        if not (isinstance(converter, FormConverter) and callable(converter.to_form)
                and callable(converter.from_form)
                and (converter.hint_fr is None or callable(converter.hint_fr))):
            return f"convertisseur de « {option} » qui n'est pas un FormConverter de fonctions"
    return ""


def rules(origin: PluginOrigin, result: object) -> list[EligibilityRule]:
    """The result of ``lotas_eligibility_rules``: ``None`` or a list of ``EligibilityRule``."""
    what = "lotas_eligibility_rules"
    if result is None:
        return []
    if not isinstance(result, list | tuple):
        raise PluginFault.invalid(
            origin, what, f"renvoie un objet {type_name(result)} au lieu d'une liste de règles")
    found = []
    for item in result:
        if not isinstance(item, EligibilityRule):
            raise PluginFault.invalid(
                origin, what, f"renvoie un objet {type_name(item)} dans sa liste, pas une "
                "EligibilityRule")
        if not _text(getattr(item, "id", None)):
            raise PluginFault.invalid(origin, what, "renvoie une règle sans identifiant (id)")
        if not isinstance(getattr(item, "label_fr", None), str):
            raise PluginFault.invalid(origin, what, f"renvoie la règle « {item.id} » sans "
                                      "libellé (label_fr)")
        if not _integer(getattr(item, "order", None)):
            raise PluginFault.invalid(origin, what, f"renvoie la règle « {item.id} » avec un "
                                      "ordre (order) qui n'est pas un entier")
        found.append(item)
    return found


def sample_sizes(origin: PluginOrigin, result: object) -> SampleSizes:
    if not isinstance(result, SampleSizes):
        raise PluginFault.invalid(origin, "lotas_sample_sizes",
                                  f"renvoie un objet {type_name(result)}, pas des SampleSizes")
    if not (_integer(result.main) and _integer(result.reserve)):
        raise PluginFault.invalid(origin, "lotas_sample_sizes",
                                  "renvoie des tailles qui ne sont pas des entiers")
    return result


def exclusion_mask(origin: PluginOrigin, rule_id: str, result: object,
                   facts: pd.DataFrame) -> pd.Series:
    """A rule's ``excludes``: a boolean mask (pandas or numpy) with one value per patient.

    A pandas Series is aligned on ``facts`` by its index, which must hold every patient; a missing
    answer (NA in a nullable boolean Series) does not exclude.
    """
    import numpy as np
    import pandas as pd

    what = f"la règle « {rule_id} » (excludes)"
    count = len(facts)
    if isinstance(result, pd.Series):
        if result.dtype == "boolean" or (result.dtype == object and all(
                isinstance(value, bool | np.bool_) for value in result.dropna())):
            result = result.fillna(False).astype(bool)  # a missing answer does not exclude
        if result.dtype != bool:
            raise PluginFault.invalid(
                origin, what, f"renvoie une série de type {result.dtype}, pas un masque booléen")
        if len(result) != count or not result.index.is_unique:
            raise PluginFault.invalid(
                origin, what, f"renvoie {len(result)} valeurs pour {count} patients")
        if result.index.equals(facts.index):
            return result
        if not facts.index.isin(result.index).all():
            raise PluginFault.invalid(origin, what, "renvoie une série qui n'est pas indexée "
                                      "comme les patients")
        return result.reindex(facts.index)
    if isinstance(result, np.ndarray):
        if result.dtype == bool and result.ndim == 1 and len(result) != count:
            raise PluginFault.invalid(
                origin, what, f"renvoie {len(result)} valeurs pour {count} patients")
        if result.dtype != bool or result.shape != (count,):
            raise PluginFault.invalid(
                origin, what, f"renvoie un tableau {result.dtype} de forme {result.shape}, pas "
                f"un masque booléen de {count} valeurs")
        return pd.Series(result, index=facts.index)
    raise PluginFault.invalid(
        origin, what,
        f"renvoie un objet {type_name(result)}, pas un masque booléen (pandas ou numpy)")


def check_text(origin: PluginOrigin, name: str, result: object) -> str:
    if not isinstance(result, str):
        raise PluginFault.invalid(origin, f"check() du transport « {name} »",
                                  f"renvoie un objet {type_name(result)} au lieu d'un texte")
    return result


def receipt(origin: PluginOrigin, name: str, result: object) -> Receipt:
    if not isinstance(result, Receipt):
        raise PluginFault.invalid(
            origin, f"send() du transport « {name} »",
            f"renvoie un objet {type_name(result)} au lieu d'un Receipt ; l'envoi a pu avoir lieu "
            "mais aucun accusé de réception n'est enregistré")
    return result


def of_type(origin: PluginOrigin, what: str, result: Any, expected: type, label_fr: str) -> Any:
    """Any other result whose type is all the core needs (tables, records)."""
    if not isinstance(result, expected):
        raise PluginFault.invalid(origin, what,
                                  f"renvoie un objet {type_name(result)} au lieu d'un {label_fr}")
    return result
