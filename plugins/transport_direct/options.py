"""Options of the direct connection (the manual's "Connexion directe" form).

The UI builds its form from this model: every field has a French ``description``. The proxy
password is held in memory only (``exclude=True``): the settings file never stores it; it comes
from the environment (``LOTAS_PROXY_PASSWORD``), the OS keyring or a prompt.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from lotas_core.transmission.contract import (
    DIRECT_ROLE,
    ConnectTimeout,
    FormConverter,
    ManualForm,
    ReadTimeout,
)
from lotas_core.transmission.redaction import url_credentials_error

#: No address until one is set: a fresh install must not send anywhere by default (the local
#: receiver, ``lotas epmsi-server``, is ``http://127.0.0.1:8765``; ``lotas --demo`` sets it).
DEFAULT_BASE_URL = ""
LOCAL_RECEIVER_URL = "http://127.0.0.1:8765"
MSG_NO_BASE_URL = (
    "Aucune adresse du service e-PMSI n'est paramétrée : renseignez « Adresse du service » dans "
    "le Paramétrage (ou transport.options.transport_direct.base_url), par exemple "
    "http://127.0.0.1:8765 pour le récepteur local de démonstration."
)
#: A host name (labels of letters, digits and hyphens) or an IPv4/IPv6 address.
_HOST_PATTERN = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+$"  # name or IPv4
    r"|^\[?[0-9A-Fa-f:.]+\]?$"  # IPv6, with or without brackets
)


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and any 127.0.0.0/8 or ::1 address."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class DirectOptions(BaseModel):
    """Connexion directe à e-PMSI (l'ordinateur a accès à Internet)."""

    #: A refused value may hold a password: errors never repeat it.
    model_config = ConfigDict(hide_input_in_errors=True)

    base_url: str = Field(
        DEFAULT_BASE_URL,
        description="Adresse du service e-PMSI / QUALHAS (https://… ; http:// seulement vers "
        "cet ordinateur, pour le récepteur local)",
    )
    epmsi_user: str = Field("", description="Identifiant e-PMSI (le mot de passe est demandé "
                            "à l'utilisation ou lu dans LOTAS_EPMSI_PASSWORD)")
    proxy_mode: Literal["none", "manual", "system"] = Field(
        "none",
        description="Utiliser un proxy pour se connecter à ePMSI : aucun, saisi (manual) ou "
        "celui du système (system)",
    )
    proxy_host: str = Field("", description="Nom du proxy")
    proxy_port: int | None = Field(None, ge=1, le=65535, description="N° du port à utiliser")
    proxy_auth: bool = Field(False, description="Utiliser une authentification par mot de passe")
    proxy_user: str = Field("", description="Utilisateur")
    proxy_password: SecretStr | None = Field(
        None, exclude=True, description="Mot de passe (jamais enregistré dans le fichier de "
        "paramètres)", json_schema_extra={"secret": True},
    )
    ca_bundle: Path | None = Field(
        None, description="Fichier des autorités de certification reconnues, à la place de "
        "celles fournies (proxy d'inspection TLS de l'établissement) ; la vérification TLS "
        "reste toujours active",
    )
    connect_timeout: ConnectTimeout = 10.0
    read_timeout: ReadTimeout = 60.0
    max_retries: int = Field(5, ge=0, le=20, description="Nombre maximal de nouvelles tentatives")
    backoff_base: float = Field(0.5, ge=0, le=60,
                                description="Attente avant la première nouvelle tentative (s)")
    backoff_max: float = Field(30.0, ge=0, le=600,
                               description="Attente maximale entre deux tentatives (s)")
    max_total_time: float = Field(300.0, gt=0, le=86400,
                                  description="Durée maximale d'un envoi, tentatives comprises (s)")

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.strip():
            return ""  # not set yet: sending and "Tester" say what to set
        url_credentials_error(value)
        parts = urlsplit(value.strip())
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("adresse invalide : attendu https://hôte[:port]")
        if parts.scheme == "http" and not is_loopback_host(parts.hostname):
            raise ValueError(
                "http:// n'est permis que vers cet ordinateur (127.0.0.1) ; utilisez https://"
            )
        return value.strip().rstrip("/")

    @field_validator("proxy_host")
    @classmethod
    def _check_proxy_host(cls, value: str) -> str:
        """A host name or an IP address; a pasted ``http://host:port`` keeps only the host."""
        host = value.strip()
        url_credentials_error(host)
        if "://" in host:
            host = urlsplit(host).hostname or ""
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # an IPv6 address, as a URL needs it
        if host and not _HOST_PATTERN.match(host):
            raise ValueError(
                "nom du proxy invalide : un nom d'ordinateur (lettres, chiffres, « - », « . ») "
                "ou une adresse IP, sans espace ni port"
            )
        return host

    @model_validator(mode="after")
    def _check_proxy(self) -> DirectOptions:
        if self.proxy_mode == "manual" and (not self.proxy_host or self.proxy_port is None):
            raise ValueError("proxy saisi : renseignez le nom du proxy et le n° du port (1-65535)")
        return self


def system_proxy_url(scheme: str = "https") -> str | None:
    """The proxy the operating system gives for ``scheme`` (environment, registry, macOS)."""
    proxies = urllib.request.getproxies()
    return proxies.get(scheme) or proxies.get("https") or proxies.get("http") or proxies.get("all")


def import_system_proxy(options: DirectOptions | None = None) -> DirectOptions | None:
    """The manual's "Importer les paramètres de proxy": ``options`` filled from the system.

    Returns None when the system defines no proxy (the manual: "Cette récupération peut ne pas
    aboutir"). A user name found in the proxy URL is kept; a password never is.
    """
    update = imported_proxy_options()
    if not update:
        return None
    return (options or DirectOptions()).model_copy(update=update)


def imported_proxy_options() -> dict[str, Any]:
    """The proxy options found on this computer (``DirectTransport.actions``, "Importer les
    paramètres de proxy"), by option name; empty when the system defines no proxy."""
    url = system_proxy_url()
    if not url:
        return {}
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if not parts.hostname:
        return {}
    found: dict[str, Any] = {
        "proxy_mode": "manual",
        "proxy_host": parts.hostname,
        "proxy_port": parts.port or (443 if parts.scheme == "https" else 8080),
    }
    if parts.username:
        found.update(proxy_auth=True, proxy_user=parts.username)
    return found


# -- its mode of the manual's "Paramétrage ePop" form ("Connexion directe") ----------------------


def _proxy_mode_to_form(value: Any) -> bool:
    """The "Utiliser un proxy" box is ticked for a proxy typed in or the system's."""
    return value not in (None, "", "none", False)


def _proxy_mode_from_form(value: Any, previous: Any, values: Mapping[str, Any]) -> Any:
    """Unticked: no proxy; a proxy typed in: "manual"; ticked with nothing typed over the
    system's proxy: still the system's."""
    if isinstance(value, str):
        return value
    if not value:
        return "none"
    if values.get("proxy_host"):
        return "manual"
    return previous if previous == "system" else "manual"


def _proxy_mode_hint(value: Any) -> str:
    return "proxy du système" if value == "system" else ""


DIRECT_FORM = ManualForm(
    role=DIRECT_ROLE,
    fields={
        "use_proxy": "proxy_mode",
        "proxy_host": "proxy_host",
        "proxy_port": "proxy_port",
        "use_auth": "proxy_auth",
        "proxy_user": "proxy_user",
        "base_url": "base_url",
        "epmsi_user": "epmsi_user",
    },
    # The names ``lotas_core.transmission.credentials`` resolves (never in the settings file).
    password_keys={"proxy_password": "proxy_password", "epmsi_password": "epmsi_password"},
    converters={"proxy_mode": FormConverter(_proxy_mode_to_form, _proxy_mode_from_form,
                                            _proxy_mode_hint)},
)
