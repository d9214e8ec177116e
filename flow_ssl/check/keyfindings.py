"""
key-unencrypted and key-matches-cert: the key given, or the one in the certificate's own file.

The server's console needs the key as an unencrypted PEM file. A key that is
passphrase-protected, or inside a PKCS#12, fails key-unencrypted with the exact
openssl command that writes an unencrypted copy only its owner can read (0600,
from a umask: ``pkey -out`` follows it on LibreSSL). Whether the key belongs to
the leaf is proven by openssl (``keymatch``: it signs a fresh challenge with the key,
and the leaf's public key verifies it); a key openssl decrypted is never written by
flow-ssl.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flow_ssl import files
from flow_ssl.core.errors import InvalidInputError
from flow_ssl.core.findings import finding
from flow_ssl.openssl import keymatch, runner
from flow_ssl.openssl.commands import pkcs12
from flow_ssl.openssl.commands import read as commands
from flow_ssl.openssl.read import keys, p12, pem

if TYPE_CHECKING:
    from pathlib import Path

    from flow_ssl.core.models import Finding, ParsedCertificate
    from flow_ssl.openssl.read.reader import Loaded


# Key algorithms some supported openssl builds cannot read (features: "ed25519", "ed448").
_NOT_EVERYWHERE = ("ed25519", "ed448")


def key_findings(
    loaded: Loaded, leaf: ParsedCertificate, *, key: Path | None, passin: str | None
) -> list[Finding]:
    """
    The key's findings: ``key`` if given, else the key in the certificate's file, if any.

    Raises:
        InvalidInputError: ``key`` holds no PEM private key, or ``passin`` does not
            decrypt the key (about the field ``pass``).
    """
    cert = loaded.path
    if key is not None:
        keys = pem.private_keys(files.read_input(key))
        if not keys:
            raise InvalidInputError(f"{key} is not a PEM private key", field="key")
        copy = _unused(key.with_name(f"{key.stem}.unencrypted.key"))
        return _pem_key(keys[0], key, leaf, cert, passin=passin, copy=copy)
    if loaded.keys:
        copy = _unused(cert.with_name(f"{cert.stem}.key"))
        return _pem_key(loaded.keys[0], cert, leaf, cert, passin=passin, copy=copy)
    if loaded.opened is not None and loaded.opened.keys:
        return _p12_key(loaded.opened, leaf, cert)
    message = "not checked: no key given; give the server's key with --key"
    return [finding("key-matches-cert", "warn", message)]


def _unused(path: Path) -> Path:
    """
    ``path``, or ``NAME-2.key``, ``NAME-3.key``...: a name no file has, for a printed
    command to write. openssl empties its ``-out`` even when it then fails (a mistyped
    passphrase), so the command must never name a file that holds something.
    """
    candidate, number = path, 1
    while candidate.exists() or candidate.is_symlink():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def readable(*algorithms: str | None) -> None:
    """
    Refuse, before openssl is asked, keys this openssl cannot read (LibreSSL 3.3.6 has no
    Ed25519): a limit of the build, where every other build gives a verdict.

    Raises:
        OpenSSLTooOldError: naming the build and the algorithm.
    """
    binary = runner.find_openssl()
    for algorithm in algorithms:
        if algorithm in _NOT_EVERYWHERE and not binary.supports(algorithm):
            raise binary.cannot(f"read {algorithm.capitalize()} keys, and the key here is one")


def _pem_key(
    block: pem.KeyBlock,
    where: Path,
    leaf: ParsedCertificate,
    cert: Path,
    *,
    passin: str | None,
    copy: Path,
) -> list[Finding]:
    readable(leaf.public_key.algorithm, keys.key_algorithm(block.text))
    named = f"the key in {where}" if where == cert else f"the key {where}"

    def matched(passin: str | None) -> Finding:
        return keymatch.key_matches(
            block,
            leaf.der,
            passin=passin,
            key_name=str(where),
            cert_name=str(cert),
            made_with=_made_with(leaf),
        )

    if not block.encrypted:
        return [finding("key-unencrypted", "pass", f"{named} has no passphrase"), matched(None)]
    line = commands.build_key_decrypted(str(where), out=str(copy)).render()
    findings = [
        finding(
            "key-unencrypted",
            "fail",
            f"{named} is passphrase-protected; the console needs it unencrypted. Write a copy "
            f"only you can read (openssl asks the passphrase): (umask 077 && {line})",
        )
    ]
    if passin is None:
        findings.append(
            finding(
                "key-matches-cert",
                "warn",
                "not checked: the key is passphrase-protected (--pass env:VARIABLE or "
                "file:PATH lets openssl decrypt it to compare)",
            )
        )
    else:
        findings.append(matched(passin))
    return findings


def _made_with(leaf: ParsedCertificate) -> str:
    """What the right key was made with: the certificate itself, if self-signed; else a CSR."""
    return "the certificate itself (no CSR)" if leaf.self_signed else "its CSR"


def p12_key_copy(opened: p12.Opened, cert: Path, out: Path) -> str:
    """The commands that write a PKCS#12's key as an unencrypted PEM file only its owner reads."""
    export, write = pkcs12.build_p12_key_copy(
        str(cert), passin=opened.passin, legacy=opened.legacy, out=str(out)
    )
    return f"(umask 077 && {export.render()} | {write.render()})"


def _p12_key(opened: p12.Opened, leaf: ParsedCertificate, cert: Path) -> list[Finding]:
    readable(leaf.public_key.algorithm)
    inside = p12.private_keys(opened)
    if not inside:
        return []
    line = p12_key_copy(opened, cert, _unused(cert.with_name(f"{cert.stem}.key")))
    return [
        finding(
            "key-unencrypted",
            "fail",
            f"the key is inside the PKCS#12 {cert}; the console needs it as an unencrypted "
            f"PEM file. Write one only you can read: {line}",
        ),
        keymatch.key_matches(
            inside[0],
            leaf.der,
            passin=None,
            key_name=str(cert),
            cert_name=str(cert),
            made_with=_made_with(leaf),
        ),
    ]
