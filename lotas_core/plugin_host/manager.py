"""The plugin manager: built by a factory, never at import time.

Every plugin is checked at the door, before any of its code is called: its entry point must not
clash with another distribution's, its module must import, and each of its hook implementations
must name a known hook with known arguments (hook wrappers are refused: no plugin may rewrite
another's results). A failure names the plugin and its distribution; with ``on_fault`` (the
screen) the plugin is left out instead, and lotas runs without it.
"""

from __future__ import annotations

import importlib.metadata
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pluggy

from lotas_core.errors import PluginError
from lotas_core.plugin_host import hookspecs as hookspecs
from lotas_core.plugin_host.boundary import PluginFault, PluginOrigin

ENTRY_POINT_GROUP = "lotas"
#: The registered name of the core's own hook implementations.
CORE_PLUGIN = "lotas_core.plugin_host.defaults"

FaultHandler = Callable[[PluginError], None]


@dataclass
class PluginInfo:
    """One loaded plugin as ``lotas plugins`` shows it."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    hooks: list[str] = field(default_factory=list)


class LotasPluginManager(pluggy.PluginManager):
    """A pluggy manager that remembers where each plugin comes from (distribution, version)."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.origins: dict[str, PluginOrigin] = {}

    def origin(self, name: str) -> PluginOrigin:
        """The origin of the plugin registered as ``name`` (just the name when unknown)."""
        return self.origins.get(name) or PluginOrigin(name)

    def block(self, name: str) -> None:
        """Leave a plugin out from now on (the screen runs without a broken plugin)."""
        if self.get_plugin(name) is not None:
            self.unregister(name=name)
        self.set_blocked(name)


def _entry_points() -> Iterable[importlib.metadata.EntryPoint]:
    return importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)


def _core_origin() -> PluginOrigin:
    from lotas_core import __version__

    return PluginOrigin(CORE_PLUGIN, "lotas", __version__)


def get_plugin_manager(
    disabled: Iterable[str] = (),
    *,
    load_entry_points: bool = True,
    extra_plugins: Iterable[tuple[str, object]] = (),
    on_fault: FaultHandler | None = None,
) -> LotasPluginManager:
    """A plugin manager with the core defaults, the ``lotas`` entry points and ``extra_plugins``.

    Plugins named in ``disabled`` are blocked (never imported). A plugin that fails to import,
    implements a hook that does not exist or with unknown arguments, or whose entry-point name
    another distribution also declares, raises ``PluginError`` naming it; with ``on_fault`` the
    error is handed to it and the plugin is left out.
    """
    from lotas_core.plugin_host import defaults as defaults

    def fault(error: PluginError) -> None:
        if on_fault is None:
            raise error
        on_fault(error)

    pm = LotasPluginManager()
    pm.add_hookspecs(hookspecs)
    pm.origins[CORE_PLUGIN] = _core_origin()
    pm.register(defaults, name=CORE_PLUGIN)
    blocked = set(disabled)
    for name in blocked:
        pm.set_blocked(name)
    if load_entry_points:
        entry_points, clashes = _unique_entry_points(_entry_points(), blocked)
        for error in clashes:
            pm.set_blocked(error.plugin)
            fault(error)
        for ep in entry_points:
            if pm.is_blocked(ep.name):
                continue
            origin = _origin(ep)
            try:
                _register(pm, _load(ep, origin), ep.name, origin)
            except PluginError as error:
                pm.block(ep.name)
                fault(error)
    for name, plugin in extra_plugins:
        if name in blocked:
            continue
        origin = PluginOrigin(name, None, _module_version(plugin))
        try:
            _register(pm, plugin, name, origin)
        except PluginError as error:
            pm.block(name)
            fault(error)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:  # pragma: no cover - _register checks first
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        pm.block(name)
        fault(PluginError(name, f"Le plugin « {name} » est invalide : "
                                f"{' '.join(str(exc).split())}.", str(exc)))
    return pm


def _dist_name(ep: importlib.metadata.EntryPoint) -> str:
    return ep.dist.name if ep.dist is not None else "?"


def _dist_label(ep: importlib.metadata.EntryPoint) -> str:
    if ep.dist is None:
        return "?"
    return f"{ep.dist.name} {ep.dist.version}"


def _unique_entry_points(
    entry_points: Iterable[importlib.metadata.EntryPoint], blocked: set[str]
) -> tuple[list[importlib.metadata.EntryPoint], list[PluginError]]:
    """One entry point per name; a name declared by two distributions is refused (both named).

    lotas does not choose between them: which one was loaded first depended on the order of
    ``sys.path``, and the other was silently dropped.
    """
    by_name: dict[str, list[importlib.metadata.EntryPoint]] = {}
    for ep in entry_points:
        same = by_name.setdefault(ep.name, [])
        if all(_dist_name(other) != _dist_name(ep) for other in same):
            same.append(ep)  # a distribution seen twice on the path is one distribution
    unique, clashes = [], []
    for name, eps in by_name.items():
        if len(eps) == 1 or name in blocked:
            unique.append(eps[0])
            continue
        dists = " et ".join(_dist_label(ep) for ep in eps)
        clashes.append(PluginError(
            name,
            f"Le plugin « {name} » est déclaré par deux distributions : {dists}. lotas ne choisit "
            "pas entre elles : désinstallez celle qui ne doit pas être là (pip uninstall …).",
            f"entry point {name!r} declared by several distributions: {dists}",
        ))
    return unique, clashes


def _origin(ep: importlib.metadata.EntryPoint) -> PluginOrigin:
    if ep.dist is None:
        return PluginOrigin(ep.name)
    return PluginOrigin(ep.name, ep.dist.name, ep.dist.version)


def _module_version(plugin: object) -> str | None:
    version = getattr(plugin, "__version__", None)
    return version if isinstance(version, str) else None


def _load(ep: importlib.metadata.EntryPoint, origin: PluginOrigin) -> object:
    try:
        return ep.load()
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - any import failure names the plugin
        missing = exc.name if isinstance(exc, ImportError) and exc.name else None
        why = f"module manquant : {missing}" if missing else type(exc).__name__
        raise PluginFault(
            origin,
            f"Le plugin {origin.describe_fr()} n'a pas pu être chargé ({why}). "
            f"Réinstallez-le ou désactivez-le (LOTAS_DISABLED_PLUGINS='[\"{ep.name}\"]') ; "
            "LOTAS_DEBUG=1 affiche le détail.",
            f"plugin {ep.name!r} from {_dist_name(ep)} failed to load: {type(exc).__name__}",
        ) from exc


def _register(pm: LotasPluginManager, plugin: object, name: str, origin: PluginOrigin) -> None:
    """Check every hook implementation of ``plugin``, then register it."""
    for attr in dir(plugin):
        try:
            opts = pm.parse_hookimpl_opts(plugin, attr)
        except Exception:  # noqa: BLE001 - an attribute that cannot be read is no hook
            continue
        if opts is None:
            continue
        _check_hookimpl(pm, origin, attr, getattr(plugin, attr), opts)
    pm.origins[name] = origin
    try:
        pm.register(plugin, name=name)
    except ValueError as exc:  # the same module registered under two names
        raise PluginFault(
            origin,
            f"Le plugin {origin.describe_fr()} est déjà chargé sous un autre nom : désactivez "
            "l'un des deux.",
            f"plugin {name!r} already registered: {exc}",
        ) from None
    except pluggy.PluginValidationError as exc:
        raise PluginFault(
            origin,
            f"Le plugin {origin.describe_fr()} est invalide : {' '.join(str(exc).split())}.",
            f"plugin {name!r} failed validation: {exc}",
        ) from None


def _check_hookimpl(pm: LotasPluginManager, origin: PluginOrigin, hook_name: str,
                    function: object, opts: dict[str, object]) -> None:
    caller = getattr(pm.hook, hook_name, None)
    spec = getattr(caller, "spec", None)
    if spec is None:
        raise PluginFault.invalid(
            origin, f"le hook « {hook_name} »",
            "n'existe pas (nom mal orthographié ?) ; voir « lotas plugins » et "
            "docs/plugin-authors.md",
        )
    if opts.get("hookwrapper") or opts.get("wrapper"):
        raise PluginFault.invalid(
            origin, f"le hook « {hook_name} »",
            "est un « wrapper », que lotas n'accepte pas (un plugin ne modifie pas les "
            "résultats des autres)",
        )
    try:
        params = inspect.signature(function).parameters  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return
    allowed = set(spec.argnames)
    names = [p.name for p in params.values()
             if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise PluginFault.invalid(
            origin, f"le hook « {hook_name} »",
            f"déclare l'argument « {unknown[0]} », inconnu (arguments possibles : "
            f"{', '.join(spec.argnames)})",
        )


def describe_plugins(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Every registered plugin with its distribution, version and implemented hooks."""
    origins = pm.origins if isinstance(pm, LotasPluginManager) else {}
    infos: list[PluginInfo] = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:  # blocked
            continue
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        origin = origins.get(name) or PluginOrigin(name, None, _module_version(plugin))
        infos.append(
            PluginInfo(
                name=name,
                module=getattr(plugin, "__name__", type(plugin).__name__),
                distribution=origin.distribution,
                version=_module_version(plugin) or origin.version,
                hooks=hooks,
            )
        )
    return sorted(infos, key=lambda info: info.name)
