"""Key matching: openssl proves a key given signs for the certificate; one it made is compared."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from flow_ssl.openssl import keymatch
from flow_ssl.openssl.read import keys, pem
from tests.helpers import argv_spy, openssl, requires_openssl
from tests.pki import damaged_key, make_ca

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import (
        CertificateIssuerPrivateKeyTypes,
        PrivateKeyTypes,
    )

pytestmark = requires_openssl

PKCS8 = serialization.PrivateFormat.PKCS8
TRADITIONAL = serialization.PrivateFormat.TraditionalOpenSSL


def _block(key: PrivateKeyTypes, form: serialization.PrivateFormat, password: bytes = b"") -> bytes:
    encryption: serialization.KeySerializationEncryption = serialization.NoEncryption()
    if password:
        encryption = serialization.BestAvailableEncryption(password)
    return key.private_bytes(serialization.Encoding.PEM, form, encryption)


def _certificate_for(key: CertificateIssuerPrivateKeyTypes) -> bytes:
    """A certificate whose public key is ``key``'s, signed by a throwaway CA."""
    root = make_ca("Root")
    now = datetime.now(timezone.utc)
    signed = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "a.example.com")]))
        .issuer_name(root.cert.subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(root.key, hashes.SHA256())
    )
    return signed.public_bytes(serialization.Encoding.DER)


def _new_key(kind: str) -> CertificateIssuerPrivateKeyTypes:
    if kind.startswith("rsa"):
        return rsa.generate_private_key(65537, 2048)
    return ec.generate_private_key(ec.SECP384R1() if kind == "ec-sec1" else ec.SECP256R1())


FORMS = [
    ("ec-pkcs8", PKCS8),
    ("ec-sec1", TRADITIONAL),
    ("rsa-pkcs8", PKCS8),
    ("rsa-pkcs1", TRADITIONAL),
]


@pytest.mark.parametrize(("kind", "form"), FORMS)
def test_a_key_openssl_made_is_compared_without_a_process(
    kind: str, form: serialization.PrivateFormat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read-back of a key made in this run: its own key passes, another fails, no process."""
    key, other = _new_key(kind), _new_key(kind)
    cert = _certificate_for(key)
    calls = argv_spy(monkeypatch)
    for candidate, status in ((key, "pass"), (other, "fail")):
        (block,) = pem.private_keys(_block(candidate, form))
        found = keymatch.made_key_matches(
            block, cert, passin=None, key_name="k", cert_name="c", made_with="it"
        )
        assert found.status == status
    assert calls == []


@pytest.mark.parametrize(("kind", "form"), FORMS)
def test_a_key_given_is_proven_by_a_signature(
    kind: str, form: serialization.PrivateFormat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operator's key: openssl signs a challenge and verifies it with the certificate's key."""
    key, other = _new_key(kind), _new_key(kind)
    cert = _certificate_for(key)
    calls = argv_spy(monkeypatch)
    for candidate, status in ((key, "pass"), (other, "fail")):
        (block,) = pem.private_keys(_block(candidate, form))
        found = keymatch.key_matches(block, cert, passin=None, key_name="k", cert_name="c")
        assert found.status == status
    asked = [argv[1:4:2] for argv in calls if argv[1:2] == ["dgst"]]
    assert asked == [["dgst", "-sign"], ["dgst", "-verify"]] * 2


@pytest.mark.parametrize("kind", ["ec-pkcs8", "rsa-pkcs1"])
def test_a_key_carrying_the_certificates_public_half_beside_another_private_part_fails(
    kind: str,
) -> None:
    """A damaged key whose stored public half is the certificate's, its private part not: fail."""
    owner, stranger = _new_key(kind), _new_key(kind)
    cert = _certificate_for(owner)
    (block,) = pem.private_keys(damaged_key(stranger, owner))
    assert keys.public_key_info(block.text) == x509.load_der_x509_certificate(
        cert
    ).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    found = keymatch.key_matches(block, cert, passin=None, key_name="k", cert_name="c")
    assert found.status == "fail"


def test_an_ed25519_key_asks_openssl(monkeypatch: pytest.MonkeyPatch) -> None:
    """A PKCS#8 Ed25519 key holds no public half: openssl derives it, in one process."""
    key = ed25519.Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    text = _block(key, PKCS8)
    try:
        openssl("pkey", "-pubout", stdin=text)
    except subprocess.CalledProcessError:
        pytest.skip("this openssl has no Ed25519 (LibreSSL 3.3)")
    calls = argv_spy(monkeypatch)
    (block,) = pem.private_keys(text)
    assert keymatch.public_key_info(block, "k", passin=None) == public
    assert [argv[1] for argv in calls if argv[1] != "version"] == ["pkey"]
