"""renew's edges: --same-key never endangers the key, and the old subject is never dropped."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.helpers import OPENSSL, load_cert, load_csr, requires_openssl

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.helpers import Run

pytestmark = requires_openssl
CN = "flow.mycompany.com"
MADE = ["--cn", CN, "--san", "10.0.0.5", "--org", "My Company", "--key", "ec:P-256", "--subj"]
WRAPPERS = Path(__file__).resolve().parents[2] / "shared" / "openssl" / "bin"
LIBRESSL = WRAPPERS / "openssl-libressl-3.3.6"
UNDER_TEST = (
    subprocess.run([OPENSSL, "version"], capture_output=True, text=True, check=False).stdout
    if OPENSSL
    else ""
)
Attr = tuple[x509.ObjectIdentifier, str]


def _spki(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined,no-any-return]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _key_spki(path: Path) -> bytes:
    return _spki(serialization.load_pem_private_key(path.read_bytes(), None).public_key())


def _old(folder: Path, rdns: list[x509.RelativeDistinguishedName], name: str = "old") -> Path:
    """A self-signed certificate with this subject (SAN: CN), its key beside it as NAME.key."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(rdns)
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(CN)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (folder / f"{name}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path = folder / f"{name}.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def _rdns(*attributes: Attr) -> list[x509.RelativeDistinguishedName]:
    return [x509.RelativeDistinguishedName([x509.NameAttribute(o, v)]) for o, v in attributes]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# a CSR named like a certificate


@pytest.mark.parametrize("out", ["req.crt", "REQ.CER"])
def test_a_csr_named_like_a_certificate_is_warned_about(
    cli: Callable[..., Run], tmp_path: Path, out: str
) -> None:
    """csr and renew --csr to NAME.crt/.cer: written (a real CSR), with a warning on stderr."""
    made = cli("csr", "--cn", CN, "--key", "ec:P-256", "--subj", "--out", out, "--keyout", "r.key")
    assert made.code == 0, made.err
    assert "will hold a certificate request (CSR)" in made.err
    assert load_csr(tmp_path / out).subject.rfc4514_string() == f"CN={CN}"
    assert cli("selfsigned", *MADE).code == 0
    renewed = cli("renew", f"{CN}.crt", "--csr", "--subj", "--out", f"n-{out}", "--keyout", "n.key")
    assert renewed.code == 0, renewed.err
    assert "will hold a certificate request (CSR)" in renewed.err
    assert load_csr(tmp_path / f"n-{out}").subject == load_cert(tmp_path / f"{CN}.crt").subject
    plain = cli("csr", "--cn", CN, "--key", "ec:P-256", "--subj", "--out", "fine.csr",
                "--keyout", "fine.key")  # fmt: skip
    assert "will hold" not in plain.err
