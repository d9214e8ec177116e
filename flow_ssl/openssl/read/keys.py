"""
Is a private key openssl wrote well formed? Read from its encoding, no cryptography.

LibreSSL 3.3.6 (macOS) writes about one EC key in 256 with its private value a byte
short (the leading zero byte dropped): RFC 5915 wants it the curve's size, and
strict parsers (Python's cryptography, rustls) refuse such a key, though OpenSSL and
Go read it. flow-ssl checks each EC key it makes and makes another when it is short.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flow_ssl.core.errors import OpenSSLError
from flow_ssl.openssl.read import asn1, oids, pem
from flow_ssl.openssl.read.asn1 import (
    INTEGER,
    OCTET_STRING,
    OID,
    SEQUENCE,
    ASN1Error,
    Element,
    context,
)

if TYPE_CHECKING:
    from pathlib import Path

    from flow_ssl.openssl.features import OpenSSL

_UNCOMPRESSED = 0x04  # an EC point written whole (04 || X || Y)


def _ec_private_key(label: str, der: bytes) -> tuple[list[Element], Element | None] | None:
    """
    An EC key's ECPrivateKey fields (RFC 5915), and the PKCS#8 algorithm identifier
    around it (None for a SEC1 ``EC PRIVATE KEY``); None for any other key.

    Raises:
        ASN1Error: malformed.
    """
    top = asn1.parse_whole(der, "private key").expect(SEQUENCE, "private key")
    if label == "EC PRIVATE KEY":
        return top.children(), None
    if label != "PRIVATE KEY":
        return None
    parts = top.children()
    if len(parts) < 3 or parts[1].tag != SEQUENCE or parts[2].tag != OCTET_STRING:
        return None
    algorithm = parts[1].children()
    if not algorithm or algorithm[0].tag != OID or algorithm[0].oid() != oids.EC:
        return None
    inner = asn1.parse_whole(parts[2].content, "EC private key")
    return inner.expect(SEQUENCE, "EC private key").children(), parts[1]


def _public_point(fields: list[Element]) -> bytes | None:
    """The ``[1] publicKey`` point of an ECPrivateKey, if it carries one."""
    wrapper = next((field for field in fields[2:] if field.tag == context(1)), None)
    inside = wrapper.children() if wrapper is not None else []
    return inside[0].bits() if len(inside) == 1 else None


def short_ec_private_key(text: str) -> bool:
    """
    Whether a PEM private key is an EC key whose private value is shorter than its curve.

    The curve's size is read from the key's own public point (04 || X || Y). Anything
    that is not an EC key with a public point, or cannot be read, is not "short".
    """
    key = pem.private_key_der(text.encode("ascii", errors="replace"))
    try:
        found = _ec_private_key(*key) if key else None
        if found is None:
            return False
        fields = found[0]
        point = _public_point(fields)
    except ASN1Error:
        return False
    if len(fields) < 2 or fields[0].tag != INTEGER or fields[0].content != b"\x01":
        return False
    if fields[1].tag != OCTET_STRING or point is None or point[:1] != bytes([_UNCOMPRESSED]):
        return False
    return len(fields[1].content) < (len(point) - 1) // 2


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
