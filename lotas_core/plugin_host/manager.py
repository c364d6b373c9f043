"""The plugin manager: built by a factory, never at import time."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable
from dataclasses import dataclass, field

import pluggy

from lotas_core.errors import PluginError
from lotas_core.plugin_host import hookspecs as hookspecs

ENTRY_POINT_GROUP = "lotas"


@dataclass
class PluginInfo:
    """One loaded plugin as ``lotas plugins`` shows it."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    hooks: list[str] = field(default_factory=list)


def _entry_points() -> Iterable[importlib.metadata.EntryPoint]:
    return importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)


def get_plugin_manager(
    disabled: Iterable[str] = (),
    *,
    load_entry_points: bool = True,
    extra_plugins: Iterable[tuple[str, object]] = (),
) -> pluggy.PluginManager:
    """A plugin manager with the core defaults, the ``lotas`` entry points and ``extra_plugins``.

    Plugins named in ``disabled`` are blocked. A plugin that fails to import, or that implements
    a hook that does not exist, raises ``PluginError`` naming it.
    """
    from lotas_core.plugin_host import defaults as defaults

    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    pm.register(defaults, name="lotas_core.plugin_host.defaults")
    blocked = set(disabled)
    for name in blocked:
        pm.set_blocked(name)
    if load_entry_points:
        for ep in _entry_points():
            if ep.name in blocked or pm.get_plugin(ep.name) is not None:
                continue
            pm.register(_load(ep), name=ep.name)
    for name, plugin in extra_plugins:
        if name not in blocked:
            pm.register(plugin, name=name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        raise PluginError(
            name,
            f"Le plugin « {name} » est invalide : {exc}. Corrigez-le ou désactivez-le "
            f"(disabled_plugins).",
            f"plugin {name!r} failed validation: {exc}",
        ) from None
    return pm


def _load(ep: importlib.metadata.EntryPoint) -> object:
    dist = ep.dist.name if ep.dist is not None else "?"
    try:
        return ep.load()
    except Exception as exc:  # noqa: BLE001 - any import failure must name the plugin
        raise PluginError(
            ep.name,
            f"Le plugin « {ep.name} » (distribution {dist}) n'a pas pu être chargé : "
            f"{type(exc).__name__}: {exc}. Réinstallez-le ou désactivez-le "
            f"(LOTAS_DISABLED_PLUGINS='[\"{ep.name}\"]').",
            f"plugin {ep.name!r} from {dist} failed to load: {exc!r}",
        ) from exc


def describe_plugins(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Every registered plugin with its distribution, version and implemented hooks."""
    dists = {ep.name: ep.dist for ep in _entry_points()}
    infos: list[PluginInfo] = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:  # blocked
            continue
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        dist = dists.get(name)
        infos.append(
            PluginInfo(
                name=name,
                module=getattr(plugin, "__name__", type(plugin).__name__),
                distribution=dist.name if dist is not None else None,
                version=getattr(plugin, "__version__", None)
                or (dist.version if dist is not None else None),
                hooks=hooks,
            )
        )
    return sorted(infos, key=lambda info: info.name)
