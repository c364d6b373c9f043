"""Secrets come from explicit values, the environment, the keyring or a prompt, never the file."""

from __future__ import annotations

import logging

import keyring
import pytest
from keyring.backend import KeyringBackend

from lotas_core.settings import load_settings, save_settings
from lotas_core.transmission.credentials import Credentials, Secret, store_in_keyring


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        self.items.pop((service, username), None)


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_order_explicit_env_keyring_prompt(memory_keyring, monkeypatch):
    asked: list[tuple[str, str, bool]] = []

    def prompt(name, label, secret):
        asked.append((name, label, secret))
        return "from-prompt"

    creds = Credentials(prompt=prompt)
    assert creds.get("proxy_password") == "from-prompt"
    assert asked == [("proxy_password", "Mot de passe du proxy", True)]
    assert creds.get("proxy_password") == "from-prompt" and len(asked) == 1  # kept in memory

    assert store_in_keyring("epmsi_password", "from-keyring")
    assert Credentials(prompt=prompt).get("epmsi_password") == "from-keyring"
    monkeypatch.setenv("LOTAS_EPMSI_PASSWORD", "from-env")
    assert Credentials(prompt=prompt).get("epmsi_password") == "from-env"
    assert Credentials({"epmsi_password": "explicit"}).get("epmsi_password") == "explicit"


def test_no_keyring_backend_is_fine():
    # conftest selects the null keyring: nothing found, nothing raised.
    assert Credentials().get("epmsi_password") is None
    assert Credentials(prompt=lambda *a: None).get("epmsi_user", secret=False) is None


def test_broken_keyring_is_skipped(monkeypatch, caplog):
    def boom(*args):
        raise RuntimeError("locked wallet")

    monkeypatch.setattr(keyring, "get_password", boom)
    caplog.set_level(logging.DEBUG)
    assert Credentials().get("proxy_password") is None


def test_secret_never_shows():
    secret = Secret("hunter2")
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr([secret])):
        assert "hunter2" not in text
    assert secret.reveal() == "hunter2"
    assert "hunter2" not in repr(Credentials({"proxy_password": "hunter2"}))


def test_password_never_reaches_the_settings_file(config_file):
    settings = load_settings(transport={"name": "transport_direct", "options": {
        "transport_direct": {"proxy_mode": "manual", "proxy_host": "proxy", "proxy_port": 3128,
                             "proxy_auth": True, "proxy_user": "u",
                             "proxy_password": "Pr0xy-S3cret"}}}).settings
    save_settings(settings, config_file)
    text = config_file.read_text(encoding="utf-8")
    assert "Pr0xy-S3cret" not in text and "proxy_user" in text


def test_relay_certificate_comes_from_the_keyring_then_the_options(memory_keyring, tmp_path):
    from lotas_plugins.transport_epop.commands import relay_tls_files

    store_in_keyring("epop_tls_cert", str(tmp_path / "relay.pem"))
    store_in_keyring("epop_tls_key", str(tmp_path / "relay.key"))
    found = relay_tls_files(None, None, Credentials())
    assert found == (tmp_path / "relay.pem", tmp_path / "relay.key")
    given = relay_tls_files(tmp_path / "cli.pem", tmp_path / "cli.key", Credentials())
    assert given == (tmp_path / "cli.pem", tmp_path / "cli.key")
    assert relay_tls_files(None, None, Credentials(environ={}, use_keyring=False)) == (None, None)
