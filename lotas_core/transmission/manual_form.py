"""Moving values between the manual's "Paramétrage ePop" form and a transport's options.

The transport declares its mode of the form (``contract.ManualForm``); these functions apply
that declaration, so neither the core nor the screen names a transport. They run plugin code
(the converters): the facade calls them at its fault boundary.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from lotas_core.transmission.contract import ManualForm


def _defaults(model: type[BaseModel] | None) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for name, info in (getattr(model, "model_fields", {}) or {}).items():
        if not info.is_required():
            defaults[name] = info.get_default(call_default_factory=True)
    return defaults


def form_values(form: ManualForm, model: type[BaseModel] | None,
                options: Mapping[str, Any]) -> dict[str, Any]:
    """Form key -> value, from the stored options (the model's defaults for what is missing)."""
    defaults = _defaults(model)
    values: dict[str, Any] = {}
    for key, option in form.fields.items():
        value = options.get(option, defaults.get(option))
        converter = form.converters.get(option)
        values[key] = converter.to_form(value) if converter is not None else value
    return values


def form_hints(form: ManualForm, model: type[BaseModel] | None,
               options: Mapping[str, Any]) -> dict[str, str]:
    """Form key -> French hint, for stored values the form cannot show (none: empty)."""
    defaults = _defaults(model)
    hints: dict[str, str] = {}
    for key, option in form.fields.items():
        converter = form.converters.get(option)
        if converter is None or converter.hint_fr is None:
            continue
        hint = converter.hint_fr(options.get(option, defaults.get(option)))
        if hint:
            hints[key] = str(hint)
    return hints


def form_options(form: ManualForm, options: Mapping[str, Any],
                 values: Mapping[str, Any]) -> dict[str, Any]:
    """The stored options updated with the form's values (other options kept as they were)."""
    updated = dict(options)
    for key, value in values.items():
        option = form.fields.get(key)
        if option is None:
            continue
        converter = form.converters.get(option)
        if converter is not None:
            value = converter.from_form(value, options.get(option), values)
        updated[option] = value
    return updated
