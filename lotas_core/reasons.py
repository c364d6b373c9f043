"""One table of French reasons for what the system says in English.

An ``OSError``, a damaged zip or a network failure carries an English (or localised C library)
text such as "File is not a zip file" or "Name or service not known". Messages shown to a DIM
user, on the screen and on the command line alike, take their reason from here instead, so the
same failure always reads the same, in French, whichever path met it (direct HTTPS or e-POP).
"""

from __future__ import annotations

import errno
import re
import socket
from collections.abc import Iterator

#: OS error numbers -> French reason (a fragment: "permission refusée").
OS_REASONS_FR: dict[int, str] = {
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.EACCES: "permission refusée",
    errno.EPERM: "opération non permise",
    errno.ENOSPC: "disque plein",
    errno.EDQUOT: "quota disque dépassé",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.ENOTDIR: "une partie du chemin n'est pas un dossier",
    errno.EEXIST: "le fichier existe déjà",
    errno.EBUSY: "fichier ou périphérique occupé",
    errno.EIO: "erreur de lecture ou d'écriture du disque",
    errno.EMFILE: "trop de fichiers ouverts",
    errno.ENFILE: "trop de fichiers ouverts",
    errno.ENAMETOOLONG: "nom de fichier trop long",
    errno.EXDEV: "déplacement impossible entre deux disques",
    errno.ETXTBSY: "fichier en cours d'utilisation",
    errno.ENOTEMPTY: "dossier non vide",
    errno.ELOOP: "trop de liens symboliques",
    errno.EINVAL: "nom ou paramètre invalide",
}
OS_REASON_UNKNOWN = "erreur du système"

#: The manual's sentences (reference/manuel-lotas-psy-sma-2021.txt), kept word for word.
MSG_TIMEOUT = (
    "Une tentative de connexion a échoué car le parti connecté n'a pas répondu convenablement "
    "au-delà d'une certaine durée ou une connexion établie a échoué car l'hôte de connexion n'a "
    "pas répondu"
)
MSG_REFUSED = (
    "Aucune connexion n'a pu être établie car l'ordinateur cible l'a expressément refusée"
)

#: Network failure kinds -> the one French sentence shown for them, on every path.
NETWORK_REASONS_FR: dict[str, str] = {
    "timeout": MSG_TIMEOUT,
    "refused": MSG_REFUSED,
    # The manual gives the timeout sentence for an address that matches no computer.
    "unreachable": MSG_TIMEOUT,
    "dns": (
        "Le nom « {host} » ne correspond à aucun ordinateur connu (nom introuvable) : vérifiez "
        "l'adresse saisie et, si elle est juste, le serveur de noms (DNS) du poste"
    ),
    "reset": (
        "La connexion avec {host} a été interrompue : réessayez ; si cela se reproduit, "
        "vérifiez le proxy, le pare-feu et l'accès au réseau"
    ),
    "tls": (
        "La connexion sécurisée (TLS) avec {host} a échoué : certificat non reconnu, établi pour "
        "un autre nom, ou trafic inspecté par l'établissement"
    ),
    "other": (
        "La connexion avec {host} a échoué : vérifiez l'adresse, le proxy et l'accès au réseau, "
        "puis réessayez"
    ),
}

ZIP_REASON_FR = (
    "ce n'est pas une archive zip valide (fichier incomplet, endommagé ou d'un autre format)"
)


def file_reason_fr(error: Exception) -> str:
    """Why a text file (the settings) could not be read: OS, encoding or TOML syntax."""
    if isinstance(error, OSError):
        return os_reason_fr(error)
    if isinstance(error, UnicodeDecodeError):
        return "le fichier n'est pas du texte UTF-8"
    where = re.search(r"line (\d+), column (\d+)", str(error))
    if where:
        return f"erreur de syntaxe ligne {where.group(1)}, colonne {where.group(2)}"
    return "erreur de syntaxe"


#: SQLite error names (``sqlite3.Error.sqlite_errorname``) -> French reason.
SQLITE_REASONS_FR: dict[str, str] = {
    "SQLITE_FULL": OS_REASONS_FR[errno.ENOSPC],
    "SQLITE_READONLY": "fichier en lecture seule",
    "SQLITE_CANTOPEN": "fichier impossible à ouvrir",
    "SQLITE_PERM": "permission refusée",
    "SQLITE_AUTH": "permission refusée",
    "SQLITE_CORRUPT": "fichier endommagé",
    "SQLITE_NOTADB": "ce fichier n'est pas un historique de tirages lotas",
    "SQLITE_IOERR": OS_REASONS_FR[errno.EIO],
    "SQLITE_BUSY": "base occupée par un autre programme",
    "SQLITE_LOCKED": "base occupée par un autre programme",
}


def sqlite_reason_fr(error: BaseException) -> str:
    """The French reason of an SQLite failure (the history database)."""
    if isinstance(error, OSError):
        return os_reason_fr(error)
    name = str(getattr(error, "sqlite_errorname", "") or "")
    for known, reason in SQLITE_REASONS_FR.items():
        if name.startswith(known):
            return reason
    text = str(error).lower()
    for marker, reason in (
        ("disk is full", OS_REASONS_FR[errno.ENOSPC]),
        ("readonly", "fichier en lecture seule"),
        ("unable to open", "fichier impossible à ouvrir"),
        ("not a database", SQLITE_REASONS_FR["SQLITE_NOTADB"]),
        ("malformed", "fichier endommagé"),
        ("disk i/o", OS_REASONS_FR[errno.EIO]),
    ):
        if marker in text:
            return reason
    return "erreur de la base de données"


def os_reason_fr(error: OSError) -> str:
    """The French reason of an OS error ("permission refusée")."""
    if isinstance(error, socket.gaierror):
        return "nom d'ordinateur introuvable"
    if isinstance(error, TimeoutError):
        return "délai dépassé"
    if error.errno in OS_REASONS_FR:
        return OS_REASONS_FR[error.errno]
    # No English words: the code's name is what a technician searches for.
    code = errno.errorcode.get(error.errno, "") if isinstance(error.errno, int) else ""
    return f"{OS_REASON_UNKNOWN} ({code})" if code else OS_REASON_UNKNOWN


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and what it wraps (cause, context, urllib3's ``reason``, exception args)."""
    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo and len(seen) < 32:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        for nested in (item.__cause__, item.__context__, getattr(item, "reason", None),
                       *getattr(item, "args", ())):
            if isinstance(nested, BaseException):
                todo.append(nested)


def network_kind(error: BaseException) -> str:
    """Which network failure ``error`` is: a key of ``NETWORK_REASONS_FR``."""
    import ssl  # here: the reasons table is imported by every command, TLS by few

    chain = list(_chain(error))
    names = {type(item).__name__ for item in chain}
    if any(isinstance(item, socket.gaierror) for item in chain) or "NameResolutionError" in names:
        return "dns"
    if any(isinstance(item, ssl.SSLError | ssl.CertificateError) for item in chain):
        return "tls"
    if any(isinstance(item, ConnectionRefusedError) for item in chain):
        return "refused"
    if any(isinstance(item, TimeoutError | socket.timeout) for item in chain) or (
        names & {"ConnectTimeout", "ReadTimeout", "ConnectTimeoutError", "ReadTimeoutError"}
    ):
        return "timeout"
    unreachable = (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT, errno.EHOSTDOWN)
    if any(isinstance(item, OSError) and item.errno in unreachable for item in chain):
        return "unreachable"
    if any(isinstance(item, ConnectionResetError | ConnectionAbortedError | BrokenPipeError)
           for item in chain) or names & {"ProtocolError", "RemoteDisconnected"}:
        return "reset"
    return "other"


def network_reason_fr(error: BaseException, host: str) -> str:
    """The one French sentence for a network failure reaching ``host``."""
    return NETWORK_REASONS_FR[network_kind(error)].format(host=host)
