"""
Framing: the certificates, CSRs and keys in a file's bytes, found the way openssl finds them.

PEM blocks are scanned line by line, once (linear time, no backtracking), as
tolerant as OpenSSL 3's own reader (pem_lib.c): a BEGIN or END line may end in
blanks or CRLF, RFC 1421 headers are skipped, other blocks and text between
blocks are ignored, and a UTF-8 byte-order mark (Notepad writes one) is skipped
where OpenSSL 3 skips it: at the start of the first line each read looks at (the
file's first line, and the line after each END). OpenSSL 1.1.1 and LibreSSL lose
the block after such a mark; the server (OpenSSL 3) and Python read it, so
flow-ssl does too, and gives openssl a copy without it. A UTF-16 file, which no
openssl reads, is refused saying so. Private keys are kept as found (check and
bundle use them); a PKCS#7 block gives its certificates. A file with no PEM block
is DER: a PKCS#12 (left whole for openssl, which holds its passphrase), a PKCS#7
(DER or BER), or certificates and CSRs end to end. Every field of a report is read
from the bytes found here.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Literal

from flow_ssl.core.errors import InvalidInputError
from flow_ssl.openssl.read import asn1, containers, x509

Kind = Literal["certificate", "csr"]
# How a file holds its certificates: PEM blocks, DER, a PKCS#7 (.p7b/.p7c, PEM or DER),
# or a PKCS#12 (.pfx/.p12).
Form = Literal["pem", "der", "pkcs7", "pkcs12"]

_CERT_LABELS = {b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"}
_CSR_LABELS = {b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST"}
_PKCS7_LABELS = {b"PKCS7", b"PKCS #7 SIGNED DATA", b"CMS"}
_KEY_SUFFIX = b"PRIVATE KEY"
# openssl strips every byte up to and including the space from the end of a line.
_TRAILING_BLANKS = bytes(range(33))
_BEGIN, _END, _DASHES = b"-----BEGIN ", b"-----END ", b"-----"
# Bytes some tools leave after a DER file's one element (a newline, padding).
_DER_PADDING = b"\r\n\t \0"
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class Item:
    """One certificate or CSR found in a file: its kind and DER bytes."""

    kind: Kind
    der: bytes


@dataclass(frozen=True)
class KeyBlock:
    """A private key's PEM block, as found (for openssl's stdin, never argv or a file)."""

    text: bytes
    encrypted: bool
    line: int


@dataclass(frozen=True)
class Framed:
    """
    What a file holds: its certificates and CSRs in file order, how it holds them, and
    the private keys beside them (PEM) or the whole PKCS#12 (for openssl to open).
    """

    items: list[Item]
    form: Form
    keys: list[KeyBlock] = field(default_factory=list)
    pkcs12: bytes | None = None
    armored: bool = False  # PEM text (a PKCS#7 may be PEM or DER)
    byte_order_mark: bool = False  # a block read past one (OpenSSL 1.1.1 and LibreSSL do not)

    @property
    def ordered(self) -> bool:
        """Whether the file order means something (PKCS#7 and PKCS#12 are sets)."""
        return self.form in {"pem", "der"}


@dataclass(frozen=True)
class _Block:
    """One PEM block: label, first line, base64 body (None if broken), byte span, headers."""

    label: bytes
    line: int
    body: bytes | None
    span: tuple[int, int] = (0, 0)
    encrypted: bool = False
    marked: bool = False  # its BEGIN line starts with a UTF-8 byte-order mark


def _blocks(data: bytes) -> list[_Block]:
    """Every PEM block, in order, in one pass over the lines."""
    found: list[_Block] = []
    label: bytes | None = None
    start = begin = offset = 0
    body: list[bytes] = []
    in_headers = encrypted = marked = False
    first = True  # the first line a read of OpenSSL 3 looks at: it skips a UTF-8 BOM there
    for number, raw in enumerate(data.split(b"\n"), 1):
        line_start, offset = offset, offset + len(raw) + 1
        line = raw.rstrip(_TRAILING_BLANKS)
        bom = first and line.startswith(_UTF8_BOM)
        line, first = line.removeprefix(_UTF8_BOM) if bom else line, False
        if line.startswith(_BEGIN) and line.endswith(_DASHES) and len(line) > 16:
            if label is not None:  # a BEGIN before the open block's END: that block is broken
                found.append(_Block(label, start, None))
            # The block starts after the mark: a key given to openssl 1.1.1 must read too.
            begin = line_start + (len(_UTF8_BOM) if bom else 0)
            label, start, body = line[11:-5], number, []
            in_headers, encrypted, marked = True, False, bom
            continue
        if label is None:
            continue
        if line.startswith(_END):
            ok = line == _END + label + _DASHES
            span = (begin, min(offset, len(data)))
            body_text = b"".join(body) if ok else None
            found.append(_Block(label, start, body_text, span, encrypted, marked))
            label, first = None, True
            continue
        if in_headers:
            in_headers = False
            if b":" in line:  # RFC 1421 headers (Proc-Type, DEK-Info) up to a blank line
                in_headers = True
                encrypted = encrypted or (line.startswith(b"Proc-Type:") and b"ENCRYPTED" in line)
                continue
        if line:
            body.append(b"".join(line.split()))
    if label is not None:
        found.append(_Block(label, start, None))
    return found


def _is_key(block: _Block) -> bool:
    return block.label.endswith(_KEY_SUFFIX) and block.body is not None


def _key(data: bytes, block: _Block) -> KeyBlock:
    encrypted = block.encrypted or block.label.startswith(b"ENCRYPTED")
    return KeyBlock(data[block.span[0] : block.span[1]], encrypted, block.line)


def private_keys(data: bytes) -> list[KeyBlock]:
    """The whole private key blocks in PEM text, in order (what openssl printed of a .pfx)."""
    return [_key(data, block) for block in _blocks(data) if _is_key(block)]


def public_keys(text: bytes) -> list[bytes]:
    """The DER of each whole ``PUBLIC KEY`` block in PEM text (what ``pkey -pubout`` prints)."""
    found = []
    for block in _blocks(text):
        if block.label == b"PUBLIC KEY" and block.body is not None:
            try:
                found.append(base64.b64decode(block.body, validate=True))
            except binascii.Error:
                continue
    return found


def private_key_der(text: bytes) -> tuple[str, bytes] | None:
    """
    The first private key block's label (``EC PRIVATE KEY``) and DER, if it has one
    whose body is base64 and carries no RFC 1421 encryption headers.
    """
    for block in _blocks(text):
        if _is_key(block) and block.body is not None and not block.encrypted:
            try:
                der = base64.b64decode(block.body, validate=True)
            except binascii.Error:
                return None
            return block.label.decode("ascii", errors="replace"), der
    return None


def _kind(label: bytes) -> Kind | None:
    if label in _CERT_LABELS:
        return "certificate"
    if label in _CSR_LABELS:
        return "csr"
    return None


def frame(data: bytes, source: str) -> Framed:
    """
    Find what a file's bytes hold: certificates and CSRs, private keys, or a PKCS#12.

    Raises:
        InvalidInputError: a broken block, UTF-16 text, or no certificate, CSR or
            PKCS#12 at all.
    """
    if data.startswith(_UTF16_BOMS):
        raise InvalidInputError(
            f"{source} is UTF-16 text (it starts with a UTF-16 byte-order mark), which no "
            "openssl reads: save it as UTF-8 or ASCII (in Notepad: Save As, Encoding UTF-8)"
        )
    blocks = _blocks(data)
    if not blocks:
        return _frame_der(data, source)
    items: list[Item] = []
    keys: list[KeyBlock] = []
    labels: set[str] = set()
    wrapped = marked = False
    for block in blocks:
        kind = _kind(block.label)
        name = block.label.decode("ascii", errors="replace")
        if _is_key(block):
            keys.append(_key(data, block))
        if kind is None and block.label not in _PKCS7_LABELS:
            labels.add(name)
            continue
        if block.body is None:
            raise InvalidInputError(
                f"{source}: the {name} block at line {block.line} has no matching END line"
            )
        try:
            content = base64.b64decode(block.body, validate=True)
        except binascii.Error:
            raise InvalidInputError(
                f"{source}: the {name} block at line {block.line} is not valid base64"
            ) from None
        marked = marked or block.marked
        if kind is None:
            wrapped = True
            items += _pkcs7_items(content, f"{source}: the {name} block at line {block.line}")
            continue
        # A TRUSTED CERTIFICATE carries openssl's trust settings after the certificate.
        items.append(Item(kind, _first_element(content)))
    if items:
        form: Form = "pkcs7" if wrapped else "pem"
        return Framed(items, form, keys, armored=True, byte_order_mark=marked)
    if labels:
        raise InvalidInputError(
            f"{source} holds {', '.join(sorted(labels))}, not a certificate or certificate request"
        )
    raise InvalidInputError(f"{source} holds a PKCS#7 with no certificate in it")


def _frame_der(data: bytes, source: str) -> Framed:
    """A file with no PEM block: a PKCS#12, a PKCS#7, or DER certificates and CSRs."""
    if containers.looks_like_pkcs12(data):
        return Framed([], "pkcs12", pkcs12=data)
    if containers.looks_like_pkcs7(data):
        items = _pkcs7_items(data, source)
        if not items:
            raise InvalidInputError(f"{source} holds a PKCS#7 with no certificate in it")
        return Framed(items, "pkcs7")
    items = []
    at, end = 0, len(data.rstrip(_DER_PADDING))
    while at < end:  # one element, or several end to end
        try:
            element = asn1.parse_at(data, at)
        except asn1.ASN1Error:
            break
        if element.tag != asn1.SEQUENCE:
            break
        whole = element.encoded
        items.append(Item(der_kind(whole), whole))
        at = element.stop
    if items and at >= end:
        return Framed(items, "der")
    if items:
        raise InvalidInputError(
            f"{source} has {end - at} bytes after its DER {_noun(items)} that are not a certificate"
        )
    if data[:1] == b"\x30" and len(data) > 1 and data[1] in {0x81, 0x82, 0x83, 0x84}:
        raise InvalidInputError(f"{source} looks like DER but is truncated or damaged")
    raise InvalidInputError(
        f"{source} is not a certificate or certificate request (neither PEM nor DER)"
    )


def _noun(items: list[Item]) -> str:
    if len(items) == 1:
        return "certificate request" if items[0].kind == "csr" else "certificate"
    return f"items ({len(items)})"


def _pkcs7_items(content: bytes, where: str) -> list[Item]:
    """The certificates of a PKCS#7, DER or BER."""
    try:
        return [Item("certificate", cert) for cert in containers.pkcs7_certificates(content)]
    except asn1.ASN1Error as exc:
        raise InvalidInputError(f"{where} is not a valid PKCS#7 ({exc})") from None


def _first_element(content: bytes) -> bytes:
    """The element ``content`` starts with (all of it, when none can be read there)."""
    try:
        return asn1.parse(content).encoded
    except asn1.ASN1Error:
        return content


def der_kind(der_bytes: bytes) -> Kind:
    """Whether a DER file holds a CSR or a certificate (by the shape of what it signs)."""
    return "csr" if x509.is_request(der_bytes) else "certificate"


def to_pem(der: bytes, label: str = "CERTIFICATE") -> str:
    """DER as a PEM block with 64-character lines, as openssl writes it."""
    body = base64.b64encode(der).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"
