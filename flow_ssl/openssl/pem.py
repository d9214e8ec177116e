"""
Framing: the certificates and CSRs in a file's bytes, found the way openssl finds them.

PEM blocks are scanned line by line, once (linear time, no backtracking), as
tolerant as openssl's own reader (pem_lib.c): a BEGIN or END line may end in
blanks or CRLF, RFC 1421 headers are skipped, other blocks (keys, parameters)
and text between blocks are ignored. A file with no PEM block is DER. What is
found here is what openssl is then given to read, so every field of a report
comes from these same bytes.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from flow_ssl.core.errors import InvalidInputError
from flow_ssl.openssl import der

if TYPE_CHECKING:
    from pathlib import Path

Kind = Literal["certificate", "csr"]

# Larger than any real bundle (the public root store is about 200 KB); a bound on memory.
MAX_BYTES = 32 * 1024 * 1024
_CERT_LABELS = {b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"}
_CSR_LABELS = {b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST"}
# openssl strips every byte up to and including the space from the end of a line.
_TRAILING_BLANKS = bytes(range(33))
_BEGIN, _END, _DASHES = b"-----BEGIN ", b"-----END ", b"-----"


@dataclass(frozen=True)
class Item:
    """One certificate or CSR found in a file: its kind and DER bytes."""

    kind: Kind
    der: bytes


@dataclass(frozen=True)
class _Block:
    """One PEM block: its label, the line it starts on, and its base64 body (None if broken)."""

    label: bytes
    line: int
    body: bytes | None


def read_input(path: Path) -> bytes:
    """
    The bytes of a regular file, at most MAX_BYTES.

    Opened without blocking, then checked: a FIFO, a device (/dev/zero) or a
    folder is refused before anything is read from it.

    Raises:
        InvalidInputError: missing, not a regular file, too large, or unreadable.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InvalidInputError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{path} is a folder, not a certificate file") from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InvalidInputError(f"{path} is a folder, not a certificate file")
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInputError(f"{path} is not a regular file (a pipe or a device?)")
        if info.st_size > MAX_BYTES:
            raise InvalidInputError(
                f"{path} is {info.st_size} bytes; a certificate file is at most {MAX_BYTES}"
            )
        try:
            data = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise InvalidInputError(f"{path} grew past {MAX_BYTES} bytes while being read")
    return data


def _blocks(data: bytes) -> list[_Block]:
    """Every PEM block, in order, in one pass over the lines."""
    found: list[_Block] = []
    label: bytes | None = None
    start = 0
    body: list[bytes] = []
    in_headers = False
    for number, raw in enumerate(data.split(b"\n"), 1):
        line = raw.rstrip(_TRAILING_BLANKS)
        if line.startswith(_BEGIN) and line.endswith(_DASHES) and len(line) > 16:
            if label is not None:  # a BEGIN before the open block's END: that block is broken
                found.append(_Block(label, start, None))
            label, start, body, in_headers = line[11:-5], number, [], True
            continue
        if label is None:
            continue
        if line.startswith(_END):
            ok = line == _END + label + _DASHES
            found.append(_Block(label, start, b"".join(body) if ok else None))
            label = None
            continue
        if in_headers:
            in_headers = False
            if b":" in line:  # RFC 1421 headers (Proc-Type, DEK-Info) up to a blank line
                in_headers = True
                continue
        if line:
            body.append(b"".join(line.split()))
    if label is not None:
        found.append(_Block(label, start, None))
    return found


def _kind(label: bytes) -> Kind | None:
    if label in _CERT_LABELS:
        return "certificate"
    if label in _CSR_LABELS:
        return "csr"
    return None


def split(data: bytes, source: str) -> tuple[list[Item], bool]:
    """
    Find the certificates and CSRs in a file's bytes; returns them and whether it was PEM.

    Raises:
        InvalidInputError: a broken certificate block, or neither certificate nor CSR.
    """
    items: list[Item] = []
    labels: set[str] = set()
    for block in _blocks(data):
        kind = _kind(block.label)
        name = block.label.decode("ascii", errors="replace")
        if kind is None:
            labels.add(name)
            continue
        if block.body is None:
            raise InvalidInputError(
                f"{source}: the {name} block at line {block.line} has no matching END line"
            )
        try:
            der = base64.b64decode(block.body, validate=True)
        except binascii.Error:
            raise InvalidInputError(
                f"{source}: the {name} block at line {block.line} is not valid base64"
            ) from None
        # A TRUSTED CERTIFICATE carries openssl's trust settings after the certificate.
        items.append(Item(kind, der[: _element_length(der) or len(der)]))
    if items:
        return items, True
    if labels:
        raise InvalidInputError(
            f"{source} holds {', '.join(sorted(labels))}, not a certificate or certificate request"
        )
    length = _element_length(data)
    if data[:1] == b"\x30" and length > 0:
        whole = data[:length]
        return [Item(der_kind(whole), whole)], False
    if data[:1] == b"\x30" and len(data) > 1 and data[1] in {0x81, 0x82, 0x83, 0x84}:
        raise InvalidInputError(f"{source} looks like DER but is truncated or damaged")
    raise InvalidInputError(
        f"{source} is not a certificate or certificate request (neither PEM nor DER)"
    )


def _element_length(der: bytes) -> int:
    """Bytes taken by the DER element at the start of ``der`` (0 when it does not fit)."""
    if len(der) < 2:
        return 0
    first = der[1]
    if first < 0x80:
        header, length = 2, first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or len(der) < 2 + count:
            return 0
        header, length = 2 + count, int.from_bytes(der[2 : 2 + count], "big")
    total = header + length
    return total if total <= len(der) else 0


def der_kind(der_bytes: bytes) -> Kind:
    """Whether a DER file holds a CSR or a certificate (by the shape of what it signs)."""
    return "csr" if der.is_request(der_bytes) else "certificate"


def to_pem(der: bytes, label: str = "CERTIFICATE") -> str:
    """DER as a PEM block with 64-character lines, as openssl writes it."""
    body = base64.b64encode(der).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"
