"""A form generated from a transport's pydantic options model (third-party transports).

Booleans become checkboxes, numbers and text become inputs; a field whose name looks like a secret
becomes a password input whose value stays in memory (never in the settings file).
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, Input, Label

from lotas_core.settings import SECRET_KEY_MARKERS
from lotas_tui.formatting import OPTIONS_MODEL_FAILED_FR, FieldError, validation_error_fr
from lotas_tui.widgets.toggles import Box


def is_secret(name: str) -> bool:
    return any(marker in name.lower() for marker in SECRET_KEY_MARKERS)


def _base_type(annotation: Any) -> Any:
    """``int`` for ``int | None``; the annotation itself otherwise."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return args[0] if len(args) == 1 else str
    return annotation


def field_label(name: str, info: Any) -> str:
    return str(info.title or info.description or name.replace("_", " ")).split("\n")[0]


class OptionsForm(Vertical):
    """Inputs for every field of ``model``, filled from ``values``."""

    def __init__(self, model: type[BaseModel], values: dict[str, Any], *, id: str) -> None:
        super().__init__(id=id, classes="options-form")
        self.model = model
        self._values = values

    def _widget_id(self, name: str) -> str:
        return f"{self.id}-{name}"

    def compose(self) -> ComposeResult:
        for name, info in self.model.model_fields.items():
            kind = _base_type(info.annotation)
            current = self._values.get(name, info.get_default(call_default_factory=True))
            if kind is bool:
                yield Box(field_label(name, info), bool(current), id=self._widget_id(name),
                               compact=True)
                continue
            with Horizontal(classes="line"):
                yield Label(f"{field_label(name, info)} :", classes="field-label")
                input_type = "integer" if kind is int else "number" if kind is float else "text"
                text = "" if current is None or is_secret(name) else str(current)
                yield Input(text, id=self._widget_id(name), type=input_type, compact=True,
                            password=is_secret(name), valid_empty=True)

    def raw_values(self) -> tuple[dict[str, Any], dict[str, str]]:
        """``(options, secrets)`` as typed (empty inputs are left out)."""
        options: dict[str, Any] = {}
        secrets: dict[str, str] = {}
        for name in self.model.model_fields:
            widget = self.query_one(f"#{self._widget_id(name)}")
            if isinstance(widget, Checkbox):
                options[name] = widget.value
            elif isinstance(widget, Input):
                text = widget.value.strip()
                if is_secret(name):
                    if text:
                        secrets[name] = widget.value
                elif text:
                    options[name] = text
        return options, secrets

    def validated(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The options checked by the model (``FieldError`` in French), and the secrets."""
        options, secrets = self.raw_values()
        try:
            model = self.model.model_validate({**options, **secrets})
        except ValidationError as exc:
            loc = exc.errors()[0].get("loc", ())
            field = f"#{self._widget_id(str(loc[0]))}" if loc else None
            raise FieldError(validation_error_fr(exc), field) from None
        except Exception as exc:  # noqa: BLE001 - a plugin's model: never stops the screen
            raise FieldError(OPTIONS_MODEL_FAILED_FR.format(kind=type(exc).__name__)) from exc
        dumped = model.model_dump(mode="json")
        return {key: value for key, value in dumped.items() if not is_secret(key)}, secrets
