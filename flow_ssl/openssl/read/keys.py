"""
Private keys read from their encoding, no cryptography: is one well formed, and its public half.

LibreSSL 3.3.6 (macOS) writes about one EC key in 256 with its private value a byte
short (the leading zero byte dropped): RFC 5915 wants it the curve's size, and
strict parsers (Python's cryptography, rustls) refuse such a key, though OpenSSL and
Go read it. flow-ssl checks each EC key it makes and makes another when it is short.

The public half, where the key's own encoding carries it (an RSA key's n and e, an
EC key's public point), is the SubjectPublicKeyInfo a certificate for it holds;
where it does not (a PKCS#8 Ed25519 key without its public key), openssl must be asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flow_ssl.core.errors import OpenSSLError
from flow_ssl.openssl.read import asn1, oids, pem
from flow_ssl.openssl.read.asn1 import (
    BIT_STRING,
    INTEGER,
    OCTET_STRING,
    OID,
    SEQUENCE,
    ASN1Error,
    Element,
    context,
    encode,
    encode_integer,
    encode_oid,
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


def public_key_info(text: bytes) -> bytes | None:
    """
    The SubjectPublicKeyInfo (DER) of the first unencrypted private key in PEM text,
    when the key's own encoding carries its public half: an RSA key (PKCS#1 or PKCS#8),
    an EC key with its public point (SEC1 or PKCS#8), a DSA key in openssl's own form,
    or a PKCS#8 v2 key holding its public key. The bytes are those of a certificate for
    the key. None where openssl must be asked: an encrypted key, a PKCS#8 Ed25519 or DSA
    key without its public key, a compressed EC point, or what cannot be read.
    """
    key = pem.private_key_der(text)
    if key is None:
        return None
    label, der = key
    try:
        return _public_key_info(label, der)
    except (ASN1Error, IndexError):
        return None


def key_algorithm(text: bytes) -> str | None:
    """
    The algorithm of the first unencrypted private key in PEM text, by the name a
    certificate's key gets (``rsa``, ``ec``, ``ed25519``); None where it cannot be read.
    """
    key = pem.private_key_der(text)
    if key is None:
        return None
    label, der = key
    legacy = {"RSA PRIVATE KEY": "rsa", "EC PRIVATE KEY": "ec", "DSA PRIVATE KEY": "dsa"}
    if label != "PRIVATE KEY":
        return legacy.get(label)
    try:
        fields = asn1.parse_whole(der, "private key").expect(SEQUENCE, "private key").children()
        oid = fields[1].expect(SEQUENCE, "key algorithm").children()[0].oid()
    except (ASN1Error, IndexError):
        return None
    return oids.KEY_ALGORITHMS.get(oid, oid)


def _public_key_info(label: str, der: bytes) -> bytes | None:
    """The SubjectPublicKeyInfo a key of this PEM label carries, or None."""
    fields = asn1.parse_whole(der, "private key").expect(SEQUENCE, "private key").children()
    if label == "RSA PRIVATE KEY":
        return _rsa(_algorithm(oids.RSA, encode(asn1.NULL, b"")), fields)
    if label == "DSA PRIVATE KEY":  # version, p, q, g, y, x
        p, q, g, y = (field.expect(INTEGER, "DSA key").integer() for field in fields[1:5])
        parameters = encode(SEQUENCE, b"".join(encode_integer(v) for v in (p, q, g)))
        return _spki(_algorithm(oids.DSA, parameters), encode_integer(y))
    if label == "EC PRIVATE KEY":
        named = next((field for field in fields[2:] if field.tag == context(0)), None)
        if named is None:
            return None
        return _ec(_algorithm(oids.EC, named.children()[0].encoded), fields)
    if label != "PRIVATE KEY":
        return None
    algorithm = fields[1].expect(SEQUENCE, "key algorithm")
    oid = algorithm.children()[0].oid()
    inner = fields[2].expect(OCTET_STRING, "private key").content
    if oid in {oids.RSA, oids.RSASSA_PSS}:
        return _rsa(algorithm.encoded, asn1.parse_whole(inner, "RSA key").children())
    if oid == oids.EC and len(algorithm.children()) == 2:  # the curve named beside the key
        return _ec(algorithm.encoded, asn1.parse_whole(inner, "EC key").children())
    public = context(1, constructed=False)  # PKCS#8 v2's [1] IMPLICIT publicKey
    carried = next((field for field in fields[3:] if field.tag == public), None)
    if carried is None or not carried.content or carried.content[0] != 0:
        return None
    return _spki(algorithm.encoded, carried.content[1:])


def _algorithm(oid: str, parameters: bytes) -> bytes:
    """An AlgorithmIdentifier: the OID, then its parameters' DER."""
    return encode(SEQUENCE, encode_oid(oid) + parameters)


def _spki(algorithm: bytes, public: bytes) -> bytes:
    """SubjectPublicKeyInfo: the algorithm, then the key as a BIT STRING."""
    return encode(SEQUENCE, algorithm + encode(BIT_STRING, b"\x00" + public))


def _rsa(algorithm: bytes, fields: list[Element]) -> bytes:
    """An RSA key's public half (n, e) from RSAPrivateKey's version, n, e, ..."""
    n, e = (field.expect(INTEGER, "RSA key").integer() for field in fields[1:3])
    return _spki(algorithm, encode(SEQUENCE, encode_integer(n) + encode_integer(e)))


def _ec(algorithm: bytes, fields: list[Element]) -> bytes | None:
    """An EC key's public point, whole (uncompressed), as its certificate holds it."""
    point = _public_point(fields)
    if point is None or point[:1] != bytes([_UNCOMPRESSED]):
        return None
    return _spki(algorithm, point)
