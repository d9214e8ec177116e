"""inspect: certificates and CSRs read from their DER, held against cryptography field by field."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cryptography_vectors
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from flow_ssl.openssl.read import reader
from tests.helpers import openssl, requires_openssl
from tests.oracle import differences, unusual_certificates
from tests.pki import NOW, make_ca, make_leaf, write

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.helpers import Run

SYSTEM_ROOTS = Path("/etc/ssl/certs/ca-certificates.crt")
VECTORS = Path(cryptography_vectors.__file__).parent / "x509"


def test_unusual_certificates_match_cryptography(tmp_path: Path) -> None:
    """Odd string types, keys (Ed25519, Ed448, DSA, secp256k1), serials and SANs read right."""
    certificates = unusual_certificates()
    for index, cert in enumerate(certificates):
        single = tmp_path / f"{index}.pem"
        single.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (parsed,) = reader.read_file(single)
        assert differences(parsed, cert) == [], f"certificate {index}"
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates))
    for parsed, cert in zip(reader.read_file(bundle), certificates, strict=True):
        assert differences(parsed, cert) == [], f"bundle item {parsed.index}"


@pytest.mark.skipif(not SYSTEM_ROOTS.exists(), reason="no system root store")
# Some real roots have a negative serial; cryptography warns but reads them (so do we).
@pytest.mark.filterwarnings(
    "ignore:Parsed a serial number:cryptography.utils.CryptographyDeprecationWarning"
)
def test_system_root_store_as_one_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole public root store, read as one bundle, agrees with cryptography everywhere."""
    calls: list[str] = []
    real_popen = subprocess.Popen

    def counting_popen(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        calls.append(argv[1])
        return real_popen(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", counting_popen)
    certificates = x509.load_pem_x509_certificates(SYSTEM_ROOTS.read_bytes())
    parsed = reader.read_file(SYSTEM_ROOTS)
    assert len(parsed) == len(certificates) > 50
    problems = {p.index: differences(p, c) for p, c in zip(parsed, certificates, strict=True)}
    assert {index: diff for index, diff in problems.items() if diff} == {}
    # However many certificates: no openssl process reads them.
    assert calls == []


@requires_openssl
def test_der_and_csr_inputs(cli: Callable[..., Run], tmp_path: Path) -> None:
    """DER certificates get -inform DER; CSRs are read with openssl req."""
    cert = unusual_certificates()[0]
    (tmp_path / "c.der").write_bytes(cert.public_bytes(serialization.Encoding.DER))
    result = cli("inspect", "c.der", "--json")
    assert result.code == 0, result.err
    (data,) = json.loads(result.out)
    assert int(data["serial"], 16) == cert.serial_number
    assert cli("inspect", "c.der", "--print").out.strip() == (
        "openssl x509 -noout -text -in c.der -inform DER"
    )
    # named_curve: LibreSSL 3.3.6 would otherwise write the curve's parameters out in full.
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-pkeyopt", "ec_param_enc:named_curve", "-keyout", "s.key"]  # fmt: skip
    openssl("req", "-new", "-nodes", *newkey, "-subj", "/CN=r.example.com",
            "-addext", "subjectAltName=IP:10.0.0.9", "-out", "r.csr", cwd=tmp_path)  # fmt: skip
    result = cli("inspect", "r.csr", "--json")
    (data,) = json.loads(result.out)
    assert data["kind"] == "csr"
    assert "serial" not in data
    assert data["subject_alt_names"]["ip"] == ["10.0.0.9"]
    assert data["public_key"] == {"algorithm": "ec", "bits": 256, "curve": "P-256"}
    assert cli("inspect", "r.csr", "--print").out.strip() == "openssl req -noout -text -in r.csr"
    # A small EC CSR in DER is under 256 bytes: its length has one byte (0x30 0x81 ..).
    openssl("req", "-new", "-nodes", *newkey, "-subj", "/CN=s", "-outform", "DER", "-out", "r.der",
            cwd=tmp_path)  # fmt: skip
    assert (tmp_path / "r.der").read_bytes()[:2] == b"\x30\x81"
    result = cli("inspect", "r.der", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)[0]["kind"] == "csr"


@requires_openssl
def test_raw_is_openssls_own_text(cli: Callable[..., Run], tmp_path: Path) -> None:
    """--raw prints openssl x509 -noout -text unchanged."""
    cert = unusual_certificates()[0]
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    result = cli("inspect", "c.pem", "--raw")
    assert result.code == 0
    assert result.out == openssl("x509", "-noout", "-text", "-in", "c.pem", cwd=tmp_path).decode()


@requires_openssl
def test_raw_and_json_together_are_refused(cli: Callable[..., Run], tmp_path: Path) -> None:
    """--raw --json: exit 2 naming both, a JSON error on stdout, never openssl's text as JSON."""
    cert = unusual_certificates()[0]
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    result = cli("inspect", "c.pem", "--raw", "--json")
    assert result.code == 2
    assert "--raw" in result.err
    assert "--json" in result.err
    assert json.loads(result.out)["error"]["exit_code"] == 2


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "does not exist"),
        (b"hello", "neither PEM nor DER"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "PRIVATE KEY"),
        (b"-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n", "not a valid"),
        (b"\x30\x82\x01\x00garbage", "truncated"),
    ],
)
@requires_openssl
def test_bad_files_exit_2_without_traceback(
    cli: Callable[..., Run], tmp_path: Path, content: bytes | None, words: str
) -> None:
    """Missing, foreign or corrupt files give exit 2 and the reason, never a traceback."""
    if content is not None:
        (tmp_path / "bad.pem").write_bytes(content)
    result = cli("inspect", "bad.pem")
    assert result.code == 2, result.err
    assert words in result.err
    assert "Traceback" not in result.err


def test_a_v1_certificate_in_der_is_a_certificate(tmp_path: Path) -> None:
    """A DER file whose signed part starts with an INTEGER (v1: no version field) is no CSR."""
    v1 = x509.load_pem_x509_certificate((VECTORS / "v1_cert.pem").read_bytes())
    (tmp_path / "v1.der").write_bytes(v1.public_bytes(serialization.Encoding.DER))
    (parsed,) = reader.read_file(tmp_path / "v1.der")
    assert parsed.kind == "certificate"
    assert differences(parsed, v1) == []


@pytest.mark.parametrize(
    ("start", "days", "status"),
    [
        (timedelta(hours=1), 90, "NOT YET VALID"),
        (-timedelta(days=30, hours=3), 30, "EXPIRED less than a day ago (!)"),
        (-timedelta(days=32, hours=1), 30, "EXPIRED 2 days ago (!)"),
        (-timedelta(hours=19), 1, "less than a day left (!)"),
        (-timedelta(hours=19), 2, "1 day left (!)"),
        (-timedelta(hours=1), 91, "90 days left"),
    ],
    ids=[
        "starts-in-an-hour",
        "ended-hours-ago",
        "ended-days-ago",
        "hours-left",
        "a-day-left",
        "ninety-days",
    ],
)
def test_validity_words_at_the_edges(
    cli: Callable[..., Run], tmp_path: Path, start: timedelta, days: int, status: str
) -> None:
    """A certificate an hour from valid is not valid; an hour past its end is expired."""
    leaf = make_leaf(make_ca("Edge CA"), ["edge.example.com"], start=NOW + start, days=days)
    write(tmp_path, "edge.pem", leaf.pem())
    result = cli("inspect", "edge.pem")
    assert result.code == 0, result.err
    (valid,) = [line for line in result.out.splitlines() if line.strip().startswith("Valid")]
    assert valid.endswith(f"UTC, {status}"), valid


def test_a_csr_has_every_key_the_design_lists(cli: Callable[..., Run], tmp_path: Path) -> None:
    """A CSR's JSON has sha256_fingerprint (of its DER) and self_signed false, as designed."""
    assert cli("csr", "--cn", "r.example.com", "--subj", "--key", "ec:P-256").code == 0
    result = cli("inspect", "r.example.com.csr", "--json")
    (data,) = json.loads(result.out)
    der = x509.load_pem_x509_csr((tmp_path / "r.example.com.csr").read_bytes()).public_bytes(
        serialization.Encoding.DER
    )
    assert data["sha256_fingerprint"] == ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    assert data["self_signed"] is False
    assert not {"serial", "issuer", "not_before", "not_after"} & set(data)
