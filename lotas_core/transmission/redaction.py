"""Credentials never leave in a URL: find them (to refuse a setting) and cut them out (outputs).

``https://dim01:secret@host/`` and a proxy host ``dim01:secret@proxy`` carry a password that
would be printed by ``lotas config``, written into the append-only history or an export. Options
models refuse them (``url_credentials_error``); everything lotas writes or prints goes through
``redact_credentials`` as a second line of defence.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

#: ``scheme://userinfo@``: any user information in a URL is cut out.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@?#]*@")
#: ``user:password@host`` without a scheme (a proxy host pasted with its login).
_BARE_USERINFO = re.compile(r"(?<![\w.+\-/:@])[^\s/@:]+:[^\s/@]*@(?=[\w\[])")

MSG_CREDENTIALS_IN_ADDRESS = (
    "l'adresse contient un identifiant ou un mot de passe (« utilisateur:mot_de_passe@ ») : "
    "retirez-le ; les identifiants se règlent à part et les mots de passe viennent de "
    "l'environnement, du trousseau ou d'une saisie"
)


def has_credentials(value: str) -> bool:
    """True when ``value`` (a URL or a host name) holds user information before an ``@``."""
    text = value.strip()
    if "://" in text:
        netloc = urlsplit(text).netloc
        return "@" in netloc
    return "@" in text.split("/", 1)[0]


def url_credentials_error(value: str) -> None:
    """Raise ``ValueError`` (French, for an options model) when ``value`` holds credentials."""
    if has_credentials(value):
        raise ValueError(MSG_CREDENTIALS_IN_ADDRESS)


def redact_credentials(value: Any) -> Any:
    """A copy of ``value`` (str, dict, list) with every URL's user information replaced by
    ``***@``; other values are returned unchanged."""
    if isinstance(value, str):
        text = _URL_USERINFO.sub(r"\1***@", value)
        return _BARE_USERINFO.sub("***@", text)
    if isinstance(value, dict):
        return {key: redact_credentials(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_credentials(item) for item in value]
    return value
