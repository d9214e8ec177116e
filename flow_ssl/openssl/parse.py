"""
Text of ``openssl x509|req -noout -text`` -> ParsedCertificate. Pure.

The commands flow-ssl runs for parsing pin ``-nameopt RFC2253,-esc_msb`` (see
``commands.read.PARSE_NAMEOPT``): every name is then one line, escaped by one rule and
with raw UTF-8, whatever the openssl version's default. Everything else tolerates
the differences listed in openssl-behaviour.md (1.1.1, 3.x, LibreSSL).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal

from flow_ssl.core.errors import ParseError
from flow_ssl.core.models import (
    BasicConstraints,
    NameAttribute,
    ParsedCertificate,
    PublicKeyInfo,
    SubjectAltNames,
)

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_DATE = re.compile(
    r"^(?P<mon>[A-Z][a-z]{2})\s+(?P<day>\d{1,2})\s+(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})"
    r"(?:\.\d+)?\s+(?P<year>\d{4})(?:\s+GMT)?$"
)
_KEY_ALGORITHMS = {
    "rsaEncryption": "rsa",
    "rsassaPss": "rsa",
    "id-ecPublicKey": "ec",
    "ED25519": "ed25519",
    "ED448": "ed448",
    "dsaEncryption": "dsa",
}
_KEY_USAGE = {
    "Digital Signature": "digitalSignature",
    "Non Repudiation": "nonRepudiation",
    "Content Commitment": "nonRepudiation",
    "Key Encipherment": "keyEncipherment",
    "Data Encipherment": "dataEncipherment",
    "Key Agreement": "keyAgreement",
    "Certificate Sign": "keyCertSign",
    "CRL Sign": "cRLSign",
    "Encipher Only": "encipherOnly",
    "Decipher Only": "decipherOnly",
}
_EXTENDED_KEY_USAGE = {
    "TLS Web Server Authentication": "serverAuth",
    "TLS Web Client Authentication": "clientAuth",
    "Code Signing": "codeSigning",
    "E-mail Protection": "emailProtection",
    "Time Stamping": "timeStamping",
    "OCSP Signing": "OCSPSigning",
    "Any Extended Key Usage": "anyExtendedKeyUsage",
}
_SAN_SPLIT = re.compile(
    r", (?=(?:DNS|IP Address|email|URI|DirName|Registered ID|othername|EdiPartyName|"
    r"X400Name|IP address):)"
)
_HEX_PAIR = re.compile(r"^[0-9A-Fa-f]{2}$")


def parse_date(text: str) -> datetime:
    """``Nov 27 10:02:26 2026 GMT`` -> aware UTC datetime (English months, any locale)."""
    match = _DATE.match(text.strip())
    if not match or match["mon"] not in _MONTHS:
        raise ValueError(f"not an openssl date: {text!r}")
    return datetime(
        int(match["year"]),
        _MONTHS[match["mon"]],
        int(match["day"]),
        int(match["h"]),
        int(match["m"]),
        int(match["s"]),
        tzinfo=timezone.utc,
    )


def parse_rfc2253(text: str) -> list[NameAttribute]:
    """
    A name printed with ``-nameopt RFC2253,-esc_msb`` -> attributes in stored order.

    RFC2253 lists the name last-RDN-first, so the result is reversed back. ``\\X``
    is the character X, ``\\HH`` a byte (control characters), and a value starting
    with ``#`` is a hex DER dump of a string openssl would not print.
    """
    text = text.strip()
    if not text:
        return []
    attributes: list[NameAttribute] = []
    i = 0
    while i < len(text):
        equals = text.find("=", i)
        if equals < 0:
            raise ValueError(f"no '=' in name component: {text[i:]!r}")
        kind = text[i:equals]
        i = equals + 1
        value = bytearray()
        is_dump = i < len(text) and text[i] == "#"
        while i < len(text) and text[i] not in ",+":
            char = text[i]
            if char == "\\" and i + 1 < len(text):
                pair = text[i + 1 : i + 3]
                if _HEX_PAIR.match(pair):
                    value.append(int(pair, 16))
                    i += 3
                    continue
                value += text[i + 1].encode()
                i += 2
                continue
            value += char.encode()
            i += 1
        decoded = _decode_der_string(bytes(value[1:]).decode()) if is_dump else None
        attributes.append(
            NameAttribute(
                type=kind, value=decoded if decoded is not None else value.decode(errors="replace")
            )
        )
        i += 1  # the separator
    attributes.reverse()
    return attributes


def _decode_der_string(hex_text: str) -> str | None:
    """Decode ``#0C03616263``-style dumps of ASN.1 strings; None if not a string."""
    try:
        der = bytes.fromhex(hex_text)
    except ValueError:
        return None
    if len(der) < 2 or der[1] & 0x80:
        # Long-form lengths: values this long are not names; keep openssl's dump.
        if len(der) > 2 and der[1] & 0x80:
            count = der[1] & 0x7F
            content = der[2 + count :]
        else:
            return None
    else:
        content = der[2:]
    codecs = {0x0C: "utf-8", 0x1E: "utf-16-be", 0x1C: "utf-32-be"}
    if der[0] in codecs:
        return content.decode(codecs[der[0]], errors="replace")
    if der[0] in {0x12, 0x13, 0x14, 0x16, 0x1A, 0x1B}:
        return content.decode("latin-1")
    return None


@dataclass
class _Block:
    """An extension header line and its indented value lines."""

    name: str
    critical: bool
    lines: list[str] = field(default_factory=list)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _canonical_ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return text.strip()


def _parse_san(value: str) -> SubjectAltNames:
    san = SubjectAltNames()
    for entry in _SAN_SPLIT.split(value.strip()):
        prefix, _, rest = entry.partition(":")
        if prefix == "DNS":
            san.dns.append(rest)
        elif prefix in {"IP Address", "IP address"}:
            san.ip.append(_canonical_ip(rest))
        elif prefix == "email":
            san.email.append(rest)
        elif prefix == "URI":
            san.uri.append(rest)
    return san


def _parse_basic_constraints(value: str, *, critical: bool) -> BasicConstraints:
    parts = [p.strip() for p in value.split(",")]
    ca = "CA:TRUE" in parts
    path = next((p.split(":", 1)[1] for p in parts if p.startswith("pathlen:")), None)
    return BasicConstraints(
        ca=ca, path_length=int(path) if path and path.isdigit() else None, critical=critical
    )


def _colon_hex(value: str) -> str:
    return value.strip().removeprefix("keyid:").replace(":", "").lower()


def _serial(lines: list[str], at: int) -> str:
    head = lines[at].split(":", 1)[1].strip()
    if head:
        # One line: "4096 (0x1000)" or "-5 (-0x5)"; LibreSSL: "4096 (0x1000)" too.
        number = head.split(" ", 1)[0]
        try:
            value = int(number)
        except ValueError:
            return head.replace(":", "").lower()
        return ("-" if value < 0 else "") + format(abs(value), "x")
    following = lines[at + 1].strip() if at + 1 < len(lines) else ""
    negative = following.startswith("(Negative)")
    digits = following.removeprefix("(Negative)").strip().replace(":", "").lower()
    return ("-" if negative else "") + digits


def parse_text(
    text: str,
    *,
    kind: Literal["certificate", "csr"],
    source: str = "",
    index: int = 0,
    names: tuple[list[NameAttribute], list[NameAttribute]] | None = None,
) -> ParsedCertificate:
    """
    Read one ``x509``/``req`` ``-noout -text`` block.

    Args:
        text: openssl's output for one certificate or CSR.
        kind: which of the two it is.
        source: the file it came from (reported back).
        index: its position in that file.
        names: (issuer, subject) read elsewhere, for printers that ignore -nameopt.

    Raises:
        ParseError: when a required part is missing or unreadable.
    """
    lines = text.replace("\r", "").split("\n")
    version: int | None = None
    serial: str | None = None
    signature: str | None = None
    issuer: list[NameAttribute] | None = None
    subject: list[NameAttribute] | None = None
    not_before = not_after = None
    key_algorithm: str | None = None
    key_bits: int | None = None
    curve: str | None = None
    blocks: list[_Block] = []
    attributes: list[str] = []
    ext_indent: int | None = None
    in_attributes = False
    attr_indent = 0
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        depth = _indent(line)
        try:
            if ext_indent is not None:
                if depth == ext_indent and stripped.endswith((":", ": critical")):
                    name, _, flag = stripped.rpartition(":")
                    blocks.append(_Block(name.strip(), flag.strip() == "critical"))
                    continue
                if depth > ext_indent and blocks:
                    blocks[-1].lines.append(stripped)
                    continue
                ext_indent = None
            if in_attributes and depth > attr_indent:
                if stripped == "Requested Extensions:":
                    ext_indent = depth + 4
                    continue
                attributes.append(stripped.split(":", 1)[0].strip())
                continue
            in_attributes = False
            if stripped.startswith("Version:") and version is None:
                token = stripped.split(":", 1)[1].split()[0]
                version = int(token) if token.isdigit() else None
            elif stripped.startswith("Serial Number:") and serial is None:
                serial = _serial(lines, number)
            elif stripped.startswith("Signature Algorithm:") and signature is None:
                signature = stripped.split(":", 1)[1].strip()
            elif stripped.startswith("Issuer:") and issuer is None:
                issuer = parse_rfc2253(line.split(":", 1)[1]) if names is None else names[0]
            elif stripped.startswith("Subject:") and subject is None:
                subject = parse_rfc2253(line.split(":", 1)[1]) if names is None else names[1]
            elif stripped.startswith("Not Before:"):
                not_before = parse_date(stripped.split(":", 1)[1])
            elif stripped.startswith("Not After"):
                not_after = parse_date(stripped.split(":", 1)[1])
            elif stripped.startswith("Public Key Algorithm:") and key_algorithm is None:
                key_algorithm = stripped.split(":", 1)[1].strip()
            elif re.match(r"^(RSA |DSA |EC )?Public-Key: \((\d+) bit\)", stripped) and not key_bits:
                key_bits = int(re.findall(r"\((\d+) bit\)", stripped)[0])
            elif stripped.startswith("NIST CURVE:") or (
                stripped.startswith("ASN1 OID:") and curve is None
            ):
                curve = stripped.split(":", 1)[1].strip()
            elif stripped in {"X509v3 extensions:", "Requested Extensions:"}:
                ext_indent = depth + 4
            elif stripped == "Attributes:":
                in_attributes = True
                attr_indent = depth
        except ValueError as exc:
            raise ParseError(
                f"cannot read openssl's output: {exc}", line_no=number + 1, line=line
            ) from None
    if subject is None or key_algorithm is None:
        missing = "Subject" if subject is None else "Public Key Algorithm"
        raise ParseError(f"openssl's output has no {missing} line; is this a {kind}?")
    if kind == "certificate" and (not_before is None or not_after is None or serial is None):
        raise ParseError("openssl's output has no serial or validity; is this a certificate?")
    if curve == "prime256v1":
        curve = "P-256"
    parsed = ParsedCertificate(
        kind=kind,
        source=source,
        index=index,
        version=version,
        serial=serial if kind == "certificate" else None,
        signature_algorithm=signature,
        issuer=issuer if kind == "certificate" else None,
        subject=subject,
        not_before=not_before,
        not_after=not_after,
        public_key=PublicKeyInfo(
            algorithm=_KEY_ALGORITHMS.get(key_algorithm, key_algorithm.lower()),
            bits=key_bits,
            curve=curve if _KEY_ALGORITHMS.get(key_algorithm) == "ec" else None,
        ),
        attributes=attributes,
    )
    _apply_extensions(parsed, blocks)
    return parsed


def _apply_extensions(parsed: ParsedCertificate, blocks: list[_Block]) -> None:
    ski = aki = None
    for block in blocks:
        value = " ".join(block.lines)
        if block.name == "X509v3 Subject Alternative Name":
            parsed.subject_alt_names = _parse_san(value)
        elif block.name == "X509v3 Basic Constraints":
            parsed.basic_constraints = _parse_basic_constraints(value, critical=block.critical)
        elif block.name == "X509v3 Key Usage":
            parsed.key_usage = [
                _KEY_USAGE.get(v.strip(), v.strip()) for v in value.split(",") if v.strip()
            ]
        elif block.name == "X509v3 Extended Key Usage":
            parsed.extended_key_usage = [
                _EXTENDED_KEY_USAGE.get(v.strip(), v.strip()) for v in value.split(",") if v.strip()
            ]
        elif block.name == "X509v3 Subject Key Identifier":
            ski = _colon_hex(value)
        elif block.name == "X509v3 Authority Key Identifier" and block.lines:
            aki = _colon_hex(block.lines[0])
    parsed.subject_key_id = ski
    parsed.authority_key_id = aki
    if parsed.kind == "certificate":
        same_name = parsed.issuer == parsed.subject
        parsed.self_signed = same_name and (aki is None or ski is None or aki == ski)
