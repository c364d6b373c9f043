"""The direct transport: HTTPS to e-PMSI with requests, explicit proxies, retries, TLS verified.

* ``Session.trust_env = False`` and ``proxies=`` on every request: the environment cannot
  silently override the user's choice (requests issue 2018).
* The proxy password is sent as a ``Proxy-Authorization`` header by the adapter, never put in a
  proxy URL, so no exception text or log line can carry it.
* Retries (connection errors, 429, 5xx) with exponential backoff and jitter, honouring
  ``Retry-After``, bounded in count and in total time. A POST may be retried because it carries
  the idempotency key: the far end answers a repeat with the first receipt.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import time
import urllib.request
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from lotas_core.errors import ConfigError
from lotas_core.transmission.contract import (
    IMPORT_PROXY_ACTION,
    AuthenticationFailed,
    Payload,
    ProtocolError,
    ProxyAuthenticationRequired,
    Receipt,
    Rejected,
    RetryableError,
    TLSFailure,
    Transport,
    TransportAction,
    TransportError,
    network_error,
)
from lotas_core.transmission.credentials import Credentials, Secret
from lotas_core.transmission.redaction import redact_credentials
from lotas_plugins.transport_direct.options import (
    DIRECT_FORM,
    MSG_NO_BASE_URL,
    DirectOptions,
    imported_proxy_options,
    is_loopback_host,
)

log = logging.getLogger(__name__)

MSG_PROXY_AUTH = (
    "Le proxy demande une authentification (HTTP 407) : vérifiez « Utiliser une authentification "
    "par mot de passe », l'utilisateur et le mot de passe du proxy."
)
MSG_AUTH = (
    "L'identification e-PMSI a été refusée (HTTP {status}) : vérifiez l'identifiant et le mot de "
    "passe e-PMSI (« Compte e-PMSI » du Paramétrage, ou ceux donnés à lotas par son "
    "environnement ou le trousseau du système)."
)
MSG_TLS = (
    "La vérification TLS du serveur {host} a échoué (certificat non reconnu ou établi pour un "
    "autre nom) : si l'établissement inspecte le trafic TLS, indiquez le fichier de ses autorités "
    "de certification (ca_bundle)."
)
MSG_UNAVAILABLE = (
    "Le service e-PMSI est momentanément indisponible ({what}) après {attempts} tentative(s) : "
    "réessayez plus tard."
)
MSG_REJECTED = "Le service e-PMSI a refusé le fichier (HTTP {status} : {reason})."


def _scrub(text: str, secrets: list[Secret | None]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret.reveal(), "********")
    return text[:300]


class _Adapter(HTTPAdapter):
    """Adds the proxy's Basic credentials as a header (CONNECT and plain HTTP alike)."""

    def __init__(self, proxy_auth: tuple[str, Secret] | None) -> None:
        super().__init__(max_retries=0)
        self._proxy_auth = proxy_auth

    def proxy_headers(self, proxy: str) -> dict[str, str]:
        if self._proxy_auth is None:
            return super().proxy_headers(proxy)
        user, password = self._proxy_auth
        token = base64.b64encode(f"{user}:{password.reveal()}".encode()).decode("ascii")
        return {"Proxy-Authorization": f"Basic {token}"}

    def __repr__(self) -> str:
        return "_Adapter()"


class DirectTransport(Transport):
    """HTTPS to e-PMSI (or the local receiver), optionally through a proxy."""

    name = "transport_direct"
    title_fr = "Connexion directe"
    options_model = DirectOptions
    actions = (
        TransportAction(
            IMPORT_PROXY_ACTION, "Importer les paramètres de proxy", imported_proxy_options,
            nothing_fr="Aucun proxy n'est défini sur cet ordinateur.",
        ),
    )
    manual_form = DIRECT_FORM

    def __init__(self, options: DirectOptions, credentials: Credentials | None = None) -> None:
        super().__init__(options, credentials or Credentials())
        self.options: DirectOptions = options
        self._session: requests.Session | None = None
        self._proxy_secret: Secret | None = None
        self._epmsi_secret: Secret | None = None
        self._auth_header: str | None = None

    def __repr__(self) -> str:
        return f"DirectTransport(base_url={redact_credentials(self.options.base_url)!r})"

    # -- configuration ------------------------------------------------------------------------

    def proxies(self) -> dict[str, str]:
        """The explicit proxies for this request's URL (empty: no proxy).

        Plain ``http://`` (allowed only towards this computer) never goes through a proxy: the
        request and its ``Authorization`` header would cross the network in clear text.
        """
        opts = self.options
        if urlsplit(opts.base_url).scheme != "https":
            return {}
        if opts.proxy_mode == "manual":
            url = f"http://{opts.proxy_host}:{opts.proxy_port}"
            return {"http": url, "https": url}
        if opts.proxy_mode == "system":
            host = urlsplit(opts.base_url).hostname or ""
            if urllib.request.proxy_bypass(host):
                return {}
            found = urllib.request.getproxies()
            return {scheme: found[scheme] for scheme in ("http", "https") if found.get(scheme)}
        return {}

    def _verify(self) -> str | bool:
        bundle = self.options.ca_bundle
        if bundle is None:
            return True
        if not Path(bundle).expanduser().is_file():
            raise ConfigError(
                f"Fichier des autorités de certification introuvable : {bundle}. Corrigez "
                "l'option ca_bundle.",
                f"CA bundle {bundle} not found",
            )
        return str(Path(bundle).expanduser())

    def _base_url(self) -> str:
        """The configured address; a clear error when none is set or it could leak a secret."""
        url = self.options.base_url
        if not url:
            raise ConfigError(MSG_NO_BASE_URL, "no e-PMSI base_url configured")
        parts = urlsplit(url)
        if "@" in parts.netloc or (
            parts.scheme != "https" and not is_loopback_host(parts.hostname or "")
        ):  # the options model refuses both; never rely on it alone for a password
            raise ConfigError(
                "Adresse du service e-PMSI refusée : https:// attendu (http:// seulement vers "
                "cet ordinateur), sans identifiant ni mot de passe dans l'adresse.",
                "unsafe base_url refused",
            )
        return url

    def _get_session(self) -> requests.Session:
        if self._session is not None:
            return self._session
        creds = self.credentials
        proxy_auth = None
        if self.options.proxy_mode != "none" and self.options.proxy_auth:
            user = self.options.proxy_user or creds.get("proxy_user", secret=False) or ""
            if self.options.proxy_password is not None:
                self._proxy_secret = Secret(self.options.proxy_password.get_secret_value())
            else:
                self._proxy_secret = creds.secret("proxy_password")
            proxy_auth = (user, self._proxy_secret or Secret(""))
        user = self.options.epmsi_user or creds.get("epmsi_user", secret=False)
        if user:
            self._epmsi_secret = creds.secret("epmsi_password")
            raw = f"{user}:{self._epmsi_secret.reveal() if self._epmsi_secret else ''}"
            self._auth_header = "Basic " + base64.b64encode(raw.encode()).decode("ascii")
        session = requests.Session()
        session.trust_env = False
        adapter = _Adapter(proxy_auth)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self._session = session
        return session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- errors -------------------------------------------------------------------------------

    def _map_exception(self, exc: requests.RequestException) -> TransportError:
        secrets = [self._proxy_secret, self._epmsi_secret]
        detail = f"{type(exc).__name__}: {_scrub(str(exc), secrets)}"
        if isinstance(exc, requests.exceptions.ProxyError) and " 407" in str(exc):
            return ProxyAuthenticationRequired(MSG_PROXY_AUTH, f"proxy answered 407 ({detail})")
        if isinstance(exc, requests.exceptions.SSLError):
            host = urlsplit(self.options.base_url).hostname
            return TLSFailure(MSG_TLS.format(host=host), detail)
        # Every other network failure: the one French sentence of lotas_core.reasons.
        through_proxy = isinstance(exc, requests.exceptions.ProxyError)
        host = (self.options.proxy_host if through_proxy and self.options.proxy_host
                else urlsplit(self.options.base_url).hostname) or "?"
        return network_error(exc, str(host), detail)

    def _status_error(self, response: requests.Response, attempts: int) -> TransportError:
        status = response.status_code
        if status == 407:
            return ProxyAuthenticationRequired(MSG_PROXY_AUTH, "HTTP 407 from the proxy")
        if status in (401, 403):
            return AuthenticationFailed(MSG_AUTH.format(status=status), f"HTTP {status}")
        if status == 429 or status >= 500:
            return RetryableError(
                MSG_UNAVAILABLE.format(what=f"HTTP {status}", attempts=attempts),
                f"HTTP {status} after {attempts} attempts",
            )
        reason = _answer_field(response, "message") or response.reason or ""
        return Rejected(MSG_REJECTED.format(status=status, reason=reason), f"HTTP {status}")

    # -- requests with retries ----------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        delay = min(self.options.backoff_max, self.options.backoff_base * (2**attempt))
        return delay / 2 + random.uniform(0, delay / 2)

    def _request(
        self,
        method: str,
        path: str,
        *,
        retry: bool,
        headers: dict[str, str] | None = None,
        files_factory: Any = None,
    ) -> tuple[requests.Response, int]:
        """One request, retried on temporary failures; the final response and attempt count."""
        opts = self.options
        url = self._base_url() + path
        session = self._get_session()
        verify = self._verify()
        all_headers = dict(headers or {})
        if self._auth_header:
            all_headers["Authorization"] = self._auth_header
        deadline = time.monotonic() + opts.max_total_time
        attempts = 0
        while True:
            attempts += 1
            try:
                response = session.request(
                    method, url, headers=all_headers,
                    files=files_factory() if files_factory else None,
                    timeout=(opts.connect_timeout, opts.read_timeout),
                    proxies=self.proxies(), verify=verify, allow_redirects=False,
                )
            except requests.RequestException as exc:
                error = self._map_exception(exc)
                wait = self._backoff(attempts - 1)
                log.info("%s %s: attempt %d failed: %s", method, path, attempts,
                         error.developer_message)
            else:
                if response.status_code != 429 and response.status_code < 500:
                    return response, attempts
                error = self._status_error(response, attempts)
                wait = _retry_after(response) or 0.0
                if wait:
                    wait += random.uniform(0, min(0.1, opts.backoff_base))
                else:
                    wait = self._backoff(attempts - 1)
                log.info("%s %s: attempt %d got HTTP %d", method, path, attempts,
                         response.status_code)
                response.close()
            if not retry or not error.retryable or attempts > opts.max_retries:
                raise error
            if time.monotonic() + wait > deadline:
                raise error
            time.sleep(wait)

    # -- the contract -------------------------------------------------------------------------

    def check(self) -> str:
        """The manual's "Tester": ``GET /qualhas/ping`` once, no data sent."""
        response, _ = self._request("GET", "/qualhas/ping", retry=False)
        if response.status_code != 200:
            raise self._status_error(response, 1)
        return ("Test de connexion réussi : le service e-PMSI répond "
                f"({redact_credentials(self.options.base_url)}).")

    def send(self, payload: Payload) -> Receipt:
        """Upload ``payload``; a repeat of an already received key is a duplicate success."""
        meta = json.dumps(payload.metadata, sort_keys=True, ensure_ascii=False)
        path = Path(payload.path)

        def files() -> dict[str, Any]:
            return {
                "meta": (None, meta, "application/json"),
                "file": (path.name, path.read_bytes(), "application/json"),
            }

        response, attempts = self._request(
            "POST", "/qualhas/upload", retry=True, files_factory=files,
            headers={"Idempotency-Key": payload.idempotency_key,
                     "X-Content-SHA256": payload.sha256},
        )
        if response.status_code not in (200, 201):
            raise self._status_error(response, attempts)
        try:
            body = response.json()
            receipt_id = str(body["receipt"])
        except (ValueError, KeyError, TypeError):
            raise ProtocolError(
                "Le service e-PMSI a répondu sans accusé de réception lisible : réessayez.",
                "upload answer without a receipt",
            ) from None
        if str(body.get("sha256", payload.sha256)).lower() != payload.sha256.lower():
            raise Rejected(
                "Le service e-PMSI a accusé réception d'un contenu différent : réessayez.",
                "receipt checksum differs from the payload",
            )
        return Receipt(
            transport=self.name,
            receipt=receipt_id,
            sha256=payload.sha256,
            duplicate=bool(body.get("duplicate", False)),
            received_at=str(body.get("received_at", "")),
            detail={"url": redact_credentials(self.options.base_url), "attempts": attempts},
        )


def _answer_field(response: requests.Response, name: str) -> str | None:
    try:
        value = response.json().get(name)
    except (ValueError, AttributeError):
        return None
    return str(value) if value is not None else None


def _retry_after(response: requests.Response) -> float | None:
    """Seconds asked by ``Retry-After`` (delta-seconds or HTTP date), or None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
