"""Key matching: the key's public half against the certificate's, with a process only if needed."""

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
from flow_ssl.openssl.read import pem
from tests.helpers import argv_spy, openssl, requires_openssl
from tests.pki import make_ca

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


@pytest.mark.parametrize(
    ("kind", "form"),
    [
        ("ec-pkcs8", PKCS8),
        ("ec-sec1", TRADITIONAL),
        ("rsa-pkcs8", PKCS8),
        ("rsa-pkcs1", TRADITIONAL),
    ],
)
def test_a_key_that_carries_its_public_half_is_matched_without_a_process(
    kind: str, form: serialization.PrivateFormat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unencrypted RSA or EC key: its own key passes, another fails, no openssl started."""
    key, other = _new_key(kind), _new_key(kind)
    cert = _certificate_for(key)
    calls = argv_spy(monkeypatch)
    for candidate, status in ((key, "pass"), (other, "fail")):
        (block,) = pem.private_keys(_block(candidate, form))
        found = keymatch.key_matches(block, cert, passin=None, key_name="k", cert_name="c")
        assert found.status == status
    assert calls == []


def test_an_encrypted_key_asks_openssl_and_gets_the_same_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A passphrase-protected key goes to openssl with its source (never the passphrase)."""
    key, other = _new_key("ec-pkcs8"), _new_key("ec-pkcs8")
    cert = _certificate_for(key)
    monkeypatch.setenv("KEY_PASS", "s3cret")
    calls = argv_spy(monkeypatch)
    for candidate, status in ((key, "pass"), (other, "fail")):
        (block,) = pem.private_keys(_block(candidate, PKCS8, b"s3cret"))
        assert block.encrypted
        found = keymatch.key_matches(
            block, cert, passin="env:KEY_PASS", key_name="k", cert_name="c"
        )
        assert found.status == status
    keys = [argv[1:3] for argv in calls if argv[1:2] == ["pkey"]]
    assert keys == [["pkey", "-pubout"]] * 2
    assert not any("s3cret" in part for argv in calls for part in argv)


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
