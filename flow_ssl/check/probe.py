"""
What does a live server actually send? Fetch its chain with s_client and run `check` on it.

The served chain is checked exactly like files given to ``check`` (same code,
same findings), so "ready" means the same thing before and after installing.
Every connection is bounded in time: nothing listening or no TLS is a clear
error, never a hang.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl.check import readiness
from flow_ssl.core import names
from flow_ssl.core.errors import (
    ConnectionFailedError,
    InvalidInputError,
    OpenSSLNoAnswerError,
    openssl_reason,
)
from flow_ssl.openssl import runner
from flow_ssl.openssl.commands.read import build_s_client

if TYPE_CHECKING:
    from flow_ssl.check.readiness import Report
    from flow_ssl.openssl.commands.base import Command

DEFAULT_PORT = 443
DEFAULT_TIMEOUT = 10.0
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", re.DOTALL)
# What s_client prints when it gets no certificates, and what it means to an operator.
_FAILURES = (
    ("Connection refused", "nothing is listening there (connection refused)"),
    ("Name or service not known", "the name does not resolve (DNS)"),
    ("nodename nor servname", "the name does not resolve (DNS)"),
    ("No address associated", "the name does not resolve (DNS)"),
    ("Network is unreachable", "the network is unreachable"),
    ("No route to host", "there is no route to that host"),
    ("wrong version number", "it does not speak TLS there (plain HTTP?)"),
    ("packet length too long", "it does not speak TLS there"),
    ("unexpected eof", "it closed the connection during the TLS handshake"),
    ("alert handshake failure", "the TLS handshake failed (no shared protocol or cipher?)"),
    # LibreSSL reads a plain-HTTP answer as a TLS alert record and says this.
    (
        "alert protocol version",
        "it does not speak TLS there (plain HTTP?), or shares no TLS version with openssl",
    ),
    ("alert", "the server refused the TLS handshake"),
)


@dataclass(frozen=True)
class Target:
    """The name checked (and sent as SNI) and the address connected to."""

    host: str
    port: int
    connect: str

    @property
    def shown(self) -> str:
        """``host:port``, with where it connected when that differs."""
        name = f"{self.host}:{self.port}"
        return name if self.connect == _join(self.host, self.port) else f"{name} via {self.connect}"


def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def split_host_port(text: str, field: str) -> tuple[str, int | None]:
    """
    ``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address -> (host, port or None).

    Raises:
        InvalidInputError: an empty host or a port that is not 1-65535.
    """
    host, port_text = text, ""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    if not host:
        raise InvalidInputError(f"{text!r}: give a host name or address", field=field)
    if not port_text:
        return host, None
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise InvalidInputError(f"{text!r}: the port must be a number from 1 to 65535", field=field)
    return host, int(port_text)


def target(text: str, connect: str | None) -> Target:
    """
    The probe's target from ``HOST[:PORT]`` and an optional ``--connect ADDR[:PORT]``.

    Raises:
        InvalidInputError: a malformed host, address or port.
    """
    host, given_port = split_host_port(text, "host")
    port = given_port or DEFAULT_PORT
    try:
        _, host = names.classify(host)
    except ValueError as exc:
        raise InvalidInputError(str(exc), field="host", joiner=": ") from None
    if connect is None:
        return Target(host, port, _join(host, port))
    address, connect_port = split_host_port(connect, "connect")
    return Target(host, port, _join(address, connect_port or port))


def s_client_command(where: Target) -> Command:
    """The s_client run; SNI is sent for a host name, never for an IP address."""
    kind, _ = names.classify(where.host)
    return build_s_client(where.connect, servername=where.host if kind == "dns" else None)


def fetch(where: Target, *, timeout: float = DEFAULT_TIMEOUT) -> str:
    """
    The certificates the server sends, as PEM, in the order it sends them.

    Raises:
        ConnectionFailedError: nothing listening, no TLS, a failed handshake, or no
            answer within ``timeout`` seconds.
    """
    try:
        result = runner.run(s_client_command(where), timeout=timeout, check=False)
    except OpenSSLNoAnswerError:
        raise ConnectionFailedError(
            f"{where.shown}: no TLS answer within {timeout:g}s",
            hint="is the address right, and is a firewall dropping the connection?",
        ) from None
    served = "".join(_PEM.findall(result.stdout))
    if served:
        return served
    printed = result.stderr + result.stdout
    reason = next((why for marker, why in _FAILURES if marker in printed), None)
    if reason is None:
        reason = f"openssl s_client: {openssl_reason(printed) or 'no certificate received'}"
    raise ConnectionFailedError(f"{where.shown}: {reason}")


def probe(
    where: Target,
    *,
    ca_file: Path | None,
    hosts: tuple[str, ...],
    min_days: int,
    renew_within: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Report:
    """Fetch the served chain and check it as ``check`` would."""
    served = fetch(where, timeout=timeout)
    with tempfile.TemporaryDirectory(prefix="flow-ssl-probe-") as folder:
        chain_file = Path(folder) / "served.pem"
        chain_file.write_text(served, encoding="ascii")
        return readiness.check(
            chain_file,
            ca_file=ca_file,
            hosts=hosts or (where.host,),
            min_days=min_days,
            renew_within=renew_within,
            label=f"{where.shown} served",
            served=True,
        )
