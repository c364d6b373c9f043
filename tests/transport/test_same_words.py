"""One network failure, one French sentence, whichever transport met it (issue 13)."""

from __future__ import annotations

import errno
import socket

import pytest
import requests

from lotas_core.transmission.contract import MSG_REFUSED, TransportError
from lotas_core.transmission.credentials import Credentials
from lotas_plugins.transport_direct.client import MSG_AUTH, DirectTransport
from lotas_plugins.transport_direct.options import DirectOptions
from lotas_plugins.transport_epop.client import EpopOptions, EpopTransport

HOST = "qualhas.invalid"


def direct_sentence(error: OSError) -> str:
    transport = DirectTransport(DirectOptions(base_url=f"https://{HOST}", epmsi_user="dim01"),
                                Credentials({}, use_keyring=False))
    wrapped = requests.exceptions.ConnectionError(error)
    wrapped.__cause__ = error
    return transport._map_exception(wrapped).message_fr


def epop_sentence(monkeypatch, error: OSError) -> str:
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(socket, "create_connection", fail)
    transport = EpopTransport(EpopOptions(host=HOST, max_retries=0))
    with pytest.raises(TransportError) as caught:
        transport.check()
    return caught.value.message_fr


@pytest.mark.parametrize("error", [
    socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
    ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
    OSError(errno.EHOSTUNREACH, "No route to host"),
    ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
], ids=["dns", "refused", "unreachable", "reset"])
def test_direct_and_epop_say_the_same_sentence(monkeypatch, error):
    direct = direct_sentence(error)
    epop = epop_sentence(monkeypatch, error)
    assert direct == epop
    assert error.strerror not in direct  # the system's English words never show


def test_refused_is_the_manuals_sentence_on_both_paths(monkeypatch):
    error = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    assert direct_sentence(error) == MSG_REFUSED == epop_sentence(monkeypatch, error)


@pytest.mark.parametrize("host", ["999.1.1.1", "10.0.0", "relais chu", "http://relais:3358"])
def test_epop_address_must_be_an_ip_address_or_a_host_name(host):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="adresse du serveur e-POP invalide"):
        EpopOptions(host=host)


@pytest.mark.parametrize("host", ["192.168.1.20", "relais.chu.local", "::1", "relais-1"])
def test_good_epop_addresses_pass(host):
    assert EpopOptions(host=host).host == host


def test_the_authentication_sentence_names_no_environment_variable():
    assert "LOTAS_" not in MSG_AUTH
