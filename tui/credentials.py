"""Secrets typed in the settings screen, handed to the core for this session only."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lotas_core.transmission.credentials import Credentials


def session_credentials(secrets: dict[str, str] | None) -> Credentials:
    """The core's ``Credentials`` with the secrets typed this session (then env, keyring).

    No prompt callback: a worker thread cannot ask; a missing secret is the transport's error.
    """
    from lotas_core.transmission.credentials import Credentials

    return Credentials({name: value for name, value in (secrets or {}).items() if value})


def offer_to_keyring(secrets: dict[str, str]) -> list[str]:
    """Store each secret in the OS keyring when one is usable; the names stored."""
    from lotas_core.transmission.credentials import store_in_keyring

    return [name for name, value in secrets.items() if value and store_in_keyring(name, value)]
