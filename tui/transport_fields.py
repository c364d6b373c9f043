"""Which installed transports fill the manual's "Paramétrage ePop" form, and with what.

Each transport declares its mode of the form (``Transport.manual_form``: the role "direct" or
"relay", its option names, password keys, default port); the screen looks the roles up among the
installed transports, so it names none. A mode no transport declares is not shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lotas_core.errors import LotasError
from lotas_core.transmission.contract import DIRECT_ROLE, RELAY_ROLE, ManualForm

if TYPE_CHECKING:
    from lotas_core.settings import Settings
    from lotas_tui.backend import Backend

__all__ = ["DIRECT_ROLE", "RELAY_ROLE", "FormMode", "form_modes"]


@dataclass(frozen=True)
class FormMode:
    """One mode of the manual's form: the transport behind it and its stored values."""

    transport: str
    declaration: ManualForm
    values: dict[str, Any] = field(default_factory=dict)
    hints: dict[str, str] = field(default_factory=dict)

    def secret_key(self, password_field: str) -> str | None:
        """Where the form's password field goes in the session's secrets (None: not asked)."""
        return self.declaration.password_keys.get(password_field)


def form_modes(backend: Backend, settings: Settings) -> dict[str, FormMode]:
    """Role -> its mode, for the roles an installed transport declares (a broken plugin: none;
    a converter that fails: the mode shows empty fields)."""
    try:
        roles = backend.manual_forms()
    except Exception:  # noqa: BLE001 - a broken plugin must not close the settings screen
        return {}
    modes: dict[str, FormMode] = {}
    for role, name in roles.items():
        declaration = backend.manual_form(name)
        if declaration is None:
            continue
        options = settings.transport_options(name)
        try:
            values = backend.form_values(name, options)
            hints = backend.form_hints(name, options)
        except LotasError:
            values, hints = {}, {}
        modes[role] = FormMode(name, declaration, values, hints)
    return modes
