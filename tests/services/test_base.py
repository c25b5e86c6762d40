"""The services themselves: each starts on 127.0.0.1, answers, and is gone after; what cannot start says why."""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path

import pytest

from bench.services import SERVICES, Running, Unavailable
from bench.services.base import alive, log_tail, port_free

pytestmark = pytest.mark.services


def test_a_port_held_by_any_socket_is_not_free() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        assert not port_free(port)  # bound, not listening: a server still could not bind it
    assert port_free(port)


def test_the_end_of_a_log_is_one_line(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_text("starting\nbind() failed\n  (98: Address already in use)\n")
    assert log_tail(log) == "starting bind() failed (98: Address already in use)"
    assert log_tail(tmp_path / "none") == ""


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_each_service_says_what_to_install_when_its_binary_is_missing(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    service = SERVICES[name]
    why = service.missing()
    if why is None:  # found outside PATH (Debian's versioned folder): nothing to check here
        pytest.skip(f"{name} is found without PATH")
    assert "apt-get install" in why
    with pytest.raises(Unavailable, match=name), service.start(Path(tempfile.mkdtemp())):
        pass


def test_a_taken_port_is_refused_with_the_variable_that_moves_it(monkeypatch: pytest.MonkeyPatch) -> None:
    service = SERVICES["redis"]
    if service.missing():
        pytest.skip(service.missing() or "")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        monkeypatch.setenv(service.port_variable, str(sock.getsockname()[1]))
        with pytest.raises(Unavailable, match=service.port_variable), service.start(Path(tempfile.mkdtemp())):
            pass


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(SERVICES))
def test_each_service_answers_on_loopback_and_is_gone_after(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    service = SERVICES[name]
    monkeypatch.setenv(service.port_variable, str(service.default_port + 7))  # beside the session's own
    try:
        with service.start(Path(tempfile.mkdtemp())) as running:
            assert isinstance(running, Running) and alive(running.pid)
            with socket.create_connection(("127.0.0.1", running.port), timeout=5):
                pass
            pid = running.pid
    except Unavailable as exc:
        pytest.skip(str(exc))
    assert not alive(pid)
    assert port_free(running.port)  # nothing of it is left listening
