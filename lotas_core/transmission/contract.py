"""The transport contract: how a draw leaves the hospital (never with an IPP).

A transport is a class with a ``name``, a pydantic ``options_model``, ``check()`` (the manual's
"Tester" button: contacts the far end, sends no data) and ``send(payload) -> Receipt``.
All transports raise the one ``TransportError`` family below, carrying the manual's sentences.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field

from lotas_core.errors import LotasError
from lotas_core.fsutil import file_sha256 as file_sha256  # re-exported for transports

# The manual's sentences (reference/manuel-lotas-psy-sma-2021.txt), kept word for word.
MSG_TIMEOUT = (
    "Une tentative de connexion a échoué car le parti connecté n'a pas répondu convenablement "
    "au-delà d'une certaine durée ou une connexion établie a échoué car l'hôte de connexion n'a "
    "pas répondu"
)
MSG_REFUSED = (
    "Aucune connexion n'a pu être établie car l'ordinateur cible l'a expressément refusée"
)
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


@dataclass(frozen=True)
class Receipt:
    """What the far end answered; stored in the draw's history entry."""

    transport: str
    receipt: str
    sha256: str
    duplicate: bool = False
    received_at: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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


class Transport(ABC):
    """Base class of every transport; subclasses are registered with ``lotas_register_transports``.

    ``options`` is an instance of ``options_model``; ``credentials`` gives secrets at use time
    (environment, OS keyring or prompt), so they never sit in the settings file. The settings
    screen builds its form from ``options_model`` and offers the ``actions``, so it needs no
    import of the transport's plugin.
    """

    name: ClassVar[str]
    title_fr: ClassVar[str]
    options_model: ClassVar[type[BaseModel]]
    #: Buttons of the settings form (``TransportAction``); none by default.
    actions: ClassVar[tuple[TransportAction, ...]] = ()

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


class Rejected(TransportError):
    """The far end refused the payload (other 4xx, bad checksum)."""


class ProtocolError(TransportError):
    """The far end answered something this version does not understand."""

    retryable = True

