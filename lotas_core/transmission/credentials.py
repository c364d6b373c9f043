"""Where secrets come from: the environment, the OS keyring, or a question asked at use time.

Secrets (the e-PMSI login and password, the proxy password, the e-POP relay's certificate
settings) are never written to the settings file and never logged. Lookup order for a name such
as ``epmsi_password``: a value given explicitly (a UI dialog), the environment variable
``LOTAS_EPMSI_PASSWORD``, the OS keyring (service ``lotas``), then the prompt callback (getpass in
the CLI, a dialog in the UI). A missing keyring backend is normal and simply skipped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

KEYRING_SERVICE = "lotas"

#: Known names and the French label a prompt shows for them.
LABELS_FR: dict[str, str] = {
    "epmsi_user": "Identifiant e-PMSI",
    "epmsi_password": "Mot de passe e-PMSI",
    "proxy_user": "Utilisateur du proxy",
    "proxy_password": "Mot de passe du proxy",
    "epop_tls_fingerprint": "Empreinte SHA-256 du certificat du serveur e-POP",
    "epop_ca_file": "Fichier de l'autorité de certification du serveur e-POP",
    "epop_tls_cert": "Certificat TLS du serveur e-POP",
    "epop_tls_key": "Clé privée TLS du serveur e-POP",
}

#: ``prompt(name, label_fr, secret) -> value or None``.
PromptCallback = Callable[[str, str, bool], "str | None"]


class Secret:
    """A string that never shows itself in ``repr``, ``str`` or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The clear value, for the one place that must send it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return "********"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def env_name(name: str) -> str:
    """``epmsi_password`` -> ``LOTAS_EPMSI_PASSWORD``."""
    return "LOTAS_" + name.upper()


class Credentials:
    """Resolves named secrets; values found once are kept in memory for the retries."""

    def __init__(
        self,
        values: Mapping[str, str] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        use_keyring: bool = True,
        prompt: PromptCallback | None = None,
    ) -> None:
        self._values: dict[str, str] = dict(values or {})
        self._environ = environ if environ is not None else os.environ
        self._use_keyring = use_keyring
        self._prompt = prompt

    def __repr__(self) -> str:
        return f"Credentials(names={sorted(self._values)!r})"

    def set(self, name: str, value: str | None) -> None:
        """Give a value explicitly (a dialog field); ``None`` forgets it."""
        if value is None:
            self._values.pop(name, None)
        else:
            self._values[name] = value

    def get(self, name: str, *, secret: bool = True, ask: bool = True) -> str | None:
        """The value of ``name`` or None when no source has it."""
        if name in self._values:
            return self._values[name]
        value = self._environ.get(env_name(name)) or self._from_keyring(name)
        if not value and ask and self._prompt is not None:
            value = self._prompt(name, LABELS_FR.get(name, name), secret)
        if value:
            self._values[name] = value
            return value
        return None

    def secret(self, name: str, *, ask: bool = True) -> Secret | None:
        """Like ``get`` but wrapped so that it cannot leak into a message or a log."""
        value = self.get(name, secret=True, ask=ask)
        return Secret(value) if value else None

    def _from_keyring(self, name: str) -> str | None:
        if not self._use_keyring:
            return None
        try:
            import keyring

            return keyring.get_password(KEYRING_SERVICE, name)
        except Exception as exc:  # noqa: BLE001 - no backend, locked wallet...: just skip
            log.debug("keyring unavailable for %s: %s", name, type(exc).__name__)
            return None


def keyring_available() -> bool:
    """Whether an OS keyring can really keep a secret (not the "null" or "fail" backends).

    keyring's null backend accepts a password and forgets it: a user who ticked "Mémoriser"
    must be told instead.
    """
    try:
        import keyring
        from keyring.backends import fail, null

        backend = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - keyring missing or broken: none available
        log.debug("no keyring: %s", type(exc).__name__)
        return False
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    backends = getattr(backend, "backends", None)  # the chainer: usable if one backend is
    if backends is not None:
        return any(not isinstance(item, fail.Keyring | null.Keyring) for item in backends)
    return True


def store_in_keyring(name: str, value: str) -> bool:
    """Save a secret in the OS keyring; False when no backend can hold it."""
    if not keyring_available():
        return False
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, name, value)
        return True
    except Exception as exc:  # noqa: BLE001 - no usable backend
        log.debug("cannot store %s in keyring: %s", name, type(exc).__name__)
        return False


def getpass_prompt(name: str, label_fr: str, secret: bool) -> str | None:
    """The CLI's prompt: getpass for secrets, input otherwise; None without a terminal."""
    import getpass
    import sys

    if not sys.stdin.isatty():
        return None
    try:
        if secret:
            return getpass.getpass(f"{label_fr} : ") or None
        return input(f"{label_fr} : ").strip() or None
    except (EOFError, KeyboardInterrupt):
        return None
