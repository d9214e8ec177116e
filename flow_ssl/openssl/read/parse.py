"""
Text of ``openssl x509|req -noout -text`` (or ``pkcs7 -print_certs -text``) -> ParsedCertificate.

One grammar for every version flow-ssl supports (OpenSSL 1.1.1 to 4.0, LibreSSL),
each difference named where it is handled. Pure.

The head of the text (version, serial, algorithms, names, validity, key) is
read only up to the end of the public key: what follows holds values openssl
prints raw (extension values, CSR attributes), which can hold line breaks and
so imitate any line. Extensions are read from the text on a best-effort basis
(``text_extensions``); ``reader`` takes them, and the names, from the DER (``der``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from flow_ssl.core.errors import InvalidInputError, ParseError
from flow_ssl.core.models import (
    NameAttribute,
    ParsedCertificate,
    PublicKeyInfo,
)
from flow_ssl.openssl.read import oids, text_extensions

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
# "Public-Key: (2048 bit)"; 1.1.1 and LibreSSL: "RSA Public-Key:", "RSA-PSS Public-Key:";
# 4.0 for EC: "Public-Key: (256 bit field, 128 bit security level)".
_KEY_BITS = re.compile(r"^(?:\S+ )?Public-Key: \((\d+) bit\b")
# Key and signature algorithm names that differ between versions (LibreSSL: "Ed25519").
_KEY_ALGORITHMS = {
    "rsaEncryption": "rsa",
    "rsassaPss": "rsa",
    "RSASSA-PSS": "rsa",
    "id-ecPublicKey": "ec",
    "ED25519": "ed25519",
    "Ed25519": "ed25519",
    "ED448": "ed448",
    "Ed448": "ed448",
    "dsaEncryption": "dsa",
}
_SIGNATURE_NAMES = {"Ed25519": "ED25519", "Ed448": "ED448", "RSASSA-PSS": "rsassaPss"}
# 1.1.1 and LibreSSL: "rsassaPss         (INVALID PSS PARAMETERS)"; 3.x prints the name alone.
_SIGNATURE_REMARK = re.compile(r"\s+\(INVALID PSS PARAMETERS\)$")
_CURVES = {"prime256v1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
_HEX_PAIR = re.compile(r"^[0-9A-Fa-f]{2}$")
_DOTTED = re.compile(r"^\d+(?:\.\d+)+$")


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
    is the character X (a leading or trailing blank is escaped too: ``\\ ``), ``\\HH``
    a byte (control characters), and a value starting with ``#`` is a hex DER dump of
    a string openssl would not print. Nothing is trimmed: pass the name exactly.
    """
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
        raw = value.decode(errors="replace")
        decoded = _decode_der_string(raw[1:]) if is_dump else None
        attributes.append(
            NameAttribute(type=_name_type(kind), value=raw if decoded is None else decoded)
        )
        i += 1  # the separator
    attributes.reverse()
    return attributes


def _name_type(kind: str) -> str:
    """A type as openssl 3 names it: older versions print some OIDs dotted."""
    return oids.name_type(kind) if _DOTTED.match(kind) else kind


def _decode_der_string(hex_text: str) -> str | None:
    """Decode ``#0C03616263``-style dumps of ASN.1 strings; None if not a string."""
    try:
        der = bytes.fromhex(hex_text)
    except ValueError:
        return None
    if len(der) < 2:
        return None
    content = der[2 + (der[1] & 0x7F) :] if der[1] & 0x80 else der[2:]
    codecs = {0x0C: "utf-8", 0x1E: "utf-16-be", 0x1C: "utf-32-be"}
    if der[0] in codecs:
        return content.decode(codecs[der[0]], errors="replace")
    if der[0] in {0x12, 0x13, 0x14, 0x16, 0x1A}:
        return content.decode("latin-1")
    return None


@dataclass
class _Head:
    """What the head of the text says, before any raw value."""

    version: int | None = None
    serial: str | None = None
    signature: str | None = None
    issuer: list[NameAttribute] | None = None
    subject: list[NameAttribute] | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    key_algorithm: str | None = None
    key_bits: int | None = None
    curve: str | None = None
    dump: list[str] | None = None  # a modulus or DSA prime, when no line gives the size


def _validity_date(label: str, value: str) -> datetime:
    """
    A Not Before/After line's date.

    Raises:
        InvalidInputError: openssl says the stored time is malformed ("Bad time value").
        ValueError: any other text that is not a date.
    """
    if value == "Bad time value":
        raise InvalidInputError(f"its validity dates are malformed (openssl: {label}: {value})")
    return parse_date(value)


def _signature_name(value: str) -> str:
    name = _SIGNATURE_REMARK.sub("", value)
    return _SIGNATURE_NAMES.get(name, name)


def _value(line: str) -> str:
    """What follows the first ':' (one separating space dropped, nothing else)."""
    rest = line.split(":", 1)[1]
    return rest.removeprefix(" ")


def _version(value: str) -> int | None:
    """
    ``3 (0x2)`` -> 3: the stored number plus one.

    LibreSSL 3.3 prints a CSR's as ``0 (0x0)``, OpenSSL as ``1 (0x0)``: the stored
    number in parentheses is the one both agree on.
    """
    stored = value.rpartition("(0x")[2].rstrip(")")
    try:
        return int(stored, 16) + 1
    except ValueError:
        token = value.split(maxsplit=1)[0] if value else ""
        return int(token) if token.isdigit() else None


def serial_from(lines: list[str], at: int) -> str:
    """
    The serial as lower-case hex in whole bytes (as ``x509 -serial``), however it was printed.

    Short serials print on one line in decimal ("4096 (0x1000)", "-5 (-0x5)"), long ones
    as bytes on the next ("(Negative)04:31:.."); where "short" ends differs by version.
    """
    head = lines[at].split(":", 1)[1].strip()
    if head:
        number = head.split(" ", 1)[0]
        try:
            value = int(number)
        except ValueError:
            value = int(head.replace(":", ""), 16)
    else:
        following = lines[at + 1].strip() if at + 1 < len(lines) else ""
        digits = following.removeprefix("(Negative)").strip().replace(":", "")
        value = int(digits or "0", 16) * (-1 if following.startswith("(Negative)") else 1)
    digits = format(abs(value), "x")
    return ("-" if value < 0 else "") + "0" * (len(digits) % 2) + digits


# Lines of the key deeper than "        Subject Public Key Info:" belong to it.
_KEY_DEPTH = " " * 9


def _read_head(lines: list[str], head: _Head, names: bool) -> int:
    """Fill ``head``; returns the index of the first line after the public key."""
    in_key = False
    for number, line in enumerate(lines):
        if in_key and line and not line.startswith(_KEY_DEPTH):
            return number
        stripped = line.strip()
        if not stripped:
            continue
        label, _, rest = stripped.partition(":")
        if len(label) == 2 and head.dump is None:
            continue  # a line of a hex dump ("00:b4:70:...")
        try:
            _head_line(lines, number, label, rest, head, names=names)
        except ValueError as exc:
            raise ParseError(
                f"cannot read openssl's output: {exc}", line_no=number + 1, line=line
            ) from None
        in_key = in_key or stripped == "Subject Public Key Info:"
    return len(lines)


def _head_line(
    lines: list[str], number: int, label: str, rest: str, head: _Head, *, names: bool
) -> None:
    """One line of the head, as its label and what follows the colon; the first of each counts."""
    if head.dump is not None:
        if label.isalnum() and len(label) == 2:
            head.dump.append(label + rest)
            return
        digits = "".join(head.dump).replace(":", "")
        head.key_bits = int(digits, 16).bit_length() if digits else None
        head.dump = None
    value = rest.strip()
    if label == "Version" and head.version is None:
        head.version = _version(value)
    elif label == "Serial Number" and head.serial is None:
        head.serial = serial_from(lines, number)
    elif label == "Signature Algorithm" and head.signature is None:
        head.signature = _signature_name(value)
    elif label in {"Issuer", "Subject"} and getattr(head, label.lower()) is None:
        setattr(head, label.lower(), parse_rfc2253(_value(lines[number])) if names else [])
    elif label == "Not Before" and head.not_before is None:
        head.not_before = _validity_date(label, value)
    elif label.startswith("Not After") and head.not_after is None:
        head.not_after = _validity_date(label, value)
    elif label == "Public Key Algorithm" and head.key_algorithm is None:
        head.key_algorithm = value
    elif label.endswith("Public-Key") and head.key_bits is None:
        match = _KEY_BITS.match(f"{label}:{rest}")
        head.key_bits = int(match[1]) if match else None
    elif label == "NIST CURVE":
        head.curve = value
    elif label == "ASN1 OID" and head.curve is None:
        head.curve = _CURVES.get(value, value)
    elif label in {"Modulus", "P"} and not value and head.key_bits is None:
        # 1.1.1 and LibreSSL print no size line for DSA: the size is that of the prime P.
        head.dump = []


def parse_text(
    text: str,
    *,
    kind: Literal["certificate", "csr"],
    source: str = "",
    index: int = 0,
    names: tuple[list[NameAttribute] | None, list[NameAttribute]] | None = None,
    extensions: bool = True,
) -> ParsedCertificate:
    """
    Read one ``x509``/``req`` ``-noout -text`` block.

    Args:
        text: openssl's output for one certificate or CSR.
        kind: which of the two it is.
        source: the file it came from (reported back).
        index: its position in that file.
        names: (issuer, subject) read elsewhere; else the text's names are read
            as ``-nameopt RFC2253,-esc_msb`` prints them.
        extensions: read the extensions and CSR attributes from the text too
            (False when they are read from the DER).

    Raises:
        ParseError: when a required part is missing or unreadable.
    """
    lines = text.replace("\r", "").split("\n")
    head = _Head()
    rest = _read_head(lines, head, names is None)
    # The algorithm that signed: the outer one, printed last at the top level (a
    # certificate may claim another inside; LibreSSL prints that one at depth 4 too).
    outer = [line for line in lines[rest:] if line.startswith("    Signature Algorithm:")]
    if outer:
        head.signature = _signature_name(outer[-1].split(":", 1)[1].strip())
    if head.dump:  # the text ended inside the dump
        head.key_bits = int("".join(head.dump).replace(":", ""), 16).bit_length()
    if head.subject is None or head.key_algorithm is None:
        missing = "Subject" if head.subject is None else "Public Key Algorithm"
        raise ParseError(f"openssl's output has no {missing} line; is this a {kind}?")
    if kind == "certificate" and (
        head.not_before is None or head.not_after is None or head.serial is None
    ):
        raise ParseError("openssl's output has no serial or validity; is this a certificate?")
    issuer, subject = names if names is not None else (head.issuer, head.subject)
    algorithm = _KEY_ALGORITHMS.get(head.key_algorithm, head.key_algorithm.lower())
    blocks, attributes = text_extensions.read_tail(lines[rest:]) if extensions else ([], [])
    parsed = ParsedCertificate(
        kind=kind,
        source=source,
        index=index,
        version=head.version,
        serial=head.serial if kind == "certificate" else None,
        signature_algorithm=head.signature,
        issuer=issuer if kind == "certificate" else None,
        subject=subject,
        not_before=head.not_before,
        not_after=head.not_after,
        public_key=PublicKeyInfo(
            algorithm=algorithm,
            bits=head.key_bits,
            curve=head.curve if algorithm == "ec" else None,
        ),
        attributes=attributes,
    )
    text_extensions.apply_extensions(parsed, blocks)
    mark_self_signed(parsed)
    return parsed


def mark_self_signed(parsed: ParsedCertificate) -> None:
    """
    Self-signed: issuer is subject, and the key ids agree when both are given. A CSR is
    no certificate, self-signed or not (its signature only proves it holds the key).
    """
    parsed.self_signed = False
    if parsed.kind == "certificate":
        same_name = parsed.issuer == parsed.subject
        ski, aki = parsed.subject_key_id, parsed.authority_key_id
        parsed.self_signed = same_name and (aki is None or ski is None or aki == ski)
