"""
The exact encoding: names and extensions read from a certificate's or CSR's DER.

openssl prints extension values raw: a dNSName may hold ``, DNS:`` or a line
break, and an unknown extension's dump may hold line breaks, so no grammar can
tell where one value ends in its text. These fields are read here, from the same
DER bytes openssl was given; everything openssl prints before the first
extension (version, serial, algorithms, validity, key) holds no raw value and is
read from its text. Also the certificates of a PKCS#7 (.p7b), and the one writer:
certificates wrapped in a PKCS#7 for ``openssl pkcs7 -print_certs``. Pure; a
strict reader of definite lengths only (a BER PKCS#7 is re-encoded by openssl first).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from flow_ssl.core.models import (
    BasicConstraints,
    NameAttribute,
    NameConstraints,
    NameSubtrees,
    SubjectAltNames,
)
from flow_ssl.core.revocation import REASON_NAMES, RevocationList, Revoked
from flow_ssl.openssl.read import oids

_SEQUENCE, _SET, _INTEGER, _BOOLEAN, _OID, _OCTETS, _BITS = 0x30, 0x31, 0x02, 0x01, 0x06, 0x04, 0x03
# String tags openssl prints as text, and how many bytes make one character (a_strex.c).
# ContentInfo types: PKCS#7 data and signedData (a .p7b).
DATA_OID = bytes.fromhex("06092a864886f70d010701")
SIGNED_DATA_OID = bytes.fromhex("06092a864886f70d010702")
_STRINGS = {0x0C: "utf-8", 0x1E: "utf-16-be", 0x1C: "utf-32-be"}
_ONE_BYTE_STRINGS = {0x12, 0x13, 0x14, 0x16, 0x17, 0x18, 0x1A}


class DERError(ValueError):
    """The bytes are not the DER structure expected."""


class _Node(NamedTuple):
    """One DER element: its tag and where its content lies in the buffer."""

    tag: int
    start: int  # first byte of the element (its tag)
    begin: int  # first byte of the content
    end: int  # one past the last byte of the content


def _node(data: bytes, at: int, limit: int) -> _Node:
    if at + 2 > limit:
        raise DERError("truncated element")
    tag = data[at]
    pos = at + 1
    if tag & 0x1F == 0x1F:  # a multi-byte tag number
        while pos < limit and data[pos] & 0x80:
            pos += 1
        pos += 1
        if pos >= limit:
            raise DERError("truncated element")
    first = data[pos]
    pos += 1
    if first < 0x80:
        end = pos + first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > limit:
            raise DERError("indefinite or oversized length")
        end = pos + count + int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if end > limit:
        raise DERError("element longer than what holds it")
    return _Node(tag, at, pos, end)


def _children(data: bytes, node: _Node) -> list[_Node]:
    found = []
    at = node.begin
    while at < node.end:
        child = _node(data, at, node.end)
        found.append(child)
        at = child.end
    return found


def _expect(node: _Node, tag: int, what: str) -> _Node:
    if node.tag != tag:
        raise DERError(f"{what}: tag {node.tag:#04x}, expected {tag:#04x}")
    return node


def _oid(data: bytes, node: _Node) -> str:
    return _dotted(data[node.begin : node.end])


@lru_cache(maxsize=1024)
def _dotted(body: bytes) -> str:
    """An OID's content bytes -> dotted text (the same few OIDs recur in every certificate)."""
    if not body or body[-1] & 0x80:
        raise DERError("malformed OID")
    arcs: list[int] = []
    value = 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(arc) for arc in (first, arcs[0] - 40 * first, *arcs[1:]))


def _integer(data: bytes, node: _Node) -> int:
    return int.from_bytes(data[node.begin : node.end], "big", signed=True)


def _text(data: bytes, node: _Node) -> str:
    """A name's value as openssl -nameopt RFC2253,-esc_msb shows it: text, or #hex of the DER."""
    content = data[node.begin : node.end]
    if node.tag in _STRINGS:
        return content.decode(_STRINGS[node.tag], errors="replace")
    if node.tag in _ONE_BYTE_STRINGS:
        return content.decode("latin-1")
    return "#" + data[node.start : node.end].hex().upper()


def _name(data: bytes, node: _Node) -> list[NameAttribute]:
    """A Name, attribute by attribute in stored order (RDN sets flattened)."""
    attributes = []
    for rdn in _children(data, _expect(node, _SEQUENCE, "name")):
        for pair in _children(data, _expect(rdn, _SET, "name")):
            parts = _children(data, _expect(pair, _SEQUENCE, "name attribute"))
            if len(parts) != 2:
                raise DERError("a name attribute has a type and a value")
            kind, value = parts
            # Built without validation: both are plain strings, made just above.
            attributes.append(
                NameAttribute.model_construct(
                    type=oids.name_type(_oid(data, kind)), value=_text(data, value)
                )
            )
    return attributes


@dataclass(frozen=True)
class Extension:
    """One extension: its OID, whether critical, and its value's DER."""

    oid: str
    critical: bool
    value: bytes


@dataclass
class Exact:
    """What is read from the DER: serial, names, CSR attribute names and extensions."""

    serial: int | None
    issuer: list[NameAttribute] | None
    subject: list[NameAttribute]
    extensions: list[Extension] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)


def _extensions(data: bytes, node: _Node) -> list[Extension]:
    found = []
    for ext in _children(data, _expect(node, _SEQUENCE, "extensions")):
        parts = _children(data, _expect(ext, _SEQUENCE, "extension"))
        if len(parts) not in {2, 3}:
            raise DERError("extension with the wrong number of parts")
        critical = len(parts) == 3 and data[parts[1].begin : parts[1].end] not in {b"", b"\x00"}
        value = _expect(parts[-1], _OCTETS, "extension value")
        found.append(
            Extension(_oid(data, parts[0]), critical, bytes(data[value.begin : value.end]))
        )
    return found


def _tbs_fields(der: bytes) -> list[_Node]:
    """A certificate's tbsCertificate fields from the serial on (the version skipped)."""
    outer = _expect(_node(der, 0, len(der)), _SEQUENCE, "certificate")
    parts = _children(der, outer)
    if len(parts) != 3:
        raise DERError("a certificate has three parts")
    fields = _children(der, _expect(parts[0], _SEQUENCE, "tbsCertificate"))
    if fields and fields[0].tag == 0xA0:  # [0] EXPLICIT version
        fields = fields[1:]
    if len(fields) < 6:
        raise DERError("tbsCertificate is too short")
    return fields


def certificate(der: bytes) -> Exact:
    """
    Serial, issuer, subject and extensions of a certificate.

    Raises:
        DERError: not a certificate's structure.
    """
    fields = _tbs_fields(der)
    serial = _integer(der, _expect(fields[0], _INTEGER, "serial"))
    wrapper = next((f for f in fields[6:] if f.tag == 0xA3), None)  # [3] EXPLICIT extensions
    inside = _children(der, wrapper) if wrapper else []
    if wrapper and len(inside) != 1:
        raise DERError("the extensions wrapper holds no single list")
    return Exact(
        serial=serial,
        issuer=_name(der, fields[2]),
        subject=_name(der, fields[4]),
        extensions=_extensions(der, inside[0]) if inside else [],
    )


def subject_layout(der: bytes) -> list[tuple[int, bool]]:
    """
    How a certificate's subject is built, attribute by attribute as ``certificate`` lists
    them: the RDN each is in (two in one RDN: a multi-valued RDN), and whether its value
    is text (else it reads as ``#`` and the hex of its DER).

    Raises:
        DERError: not a certificate's structure.
    """
    layout = []
    for at, rdn in enumerate(_children(der, _expect(_tbs_fields(der)[4], _SEQUENCE, "name"))):
        for pair in _children(der, _expect(rdn, _SET, "name")):
            value = _children(der, _expect(pair, _SEQUENCE, "name attribute"))[-1]
            layout.append((at, value.tag in _STRINGS or value.tag in _ONE_BYTE_STRINGS))
    return layout


def request(der: bytes) -> Exact:
    """
    Subject, attribute names and requested extensions of a CSR.

    Raises:
        DERError: not a CSR's structure.
    """
    outer = _expect(_node(der, 0, len(der)), _SEQUENCE, "certificate request")
    parts = _children(der, outer)
    if len(parts) != 3:
        raise DERError("a certificate request has three parts")
    fields = _children(der, _expect(parts[0], _SEQUENCE, "certificationRequestInfo"))
    if len(fields) < 3:
        raise DERError("certificationRequestInfo is too short")
    exact = Exact(serial=None, issuer=None, subject=_name(der, fields[1]))
    attributes = fields[3] if len(fields) > 3 and fields[3].tag == 0xA0 else None
    for attribute in _children(der, attributes) if attributes else []:
        parts = _children(der, _expect(attribute, _SEQUENCE, "attribute"))
        if len(parts) != 2:
            raise DERError("an attribute has a type and a set of values")
        kind, values = parts
        oid = _oid(der, kind)
        if oid in oids.EXTENSION_REQUESTS:
            for value in _children(der, _expect(values, _SET, "attribute values"))[:1]:
                exact.extensions += _extensions(der, value)
        else:
            exact.attributes.append(oids.name_type(oid))
    return exact


def is_request(der: bytes) -> bool:
    """
    Whether DER of unknown kind is a CSR rather than a certificate.

    A CSR's info holds a version, a name, a key and attributes (3 or 4 elements);
    a certificate's at least six (a v1 one has no version to tell it by).
    """
    try:
        info = _children(der, _node(der, 0, len(der)))[0]
        return len(_children(der, info)) < 6
    except (DERError, IndexError):
        return False


def find(exact: Exact, oid: str) -> Extension | None:
    """The first extension with this OID, if any."""
    return next((ext for ext in exact.extensions if ext.oid == oid), None)


def subject_alt_names(value: bytes) -> SubjectAltNames:
    """GeneralNames -> the DNS, IP, e-mail and URI entries, each value whole."""
    san = SubjectAltNames()
    top = _expect(_node(value, 0, len(value)), _SEQUENCE, "subjectAltName")
    for name in _children(value, top):
        content = value[name.begin : name.end]
        kind = name.tag & 0x1F
        if kind == 2:
            san.dns.append(_ia5(content))
        elif kind == 1:
            san.email.append(_ia5(content))
        elif kind == 6:
            san.uri.append(_ia5(content))
        elif kind == 7:
            san.ip.append(_ip(content))
    return san


def _ia5(content: bytes) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def _ip(content: bytes) -> str:
    if len(content) in {4, 16}:
        return str(ipaddress.ip_address(content))
    return "<invalid>:" + content.hex()


def name_constraints(value: bytes, *, critical: bool) -> NameConstraints:
    """NameConstraints: the permitted and excluded subtrees, by kind of name."""
    top = _expect(_node(value, 0, len(value)), _SEQUENCE, "nameConstraints")
    found = NameConstraints(critical=critical)
    for part in _children(value, top):
        if part.tag not in {0xA0, 0xA1}:  # [0] permitted, [1] excluded
            raise DERError("nameConstraints holds neither permitted nor excluded subtrees")
        subtrees = found.permitted if part.tag == 0xA0 else found.excluded
        for subtree in _children(value, part):
            base = _children(value, _expect(subtree, _SEQUENCE, "subtree"))
            if not base:
                raise DERError("a subtree without a name")
            _add_subtree(subtrees, value, base[0])
    return found


def _add_subtree(subtrees: NameSubtrees, value: bytes, name: _Node) -> None:
    content = value[name.begin : name.end]
    kind = name.tag & 0x1F
    if name.tag == 0x82:
        subtrees.dns.append(_ia5(content))
    elif name.tag == 0x81:
        subtrees.email.append(_ia5(content))
    elif name.tag == 0x86:
        subtrees.uri.append(_ia5(content))
    elif name.tag == 0x87 and len(content) in {8, 32}:
        half = len(content) // 2
        address = ipaddress.ip_address(content[:half])
        mask = int.from_bytes(content[half:], "big")
        prefix = mask.bit_count()
        contiguous = mask == ((1 << prefix) - 1) << (half * 8 - prefix)
        shown_mask = prefix if contiguous else ipaddress.ip_address(content[half:])
        subtrees.ip.append(f"{address}/{shown_mask}")
    else:
        subtrees.other.append(f"[{kind}] {content.hex()}")


def basic_constraints(value: bytes, *, critical: bool) -> BasicConstraints:
    """BasicConstraints: CA or not, and the path length."""
    top = _expect(_node(value, 0, len(value)), _SEQUENCE, "basicConstraints")
    ca, path = False, None
    for part in _children(value, top):
        if part.tag == _BOOLEAN:
            ca = value[part.begin : part.end] not in {b"", b"\x00"}
        elif part.tag == _INTEGER:
            path = _integer(value, part)
    return BasicConstraints(ca=ca, path_length=path, critical=critical)


def key_usage(value: bytes) -> list[str]:
    """The keyUsage bits set, by name (in bit order)."""
    bits = _expect(_node(value, 0, len(value)), _BITS, "keyUsage")
    content = value[bits.begin + 1 : bits.end]
    return [
        name
        for index, name in enumerate(oids.KEY_USAGE_BITS)
        if index // 8 < len(content) and content[index // 8] & (0x80 >> (index % 8))
    ]


def extended_key_usage(value: bytes) -> list[str]:
    """The extended key usages, by openssl's short name (else the dotted OID)."""
    top = _expect(_node(value, 0, len(value)), _SEQUENCE, "extendedKeyUsage")
    usages = [_oid(value, part) for part in _children(value, top)]
    return [oids.EKU_NAMES.get(oid, oid) for oid in usages]


def key_identifier(value: bytes) -> str:
    """subjectKeyIdentifier: lower-case hex."""
    node = _expect(_node(value, 0, len(value)), _OCTETS, "subjectKeyIdentifier")
    return value[node.begin : node.end].hex()


def authority_key_identifier(value: bytes) -> str | None:
    """authorityKeyIdentifier's keyIdentifier ([0]), lower-case hex, if present."""
    top = _expect(_node(value, 0, len(value)), _SEQUENCE, "authorityKeyIdentifier")
    key_id = next((part for part in _children(value, top) if part.tag == 0x80), None)
    return value[key_id.begin : key_id.end].hex() if key_id else None


_UTC_TIME, _GENERALIZED_TIME, _ENUMERATED = 0x17, 0x18, 0x0A
_CRL_NUMBER, _CRL_REASON = "2.5.29.20", "2.5.29.21"


def _time(data: bytes, node: _Node) -> datetime:
    """UTCTime (RFC 5280: 50-99 is 19YY) or GeneralizedTime, in UTC."""
    text = data[node.begin : node.end].decode("ascii", errors="replace")
    try:
        if node.tag == _UTC_TIME:
            moment = datetime.strptime(text, "%y%m%d%H%M%S%z")
            return moment.replace(year=moment.year - 100) if moment.year >= 2050 else moment
        if node.tag == _GENERALIZED_TIME:
            return datetime.strptime(text, "%Y%m%d%H%M%S%z")
    except ValueError:
        pass
    raise DERError(f"malformed time {text!r}")


def crl(data: bytes) -> RevocationList:
    """
    A CRL: its issuer, this and next update, CRL number, issuer key id, and each entry
    with its reason.

    Raises:
        DERError: not a CRL's structure.
    """
    parts = _children(data, _expect(_node(data, 0, len(data)), _SEQUENCE, "CRL"))
    if len(parts) != 3:
        raise DERError("a CRL has three parts")
    fields = _children(data, _expect(parts[0], _SEQUENCE, "tbsCertList"))
    if fields and fields[0].tag == _INTEGER:
        fields = fields[1:]
    if len(fields) < 3:
        raise DERError("tbsCertList is too short")
    read = RevocationList(
        issuer=_name(data, fields[1]), this_update=_time(data, fields[2]), next_update=None
    )
    for part in fields[3:]:
        if part.tag in {_UTC_TIME, _GENERALIZED_TIME}:
            read.next_update = _time(data, part)
        elif part.tag == _SEQUENCE:
            read.revoked = [_revoked(data, entry) for entry in _children(data, part)]
        elif part.tag == 0xA0:  # [0] EXPLICIT crlExtensions
            inside = _children(data, part)
            for ext in _extensions(data, inside[0]) if len(inside) == 1 else []:
                if ext.oid == _CRL_NUMBER:
                    read.number = _integer(ext.value, _node(ext.value, 0, len(ext.value)))
                elif ext.oid == oids.AUTHORITY_KEY_ID:
                    read.authority_key_id = authority_key_identifier(ext.value)
    read.der = data
    return read


def _revoked(data: bytes, entry: _Node) -> Revoked:
    parts = _children(data, _expect(entry, _SEQUENCE, "revoked certificate"))
    if len(parts) < 2:
        raise DERError("a revoked certificate has a serial and a date")
    reason = None
    if len(parts) > 2:
        for ext in _extensions(data, parts[2]):
            if ext.oid == _CRL_REASON:
                code = _expect(_node(ext.value, 0, len(ext.value)), _ENUMERATED, "reason")
                number = _integer(ext.value, code)
                reason = REASON_NAMES.get(number, str(number))
    serial = _integer(data, _expect(parts[0], _INTEGER, "serial"))
    return Revoked(serial=serial, when=_time(data, parts[1]), reason=reason)


def encode(tag: int, content: bytes) -> bytes:
    """One DER element: ``tag``, the definite length of ``content``, then ``content``."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def pkcs7_certificates(data: bytes) -> list[bytes]:
    """
    The certificates of a PKCS#7 (or CMS) signedData, each its own DER, in stored order.

    Other certificate choices (attribute certificates) are not X.509 and are skipped.

    Raises:
        DERError: not DER signedData (BER's indefinite lengths included).
    """
    info = _children(data, _expect(_node(data, 0, len(data)), _SEQUENCE, "PKCS#7"))
    if len(info) != 2 or data[info[0].start : info[0].end] != SIGNED_DATA_OID:
        raise DERError("not PKCS#7 signed data")
    inside = _children(data, _expect(info[1], 0xA0, "PKCS#7 content"))
    if len(inside) != 1:
        raise DERError("the PKCS#7 content holds no single SignedData")
    fields = _children(data, _expect(inside[0], _SEQUENCE, "SignedData"))
    if len(fields) < 4:
        raise DERError("SignedData is too short")
    held = next((f for f in fields[3:-1] if f.tag == 0xA0), None)  # [0] IMPLICIT certificates
    found = _children(data, held) if held else []
    return [bytes(data[c.start : c.end]) for c in found if c.tag == _SEQUENCE]


def pkcs7_of(certificates: list[bytes]) -> bytes:
    """
    Certificates in a degenerate PKCS#7 SignedData (what crl2pkcs7 -nocrl makes).

    The certificates go in as given, in order, for ``openssl pkcs7 -print_certs``.
    """
    signed = encode(
        _SEQUENCE,
        encode(_INTEGER, b"\x01")
        + encode(_SET, b"")
        + encode(_SEQUENCE, DATA_OID)
        + encode(0xA0, b"".join(certificates))
        + encode(_SET, b""),
    )
    return encode(_SEQUENCE, SIGNED_DATA_OID + encode(0xA0, signed))
