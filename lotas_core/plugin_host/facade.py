"""The one typed door through which the CLI and the UI reach plugins (tox's ``Plugin`` class).

It is the only place that calls ``pm.hook.*``, always with keywords, and it validates what the
plugins register (types, unique ids).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from lotas_core.errors import PluginError, UsageError
from lotas_core.plugin_host.manager import PluginInfo, describe_plugins, get_plugin_manager
from lotas_core.reading.records import RecordSource
from lotas_core.selection.campaign import Campaign, EligibilityRule, SampleSizes
from lotas_core.selection.columns import RowLayout
from lotas_core.transmission.contract import Receipt, Transport

if TYPE_CHECKING:
    from lotas_core.settings import Settings

T = TypeVar("T")


class Lotas:
    """Typed access to what the plugins provide."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        #: The plugin that added each command (``register_commands``).
        self.command_owners: dict[str, str] = {}

    @classmethod
    def from_settings(cls, settings: Any = None, **kwargs: Any) -> Lotas:
        """Build the plugin manager from the entry points, honouring ``disabled_plugins``."""
        disabled = getattr(settings, "disabled_plugins", ()) if settings is not None else ()
        return cls(get_plugin_manager(disabled, **kwargs))

    # -- registries ---------------------------------------------------------------------------

    def _collect(self, hook_name: str, kind: type, key: Callable[[Any], str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        owners: dict[str, str] = {}
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():
            owner = impl.plugin_name

            def register(item: Any, _owner: str = owner) -> None:
                is_class = isinstance(item, type)
                ok = issubclass(item, kind) if is_class and kind is Transport else isinstance(
                    item, kind
                )
                if not ok:
                    raise PluginError(
                        _owner,
                        f"Le plugin « {_owner} » enregistre {item!r}, qui n'est pas un "
                        f"{kind.__name__}.",
                        f"plugin {_owner!r} registered {item!r}, not a {kind.__name__}",
                    )
                ident = key(item)
                if ident in found:
                    raise PluginError(
                        _owner,
                        f"Identifiant « {ident} » en double : déclaré par « {owners[ident]} » et "
                        f"par « {_owner} ». Désactivez l'un des deux plugins.",
                        f"duplicate id {ident!r} registered by {owners[ident]!r} and {_owner!r}",
                    )
                found[ident] = item
                owners[ident] = _owner

            impl.function(register=register)
        return found

    @cached_property
    def _campaigns(self) -> dict[str, Campaign]:
        return self._collect("lotas_register_campaigns", Campaign, lambda c: c.id)

    @cached_property
    def _record_sources(self) -> dict[str, RecordSource]:
        return self._collect("lotas_register_record_sources", RecordSource, lambda s: s.id)

    @cached_property
    def _transports(self) -> dict[str, type[Transport]]:
        return self._collect("lotas_register_transports", Transport, lambda t: t.name)

    def campaigns(self) -> dict[str, Campaign]:
        """Every registered campaign by id."""
        return dict(self._campaigns)

    def campaign(self, campaign_id: str) -> Campaign:
        """One campaign; a clear error when it is unknown."""
        return _lookup(self._campaigns, campaign_id, "campagne", "campaign")

    def row_layout(self, campaign_id: str, rows: Iterable[Mapping[str, Any]] = ()) -> RowLayout:
        """The columns of a campaign's drawn rows; for a campaign that is no longer installed,
        guessed from ``rows`` (its old draws still show and export, as text)."""
        campaign = self._campaigns.get(campaign_id)
        if campaign is None:
            return RowLayout.from_rows(rows)
        return campaign.row_layout()

    def archive_folder(self, settings: Settings, campaign_id: str | None = None) -> Path:
        """Where archives are looked for: the chosen folder, else the recommended one
        (``<data_dir>/archives/<the campaign's sub-folder>``)."""
        campaign = self.campaign(campaign_id or settings.campaign)
        return settings.archive_folder_for(campaign.archive_folder_name())

    def record_sources(self) -> dict[str, RecordSource]:
        """Every registered record source by id."""
        return dict(self._record_sources)

    def record_source(self, source_id: str) -> RecordSource:
        return _lookup(self._record_sources, source_id, "source de données", "record source")

    def transports(self) -> dict[str, type[Transport]]:
        """Every registered transport class by name."""
        return dict(self._transports)

    def transport_class(self, name: str) -> type[Transport]:
        return _lookup(self._transports, name, "transport", "transport")

    # -- hooks with results -------------------------------------------------------------------

    def eligibility_rules(self, campaign: Campaign) -> list[EligibilityRule]:
        """All plugins' rules for ``campaign``, sorted by ``order`` (stable)."""
        rules: list[EligibilityRule] = []
        # pluggy calls the last registered first; reverse to get registration order.
        for result in reversed(self.pm.hook.lotas_eligibility_rules(campaign=campaign)):
            rules.extend(result or [])
        ids = [rule.id for rule in rules]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise PluginError(
                ",".join(sorted(dupes)),
                f"Règles d'éligibilité en double : {', '.join(sorted(dupes))}.",
                f"duplicate eligibility rule ids {sorted(dupes)}",
            )
        return sorted(rules, key=lambda rule: rule.order)

    def sample_sizes(self, campaign: Campaign, eligible_count: int) -> SampleSizes:
        """The sizes to draw for ``campaign`` given ``eligible_count`` eligible patients."""
        sizes = self.pm.hook.lotas_sample_sizes(campaign=campaign, eligible_count=eligible_count)
        if not isinstance(sizes, SampleSizes):
            raise PluginError("lotas_sample_sizes", "Tailles d'échantillon invalides.",
                              f"lotas_sample_sizes returned {sizes!r}")
        if sizes.total > eligible_count:
            raise PluginError(
                "lotas_sample_sizes",
                f"Tailles d'échantillon {sizes.main} + {sizes.reserve} supérieures au nombre de "
                f"patients éligibles ({eligible_count}).",
                f"sample sizes {sizes} exceed eligible count {eligible_count}",
            )
        return sizes

    def funnel_labels(self, campaign_id: str) -> dict[str, str]:
        """The French labels of a campaign's funnel steps, in reading order.

        Empty for a campaign that is no longer installed: its old draws still show, with keys.
        """
        campaign = self._campaigns.get(campaign_id)
        if campaign is None:
            return {}
        return campaign.funnel_labels(self.eligibility_rules(campaign))

    def register_commands(self, subparsers: argparse._SubParsersAction) -> None:
        """Let every plugin add its commands, in registration order; a name taken twice is
        refused with an error naming both owners."""
        # get_hookimpls() lists the first registered first (pluggy calls them in reverse)
        for impl in self.pm.hook.lotas_register_commands.get_hookimpls():
            known = set(subparsers.choices)
            try:
                impl.function(subparsers=subparsers)
            except argparse.ArgumentError as exc:
                name = str(exc.message).rsplit(": ", 1)[-1]  # "conflicting subparser: NAME"
                owner = self.command_owners.get(name, "lotas")
                raise PluginError(
                    impl.plugin_name,
                    f"Le plugin « {impl.plugin_name} » ajoute la commande « {name} », qui existe "
                    f"déjà (« {owner} ») : désactivez l'un des deux (disabled_plugins).",
                    f"plugin {impl.plugin_name!r} adds command {name!r}, already from {owner!r}",
                ) from None
            for name in set(subparsers.choices) - known:
                self.command_owners[name] = impl.plugin_name

    def draw_transmitted(self, draw: object, receipt: Receipt) -> None:
        """Tell every plugin that ``draw`` was transmitted."""
        self.pm.hook.lotas_draw_transmitted(draw=draw, receipt=receipt)

    def plugins(self) -> list[PluginInfo]:
        """The loaded plugins, their versions and hooks."""
        return describe_plugins(self.pm)


def _lookup(registry: dict[str, T], key: str, what_fr: str, what_en: str) -> T:
    try:
        return registry[key]
    except KeyError:
        known = ", ".join(sorted(registry)) or "aucun"
        raise UsageError(
            f"{what_fr.capitalize()} inconnu(e) : « {key} ». Disponibles : {known}.",
            f"unknown {what_en} {key!r}; known: {known}",
        ) from None


