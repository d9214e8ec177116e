"""
Read certificates and CSRs from files with openssl and parse what it prints.

PEM or DER, one certificate, a CSR, or a bundle of many certificates.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from flow_ssl.core.errors import InvalidInputError, OpenSSLFailedError, ParseError
from flow_ssl.openssl import parse, runner
from flow_ssl.openssl.commands import read as commands

if TYPE_CHECKING:
    from flow_ssl.core.models import NameAttribute, ParsedCertificate
    from flow_ssl.openssl.commands.base import Command

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)
_CERT_LABELS = {b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"}
_CSR_LABELS = {b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST"}
# A DER SEQUENCE (0x30) with a long-form length: how every certificate and CSR starts.
# A DER SEQUENCE with a long-form (0x81: under 256 bytes, as a small EC CSR) or
# two-byte (0x82) length: every certificate and CSR starts this way.
_DER_START = re.compile(rb"^\x30[\x81\x82]")
# A passphrase-protected key: PKCS#8 "ENCRYPTED PRIVATE KEY", or a legacy PEM header.
_ENCRYPTED_KEY = re.compile(r"ENCRYPTED PRIVATE KEY|Proc-Type: 4,ENCRYPTED")

Kind = Literal["certificate", "csr"]


@dataclass(frozen=True)
class Item:
    """One certificate or CSR found in a file: its kind and DER bytes."""

    kind: Kind
    der: bytes


def split_file(path: Path) -> tuple[list[Item], bool]:
    """
    Find the certificates and CSRs in a file; returns them and whether it was PEM.

    Raises:
        InvalidInputError: unreadable, empty, or holding neither.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInputError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{path} is a folder, not a certificate file") from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from None
    items: list[Item] = []
    blocks = list(_PEM_BLOCK.finditer(data))
    for block in blocks:
        label = block.group(1)
        kind: Kind | None = (
            "certificate" if label in _CERT_LABELS else "csr" if label in _CSR_LABELS else None
        )
        if kind is None:
            continue
        body = b"".join(
            line for line in block.group(2).splitlines() if b":" not in line and line.strip()
        )
        try:
            items.append(Item(kind, base64.b64decode(body, validate=True)))
        except binascii.Error:
            raise InvalidInputError(
                f"{path}: a {label.decode()} block is not valid base64"
            ) from None
    if items:
        return items, True
    if blocks:
        labels = ", ".join(sorted({b.group(1).decode() for b in blocks}))
        raise InvalidInputError(f"{path} holds {labels}, not a certificate or certificate request")
    if _DER_START.match(data):
        return [Item(_guess_der_kind(data), data)], False
    raise InvalidInputError(
        f"{path} is not a certificate or certificate request (neither PEM nor DER)"
    )


def _guess_der_kind(der: bytes) -> Kind:
    """A CSR's first inner element is an INTEGER version; a certificate's is [0] or a SEQUENCE."""
    inner = _header_length(der, 0)
    first = inner + _header_length(der, inner)
    return "csr" if len(der) > first and der[first] == 0x02 else "certificate"


def _header_length(der: bytes, at: int) -> int:
    """Bytes taken by the tag and length of the DER element at ``at``."""
    if len(der) <= at + 1:
        return 2
    length_byte = der[at + 1]
    return 2 + (length_byte & 0x7F if length_byte & 0x80 else 0)


def is_encrypted_key(pem_text: str) -> bool:
    """Whether a PEM private key needs a passphrase."""
    return _ENCRYPTED_KEY.search(pem_text) is not None


def to_pem(der: bytes) -> str:
    """A certificate's DER as a PEM block (64-character lines, as openssl writes)."""
    body = base64.b64encode(der).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def fingerprint(der: bytes) -> str:
    """SHA-256 of the DER, as openssl prints it (upper-case hex, colon separated)."""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def display_command(path: Path, kind: Kind, *, der: bool) -> Command:
    """The command the vendor page tells operators to run for this file."""
    if kind == "csr":
        return commands.build_req_text(str(path), der=der)
    return commands.build_x509_text(str(path), der=der)


def read_file(path: Path) -> list[ParsedCertificate]:
    """
    Parse every certificate or CSR in ``path``, in file order.

    Raises:
        InvalidInputError: not a certificate file, or openssl refuses its content.
    """
    items, is_pem = split_file(path)
    if len(items) == 1:
        command = commands.for_parsing(display_command(path, items[0].kind, der=not is_pem))
        return [_run_one(command, items[0], str(path), 0)]
    return read_bundle(path, items)


def _run_one(command: Command, item: Item, source: str, index: int) -> ParsedCertificate:
    try:
        result = runner.run(command)
    except OpenSSLFailedError as exc:
        raise InvalidInputError(
            f"{source}: openssl cannot read this {_noun(item.kind)}: "
            f"{exc.message.split(': ', 1)[-1]}"
        ) from None
    parsed = parse.parse_text(result.stdout, kind=item.kind, source=source, index=index)
    parsed.der = item.der
    if item.kind == "certificate":
        parsed.sha256_fingerprint = fingerprint(item.der)
    return parsed


def raw_text(path: Path) -> str:
    """openssl's own ``-noout -text`` for every item in the file, unchanged."""
    items, is_pem = split_file(path)
    if len(items) == 1:
        return runner.run(display_command(path, items[0].kind, der=not is_pem)).stdout
    return runner.run(commands.build_storeutl_text(str(path))).stdout


def _noun(kind: Kind) -> str:
    return "certificate request" if kind == "csr" else "certificate"


def read_bundle(path: Path, items: list[Item]) -> list[ParsedCertificate]:
    """
    Every certificate of a bundle with three openssl processes, whatever its size.

    ``storeutl -text`` prints all of them at once but only in the legacy name form
    (ambiguous commas, escaped UTF-8), so names come from a second pass
    (``crl2pkcs7 | cms -print -nameopt``) that keeps file order.
    """
    if any(item.kind == "csr" for item in items) or not runner.find_openssl().supports("storeutl"):
        return _read_one_by_one(path, items)
    source = str(path)
    try:
        text = runner.run(commands.build_storeutl_text(source)).stdout
        pkcs7 = runner.run(commands.build_crl2pkcs7(source)).data
        printed = runner.run(commands.build_cms_print(), stdin=pkcs7).stdout
    except OpenSSLFailedError as exc:
        raise InvalidInputError(
            f"{source}: openssl cannot read this bundle: {exc.message.split(': ', 1)[-1]}"
        ) from None
    blocks = _STORE_ITEM.split(text)[1:]
    names = _cms_names(printed)
    if not len(blocks) == len(names) == len(items):
        raise ParseError(
            f"{source}: found {len(items)} certificates but openssl printed "
            f"{len(blocks)} (and {len(names)} names)"
        )
    parsed = []
    for index, (block, pair, item) in enumerate(zip(blocks, names, items, strict=True)):
        cert = parse.parse_text(block, kind="certificate", source=source, index=index, names=pair)
        cert.sha256_fingerprint = fingerprint(item.der)
        cert.der = item.der
        parsed.append(cert)
    return parsed


_STORE_ITEM = re.compile(r"^\d+: Certificate\n", re.MULTILINE)
_CMS_NAME = re.compile(r"^ {10}(issuer|subject): +(.*)$", re.MULTILINE)


def _cms_names(printed: str) -> list[tuple[list[NameAttribute], list[NameAttribute]]]:
    """(issuer, subject) of each certificate in ``cms -print`` output, in order."""
    found = _CMS_NAME.findall(printed)
    issuers = [parse.parse_rfc2253(value) for field, value in found if field == "issuer"]
    subjects = [parse.parse_rfc2253(value) for field, value in found if field == "subject"]
    return list(zip(issuers, subjects, strict=True)) if len(issuers) == len(subjects) else []


def _read_one_by_one(path: Path, items: list[Item]) -> list[ParsedCertificate]:
    """Old openssl (no storeutl) or CSRs in the file: one process an item."""
    import tempfile

    parsed: list[ParsedCertificate] = []
    with tempfile.TemporaryDirectory(prefix="flow-ssl-") as folder:
        for index, item in enumerate(items):
            single = Path(folder) / f"{index}.der"
            single.write_bytes(item.der)
            command = commands.for_parsing(display_command(single, item.kind, der=True))
            parsed.append(_run_one(command, item, str(path), index))
    return parsed


__all__ = ["is_encrypted_key", "read_file", "split_file", "to_pem"]
