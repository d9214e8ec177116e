"""
Private keys read without cryptography: EC keys a byte short (LibreSSL 3.3.6 writes them),
and the public half a key's own encoding carries, held against cryptography's.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

from flow_ssl.openssl.read import x509 as x509_reader
from flow_ssl.openssl.read.keys import public_key_info, short_ec_private_key
from tests.helpers import openssl, requires_openssl
from tests.oracle import dsa_allowed

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from cryptography.hazmat.primitives.asymmetric.types import (
        PrivateKeyTypes as PrivateKey,
    )


def _dsa_key() -> PrivateKey:
    with dsa_allowed():
        return dsa.generate_private_key(2048)


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


def _pem(key: PrivateKey, form: serialization.PrivateFormat) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, form, serialization.NoEncryption())


def _spki(key: PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize(
    ("make", "form"),
    [
        (lambda: rsa.generate_private_key(65537, 2048), serialization.PrivateFormat.PKCS8),
        (lambda: rsa.generate_private_key(3, 2048), serialization.PrivateFormat.TraditionalOpenSSL),
        (lambda: ec.generate_private_key(ec.SECP256R1()), serialization.PrivateFormat.PKCS8),
        (lambda: ec.generate_private_key(ec.SECP384R1()), serialization.PrivateFormat.PKCS8),
        (
            lambda: ec.generate_private_key(ec.SECP521R1()),
            serialization.PrivateFormat.TraditionalOpenSSL,
        ),
        (_dsa_key, serialization.PrivateFormat.TraditionalOpenSSL),
    ],
    ids=["rsa-pkcs8", "rsa-pkcs1", "p256-pkcs8", "p384-pkcs8", "p521-sec1", "dsa-openssl"],
)
def test_the_public_half_of_a_key_is_cryptographys(
    make: Callable[[], PrivateKey], form: serialization.PrivateFormat
) -> None:
    """RSA (n, e) and EC points carried by the key give the very SubjectPublicKeyInfo bytes."""
    key = make()
    assert public_key_info(_pem(key, form)) == _spki(key)


def test_keys_that_do_not_carry_their_public_half_give_none() -> None:
    """PKCS#8 Ed25519 and DSA, encrypted keys and no key at all: None (openssl must be asked)."""
    ed25519_key = ed25519.Ed25519PrivateKey.generate()
    assert public_key_info(_pem(ed25519_key, serialization.PrivateFormat.PKCS8)) is None
    assert public_key_info(_pem(_dsa_key(), serialization.PrivateFormat.PKCS8)) is None
    encrypted = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"words"),
    )
    assert public_key_info(encrypted) is None
    assert (
        public_key_info(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n") is None
    )


@requires_openssl
@pytest.mark.parametrize("curve", [None, "P-256", "P-384"], ids=["rsa", "p256", "p384"])
def test_keys_openssl_writes_match_the_certificate_they_are_in(
    tmp_path: Path, curve: str | None
) -> None:
    """A key openssl makes, and its self-signed certificate: the same SubjectPublicKeyInfo."""
    # named_curve: LibreSSL 3.3.6 would write the curve's parameters out in full.
    options = ["-pkeyopt", f"ec_paramgen_curve:{curve}", "-pkeyopt", "ec_param_enc:named_curve"]
    newkey = ["-algorithm", "EC", *options] if curve else ["-algorithm", "RSA"]
    openssl("genpkey", *newkey, "-out", "k.pem", cwd=tmp_path)
    request = ["req", "-new", "-x509", "-key", "k.pem", "-subj", "/CN=k.example.com", "-days", "2"]
    openssl(*request, "-outform", "DER", "-out", "c.der", cwd=tmp_path)
    ours = public_key_info((tmp_path / "k.pem").read_bytes())
    assert ours is not None
    assert ours == x509_reader.public_key_info((tmp_path / "c.der").read_bytes())
    theirs = x509.load_der_x509_certificate((tmp_path / "c.der").read_bytes()).public_key()
    assert ours == theirs.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@requires_openssl
def test_a_compressed_ec_point_gives_none(tmp_path: Path) -> None:
    """An EC key written with a compressed point: None (a certificate holds it whole)."""
    curve = ["-pkeyopt", "ec_paramgen_curve:P-256", "-pkeyopt", "ec_param_enc:named_curve"]
    openssl("genpkey", "-algorithm", "EC", *curve, "-out", "k.pem", cwd=tmp_path)
    openssl("ec", "-in", "k.pem", "-conv_form", "compressed", "-out", "c.pem", cwd=tmp_path)
    assert b"EC PRIVATE KEY" in (tmp_path / "c.pem").read_bytes()
    assert public_key_info((tmp_path / "c.pem").read_bytes()) is None
    assert public_key_info((tmp_path / "k.pem").read_bytes()) is not None
