"""The transport contract: how a draw leaves the hospital (never with an IPP).

A transport is a class with a ``name``, a pydantic ``options_model``, ``check()`` (the manual's
"Tester" button: contacts the far end, sends no data) and ``send(payload) -> Receipt``.
All transports raise the one ``TransportError`` family below, carrying the manual's sentences.

A receipt says whether the final recipient (QUALHAS) holds the payload (``final``) or only an
intermediary that will forward it (a hand-off, e.g. a relay); a transport that hands off may
answer ``delivery_status(key)`` so that lotas follows the payload to its delivery.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field

from lotas_core.errors import LotasError
from lotas_core.fsutil import file_sha256 as file_sha256  # re-exported for transports

# The manual's sentences live in the one table of reasons; re-exported for transports.
from lotas_core.reasons import MSG_REFUSED as MSG_REFUSED
from lotas_core.reasons import MSG_TIMEOUT as MSG_TIMEOUT
from lotas_core.reasons import network_kind, network_reason_fr

MSG_NOT_ALLOWED = "Le client {address}:{port} n'est pas autorisé à se connecter au serveur e-POP"

#: Option types every network transport declares the same way (the UI shows the description).
ConnectTimeout = Annotated[
    float, Field(gt=0, le=300, description="Délai de connexion maximal (secondes)")
]
ReadTimeout = Annotated[
    float, Field(gt=0, le=3600, description="Délai de réponse maximal (secondes)")
]


@dataclass(frozen=True)
class Payload:
    """A file on disk ready to send, with its checksum and the draw's idempotency key."""

    path: Path
    sha256: str
    size: int
    idempotency_key: str
    metadata: dict[str, Any] = field(default_factory=dict)


#: Delivery states of a transmission, from the hand-off to the final recipient's receipt.
QUEUED = "queued"
FORWARDING = "forwarding"
DELIVERED = "delivered"
FAILED = "failed"
DELIVERY_STATES = (QUEUED, FORWARDING, DELIVERED, FAILED)


@dataclass(frozen=True)
class Receipt:
    """What the far end answered; stored in the draw's history."""

    transport: str
    receipt: str
    sha256: str
    duplicate: bool = False
    received_at: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    final: bool = True
    """True when the final recipient holds the payload; False for a hand-off to an intermediary
    (the payload waits there: follow it with ``Transport.delivery_status``)."""
    handoff_fr: str = ""
    """For a hand-off, the French words of the state, e.g. "remis au serveur e-POP, en attente
    de transmission" (the core names no transport)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Receipt:
        """A receipt from ``to_dict``'s shape; unknown keys are ignored (newer versions)."""
        return cls(
            transport=str(data.get("transport", "")),
            receipt=str(data.get("receipt", "")),
            sha256=str(data.get("sha256", "")),
            duplicate=bool(data.get("duplicate", False)),
            received_at=str(data.get("received_at", "")),
            detail=dict(data.get("detail") or {}),
            final=bool(data.get("final", True)),
            handoff_fr=str(data.get("handoff_fr", "")),
        )


@dataclass(frozen=True)
class DeliveryStatus:
    """Where a handed-off payload is now, as its intermediary tells."""

    state: str
    """One of ``DELIVERY_STATES``, or ``"unknown"`` when the intermediary does not know it."""
    receipt: Receipt | None = None
    """The final recipient's receipt, once ``delivered``."""
    reason_fr: str = ""
    """Why it ``failed``, or why it still waits (the last forwarding attempt's error)."""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TransportAction:
    """A button of a transport's settings form that fills options from this computer (the
    manual's "Importer les paramètres de proxy").

    ``run()`` may take time (it runs in a worker thread) and returns the options it found, by
    option name (empty when nothing was found); the form shows them, the user saves them.
    """

    id: str
    label_fr: str
    run: Callable[[], dict[str, Any]]
    #: What the form says when ``run()`` found nothing.
    nothing_fr: str = "Rien n'a été trouvé sur cet ordinateur."


#: The two modes of the manual's "Paramétrage ePop" form: a direct connection (proxy, e-PMSI
#: address and login) and an e-POP relay server (host, port, encrypt).
DIRECT_ROLE = "direct"
RELAY_ROLE = "relay"
#: The form's field keys, by role (what ``ManualForm.fields`` maps to option names).
FORM_FIELDS: dict[str, tuple[str, ...]] = {
    DIRECT_ROLE: ("use_proxy", "proxy_host", "proxy_port", "use_auth", "proxy_user", "base_url",
                  "epmsi_user"),
    RELAY_ROLE: ("host", "port", "encrypt"),
}
#: The form's password fields, by role (what ``ManualForm.password_keys`` maps to secret names).
FORM_PASSWORDS: dict[str, tuple[str, ...]] = {
    DIRECT_ROLE: ("proxy_password", "epmsi_password"),
    RELAY_ROLE: (),
}
#: The action (``Transport.actions``) the direct form's "Importer les paramètres de proxy" runs.
IMPORT_PROXY_ACTION = "import-proxy"


@dataclass(frozen=True)
class FormConverter:
    """How one option's stored value becomes a form value and back (e.g. a proxy mode shown as
    a checkbox).

    ``from_form(value, previous, values)`` gets the form value, the stored value before, and
    every form value (by form key). ``hint_fr(stored)`` is a French hint for a stored value the
    form cannot show (e.g. "proxy du système"); while there is one, the fields it stands for may
    stay empty.
    """

    to_form: Callable[[Any], Any]
    from_form: Callable[[Any, Any, Mapping[str, Any]], Any]
    hint_fr: Callable[[Any], str] | None = None


@dataclass(frozen=True)
class ManualForm:
    """A transport's place in the manual's "Paramétrage ePop" form, so the screen names no
    transport: the mode it fills (``role``: ``DIRECT_ROLE`` or ``RELAY_ROLE``), the form's
    field keys (``FORM_FIELDS[role]``) mapped to its option names, the form's password fields
    (``FORM_PASSWORDS[role]``) mapped to the secret names its credentials ask for, the default
    port of the "Défaut" button (relay), and converters by option name.
    """

    role: str
    fields: Mapping[str, str]
    password_keys: Mapping[str, str] = field(default_factory=dict)
    default_port: int | None = None
    converters: Mapping[str, FormConverter] = field(default_factory=dict)


class Transport(ABC):
    """Base class of every transport; subclasses are registered with ``lotas_register_transports``.

    ``options`` is an instance of ``options_model``; ``credentials`` gives secrets at use time
    (environment, OS keyring or prompt), so they never sit in the settings file. The settings
    screen builds its form from ``options_model`` (or shows it as a mode of the manual's form,
    ``manual_form``) and offers the ``actions``, so it needs no import of the transport's plugin.
    """

    name: ClassVar[str]
    title_fr: ClassVar[str]
    options_model: ClassVar[type[BaseModel]]
    #: Buttons of the settings form (``TransportAction``); none by default.
    actions: ClassVar[tuple[TransportAction, ...]] = ()
    #: Its mode of the manual's "Paramétrage ePop" form (``ManualForm``); None: a tab of its own.
    manual_form: ClassVar[ManualForm | None] = None

    @classmethod
    def action(cls, action_id: str) -> TransportAction | None:
        """The declared action ``action_id``, if any."""
        return next((action for action in cls.actions if action.id == action_id), None)

    def __init__(self, options: BaseModel, credentials: Any = None) -> None:
        self.options = options
        self.credentials = credentials

    @abstractmethod
    def check(self) -> str:
        """Contact the far end without sending data; return a French success sentence."""

    @abstractmethod
    def send(self, payload: Payload) -> Receipt:
        """Deliver ``payload``; a duplicate (already received) is a success with ``duplicate``."""

    def delivery_status(self, idempotency_key: str) -> DeliveryStatus | None:
        """Where the payload sent under ``idempotency_key`` is now; None when this transport
        cannot tell (its receipts are final). Sends no payload."""
        return None


class TransportError(LotasError):
    """Any transmission failure; ``message_fr`` is what the user sees."""

    retryable: ClassVar[bool] = False


class TransportTimeout(TransportError):
    """No host answered in time."""

    retryable = True

    def __init__(self, message_en: str = "connection timed out") -> None:
        super().__init__(MSG_TIMEOUT, message_en)


class ConnectionRefused(TransportError):
    """The target host refused the connection (nothing listens on that port)."""

    retryable = True

    def __init__(self, message_en: str = "connection refused") -> None:
        super().__init__(MSG_REFUSED, message_en)


class ClientNotAllowed(TransportError):
    """The e-POP relay refused this client's address."""

    def __init__(self, address: str, port: int) -> None:
        super().__init__(
            MSG_NOT_ALLOWED.format(address=address, port=port),
            f"client {address}:{port} is not allowed by the e-POP relay",
        )


class ProxyAuthenticationRequired(TransportError):
    """HTTP 407 from the proxy: missing or wrong proxy credentials."""


class AuthenticationFailed(TransportError):
    """The e-PMSI login was refused (HTTP 401/403)."""


class TLSFailure(TransportError):
    """The TLS handshake or certificate verification failed."""


class RetryableError(TransportError):
    """A temporary failure (HTTP 5xx, 429) that survived every retry."""

    retryable = True


class UntrustedCertificate(TLSFailure):
    """The far end's certificate is not yet trusted: nothing was sent.

    ``fingerprint`` (SHA-256, colon-separated hex) is what the user is asked to trust; storing
    it in the transport's option ``option`` trusts it (a fingerprint is not a secret).
    """

    def __init__(self, fingerprint: str, option: str, message_fr: str,
                 message_en: str = "certificate not trusted yet") -> None:
        super().__init__(message_fr, message_en)
        self.fingerprint = fingerprint
        self.option = option


class CertificateChanged(TLSFailure):
    """The far end presents another certificate than the trusted one: nothing was sent.

    ``presented`` is the new fingerprint; it replaces the trusted one in option ``option`` only
    when the user types that same fingerprint (``lotas test-connection --replace-certificate``).
    """

    def __init__(self, presented: str, option: str, message_fr: str,
                 message_en: str = "certificate fingerprint changed") -> None:
        super().__init__(message_fr, message_en)
        self.presented = presented
        self.option = option


class Rejected(TransportError):
    """The far end refused the payload (other 4xx, bad checksum)."""


class ProtocolError(TransportError):
    """The far end answered something this version does not understand."""

    retryable = True



def network_error(error: BaseException, host: str, message_en: str) -> TransportError:
    """The transport error for a network failure reaching ``host``, with the one French
    sentence of ``lotas_core.reasons`` (the same on every transport's path)."""
    kind = network_kind(error)
    if kind in ("timeout", "unreachable"):
        return TransportTimeout(message_en)
    if kind == "refused":
        return ConnectionRefused(message_en)
    text = network_reason_fr(error, host)
    if kind == "tls":
        return TLSFailure(text, message_en)
    if kind == "dns":
        return TransportError(text, message_en)
    return RetryableError(text, message_en)
