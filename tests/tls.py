"""Real TLS handshakes on 127.0.0.1: openssl s_server serving, Python's ssl connecting."""

from __future__ import annotations

import socket
import ssl
import subprocess
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tests.helpers import SYSTEM_OPENSSL

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@contextmanager
def refusing_port() -> Iterator[int]:
    """A port held by a socket that never listens: connections to it are refused, race-free."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        yield port


@contextmanager
def s_server(cert: Path, key: Path, chain: Path | None = None) -> Iterator[int]:
    """
    Serve ``cert`` (and ``chain``) with openssl s_server; yield its port once it listens.

    The system's openssl on purpose: the TLS server is the oracle's peer, not what is
    under test. It binds port 0 itself and prints ``ACCEPT host:port`` once listening,
    so there is no race for the port nor for the moment it is ready.
    """
    assert SYSTEM_OPENSSL is not None
    argv = [SYSTEM_OPENSSL, "s_server", "-accept", "127.0.0.1:0", "-cert", str(cert),
            "-key", str(key), "-www"]  # fmt: skip
    if chain is not None:
        argv += ["-cert_chain", str(chain)]
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        assert process.stdout is not None
        port = None
        for line in process.stdout:
            if line.startswith("ACCEPT "):
                port = int(line.rsplit(":", 1)[1])
                break
        if port is None:
            raise RuntimeError(f"openssl s_server exited with {process.wait()}")
        yield port
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def handshake(port: int, server_name: str, cafile: Path) -> str | None:
    """
    Connect trusting only ``cafile`` and check ``server_name``.

    Returns None on success, or the verification error text.
    """
    context = ssl.create_default_context(cafile=str(cafile))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
                context.wrap_socket(raw, server_hostname=server_name):  # fmt: skip
            return None
    except ssl.SSLCertVerificationError as exc:
        return str(exc.verify_message)


def go_handshake(client: Path, port: int, server_name: str, cafile: Path) -> str | None:
    """The same with Go's crypto/tls (the admin console's stack), via tests/clients."""
    done = subprocess.run(
        [str(client), f"127.0.0.1:{port}", server_name, str(cafile)],
        capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip
    if done.returncode == 0:
        return None
    return (done.stdout + done.stderr).strip() or f"exit {done.returncode}"


def gnutls_handshake(port: int, server_name: str, cafile: Path) -> str | None:
    """The same with GnuTLS's gnutls-cli."""
    done = subprocess.run(
        ["gnutls-cli", "--x509cafile", str(cafile), "--port", str(port),
         "--verify-hostname", server_name, "127.0.0.1"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip
    if done.returncode == 0:
        return None
    errors = [line for line in done.stdout.splitlines() if line.startswith("***")]
    return " ".join(errors) or f"exit {done.returncode}"
