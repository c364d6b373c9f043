"""The fault boundary around plugin code: a failing plugin is named, its error text is not shown.

Every call from the core into a plugin (a hook, or a method of an object it registered) goes
through ``call_plugin``. A ``LotasError`` raised by the plugin is its own message for the user and
passes through unchanged; any other exception becomes a ``PluginFault``: one French line naming the
plugin, its distribution and version, and the hook or method. The exception's text is never
repeated (a plugin's message may quote a patient identifier or a password); with
``LOTAS_DEBUG=1`` the CLI re-raises, and the original exception is chained for the traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from lotas_core.errors import LotasError, PluginError

T = TypeVar("T")


@dataclass(frozen=True)
class PluginOrigin:
    """Who provides a piece of behaviour: the plugin (entry-point name) and its distribution."""

    plugin: str
    distribution: str | None = None
    version: str | None = None

    def describe_fr(self) -> str:
        """``« site_rules » (distribution lotas-site 1.0)``: how every message names a plugin."""
        if self.distribution:
            version = f" {self.version}" if self.version else ""
            return f"« {self.plugin} » (distribution {self.distribution}{version})"
        if self.version:
            return f"« {self.plugin} » (version {self.version})"
        return f"« {self.plugin} »"

    def short_fr(self) -> str:
        """``lotas-site 1.0`` (or the plugin name when it has no distribution)."""
        name = self.distribution or self.plugin
        return f"{name} {self.version}" if self.version else name

    def to_dict(self) -> dict[str, str | None]:
        return {"plugin": self.plugin, "distribution": self.distribution, "version": self.version}


def _what_to_do(origin: PluginOrigin) -> str:
    return (
        f"Désactivez-le (LOTAS_DISABLED_PLUGINS='[\"{origin.plugin}\"]' ou disabled_plugins dans "
        "les paramètres) ou signalez l'erreur à son auteur ; LOTAS_DEBUG=1 affiche le détail."
    )


class PluginFault(PluginError):
    """A plugin raised an unexpected exception, or returned or registered something invalid."""

    def __init__(self, origin: PluginOrigin, message_fr: str, message_en: str) -> None:
        super().__init__(origin.plugin, message_fr, message_en)
        self.origin = origin

    @classmethod
    def failed(cls, origin: PluginOrigin, what: str, exc: BaseException) -> PluginFault:
        """The plugin raised ``exc`` in ``what``: named by its type only, never its text."""
        kind = type(exc).__name__
        return cls(
            origin,
            f"Le plugin {origin.describe_fr()} a échoué dans {what} ({kind}). "
            + _what_to_do(origin),
            f"plugin {origin.plugin!r} ({origin.distribution} {origin.version}) raised {kind} "
            f"in {what}",
        )

    @classmethod
    def invalid(cls, origin: PluginOrigin, what: str, problem_fr: str) -> PluginFault:
        """The plugin gave something the core cannot use (``problem_fr`` names types, no value)."""
        return cls(
            origin,
            f"Le plugin {origin.describe_fr()} est refusé : {what} {problem_fr}. "
            + _what_to_do(origin),
            f"plugin {origin.plugin!r} ({origin.distribution} {origin.version}) refused: "
            f"{what} {problem_fr}",
        )


def call_plugin(origin: PluginOrigin, what: str, function: Callable[..., T], *args: Any,
                passes: tuple[type[BaseException], ...] = (), **kwargs: Any) -> T:
    """Call plugin code; an unexpected exception becomes a ``PluginFault`` naming ``origin``.

    ``passes`` are exceptions the caller expects and handles itself (``OSError`` from a plugin
    writing a file the user chose). ``SystemExit`` is caught too: a plugin calling ``sys.exit``
    must not end lotas with a code that means success.
    """
    try:
        return function(*args, **kwargs)
    except LotasError:
        raise
    except passes:
        raise
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - this is the fault boundary
        raise PluginFault.failed(origin, what, exc) from exc


def type_name(value: object) -> str:
    """The type of a returned value, for a message that must not quote the value itself."""
    return "None" if value is None else type(value).__name__
