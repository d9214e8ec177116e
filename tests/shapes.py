"""What a server or CA certificate must hold, checked with cryptography (the independent parser)."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

if TYPE_CHECKING:
    from pathlib import Path

    from tests.helpers import Run

# Extensions every server certificate flow-ssl makes carries (key identifiers may come too).
SERVER_EXTENSIONS = {
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    ExtensionOID.BASIC_CONSTRAINTS,
    ExtensionOID.KEY_USAGE,
    ExtensionOID.EXTENDED_KEY_USAGE,
}
KEY_IDS = {ExtensionOID.SUBJECT_KEY_IDENTIFIER, ExtensionOID.AUTHORITY_KEY_IDENTIFIER}


def extension_oids(cert: x509.Certificate) -> list[x509.ObjectIdentifier]:
    """Every extension's OID in stored order (cryptography refuses a duplicate one)."""
    return [extension.oid for extension in cert.extensions]


def assert_server_certificate(cert: x509.Certificate, names: list[str]) -> None:
    """One of each server extension: the names in the SAN, CA:FALSE, serverAuth, key usage."""
    oids = extension_oids(cert)
    assert len(oids) == len(set(oids))
    assert SERVER_EXTENSIONS <= set(oids) <= SERVER_EXTENSIONS | KEY_IDS, oids
    assert cert.version == x509.Version.v3
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    assert san.get_values_for_type(x509.DNSName) + ips == [
        *(n for n in names if not _is_ip(n)),
        *(n for n in names if _is_ip(n)),
    ]
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca is False
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    assert usage.value.key_encipherment is isinstance(cert.public_key(), rsa.RSAPublicKey)
    assert not usage.value.key_cert_sign
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    _assert_named_curve(cert)


def assert_ca_certificate(cert: x509.Certificate, path_length: int | None) -> None:
    """A CA: critical CA:TRUE with the path length asked, keyCertSign and cRLSign only."""
    oids = extension_oids(cert)
    assert len(oids) == len(set(oids))
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca
    assert constraints.value.path_length == path_length
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.key_cert_sign
    assert usage.value.crl_sign
    assert not usage.value.digital_signature
    _assert_named_curve(cert)


def _assert_named_curve(cert: x509.Certificate) -> None:
    """An EC key names its curve (cryptography cannot load explicit curve parameters)."""
    key = cert.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        assert key.curve.name in {"secp256r1", "secp384r1"}


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def same_subject(one: Path, other: Path) -> bool:
    """Whether two certificates store byte-identical subjects."""
    first = x509.load_pem_x509_certificate(one.read_bytes()).subject
    second = x509.load_pem_x509_certificate(other.read_bytes()).subject
    return first.public_bytes() == second.public_bytes()


def printed(result: Run) -> str:
    """The script a --print run wrote, once it is known to have succeeded."""
    assert result.code == 0, result.err
    return result.out
