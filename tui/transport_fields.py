"""How the manual's "Paramétrage ePop" form maps onto the shipped transports' options.

The form speaks the manual's words (proxy name, port, server address...); the options models of
``transport_direct`` and ``transport_epop`` name their fields. Each form field lists the option
names it may go to; the first one the model declares wins, so the form follows the plugins.
"""

from __future__ import annotations

from typing import Any

DIRECT = "transport_direct"
EPOP = "transport_epop"
EPOP_DEFAULT_PORT = 3358

#: form field -> candidate option names in ``transport_direct``'s options model.
DIRECT_FIELDS: dict[str, tuple[str, ...]] = {
    "use_proxy": ("proxy_mode", "use_proxy", "proxy_enabled"),
    "proxy_host": ("proxy_host", "proxy_name", "proxy"),
    "proxy_port": ("proxy_port",),
    "use_auth": ("proxy_auth", "use_proxy_auth", "proxy_use_auth", "use_password"),
    "proxy_user": ("proxy_user", "proxy_username", "proxy_login"),
    "base_url": ("base_url",),
    "epmsi_user": ("epmsi_user",),
}
#: form field -> candidate option names in ``transport_epop``'s options model.
EPOP_FIELDS: dict[str, tuple[str, ...]] = {
    "host": ("host", "server", "server_host", "address"),
    "port": ("port", "server_port"),
    "encrypt": ("encrypt", "tls", "use_tls"),
}
#: Where the passwords go in the session's secrets (never in the settings file); these are the
#: names ``lotas_core.transmission.credentials`` resolves.
DIRECT_PASSWORD_KEY = "proxy_password"
EPMSI_PASSWORD_KEY = "epmsi_password"


def _proxy_mode_to_form(value: Any) -> bool:
    return value not in (None, "", "none", False)


def _proxy_mode_from_form(value: Any, previous: Any) -> Any:
    if isinstance(value, str):
        return value
    if not value:
        return "none"
    return previous if previous == "system" else "manual"


#: Option names whose stored value is not the form's value: (to form, from form + previous).
CONVERTERS: dict[str, tuple[Any, Any]] = {
    "proxy_mode": (_proxy_mode_to_form, _proxy_mode_from_form),
}


def resolve(fields: dict[str, tuple[str, ...]], model: Any) -> dict[str, str]:
    """Form field -> actual option name, for the names ``model`` declares (all if no model)."""
    declared = set(getattr(model, "model_fields", {}) or {})
    mapping: dict[str, str] = {}
    for form_name, candidates in fields.items():
        if not declared:
            mapping[form_name] = candidates[0]
            continue
        for candidate in candidates:
            if candidate in declared:
                mapping[form_name] = candidate
                break
    return mapping


def read_form_values(
    fields: dict[str, tuple[str, ...]], model: Any, options: dict[str, Any]
) -> dict[str, Any]:
    """Form field -> value, from the stored options (model defaults for what is missing)."""
    mapping = resolve(fields, model)
    defaults: dict[str, Any] = {}
    for name, info in (getattr(model, "model_fields", {}) or {}).items():
        if not info.is_required():
            defaults[name] = info.get_default(call_default_factory=True)
    values = {}
    for form_name, option_name in mapping.items():
        value = options.get(option_name, defaults.get(option_name))
        if option_name in CONVERTERS:
            value = CONVERTERS[option_name][0](value)
        values[form_name] = value
    return values


def write_form_values(
    fields: dict[str, tuple[str, ...]], model: Any, options: dict[str, Any],
    values: dict[str, Any],
) -> dict[str, Any]:
    """The stored options updated with the form's values (other options kept as they were)."""
    mapping = resolve(fields, model)
    updated = dict(options)
    for form_name, value in values.items():
        option_name = mapping.get(form_name)
        if option_name is None:
            continue
        if option_name in CONVERTERS:
            value = CONVERTERS[option_name][1](value, options.get(option_name))
        updated[option_name] = value
    return updated
