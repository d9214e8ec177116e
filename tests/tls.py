"""Real TLS handshakes on 127.0.0.1: openssl s_server serving, Python's ssl connecting."""

from __future__ import annotations

import socket
import ssl
import subprocess
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def free_port() -> int:
    """A port nothing listens on (yet)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def s_server(cert: Path, key: Path, chain: Path | None = None) -> Iterator[int]:
    """Serve ``cert`` (and ``chain``) with openssl s_server; yield the port."""
    port = free_port()
    argv = ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(cert),
            "-key", str(key), "-quiet", "-www"]  # fmt: skip
    if chain is not None:
        argv += ["-cert_chain", str(chain)]
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"openssl s_server exited with {process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.02)
        yield port
    finally:
        process.kill()
        process.wait()


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
