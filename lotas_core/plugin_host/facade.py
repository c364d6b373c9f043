"""The one typed door through which the CLI and the UI reach plugins (tox's ``Plugin`` class).

It is the only place that calls into plugin code: the hooks (one implementation at a time, so a
failure names its plugin) and the methods of what plugins register (a campaign's facts and rows,
a record source's ``read``, a rule's ``excludes``, a transport's constructor, ``check``, ``send``).
Each call is a fault boundary (``boundary.call_plugin``) and each result is checked where it
enters the core (``checks``).
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from lotas_core.errors import LotasError, PluginError, UsageError
from lotas_core.plugin_host import checks
from lotas_core.plugin_host.boundary import PluginFault, PluginOrigin, call_plugin
from lotas_core.plugin_host.manager import (
    FaultHandler,
    LotasPluginManager,
    PluginInfo,
    describe_plugins,
    get_plugin_manager,
)
from lotas_core.reading.records import ProgressCallback, Records, RecordSource
from lotas_core.selection.campaign import Campaign, EligibilityRule, SampleSizes
from lotas_core.selection.columns import RowLayout
from lotas_core.transmission import manual_form
from lotas_core.transmission.contract import (
    DeliveryStatus,
    ManualForm,
    Payload,
    Receipt,
    Transport,
)

if TYPE_CHECKING:
    import pandas as pd
    from pydantic import BaseModel

    from lotas_core.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class AppliedRule:
    """An eligibility rule and the plugin that gave it (recorded with each draw)."""

    rule: EligibilityRule
    origin: PluginOrigin


class Lotas:
    """Typed access to what the plugins provide."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        #: The plugin that added each command (``register_commands``).
        self.command_owners: dict[str, str] = {}
        #: The plugin behind each registered object, by ``id()`` (the registries keep them alive).
        self._owners: dict[int, PluginOrigin] = {}
        self._rules: dict[str, list[AppliedRule]] = {}

    @classmethod
    def from_settings(cls, settings: Any = None, **kwargs: Any) -> Lotas:
        """Build the plugin manager from the entry points, honouring ``disabled_plugins``."""
        disabled = getattr(settings, "disabled_plugins", ()) if settings is not None else ()
        return cls(get_plugin_manager(disabled, **kwargs))

    @classmethod
    def without_broken_plugins(cls, settings: Any = None,
                               **kwargs: Any) -> tuple[Lotas, list[PluginError]]:
        """Like ``from_settings``, but a plugin that fails is left out instead of stopping lotas.

        For the screen: it starts with what works and names what was left out. Every hook that
        registers something is tried once at start, so a plugin failing there is found now.
        """
        faults: list[PluginError] = []
        disabled = getattr(settings, "disabled_plugins", ()) if settings is not None else ()
        pm = get_plugin_manager(disabled, on_fault=faults.append, **kwargs)
        names = [name for name, _plugin in pm.list_name_plugin()]
        for _attempt in range(len(names) + 1):
            lotas = cls(pm)
            try:
                lotas.load_all()
                return lotas, faults
            except PluginError as error:
                faults.append(error)
                if pm.get_plugin(error.plugin) is None or not isinstance(pm, LotasPluginManager):
                    raise
                pm.block(error.plugin)
        raise faults[-1]  # pragma: no cover - each attempt removes one plugin

    def load_all(self) -> None:
        """Run every registering hook now (and every campaign's rules) to find a broken plugin."""
        for campaign in self.campaigns().values():
            self.eligibility_rules(campaign)
        self.record_sources()
        self.transports()

    # -- origins --------------------------------------------------------------------------------

    def origin(self, plugin_name: str) -> PluginOrigin:
        """Where the plugin registered as ``plugin_name`` comes from."""
        if isinstance(self.pm, LotasPluginManager):
            return self.pm.origin(plugin_name)
        return PluginOrigin(plugin_name)

    def origin_of(self, item: object) -> PluginOrigin:
        """The plugin that registered ``item`` (a campaign, source, rule, transport or instance)."""
        for candidate in (item, type(item)):
            found = self._owners.get(id(candidate))
            if found is not None:
                return found
        kind = item if isinstance(item, type) else type(item)
        return PluginOrigin(kind.__module__.split(".")[0] if kind.__module__ else "?")

    def _impls(self, hook_name: str,
               call_order: bool = False) -> Iterator[tuple[Any, PluginOrigin]]:
        """The implementations of a hook with their origins: registration order, or pluggy's
        call order (tryfirst first, trylast last) when the first result wins."""
        impls = getattr(self.pm.hook, hook_name).get_hookimpls()
        for impl in reversed(impls) if call_order else impls:
            yield impl, self.origin(impl.plugin_name)

    @staticmethod
    def _call_impl(impl: Any, origin: PluginOrigin, hook_name: str, **kwargs: Any) -> Any:
        args = [kwargs[name] for name in impl.argnames]
        return call_plugin(origin, hook_name, impl.function, *args)

    # -- registries ---------------------------------------------------------------------------

    def _collect(self, hook_name: str, check: Callable[[PluginOrigin, Any], T],
                 key: Callable[[T], str]) -> dict[str, T]:
        found: dict[str, T] = {}
        owners: dict[str, PluginOrigin] = {}
        for impl, origin in self._impls(hook_name):

            def register(item: Any, _origin: PluginOrigin = origin) -> None:
                checked = check(_origin, item)
                ident = key(checked)
                if ident in found:
                    first = owners[ident]
                    raise PluginFault(
                        _newcomer(first, _origin),
                        f"Identifiant « {ident} » en double : déclaré par le plugin "
                        f"{first.describe_fr()} et par le plugin {_origin.describe_fr()}. "
                        "Désactivez l'un des deux plugins.",
                        f"duplicate id {ident!r} registered by {first.plugin!r} and "
                        f"{_origin.plugin!r}",
                    )
                found[ident] = checked
                owners[ident] = _origin
                self._owners[id(checked)] = _origin

            self._call_impl(impl, origin, hook_name, register=register)
        return found

    @cached_property
    def _campaigns(self) -> dict[str, Campaign]:
        return self._collect("lotas_register_campaigns", checks.campaign, lambda c: c.id)

    @cached_property
    def _record_sources(self) -> dict[str, RecordSource]:
        return self._collect("lotas_register_record_sources", checks.record_source,
                             lambda s: s.id)

    @cached_property
    def _transports(self) -> dict[str, type[Transport]]:
        return self._collect("lotas_register_transports", checks.transport_class,
                             lambda t: t.name)

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
        origin = self.origin_of(campaign)
        what = f"row_layout (campagne « {campaign_id} »)"
        layout = call_plugin(origin, what, campaign.row_layout)
        return checks.of_type(origin, what, layout, RowLayout, "RowLayout")

    def archive_folder(self, settings: Settings, campaign_id: str | None = None) -> Path:
        """Where archives are looked for: the chosen folder, else the recommended one
        (``<data_dir>/archives/<the campaign's sub-folder>``)."""
        campaign = self.campaign(campaign_id or settings.campaign)
        origin = self.origin_of(campaign)
        what = f"archive_folder_name (campagne « {campaign.id} »)"
        name = call_plugin(origin, what, campaign.archive_folder_name)
        if not isinstance(name, str) or not name.strip():
            raise PluginFault.invalid(origin, what, "ne renvoie pas un nom de dossier")
        return settings.archive_folder_for(name)

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

    def applied_rules(self, campaign: Campaign) -> list[AppliedRule]:
        """All plugins' rules for ``campaign`` with their plugins, sorted by ``order`` (stable).

        Asked once per campaign: the rules a draw applied are the rules it records.
        """
        cached = self._rules.get(campaign.id)
        if cached is not None:
            return list(cached)
        applied: list[AppliedRule] = []
        seen: dict[str, PluginOrigin] = {}
        for impl, origin in self._impls("lotas_eligibility_rules"):
            result = self._call_impl(impl, origin, "lotas_eligibility_rules", campaign=campaign)
            for rule in checks.rules(origin, result):
                first = seen.get(rule.id)
                if first is not None:
                    raise PluginFault(
                        _newcomer(first, origin),
                        f"Règle d'éligibilité « {rule.id} » en double : donnée par le plugin "
                        f"{first.describe_fr()} et par le plugin {origin.describe_fr()}. "
                        "Désactivez l'un des deux plugins.",
                        f"duplicate eligibility rule id {rule.id!r} from {first.plugin!r} and "
                        f"{origin.plugin!r}",
                    )
                seen[rule.id] = origin
                self._owners[id(rule)] = origin
                applied.append(AppliedRule(rule, origin))
        applied.sort(key=lambda item: item.rule.order)
        self._rules[campaign.id] = applied
        return list(applied)

    def eligibility_rules(self, campaign: Campaign) -> list[EligibilityRule]:
        """All plugins' rules for ``campaign``, sorted by ``order`` (stable)."""
        return [item.rule for item in self.applied_rules(campaign)]

    def sample_sizes(self, campaign: Campaign, eligible_count: int) -> SampleSizes:
        """The sizes to draw for ``campaign`` given ``eligible_count`` eligible patients."""
        for impl, origin in self._impls("lotas_sample_sizes", call_order=True):
            result = self._call_impl(impl, origin, "lotas_sample_sizes", campaign=campaign,
                                     eligible_count=eligible_count)
            if result is None:
                continue
            sizes = checks.sample_sizes(origin, result)
            if sizes.total > eligible_count:
                raise PluginFault.invalid(
                    origin, "lotas_sample_sizes",
                    f"demande {sizes.main} + {sizes.reserve} patients, supérieures au nombre de "
                    f"patients éligibles ({eligible_count})",
                )
            return sizes
        raise UsageError("Aucun plugin ne donne les tailles d'échantillon.",
                         "no lotas_sample_sizes result")  # pragma: no cover - core default

    def funnel_labels(self, campaign_id: str) -> dict[str, str]:
        """The French labels of a campaign's funnel steps, in reading order.

        Empty for a campaign that is no longer installed: its old draws still show, with keys.
        """
        campaign = self._campaigns.get(campaign_id)
        if campaign is None:
            return {}
        rules = self.eligibility_rules(campaign)
        origin = self.origin_of(campaign)
        labels = call_plugin(origin, f"funnel_labels (campagne « {campaign_id} »)",
                             campaign.funnel_labels, rules)
        if not isinstance(labels, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
        ):
            raise PluginFault.invalid(origin, f"funnel_labels (campagne « {campaign_id} »)",
                                      "ne renvoie pas un dictionnaire de textes")
        return labels

    def register_commands(self, subparsers: argparse._SubParsersAction) -> None:
        """Let every plugin add its commands, in registration order; a name taken twice is
        refused with an error naming both owners. A plugin's command runs at the fault boundary
        like any other plugin code."""
        for impl, origin in self._impls("lotas_register_commands"):
            known = set(subparsers.choices)

            def add(_impl: Any = impl) -> argparse.ArgumentError | None:
                try:
                    _impl.function(subparsers=subparsers)
                except argparse.ArgumentError as exc:
                    return exc
                return None

            error = call_plugin(origin, "lotas_register_commands", add)
            if error is not None:
                name = str(error.message).rsplit(": ", 1)[-1]  # "conflicting subparser: NAME"
                owner = self.command_owners.get(name, "lotas")
                raise PluginFault(
                    origin,
                    f"Le plugin {origin.describe_fr()} ajoute la commande « {name} », qui existe "
                    f"déjà (« {owner} ») : désactivez l'un des deux (disabled_plugins).",
                    f"plugin {origin.plugin!r} adds command {name!r}, already from {owner!r}",
                )
            for name in set(subparsers.choices) - known:
                self.command_owners[name] = origin.plugin
                parser = subparsers.choices[name]
                run = parser.get_default("func")
                if callable(run):
                    parser.set_defaults(func=functools.partial(
                        call_plugin, origin, f"la commande « {name} »", run))

    def draw_transmitted(self, draw: object, receipt: Receipt) -> list[str]:
        """Tell every plugin that ``draw`` was transmitted; the French warnings of those that
        failed. A notification never changes the outcome: the receipt is already stored."""
        warnings = []
        for impl, origin in self._impls("lotas_draw_transmitted"):
            try:
                self._call_impl(impl, origin, "lotas_draw_transmitted", draw=draw,
                                receipt=receipt)
            except LotasError as exc:
                warnings.append(
                    f"transmission faite et accusé de réception enregistré, mais : "
                    f"{exc.user_message}"
                )
        return warnings

    def plugins(self) -> list[PluginInfo]:
        """The loaded plugins, their versions and hooks."""
        return describe_plugins(self.pm)

    # -- methods of registered objects --------------------------------------------------------

    def ask_campaign(self, campaign: Campaign, method: str, *args: Any,
                     returns: type | tuple[type, ...] = object,
                     passes: tuple[type[BaseException], ...] = (), **kwargs: Any) -> Any:
        """Call one of ``campaign``'s other methods (``key``, ``size_notice``...) at the fault
        boundary, and check the type of its result; ``passes`` are exceptions the caller
        handles."""
        origin = self.origin_of(campaign)
        what = f"{method} (campagne « {campaign.id} »)"
        result = call_plugin(origin, what, getattr(campaign, method), *args, passes=passes,
                             **kwargs)
        if not isinstance(result, returns):
            names = returns if isinstance(returns, tuple) else (returns,)
            raise PluginFault.invalid(
                origin, what, f"renvoie un objet {type(result).__name__} au lieu d'un "
                f"{' ou '.join(kind.__name__ for kind in names)}")
        return result

    def read_records(self, source: RecordSource, folder: Path, finess: str, campaign: Campaign,
                     progress: ProgressCallback | None = None) -> Records:
        origin = self.origin_of(source)
        what = f"read (source « {source.id} »)"
        records = call_plugin(origin, what, source.read, folder, finess, campaign, progress)
        return checks.of_type(origin, what, records, Records, "Records")

    def locate_archive(self, campaign_id: str, folder: Path, finess: str) -> Path | None:
        """The archive a draw of ``campaign_id`` would read in ``folder`` (``RecordSource.locate``;
        ``ArchiveError`` when there is none, ``None`` when the source cannot tell)."""
        campaign = self.campaign(campaign_id)
        source = self.record_source(campaign.record_source)
        origin = self.origin_of(source)
        what = f"locate (source « {source.id} »)"
        found = call_plugin(origin, what, source.locate, folder, finess)
        if found is not None and not isinstance(found, Path):
            raise PluginFault.invalid(origin, what, "ne renvoie pas un chemin")
        return found

    def patient_facts(self, campaign: Campaign, records: Records) -> pd.DataFrame:
        import pandas as pd

        origin = self.origin_of(campaign)
        what = f"patient_facts (campagne « {campaign.id} »)"
        facts = call_plugin(origin, what, campaign.patient_facts, records)
        return checks.of_type(origin, what, facts, pd.DataFrame, "DataFrame")

    def exclusions(self, rule: EligibilityRule, facts: pd.DataFrame) -> pd.Series:
        """The patients ``rule`` excludes: a boolean Series aligned on ``facts``."""
        origin = self.origin_of(rule)
        result = call_plugin(origin, f"la règle « {rule.id} » (excludes)", rule.excludes, facts)
        return checks.exclusion_mask(origin, rule.id, result, facts)

    def patient_rows(self, campaign: Campaign, records: Records, facts: pd.DataFrame,
                     eligible: pd.Index) -> pd.DataFrame:
        import pandas as pd

        origin = self.origin_of(campaign)
        what = f"patient_rows (campagne « {campaign.id} »)"
        rows = call_plugin(origin, what, campaign.patient_rows, records, facts, eligible)
        checks.of_type(origin, what, rows, pd.DataFrame, "DataFrame")
        wanted = [column.name for column in campaign.patient_columns]
        missing = [name for name in wanted if name not in rows.columns]
        if missing:
            raise PluginFault.invalid(
                origin, what, f"ne fournit pas les colonnes {', '.join(missing)} que la "
                "campagne déclare")
        return rows

    def validate_options(self, cls: type[Transport], raw: dict[str, Any]) -> BaseModel:
        """Validate a transport's options with its model; a ``ValidationError`` is the user's
        (bad settings), anything else the plugin's."""
        from pydantic import ValidationError

        def validate() -> Any:
            try:
                return cls.options_model.model_validate(raw)
            except ValidationError as exc:
                return exc

        result = call_plugin(self.origin_of(cls), f"options_model (transport « {cls.name} »)",
                             validate)
        if isinstance(result, ValidationError):
            raise result
        return result  # type: ignore[no-any-return]

    def new_transport(self, cls: type[Transport], options: BaseModel,
                      credentials: Any) -> Transport:
        origin = self.origin_of(cls)
        what = f"le constructeur du transport « {cls.name} »"
        transport = call_plugin(origin, what, cls, options, credentials)
        return checks.of_type(origin, what, transport, Transport, "Transport")

    def check_connection(self, transport: Transport) -> str:
        origin = self.origin_of(transport)
        result = call_plugin(origin, f"check() du transport « {transport.name} »",
                             transport.check)
        return checks.check_text(origin, transport.name, result)

    def send(self, transport: Transport, payload: Payload) -> Receipt:
        origin = self.origin_of(transport)
        result = call_plugin(origin, f"send() du transport « {transport.name} »",
                             transport.send, payload)
        return checks.receipt(origin, transport.name, result)

    def delivery_status(self, transport: Transport, key: str) -> DeliveryStatus | None:
        """Where a handed-off payload is now, as the transport's intermediary tells."""
        origin = self.origin_of(transport)
        what = f"delivery_status() du transport « {transport.name} »"
        status = call_plugin(origin, what, transport.delivery_status, key)
        if status is None:
            return None
        checks.of_type(origin, what, status, DeliveryStatus, "DeliveryStatus")
        if status.receipt is not None:
            checks.receipt(origin, transport.name, status.receipt)
        return status

    def run_transport_action(self, name: str, action_id: str) -> dict[str, Any]:
        """Run a button a transport declares (``Transport.actions``): the options it found, by
        option name; empty when the transport or the action is missing or found nothing."""
        cls = self._transports.get(name)
        if cls is None:
            return {}
        origin = self.origin_of(cls)
        what = f"l'action « {action_id} » du transport « {name} »"
        action = call_plugin(origin, what, cls.action, action_id)
        if action is None:
            return {}
        found = call_plugin(origin, what, action.run)
        if not isinstance(found, Mapping) or not all(isinstance(key, str) for key in found):
            raise PluginFault.invalid(
                origin, what,
                f"renvoie un objet {type(found).__name__} au lieu d'un dictionnaire d'options")
        return dict(found)

    # -- the manual's "Paramétrage ePop" form --------------------------------------------------

    def manual_forms(self) -> dict[str, str]:
        """Role of the manual's form (``contract.DIRECT_ROLE``, ``RELAY_ROLE``) -> the name of
        the transport declaring it (``Transport.manual_form``, checked at registration); the
        first registered wins, so lotas's own transports keep their roles."""
        roles: dict[str, str] = {}
        for name, cls in self._transports.items():
            form = cls.manual_form
            if form is not None:
                roles.setdefault(form.role, name)
        return roles

    def manual_form(self, name: str) -> ManualForm | None:
        """The declaration of transport ``name`` (None: unknown or not in the manual's form)."""
        cls = self._transports.get(name)
        return cls.manual_form if cls is not None else None

    def manual_form_values(self, name: str, options: Mapping[str, Any]) -> dict[str, Any]:
        """Form key -> value of transport ``name``'s stored options (its converters run at the
        fault boundary)."""
        cls = self._transports.get(name)
        if cls is None or cls.manual_form is None:
            return {}
        return call_plugin(self.origin_of(cls), f"manual_form du transport « {name} »",
                           manual_form.form_values, cls.manual_form, cls.options_model, options)

    def manual_form_hints(self, name: str, options: Mapping[str, Any]) -> dict[str, str]:
        """Form key -> French hint for stored values the form cannot show."""
        cls = self._transports.get(name)
        if cls is None or cls.manual_form is None:
            return {}
        return call_plugin(self.origin_of(cls), f"manual_form du transport « {name} »",
                           manual_form.form_hints, cls.manual_form, cls.options_model, options)

    def manual_form_options(self, name: str, options: Mapping[str, Any],
                            values: Mapping[str, Any]) -> dict[str, Any]:
        """Transport ``name``'s options updated with the form's values (by form key)."""
        cls = self._transports.get(name)
        if cls is None or cls.manual_form is None:
            return dict(options)
        return call_plugin(self.origin_of(cls), f"manual_form du transport « {name} »",
                           manual_form.form_options, cls.manual_form, options, values)

    def close(self, transport: Transport) -> None:
        """Release a transport's connections (``close()`` is optional in the contract)."""
        close = getattr(transport, "close", None)
        if callable(close):
            call_plugin(self.origin_of(transport), f"close() du transport « {transport.name} »",
                        close)


def _newcomer(first: PluginOrigin, second: PluginOrigin) -> PluginOrigin:
    """Of two plugins claiming one id, the one the screen leaves out: not lotas's own plugin,
    else the one registered last."""
    if second.distribution != "lotas" or first.distribution == "lotas":
        return second
    return first


def _lookup(registry: dict[str, T], key: str, what_fr: str, what_en: str) -> T:
    try:
        return registry[key]
    except KeyError:
        known = ", ".join(sorted(registry)) or "aucun"
        raise UsageError(
            f"{what_fr.capitalize()} inconnu(e) : « {key} ». Disponibles : {known}.",
            f"unknown {what_en} {key!r}; known: {known}",
        ) from None


__all__ = ["AppliedRule", "FaultHandler", "Lotas"]
