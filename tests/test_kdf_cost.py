"""
The key-derivation cost a passphrase-protected file asks, read before openssl spends it.

A PKCS#12 and an encrypted PKCS#8 key are held to the same ceiling, with the same words
(exit 2): PBKDF2 and PBE iteration counts, a PKCS#12 MAC's, and scrypt's N x r x p.
Keys are made by the system's openssl (OpenSSL 3: ``pkcs8 -iter``, ``-scrypt``) and by hand.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from flow_ssl.core.errors import InvalidInputError
from flow_ssl.openssl.read import asn1, kdf
from tests.helpers import SYSTEM_OPENSSL, argv_spy, listing, openssl, requires_openssl

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.helpers import Run

PBES2, PBKDF2 = "1.2.840.113549.1.5.13", "1.2.840.113549.1.5.12"
SCRYPT, AES256 = "1.3.6.1.4.1.11591.4.11", "2.16.840.1.101.3.4.1.42"
PBE_SHA1_3DES = "1.2.840.113549.1.12.1.3"
needs_system_openssl = pytest.mark.skipif(SYSTEM_OPENSSL is None, reason="no system openssl")


def _der(tag: int, content: bytes) -> bytes:
    return asn1.encode(tag, content)


def _algorithm(oid: str, parameters: bytes) -> bytes:
    return _der(0x30, asn1.encode_oid(oid) + parameters)


def _params(count: int) -> bytes:
    """A salt and an iteration count, as PBKDF2, PKCS#12 PBE and macData hold them."""
    return _der(0x30, _der(0x04, b"salt5678") + asn1.encode_integer(count))


def _encrypted_key(algorithm: bytes) -> bytes:
    """An ENCRYPTED PRIVATE KEY PEM block with this algorithm (and ciphertext no one reads)."""
    der = _der(0x30, algorithm + _der(0x04, b"\x00" * 48))
    body = base64.encodebytes(der)
    return (
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + body + b"-----END ENCRYPTED PRIVATE KEY-----\n"
    )


def _pbkdf2_key(count: int) -> bytes:
    kdf_id = _algorithm(PBKDF2, _params(count))
    cipher = _algorithm(AES256, _der(0x04, b"\x01" * 16))
    return _encrypted_key(_algorithm(PBES2, _der(0x30, kdf_id + cipher)))


def _scrypt_key(n: int, r: int, p: int) -> bytes:
    values = b"".join(asn1.encode_integer(v) for v in (n, r, p))
    kdf_id = _algorithm(SCRYPT, _der(0x30, _der(0x04, b"salt") + values))
    cipher = _algorithm(AES256, _der(0x04, b"\x01" * 16))
    return _encrypted_key(_algorithm(PBES2, _der(0x30, kdf_id + cipher)))


def test_counts_are_found_in_nested_der_and_inside_octet_strings() -> None:
    """A count in a SEQUENCE, or in DER held by an OCTET STRING (a ContentInfo's data)."""
    plain = _der(0x30, _der(0x02, b"\x03") + _params(2048))
    assert kdf.largest_cost(plain) == 2048
    wrapped = _der(0x30, _der(0x04, _der(0x30, _params(99_999))) + _params(2048))
    assert kdf.largest_cost(wrapped) == 99_999


def test_ber_indefinite_lengths_and_chunked_octet_strings_are_walked() -> None:
    """Java and Bouncy Castle write BER: indefinite lengths, OCTET STRINGs in chunks."""
    inner = _der(0x30, _params(3_000_000))
    chunked = b"\x24\x80" + _der(0x04, inner[:5]) + _der(0x04, inner[5:]) + b"\x00\x00"
    ber = b"\x30\x80" + _der(0x02, b"\x03") + chunked + b"\x00\x00"
    assert kdf.largest_cost(ber) == 3_000_000


def test_anything_unwalkable_finds_nothing_and_never_raises() -> None:
    """Garbage, truncation, absurd nesting: 0 (openssl then says what is wrong)."""
    deep = b"\x30\x80" * 200 + b"\x00\x00" * 200
    for data in (b"", b"\x30", b"\x30\x84\xff\xff\xff\xff", b"\xff" * 40, deep):
        assert kdf.largest_cost(data) == 0


def test_scrypt_costs_n_times_r_times_p() -> None:
    """scrypt's work is N x r x p: its usual 16384 x 8 x 1 passes, 16 times that does not."""
    der = base64.b64decode(b"".join(_scrypt_key(16384, 8, 16).splitlines()[1:-1]))
    assert kdf.largest_cost(der) == 2_097_152
    kdf.refuse_costly_key(_scrypt_key(16384, 8, 1), "usual.key")
    with pytest.raises(InvalidInputError, match="asks for 2,097,152 iterations"):
        kdf.refuse_costly_key(_scrypt_key(16384, 8, 16), "slow.key")


@pytest.mark.parametrize(
    "key",
    [
        _pbkdf2_key(2_000_001),
        _encrypted_key(_algorithm(PBE_SHA1_3DES, _params(2_000_001))),
    ],
    ids=["pbes2-pbkdf2", "pkcs12-pbe"],
)
def test_an_encrypted_key_over_the_cap_is_refused_as_a_pfx_is(key: bytes) -> None:
    """A key asking 2,000,001 iterations: the .pfx's words; 2,000,000 and plain keys pass."""
    with pytest.raises(InvalidInputError) as refused:
        kdf.refuse_costly_key(key, "slow.key")
    assert refused.value.message == (
        "slow.key asks for 2,000,001 iterations of its key derivation, more than the "
        "2,000,000 flow-ssl lets openssl spend on each attempt (exporters write 2,000 to "
        "600,000): export it again"
    )
    kdf.refuse_costly_key(_pbkdf2_key(2_000_000), "usual.key")
    plain = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    kdf.refuse_costly_key(plain, "plain.key")


@needs_system_openssl
def test_openssls_own_scrypt_and_pbkdf2_keys_are_read() -> None:
    """What openssl writes (pkcs8 -scrypt, -iter) names the cost flow-ssl reads."""
    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    common = ["pkcs8", "-topk8", "-passout", "pass:words", "-outform", "DER"]
    costs = ["-scrypt", "-scrypt_N", "1024", "-scrypt_r", "8", "-scrypt_p", "3"]
    scrypt = openssl(*common, *costs, stdin=key, system=True)
    assert kdf.largest_cost(scrypt) == 1024 * 8 * 3
    pbkdf2 = openssl(*common, "-v2", "aes-256-cbc", "-iter", "123457", stdin=key, system=True)
    assert kdf.largest_cost(pbkdf2) == 123_457


def _leaf(tmp_path: Path, iterations: int) -> None:
    """leaf.pem and its key, leaf.key, encrypted by openssl with ``iterations`` (pass KEY_PASS)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kdf.example.com")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=90))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "leaf.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    plain = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    encrypt = ["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-iter", str(iterations)]
    encrypted = openssl(*encrypt, "-passout", "pass:kdf words", stdin=plain, system=True)
    (tmp_path / "leaf.key").write_bytes(encrypted)


@pytest.mark.slow
@requires_openssl
@needs_system_openssl
def test_check_refuses_a_key_asking_too_much_before_openssl_runs(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """check --key --pass: 2,000,001 iterations is exit 2 and no pkey runs; 2,000,000 is read."""
    monkeypatch.setenv("KEY_PASS", "kdf words")
    _leaf(tmp_path, 2_000_001)
    started = argv_spy(monkeypatch)
    result = cli("check", "--cert", "leaf.pem", "--key", "leaf.key", "--pass", "env:KEY_PASS")
    assert result.code == 2
    assert "leaf.key asks for 2,000,001 iterations of its key derivation" in result.err
    assert not [argv for argv in started if "pkey" in argv]
    _leaf(tmp_path, 2_000_000)
    result = cli(
        "check", "--cert", "leaf.pem", "--key", "leaf.key", "--pass", "env:KEY_PASS", "--json"
    )
    found = {f["check"]: f["status"] for f in json.loads(result.out)["findings"]}
    assert found["key-matches-cert"] == "pass"


@requires_openssl
@needs_system_openssl
def test_a_ca_key_asking_too_much_is_refused_before_signing(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CA folder whose key asks 2,000,001 iterations: ca issue is exit 2, nothing written."""
    monkeypatch.setenv("TEST_CA_PASS", "ca words")
    made = cli("ca", "init", "--dir", "ca", "--name", "Kdf Root", "--ca-pass", "env:TEST_CA_PASS")
    assert made.code == 0, made.err
    key = tmp_path / "ca" / "ca.key"
    again = ["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-iter", "2000001", "-in", str(key)]
    passes = ["-passin", "env:TEST_CA_PASS", "-passout", "env:TEST_CA_PASS"]
    key.write_bytes(openssl(*again, *passes, system=True))
    before = listing(tmp_path)
    issue = ["ca", "issue", "--dir", "ca", "--cn", "a.example.com", "--subj"]
    result = cli(*issue, "--ca-pass", "env:TEST_CA_PASS")
    assert result.code == 2
    assert "ca.key asks for 2,000,001 iterations of its key derivation" in result.err
    assert listing(tmp_path) == before
