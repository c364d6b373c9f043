"""Which code made a draw: lotas's version, the campaign and its parameters, the rules applied
(each with its plugin) and the plugins loaded. Recorded in the history entry (so hashed and
covered by ``history --check``), shown by the procès-verbal and ``history --format json``, and
compared first by ``verify``: a site rule added since the draw is named in one line, instead of
hundreds of row differences.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from lotas_core.draws.history_entry import canonical_json
from lotas_core.plugin_host.boundary import call_plugin

if TYPE_CHECKING:
    from lotas_core.plugin_host.facade import Lotas
    from lotas_core.selection.campaign import Campaign

#: Version of the provenance block, recorded in it.
PROVENANCE_FORMAT = 1


def _jsonable(value: Any) -> Any:
    """A parameter value as canonical JSON data: sets sorted, dates in ISO form, models dumped."""
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return _jsonable(value.model_dump())
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((_jsonable(item) for item in value), key=lambda item: canonical_json(item))
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _jsonable(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def _campaign_parameters(campaign: Campaign) -> Any:
    """The campaign's parameters: its ``parameters()`` if it has one, else its ``params`` model,
    else what every campaign declares (id, year, period, source, sizes, columns)."""
    getter = getattr(campaign, "parameters", None)
    value = getter() if callable(getter) else getattr(campaign, "params", None)
    if value is None:
        sizes = campaign.default_sizes
        value = {
            "id": campaign.id, "title": campaign.title, "year": campaign.year,
            "period_month": campaign.period_month, "record_source": campaign.record_source,
            "default_sizes": {"main": sizes.main, "reserve": sizes.reserve},
            "columns": [column.name for column in getattr(campaign, "patient_columns", ())],
        }
    return _jsonable(value)


def parameters_digest(parameters: Any) -> str:
    return hashlib.sha256(canonical_json(parameters)).hexdigest()


def draw_provenance(lotas: Lotas, campaign: Campaign) -> dict[str, Any]:
    """The provenance block of a draw of ``campaign`` made now."""
    from lotas_core import __version__

    origin = lotas.origin_of(campaign)
    parameters = call_plugin(origin, f"parameters (campagne « {campaign.id} »)",
                             _campaign_parameters, campaign)
    return {
        "format": PROVENANCE_FORMAT,
        "lotas_version": __version__,
        "campaign": {
            "id": campaign.id,
            "plugin": origin.plugin,
            "distribution": origin.distribution,
            "version": origin.version,
            "parameters": parameters,
            "parameters_sha256": parameters_digest(parameters),
        },
        "rules": [
            {"id": item.rule.id, "order": item.rule.order, "plugin": item.origin.plugin,
             "distribution": item.origin.distribution, "version": item.origin.version}
            for item in lotas.applied_rules(campaign)
        ],
        "plugins": [
            {"name": info.name, "distribution": info.distribution, "version": info.version}
            for info in lotas.plugins()
        ],
    }


# -- comparison (verify) ---------------------------------------------------------------------


@dataclass
class ProvenanceComparison:
    """What differs between a draw's recorded provenance and the code installed now."""

    #: One French line when rules or parameters differ (the draw cannot be redone as it was).
    blocking: str = ""
    #: French lines about versions that changed (the draw may still be reproduced).
    notes: list[str] = field(default_factory=list)


def _who(item: Mapping[str, Any]) -> str:
    name = item.get("distribution") or item.get("plugin") or item.get("name") or "?"
    version = item.get("version")
    return f"{name} {version}" if version else str(name)


def compare(recorded: Mapping[str, Any] | None, now: Mapping[str, Any]) -> ProvenanceComparison:
    """Compare the recorded provenance of a draw with ``now``'s (``draw_provenance``)."""
    result = ProvenanceComparison()
    if not recorded:
        result.notes.append(
            "tirage enregistré sans sa provenance (version antérieure de lotas) : règles et "
            "paramètres non comparés."
        )
        return result
    parts = []
    rules = _rule_changes(recorded.get("rules") or [], now.get("rules") or [])
    if rules:
        parts.append("règles différentes depuis le tirage : " + ", ".join(rules))
    old_campaign, new_campaign = recorded.get("campaign") or {}, now.get("campaign") or {}
    if old_campaign.get("parameters_sha256") != new_campaign.get("parameters_sha256"):
        names = _changed_keys(old_campaign.get("parameters"), new_campaign.get("parameters"))
        shown = f" ({', '.join(names)})" if names else ""
        parts.append(f"paramètres de la campagne différents depuis le tirage{shown}")
    result.blocking = " ; ".join(parts)
    result.notes += _version_notes(recorded, now, old_campaign, new_campaign)
    return result


def _rule_changes(old: list[Mapping[str, Any]], new: list[Mapping[str, Any]]) -> list[str]:
    before = {str(rule.get("id")): rule for rule in old}
    after = {str(rule.get("id")): rule for rule in new}
    changes = [f"+ {rule_id} ({_who(after[rule_id])})" for rule_id in after
               if rule_id not in before]
    changes += [f"- {rule_id} ({_who(before[rule_id])})" for rule_id in before
                if rule_id not in after]
    for rule_id, rule in after.items():
        previous = before.get(rule_id)
        if previous is None:
            continue
        if (previous.get("plugin"), previous.get("distribution")) != (
                rule.get("plugin"), rule.get("distribution")):
            changes.append(f"~ {rule_id} ({_who(previous)} → {_who(rule)})")
        elif previous.get("order") != rule.get("order"):
            changes.append(f"~ {rule_id} (ordre {previous.get('order')} → {rule.get('order')})")
    return changes


def _changed_keys(old: Any, new: Any) -> list[str]:
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return []
    return sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))


def _version_notes(recorded: Mapping[str, Any], now: Mapping[str, Any],
                   old_campaign: Mapping[str, Any], new_campaign: Mapping[str, Any]) -> list[str]:
    notes = []
    if recorded.get("lotas_version") != now.get("lotas_version"):
        notes.append(f"tirage fait avec lotas {recorded.get('lotas_version')}, vérifié avec "
                     f"lotas {now.get('lotas_version')}.")
    if _who(old_campaign) != _who(new_campaign):
        notes.append(f"campagne {new_campaign.get('id')} : {_who(old_campaign)} au tirage, "
                     f"{_who(new_campaign)} maintenant.")
    before = {str(p.get("name")): p for p in recorded.get("plugins") or []}
    after = {str(p.get("name")): p for p in now.get("plugins") or []}
    changed = [f"+ {name} ({_who(after[name])})" for name in after if name not in before]
    changed += [f"- {name} ({_who(before[name])})" for name in before if name not in after]
    changed += [f"{name} {before[name].get('version')} → {after[name].get('version')}"
                for name in after if name in before
                and before[name].get("version") != after[name].get("version")]
    if changed:
        notes.append("plugins différents depuis le tirage : " + ", ".join(changed) + ".")
    return notes
