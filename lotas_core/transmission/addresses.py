"""Is a typed server address usable: an IP address (v4 or v6) or a host name.

The manual asks for "4 nombres compris entre 0 et 255 séparés par des points"; a host name is
accepted too (hospitals name their servers). Dotted numbers that are not an IPv4 address
(``999.1.1.1``, ``10.0.0``) are refused rather than sent to a name resolver.
"""

from __future__ import annotations

import ipaddress
import re

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?$")
_DOTTED_NUMBERS = re.compile(r"^[0-9.]+$")


def address_problem(text: str) -> str | None:
    """Why ``text`` is not a usable server address, in French; None when it is."""
    value = text.strip()
    if not value:
        return "l'adresse est vide"
    try:
        ipaddress.ip_address(value.strip("[]"))
        return None
    except ValueError:
        pass
    if _DOTTED_NUMBERS.match(value):
        return ("une adresse IP est faite de 4 nombres entre 0 et 255 séparés par des points "
                "(par exemple 192.168.1.20)")
    if not _HOST_NAME.match(value):
        return ("un nom d'ordinateur ne contient que des lettres, des chiffres, « - » et « . », "
                "sans espace, ni port, ni « http:// »")
    return None
