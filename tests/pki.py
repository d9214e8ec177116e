"""Build root -> intermediate -> leaf chains with cryptography, good and deliberately broken."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from flow_ssl.openssl.read.asn1 import SEQUENCE, encode, encode_integer
from flow_ssl.openssl.read.pem import to_pem

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from cryptography.hazmat.primitives.asymmetric.types import (
        CertificateIssuerPrivateKeyTypes,
        PrivateKeyTypes,
    )

NOW = datetime.now(timezone.utc)


@dataclass
class Issued:
    """A certificate and its key."""

    cert: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes

    def pem(self) -> bytes:
        """The certificate as PEM."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self, password: bytes | None = None) -> bytes:
        """The key as PKCS#8 PEM, encrypted when a password is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(
    cn: str,
    parent: Issued | None = None,
    *,
    rsa_bits: int | None = None,
    is_ca: bool = True,
    cert_sign: bool = True,
    crl_sign: bool = True,
    client_only: bool = False,
    starts: datetime | None = None,
    ends: datetime | None = None,
    path_length: int | None = None,
    key: CertificateIssuerPrivateKeyTypes | None = None,
    extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
) -> Issued:
    """
    A root (no parent) or an intermediate CA; an EC key unless ``rsa_bits`` or ``key`` is
    given. Broken on request: CA:FALSE, no keyCertSign or cRLSign, an EKU of clientAuth
    only, dates;
    ``path_length``: how many CAs may follow it; ``extensions``: more, each with whether
    it is critical.
    """
    key = key or (
        rsa.generate_private_key(65537, rsa_bits)
        if rsa_bits
        else ec.generate_private_key(ec.SECP256R1())
    )
    issuer = parent.cert.subject if parent else _name(cn)
    signer = parent.key if parent else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(starts or NOW - timedelta(days=1))
        .not_valid_after(ends or NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=cert_sign,
                crl_sign=crl_sign,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if client_only:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    if parent:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(parent.key.public_key()),
            critical=False,
        )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return Issued(builder.sign(signer, hashes.SHA256()), key)


def make_leaf(
    issuer: Issued,
    names: list[str] | None,
    *,
    cn: str = "flow.mycompany.com",
    days: int = 90,
    start: datetime | None = None,
    rsa_bits: int | None = None,
    eku: bool = True,
    extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
    key: CertificateIssuerPrivateKeyTypes | None = None,
    key_id: bool = True,
) -> Issued:
    """
    An end-entity server certificate issued by ``issuer``; ``extensions``: more, as make_ca;
    ``key``: its key (else a new P-256 one, or RSA of ``rsa_bits``); ``key_id``: whether it
    names its issuer's key (authorityKeyIdentifier).
    """
    if key is None:
        key = (
            rsa.generate_private_key(65537, rsa_bits)
            if rsa_bits
            else ec.generate_private_key(ec.SECP256R1())
        )
    start = start or NOW - timedelta(hours=1)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if key_id:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    if names is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
    if eku:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    edwards = isinstance(issuer.key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey))
    return Issued(builder.sign(issuer.key, None if edwards else hashes.SHA256()), key)


def write(folder: Path, name: str, *parts: bytes) -> Path:
    """Write PEM parts into one file."""
    path = folder / name
    path.write_bytes(b"".join(parts))
    return path


def damaged_key(private: PrivateKeyTypes, public: PrivateKeyTypes) -> bytes:
    """
    A PEM key file holding the private part of ``private`` beside the public half of
    ``public`` (both RSA or both EC): a damaged key that claims another key's public half.
    """
    if isinstance(private, rsa.RSAPrivateKey) and isinstance(public, rsa.RSAPrivateKey):
        inner, outer = private.private_numbers(), public.public_key().public_numbers()
        values = [0, outer.n, outer.e, inner.d, inner.p, inner.q, inner.dmp1, inner.dmq1]
        values.append(inner.iqmp)
        der = encode(SEQUENCE, b"".join(encode_integer(value) for value in values))
        return to_pem(der, "RSA PRIVATE KEY").encode("ascii")
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    assert isinstance(public, ec.EllipticCurvePrivateKey)
    point = serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    own = private.public_key().public_bytes(*point)
    other = public.public_key().public_bytes(*point)
    sec1 = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    assert sec1.count(own) == 1
    return to_pem(sec1.replace(own, other), "EC PRIVATE KEY").encode("ascii")
