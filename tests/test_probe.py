"""probe against servers on 127.0.0.1: right chain, wrong name, missing intermediate, no server."""

from __future__ import annotations

import json
import socket
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

from flow_ssl.check.probe import split_host_port, target
from flow_ssl.core.errors import InvalidInputError
from tests.helpers import requires_openssl
from tests.pki import Issued, make_ca, make_leaf, write
from tests.tls import refusing_port, s_server

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from tests.helpers import Run

NAMES = ["flow.mycompany.com", "flow-analytics.mycompany.com"]


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """root.pem, issuing.pem, leaf.pem and leaf.key for NAMES."""
    folder = tmp_path_factory.mktemp("probe")
    root = make_ca("Probe Root CA")
    issuing = make_ca("Probe Issuing CA", root)
    leaf: Issued = make_leaf(issuing, NAMES)
    write(folder, "root.pem", root.pem())
    write(folder, "issuing.pem", issuing.pem())
    write(folder, "leaf.pem", leaf.pem())
    write(folder, "leaf.key", leaf.key_pem())
    return folder


def _findings(result: Run) -> dict[str, str]:
    return {f["check"]: f["status"] for f in json.loads(result.out)["findings"]}


@requires_openssl
def test_leaf_and_intermediate_served_is_ready(cli: Callable[..., Run], chain: Path) -> None:
    """A server sending leaf and intermediate, checked against its root, is ready (exit 0)."""
    with s_server(chain / "leaf.pem", chain / "leaf.key", chain / "issuing.pem") as port:
        result = cli("probe", f"flow.mycompany.com:{port}", "--connect", "127.0.0.1",
                     "--ca-file", str(chain / "root.pem"))  # fmt: skip
        as_json = cli("probe", f"flow-analytics.mycompany.com:{port}", "--connect", "127.0.0.1",
                      "--ca-file", str(chain / "root.pem"), "--json")  # fmt: skip
    assert result.code == 0, result.out + result.err
    assert "sent 2 certificate(s)" in result.out
    assert "1. CN=flow.mycompany.com" in result.out
    assert "2. CN=Probe Issuing CA" in result.out
    assert as_json.code == 0
    assert json.loads(as_json.out)["ready"] is True
    assert _findings(as_json)["hostname"] == "pass"


@requires_openssl
def test_a_name_the_certificate_lacks_fails(cli: Callable[..., Run], chain: Path) -> None:
    """A --host the certificate does not cover fails the hostname finding (exit 1)."""
    with s_server(chain / "leaf.pem", chain / "leaf.key", chain / "issuing.pem") as port:
        result = cli("probe", f"other.mycompany.com:{port}", "--connect", "127.0.0.1",
                     "--ca-file", str(chain / "root.pem"), "--json")  # fmt: skip
    assert result.code == 1
    assert _findings(result)["hostname"] == "fail"
    assert _findings(result)["chain-complete"] == "pass"


@requires_openssl
@pytest.mark.parametrize("trusted", [False, True], ids=["no-root", "ca-file"])
def test_what_trusting_the_root_cannot_cure_fails_probe_without_the_root_too(
    cli: Callable[..., Run], tmp_path: Path, trusted: bool
) -> None:
    """A served leaf with an unknown critical extension: not ready, root given or not."""
    from cryptography import x509

    root = make_ca("Probe Root CA")
    issuing = make_ca("Probe Issuing CA", root)
    unknown = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4.5"), b"\x05\x00")
    leaf = make_leaf(issuing, NAMES, extensions=[(unknown, True)])
    write(tmp_path, "root.pem", root.pem())
    write(tmp_path, "issuing.pem", issuing.pem())
    write(tmp_path, "leaf.pem", leaf.pem())
    write(tmp_path, "leaf.key", leaf.key_pem())
    trust = ["--ca-file", "root.pem"] if trusted else []
    with s_server(tmp_path / "leaf.pem", tmp_path / "leaf.key", tmp_path / "issuing.pem") as port:
        result = cli(
            "probe", f"flow.mycompany.com:{port}", "--connect", "127.0.0.1", *trust, "--json"
        )
    assert result.code == 1, result.out
    verdict = {f["check"]: f for f in json.loads(result.out)["findings"]}["chain-verifies"]
    assert verdict["status"] == "fail"
    assert "critical extension 1.2.3.4.5" in verdict["message"]


@requires_openssl
def test_a_server_that_forgets_its_intermediate(cli: Callable[..., Run], chain: Path) -> None:
    """A server sending only its leaf fails chain-complete; the hostname still passes."""
    with s_server(chain / "leaf.pem", chain / "leaf.key") as port:
        result = cli("probe", f"flow.mycompany.com:{port}", "--connect", "127.0.0.1",
                     "--ca-file", str(chain / "root.pem"), "--json")  # fmt: skip
    assert result.code == 1
    assert _findings(result)["chain-complete"] == "fail"
    assert _findings(result)["hostname"] == "pass"


@requires_openssl
def test_nothing_listening_is_exit_3(cli: Callable[..., Run]) -> None:
    """A refused connection is exit 3 with "nothing is listening", no traceback."""
    with refusing_port() as port:
        result = cli("probe", f"127.0.0.1:{port}", "--timeout", "5")
    assert result.code == 3
    assert "nothing is listening" in result.err
    assert "Traceback" not in result.err


@contextmanager
def _silent_server(*, reply: bytes | None) -> Iterator[int]:
    """Accepts connections; answers with ``reply`` (plain text) or never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            if reply is not None:
                conn.recv(4096)
                conn.sendall(reply)
                conn.close()
            else:
                held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


@pytest.mark.slow
@requires_openssl
def test_a_server_that_never_answers_times_out(cli: Callable[..., Run]) -> None:
    """A server that accepts and never answers is exit 3 within --timeout."""
    with _silent_server(reply=None) as port:
        result = cli("probe", f"127.0.0.1:{port}", "--timeout", "1")
    assert result.code == 3
    assert "no TLS answer within 1s" in result.err


@requires_openssl
def test_plain_http_is_not_tls(cli: Callable[..., Run]) -> None:
    """A plain-HTTP answer is exit 3 saying it does not speak TLS."""
    with _silent_server(reply=b"HTTP/1.0 400 Bad Request\r\n\r\n") as port:
        result = cli("probe", f"localhost:{port}", "--connect", f"127.0.0.1:{port}")
    assert result.code == 3
    assert "does not speak TLS" in result.err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("flow.mycompany.com", ("flow.mycompany.com", None)),
        ("flow.mycompany.com:8443", ("flow.mycompany.com", 8443)),
        ("[::1]:8443", ("::1", 8443)),
        ("::1", ("::1", None)),
        ("10.0.0.5:443", ("10.0.0.5", 443)),
    ],
)
def test_host_and_port_forms(text: str, expected: tuple[str, int | None]) -> None:
    """HOST, HOST:PORT, [v6]:PORT and a bare IPv6 address split as expected."""
    assert split_host_port(text, "HOST") == expected


def test_connect_keeps_the_name_and_takes_the_port() -> None:
    """--connect changes where to connect, not the name checked (SNI)."""
    where = target("flow.mycompany.com:8443", "10.1.1.1")
    assert (where.host, where.port, where.connect) == ("flow.mycompany.com", 8443, "10.1.1.1:8443")
    assert target("flow.mycompany.com", "[::1]:9443").connect == "[::1]:9443"


@pytest.mark.parametrize(
    "text", ["flow.mycompany.com:0", "flow.mycompany.com:99999", ":443", "a b:1"]
)
def test_bad_targets_are_input_errors(text: str) -> None:
    """Empty hosts and bad ports are input errors."""
    with pytest.raises(InvalidInputError):
        target(text, None)


def test_print_shows_the_s_client_command_and_connects_nowhere(cli: Callable[..., Run]) -> None:
    """probe --print shows the s_client line and connects nowhere."""
    result = cli("probe", "flow.mycompany.com", "--connect", "10.9.9.9:8443", "--print")
    assert result.code == 0
    assert result.out.splitlines()[0] == (
        "openssl s_client -connect 10.9.9.9:8443 -servername flow.mycompany.com -showcerts"
        " < /dev/null"
    )
    by_ip = cli("probe", "[::1]:8443", "--print").out.splitlines()[0]
    assert by_ip == "openssl s_client -connect '[::1]:8443' -showcerts < /dev/null"
