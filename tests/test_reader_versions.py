"""
The same file reads the same on every openssl build: inspect --json and check's findings.

Runs each build in ../shared/openssl/bin (the one `make test-matrix` uses) side by side
with the openssl under test; skipped where those builds are not installed.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.helpers import OPENSSL, each_build, needs_builds, requires_openssl

if TYPE_CHECKING:
    from collections.abc import Callable

    from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

    from tests.helpers import Run

DATA = Path(__file__).parent / "data"
SYSTEM_ROOTS = Path("/etc/ssl/certs/ca-certificates.crt")


def _inspect(cli: Callable[..., Run], *files: str) -> Callable[[], str]:
    def run() -> str:
        result = cli("inspect", *files, "--json")
        assert result.code == 0, result.err
        return result.out

    return run


@requires_openssl
@needs_builds
@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")
def test_inspect_json_is_the_same_on_every_version(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The fixtures (every key type, odd names, forged values) and CSRs: one JSON everywhere."""
    for source in [DATA / "certificates.pem", *sorted((DATA / "requests").glob("*.pem"))]:
        (tmp_path / source.name).write_bytes(source.read_bytes())
    files = sorted(p.name for p in tmp_path.iterdir())
    printed = each_build(monkeypatch, _inspect(cli, *files))
    reference = printed.pop(Path(str(OPENSSL)).name)
    assert len(json.loads(reference)) > 20
    assert {build: out == reference for build, out in printed.items()} == dict.fromkeys(
        printed, True
    )


@requires_openssl
@needs_builds
@pytest.mark.skipif(not SYSTEM_ROOTS.is_file(), reason="no system root store")
@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")
def test_the_root_store_reads_the_same_on_every_version(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The public roots (4.0 prints their EC sizes its own way): one JSON everywhere."""
    printed = each_build(monkeypatch, _inspect(cli, str(SYSTEM_ROOTS)))
    reference = printed.pop(Path(str(OPENSSL)).name)
    keys = [c["public_key"] for c in json.loads(reference)]
    assert all(k["bits"] for k in keys)
    assert any(k["algorithm"] == "ec" for k in keys)
    assert {build: out == reference for build, out in printed.items()} == dict.fromkeys(
        printed, True
    )


def _issue(
    subject: str,
    key: CertificateIssuerPrivateKeyTypes,
    issuer: tuple[x509.Name, CertificateIssuerPrivateKeyTypes] | None,
    *,
    ca: bool,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, signer = issuer or (name, key)
    now = datetime.now(timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3000 if ca else 90))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(signer, hashes.SHA256())


@requires_openssl
@needs_builds
def test_check_findings_are_the_same_on_every_version(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A leaf, its key, an intermediate and a root: the same check findings on every build."""
    root_key = ec.generate_private_key(ec.SECP384R1())
    root = _issue("Versions Root", root_key, None, ca=True)
    middle_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    middle = _issue("Versions Intermediate", middle_key, (root.subject, root_key), ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _issue("leaf.example.com", leaf_key, (middle.subject, middle_key), ca=False)
    for name, cert in (("root.pem", root), ("middle.pem", middle), ("leaf.pem", leaf)):
        (tmp_path / name).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.key").write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    argv = ["check", "--cert", "leaf.pem", "--key", "leaf.key", "--chain", "middle.pem",
            "--ca-file", "root.pem", "--host", "leaf.example.com", "--host", "other.example.com",
            "--json"]  # fmt: skip

    def run() -> str:
        result = cli(*argv)
        assert result.code == 1, result.err  # other.example.com is not covered
        return result.out

    printed = each_build(monkeypatch, run)
    reference = printed.pop(Path(str(OPENSSL)).name)
    statuses = {f["check"]: f["status"] for f in json.loads(reference)["findings"]}
    assert statuses["chain-verifies"] == "pass"
    assert statuses["key-strength"] == "pass"
    assert {build: out == reference for build, out in printed.items()} == dict.fromkeys(
        printed, True
    )
