"""The check for EC keys whose private value is a byte short (LibreSSL 3.3.6 writes them)."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from flow_ssl.openssl.read.keys import short_ec_private_key


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size, "big") + content


def _sec1(key: ec.EllipticCurvePrivateKey, private: bytes) -> str:
    """An RFC 5915 ECPrivateKey on P-256 with the given private value bytes."""
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    p256 = bytes.fromhex("06082a8648ce3d030107")
    body = (
        _der(0x02, b"\x01")
        + _der(0x04, private)
        + _der(0xA0, p256)
        + _der(0xA1, _der(0x03, b"\x00" + point))
    )
    text = base64.encodebytes(_der(0x30, body)).decode()
    return f"-----BEGIN EC PRIVATE KEY-----\n{text}-----END EC PRIVATE KEY-----\n"


def test_a_key_missing_its_leading_zero_byte_is_short() -> None:
    """A P-256 private value written in 31 bytes is short; in 32 it is not."""
    while True:
        key = ec.generate_private_key(ec.SECP256R1())
        value = key.private_numbers().private_value
        if value < 2**248:
            break
    assert short_ec_private_key(_sec1(key, value.to_bytes(31, "big")))
    assert not short_ec_private_key(_sec1(key, value.to_bytes(32, "big")))


def test_well_formed_keys_of_every_kind_are_not_short() -> None:
    """PKCS#8 EC (P-256, P-384) and RSA keys as cryptography writes them pass."""
    keys: list[ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey] = [
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP384R1()),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    ]
    for key in keys:
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        assert not short_ec_private_key(pem)
    assert not short_ec_private_key("not a key")
