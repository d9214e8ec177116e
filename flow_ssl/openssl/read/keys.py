"""
Is a private key openssl wrote well formed? A DER walk, no cryptography.

LibreSSL 3.3.6 (macOS) writes about one EC key in 256 with its private value a byte
short (the leading zero byte dropped): RFC 5915 wants it the curve's size, and
strict parsers (Python's cryptography, rustls) refuse such a key, though OpenSSL and
Go read it. flow-ssl checks each EC key it makes and makes another when it is short.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING

from flow_ssl.core.errors import OpenSSLError

if TYPE_CHECKING:
    from pathlib import Path

    from flow_ssl.openssl.features import OpenSSL

_PEM = re.compile(
    r"-----BEGIN (EC )?PRIVATE KEY-----\s+([A-Za-z0-9+/=\s]+?)-----END (?:EC )?PRIVATE KEY-----"
)
_SEQUENCE, _INTEGER, _OCTETS, _BITS = 0x30, 0x02, 0x04, 0x03
_PUBLIC = 0xA1  # [1] publicKey of an ECPrivateKey


def _items(data: bytes) -> list[tuple[int, bytes]]:
    """The (tag, content) items of one DER level (definite lengths only)."""
    items, index = [], 0
    while index < len(data):
        tag, length = data[index], data[index + 1]
        index += 2
        if length & 0x80:
            count = length & 0x7F
            length = int.from_bytes(data[index : index + count], "big")
            index += count
        items.append((tag, data[index : index + length]))
        index += length
    return items


def _ec_private_key(der: bytes, *, pkcs8: bool) -> bytes | None:
    """The ECPrivateKey structure inside a PKCS#8 key (or the SEC1 key itself)."""
    (outer_tag, outer), *_ = _items(der)
    if outer_tag != _SEQUENCE:
        return None
    if not pkcs8:
        return outer
    parts = _items(outer)
    if len(parts) < 3 or parts[2][0] != _OCTETS:
        return None
    (inner_tag, inner), *_ = _items(parts[2][1])
    return inner if inner_tag == _SEQUENCE else None


def short_ec_private_key(pem: str) -> bool:
    """
    Whether a PEM private key is an EC key whose private value is shorter than its curve.

    The curve's size is read from the key's own public point (04 || X || Y). Anything
    that is not an EC key with a public point, or cannot be walked, is not "short".
    """
    match = _PEM.search(pem)
    if match is None:
        return False
    try:
        der = base64.b64decode("".join(match.group(2).split()), validate=True)
        key = _ec_private_key(der, pkcs8=match.group(1) is None)
        if key is None:
            return False
        parts = _items(key)
    except (binascii.Error, IndexError, ValueError):
        return False
    if len(parts) < 2 or parts[0] != (_INTEGER, b"\x01") or parts[1][0] != _OCTETS:
        return False
    private = parts[1][1]
    public = next((content for tag, content in parts[2:] if tag == _PUBLIC), None)
    if public is None:
        return False
    ((bits_tag, bits),) = _items(public)
    if bits_tag != _BITS or len(bits) < 4 or bits[1] != 0x04:
        return False
    return len(private) < (len(bits) - 2) // 2


# How many keys to make before giving up (one in 256 is short: five in a row never are).
KEY_ATTEMPTS = 5


def short_key_file(path: Path) -> bool:
    """Whether the key file at ``path`` is an EC key with a short private value."""
    return short_ec_private_key(path.read_text(encoding="ascii", errors="replace"))


def short_key_error(openssl: OpenSSL) -> OpenSSLError:
    """The error when every attempt gave a short key."""
    return OpenSSLError(
        f"{openssl.text} wrote a malformed EC private key {KEY_ATTEMPTS} times "
        "(its private value a byte short); nothing was written",
        hint="use an RSA key, or another openssl",
    )
