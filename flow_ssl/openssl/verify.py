"""
The verifications openssl performs, for every workflow: key matches certificate, a CSR's
self-signature, and a chain reaching its roots.

openssl does the cryptography; flow-ssl reads what it printed, never its exit
code alone (``req -verify`` exits 0 on a bad signature before 3.4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flow_ssl import files
from flow_ssl.core.errors import OpenSSLFailedError
from flow_ssl.core.findings import finding
from flow_ssl.openssl import features, keymatch, runner
from flow_ssl.openssl.commands import ca as ca_commands
from flow_ssl.openssl.commands import pkcs12
from flow_ssl.openssl.commands import read as commands
from flow_ssl.openssl.read import pem, reader, x509

if TYPE_CHECKING:
    from pathlib import Path

    from flow_ssl.core.models import Finding

_VERIFY_ERROR = re.compile(r"error (\d+) at (\d+) depth lookup: ?(.*)")


def key_matches_cert(
    key: Path,
    cert: Path,
    *,
    passin: str | None = None,
    made_with: str = "its CSR",
    made_here: bool = False,
) -> Finding:
    """
    ``key-matches-cert``: the key file's private half is the certificate's key (``made_with``:
    what the right key was made with, for the advice: its CSR, or the certificate itself).

    Both files are read as flow-ssl reads them. openssl proves a key given
    (``keymatch.key_matches``); a key openssl made in this run (``made_here``) is compared
    as stored (``keymatch.made_key_matches``).
    """
    blocks = pem.private_keys(files.read_input(key, "a private key file"))
    (leaf,) = reader.read_file(cert)[:1]
    if not blocks:
        return keymatch.no_key(str(key))
    match = keymatch.made_key_matches if made_here else keymatch.key_matches
    return match(
        blocks[0],
        leaf.der,
        passin=passin,
        key_name=str(key),
        cert_name=str(cert),
        made_with=made_with,
    )


def p12_key_matches_cert(p12: Path, cert: Path, *, passin: str) -> Finding:
    """``key``: the PKCS#12 file's key is the certificate's (the key passes through a pipe)."""
    export, public = pkcs12.build_p12_public_key(str(p12), passin=passin)
    inside = pem.public_keys(runner.run(public, stdin=runner.run(export).data).data)
    (leaf,) = reader.read_file(cert)[:1]
    return finding(
        "key",
        bool(inside) and inside[0] == x509.public_key_info(leaf.der),
        "its key belongs to the leaf",
        "its key is not the leaf's",
    )


def csr_key_in_cert(csr: Path, cert: Path) -> Finding:
    """``key``: the certificate carries the request's public key (both read from their DER)."""
    (request,) = reader.read_file(csr)[:1]
    (leaf,) = reader.read_file(cert)[:1]
    return finding(
        "key",
        x509.public_key_info(request.der) == x509.public_key_info(leaf.der),
        "the certificate carries the request's key",
        "the certificate's key is not the request's",
    )


def csr_signature(csr: Path) -> Finding:
    """
    ``csr-signature``: ``openssl req -verify`` says the CSR is signed by its own key.

    Decided by what openssl prints, not only its exit code: before 3.4 it exits 0
    on a failed self-signature (openssl/openssl#23771).
    """
    try:
        result = runner.run(commands.build_req_verify(str(csr)))
    except OpenSSLFailedError as exc:
        return finding("csr-signature", "fail", exc.message)
    printed = result.stdout + result.stderr
    return finding(
        "csr-signature",
        "verify OK" in printed and "verify failure" not in printed,
        "openssl req -verify: OK",
        "openssl req -verify: the self-signature does not match the contents",
    )


@dataclass(frozen=True)
class ChainVerdict:
    """What ``openssl verify`` said: OK, or its errors as (code, depth, reason)."""

    ok: bool
    errors: tuple[tuple[int, int, str], ...]
    last_words: str


def roots_shut(binary: features.OpenSSL) -> tuple[str, ...]:
    """The options this openssl has to trust only the roots given (LibreSSL needs none)."""
    return tuple(
        option for option in ("-no-CApath", "-no-CAstore") if binary.supports(f"verify {option}")
    )


def verify_chain(
    cert: Path, *, untrusted: tuple[Path, ...], ca_file: Path | None, purpose: str | None
) -> ChainVerdict:
    """Does ``cert`` chain, through ``untrusted``, to a root in ``ca_file`` (or the system's)?"""
    command = commands.build_verify(
        str(cert),
        untrusted=tuple(str(p) for p in untrusted),
        ca_file=str(ca_file) if ca_file else None,
        purpose=purpose,
        shut=roots_shut(runner.find_openssl()),
    )
    result = runner.run(command, check=False)
    printed = result.stderr + result.stdout
    errors = tuple(
        (int(code), int(depth), reason) for code, depth, reason in _VERIFY_ERROR.findall(printed)
    )
    # Its last word decides, never an error line before it: LibreSSL 4.3 prints the errors of
    # a path it then gives up (an expired copy of the root sent along) and still says OK.
    said = result.stdout.strip().splitlines()
    ok = bool(said) and said[-1] == f"{cert}: OK"
    lines = printed.strip().splitlines()
    return ChainVerdict(ok=ok, errors=errors, last_words=lines[-1] if lines else "")


def crl_signature(crl: Path, ca_cert: Path) -> Finding:
    """``crl-signature``: ``openssl crl -CAfile`` says the CA's key signed the CRL."""
    try:
        result = runner.run(ca_commands.build_crl_check(str(crl), ca_cert=str(ca_cert)))
    except OpenSSLFailedError as exc:
        return finding("crl-signature", "fail", f"openssl crl: {exc.message}")
    return finding(
        "crl-signature",
        "verify OK" in result.stdout + result.stderr,
        f"signed by {ca_cert}",
        f"openssl crl -CAfile {ca_cert}: no 'verify OK'",
    )
