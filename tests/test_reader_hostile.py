"""
Files made by an attacker: the proof of what a certificate holds cannot be fooled.

Each case is built with cryptography (or openssl) as an attacker would, and the
expected reading comes from cryptography or from openssl called directly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from flow_ssl.check import bundle, readiness
from flow_ssl.core.errors import InvalidInputError
from flow_ssl.openssl.read import reader
from tests.helpers import growth, listing, openssl, requires_openssl
from tests.oracle import differences

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.helpers import Run

SEPARATED = "good.example.com, DNS:evil.example.com"
# A dNSName that imitates the lines x509 -text prints for other extensions.
FORGED_LINES = (
    "good.example.com\n            X509v3 Basic Constraints: critical\n                CA:TRUE\n"
    "            X509v3 Extended Key Usage: \n                TLS Web Server Authentication\n"
    "            Not After : Jan  1 00:00:00 2099 GMT"
)


def _certificate(
    names: list[str], *, common_name: str = "attacker.example.com", serial: int = 1000
) -> x509.Certificate:
    """A self-signed certificate with these dNSNames (as an attacker makes it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(timezone.utc).replace(microsecond=0)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=90))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
        .sign(key, hashes.SHA256())
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@requires_openssl
def test_separators_inside_a_dns_name_stay_one_value(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """A dNSName holding ', DNS:evil' is one name: check fails evil.example.com."""
    cert = _certificate([SEPARATED])
    (tmp_path / "c.pem").write_bytes(_pem(cert))
    result = cli("inspect", "c.pem", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)[0]["subject_alt_names"]["dns"] == [SEPARATED]
    result = cli("check", "--cert", "c.pem", "--host", "evil.example.com", "--json")
    assert result.code == 1
    hostname = next(f for f in json.loads(result.out)["findings"] if f["check"] == "hostname")
    assert hostname["status"] == "fail"


@requires_openssl
def test_ca_sign_refuses_a_name_holding_separators(cli: Callable[..., Run], tmp_path: Path) -> None:
    """ca sign refuses (exit 2) a CSR whose one dNSName holds ', DNS:'; nothing is signed."""
    init = cli("ca", "init", "--dir", "ca", "--name", "Test Root", "--key", "rsa:2048")
    assert init.code == 0, init.err
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "good.example.com")]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SEPARATED)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "r.csr").write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    before = listing(tmp_path)
    result = cli("ca", "sign", "r.csr", "--dir", "ca")
    assert result.code == 2, result.err
    assert SEPARATED in result.err
    assert listing(tmp_path) == before


@requires_openssl
def test_line_breaks_in_a_value_cannot_forge_extensions(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """A dNSName imitating basicConstraints, EKU and a date lines fakes none of them."""
    cert = _certificate([FORGED_LINES])
    (tmp_path / "c.pem").write_bytes(_pem(cert))
    (parsed,) = reader.read_file(tmp_path / "c.pem")
    assert differences(parsed, cert) == []
    assert parsed.basic_constraints is None
    assert parsed.extended_key_usage == []
    result = cli("check", "--cert", "c.pem", "--json")
    eku = next(f for f in json.loads(result.out)["findings"] if f["check"] == "server-auth-eku")
    assert eku["status"] == "warn"


@requires_openssl
def test_forged_text_cannot_move_a_boundary_in_a_bundle(tmp_path: Path) -> None:
    """A value holding the next certificate's PEM and a fake text block shifts nothing."""
    second = _certificate(["second.example.com"], common_name="second.example.com", serial=2)
    fake = (
        "x\n" + _pem(second).decode() + "\nCertificate:\n    Data:\n        Version: 3 (0x2)\n"
        "        Serial Number: 2 (0x2)\n        Subject: CN=forged\n"
        "        Subject Public Key Info:\n            Public Key Algorithm: rsaEncryption\n"
        "                Public-Key: (8192 bit)\n"
    )
    first = _certificate([fake], serial=1)
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(_pem(first) + _pem(second))
    parsed = reader.read_file(bundle)
    assert [differences(p, c) for p, c in zip(parsed, [first, second], strict=True)] == [[], []]


@requires_openssl
@pytest.mark.parametrize(
    ("begin", "newline"),
    [(b"-----BEGIN CERTIFICATE----- ", b"\n"), (b"-----BEGIN CERTIFICATE-----\t", b"\r\n")],
    ids=["trailing-space", "tab-and-crlf"],
)
def test_a_block_openssl_reads_is_read(
    cli: Callable[..., Run], tmp_path: Path, begin: bytes, newline: bytes
) -> None:
    """A BEGIN line ending in blanks (or CRLF) is a block: every report comes from one cert."""
    hidden = _certificate(["hidden.example.com"], common_name="hidden.example.com", serial=7)
    visible = _certificate(["visible.example.com"], common_name="visible.example.com", serial=8)
    lines = _pem(hidden).splitlines()
    odd = newline.join([begin, *lines[1:]]) + newline
    (tmp_path / "c.pem").write_bytes(odd + _pem(visible))
    result = cli("inspect", "c.pem", "--json")
    assert result.code == 0, result.err
    found = json.loads(result.out)
    assert [(c["subject"][0]["value"], c["sha256_fingerprint"]) for c in found] == [
        (cert.subject.rfc4514_string()[3:], _fingerprint(cert)) for cert in (hidden, visible)
    ]
    # openssl itself reads the odd block first: the vendor command shows the hidden one.
    shown = openssl("x509", "-noout", "-subject", "-in", "c.pem", cwd=tmp_path).decode()
    assert "hidden.example.com" in shown


def _fingerprint(cert: x509.Certificate) -> str:
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


@requires_openssl
def test_bundle_writes_the_leaf_openssl_reads(cli: Callable[..., Run], tmp_path: Path) -> None:
    """bundle takes the leaf from a file whose BEGIN line ends in a blank, not the next block."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hostile CA")])
    now = datetime.now(timezone.utc)
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(1)
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=900))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf.example.com")]))
        .issuer_name(ca_name).public_key(leaf_key.public_key()).serial_number(2)
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=90))
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    lines = _pem(leaf).splitlines()
    (tmp_path / "leaf.pem").write_bytes(b"\n".join([lines[0] + b"  ", *lines[1:]]) + b"\n")
    (tmp_path / "chain.pem").write_bytes(_pem(ca))
    result = cli("bundle", "--cert", "leaf.pem", "--chain", "chain.pem", "--out", "full.pem")
    assert result.code == 0, result.err
    written = x509.load_pem_x509_certificates((tmp_path / "full.pem").read_bytes())
    assert written == [leaf]


def _refused(path: Path) -> Callable[[], object]:
    def run() -> None:
        with pytest.raises(InvalidInputError):
            reader.split_file(path)

    return run


@pytest.mark.slow
@pytest.mark.parametrize(
    "content",
    [
        lambda n: b"-----BEGIN CERTIFICATE-----\n" * n,
        lambda n: b"-----BEGIN " + b"A" * 25 * n,
        lambda n: b"-----BEGIN CERTIFICATE-----\n" + b"A" * 25 * n,
        lambda n: (b"-----BEGIN X-----\n-----END Y-----\n") * n,
    ],
    ids=["begin-lines", "one-long-label", "no-end", "mismatched-ends"],
)
def test_hostile_pem_is_refused_in_linear_time(
    tmp_path: Path, content: Callable[[int], bytes]
) -> None:
    """Hostile PEM (megabytes) is refused, exit 2; four times as much costs about four times."""
    small, large = tmp_path / "small.pem", tmp_path / "large.pem"
    small.write_bytes(content(20_000))
    large.write_bytes(content(80_000))
    assert large.stat().st_size > 1_900_000
    ratio = growth(_refused(small), _refused(large))
    assert ratio < 8, f"four times the input cost {ratio:.1f} times as much (quadratic: 16)"


def _crossed(count: int) -> bytes:
    """A .p7b an attacker makes: ``count`` certificates, half named S issued by T, half T by S."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(timezone.utc)
    names = [x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]) for cn in ("S", "T")]
    certs = [
        x509.CertificateBuilder()
        .subject_name(names[at % 2])
        .issuer_name(names[1 - at % 2])
        .public_key(key.public_key())
        .serial_number(at + 1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=90))
        .sign(key, hashes.SHA256())
        for at in range(count)
    ]
    return pkcs7.serialize_certificates(certs, serialization.Encoding.DER)


@pytest.mark.slow
@requires_openssl
def test_a_set_of_thousands_is_read_ordered_and_checked_in_linear_time(tmp_path: Path) -> None:
    """A .p7b of 2,000 certificates issuing each other costs check and bundle about twice 1,000."""
    small, large = tmp_path / "small.p7b", tmp_path / "large.p7b"
    small.write_bytes(_crossed(1000))
    large.write_bytes(_crossed(2000))

    def check_and_bundle(path: Path) -> Callable[[], object]:
        def run() -> None:
            report = readiness.check(path)
            assert len(report.certificates) == int(path.stem == "large") * 1000 + 1000
            made = bundle.build_bundle(readiness.read_certificates(path), (), include_root=False)
            assert len(made.certificates) == len(report.certificates)

        return run

    ratio = growth(check_and_bundle(small), check_and_bundle(large), runs=3)
    assert ratio < 3, f"twice the certificates cost {ratio:.1f} times as much"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_non_regular_files_are_refused(tmp_path: Path, kind: str) -> None:
    """A FIFO, /dev/zero or a folder is refused with exit 2 at once, never read (no hang)."""
    path = {"device": "/dev/zero", "folder": str(tmp_path)}.get(kind, str(tmp_path / "pipe"))
    if kind == "fifo":
        os.mkfifo(path)
    done = subprocess.run(
        [sys.executable, "-m", "flow_ssl", "inspect", path],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert ("is a folder" if kind == "folder" else "not a regular file") in done.stderr
    assert "Traceback" not in done.stderr


@requires_openssl
@pytest.mark.parametrize("org", ["Acme ", " Acme", "  Acme  Inc  "])
def test_values_are_never_trimmed(cli: Callable[..., Run], tmp_path: Path, org: str) -> None:
    """An organization with edge blanks is made and read back as given (RFC2253 escapes them)."""
    result = cli("csr", "--cn", "blank.example.com", "--org", org, "--subj", "--key", "rsa:2048")
    assert result.code == 0, result.err
    csr = x509.load_pem_x509_csr((tmp_path / "blank.example.com.csr").read_bytes())
    assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == org
    (parsed,) = reader.read_file(tmp_path / "blank.example.com.csr")
    assert parsed.subject_value("O") == org


@requires_openssl
def test_trusted_certificate_fingerprint_is_the_certificate_s(tmp_path: Path) -> None:
    """A TRUSTED CERTIFICATE block's trust settings are not part of the fingerprint."""
    cert = _certificate(["trusted.example.com"])
    (tmp_path / "c.pem").write_bytes(_pem(cert))
    openssl("x509", "-in", "c.pem", "-trustout", "-addtrust", "serverAuth", "-out", "t.pem",
            cwd=tmp_path)  # fmt: skip
    assert b"BEGIN TRUSTED CERTIFICATE" in (tmp_path / "t.pem").read_bytes()
    (parsed,) = reader.read_file(tmp_path / "t.pem")
    assert differences(parsed, cert) == []


@requires_openssl
def test_many_requests_are_read_and_only_raw_is_capped(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """50 CSRs in one file are read (no process each); --raw, a process each, refuses them."""
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x.example.com")]))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "many.csr").write_bytes(csr.public_bytes(serialization.Encoding.PEM) * 50)
    parsed = reader.read_file(tmp_path / "many.csr")
    assert [p.subject_value("CN") for p in parsed] == ["x.example.com"] * 50
    result = cli("inspect", "many.csr", "--raw")
    assert result.code == 2
    assert "50 certificate requests" in result.err


@requires_openssl
def test_raw_bundle_is_openssls_own_text(cli: Callable[..., Run], tmp_path: Path) -> None:
    """--raw of a bundle prints what crl2pkcs7 | pkcs7 -print_certs -text prints (any version)."""
    certs = [_certificate([f"{n}.example.com"], serial=n) for n in (1, 2, 3)]
    (tmp_path / "b.pem").write_bytes(b"".join(_pem(c) for c in certs))
    pkcs7 = openssl("crl2pkcs7", "-nocrl", "-certfile", "b.pem", cwd=tmp_path)
    expected = openssl("pkcs7", "-print_certs", "-text", "-noout", stdin=pkcs7).decode()
    result = cli("inspect", "b.pem", "--raw")
    assert result.code == 0, result.err
    assert result.out == expected
