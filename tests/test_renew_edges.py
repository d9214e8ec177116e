"""renew's edges: --same-key never endangers the key, and the old subject is never dropped."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.helpers import OPENSSL, listing, load_cert, load_csr, requires_openssl, run_sh

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


# --same-key: the key is read, never written


def test_same_key_with_keyout_is_refused(cli: Callable[..., Run], tmp_path: Path) -> None:
    """--same-key --keyout: exit 2, one line naming --keyout, nothing written."""
    assert cli("selfsigned", *MADE).code == 0
    before = _files(tmp_path)
    result = cli("renew", f"{CN}.crt", "--same-key", "--keyout", "new.key", "--subj")
    assert result.code == 2, result.err
    assert result.err.startswith("flow-ssl: --keyout ")
    assert len(result.err.strip().splitlines()) == 1
    assert _files(tmp_path) == before


@pytest.mark.parametrize("how", ["same path", "./ path", "symlink", "hard link"])
@pytest.mark.parametrize("mode", [[], ["--csr"]], ids=["selfsigned", "csr"])
def test_same_key_never_writes_over_the_key(
    cli: Callable[..., Run], tmp_path: Path, how: str, mode: list[str]
) -> None:
    """--out naming the key (its path, a symlink, a hard link): exit 2 even with --force."""
    assert cli("selfsigned", *MADE).code == 0
    key = tmp_path / f"{CN}.key"
    out = {"same path": key.name, "./ path": f"./{key.name}"}.get(how, "other.pem")
    if how == "symlink":
        (tmp_path / out).symlink_to(key.name)
    elif how == "hard link":
        os.link(key, tmp_path / out)
    before = _files(tmp_path)
    result = cli("renew", f"{CN}.crt", "--same-key", *mode, "--subj", "--out", out, "--force")
    assert result.code == 2, result.err
    assert "never writes it (even with --force)" in result.err
    assert _files(tmp_path) == before
    assert serialization.load_pem_private_key(key.read_bytes(), None)
    if how == "symlink":
        assert (tmp_path / out).is_symlink()


def test_a_pfx_key_is_written_out_by_the_command_given(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--same-key of a .pfx, no key file: exit 2 with a command that writes it; then it renews."""
    monkeypatch.setenv("PFX_PASS", "correct horse")
    assert cli("selfsigned", *MADE).code == 0
    assert cli("bundle", "--cert", f"{CN}.crt", "--key", f"{CN}.key", "--p12", "site.pfx",
               "--pass", "env:PFX_PASS").code == 0  # fmt: skip
    old_key = _key_spki(tmp_path / f"{CN}.key")
    for made in tmp_path.glob(f"{CN}.*"):
        made.unlink()
    before = listing(tmp_path)
    refused = cli("renew", "site.pfx", "--pass", "env:PFX_PASS", "--same-key", "--subj")
    assert refused.code == 2, refused.err
    assert len(refused.err.strip().splitlines()) == 1
    assert listing(tmp_path) == before
    found = re.search(r"(\(umask 077 && .*\)); then renew again", refused.err)
    assert found, refused.err
    assert "correct horse" not in refused.err
    run_sh(found.group(1) + "\n", tmp_path)
    assert (tmp_path / "site.key").stat().st_mode & 0o077 == 0
    assert _key_spki(tmp_path / "site.key") == old_key
    key_bytes = (tmp_path / "site.key").read_bytes()
    result = cli("renew", "site.pfx", "--pass", "env:PFX_PASS", "--same-key", "--subj")
    assert result.code == 0, result.err
    assert _spki(load_cert(tmp_path / "site.crt").public_key()) == old_key
    assert (tmp_path / "site.key").read_bytes() == key_bytes


def test_same_key_matches_a_der_certificate(cli: Callable[..., Run], tmp_path: Path) -> None:
    """--same-key of a DER certificate: its key is matched against it; another key is not."""
    assert cli("selfsigned", *MADE).code == 0
    assert cli("selfsigned", "--cn", "other.example.com", "--key", "ec:P-256", "--subj",
               "--keyout", "other.key", "--out", "other.crt").code == 0  # fmt: skip
    der = load_cert(tmp_path / f"{CN}.crt").public_bytes(serialization.Encoding.DER)
    (tmp_path / "site.der").write_bytes(der)
    wrong = cli("renew", "site.der", "--key", "other.key", "--same-key", "--subj", "--out", "n.crt")
    assert wrong.code == 2, wrong.err
    assert "is not the key of site.der" in wrong.err
    assert not (tmp_path / "n.crt").exists()
    key = (tmp_path / f"{CN}.key").read_bytes()
    result = cli(
        "renew", "site.der", "--key", f"{CN}.key", "--same-key", "--subj", "--out", "n.crt"
    )
    assert result.code == 0, result.err
    new = load_cert(tmp_path / "n.crt")
    assert _spki(new.public_key()) == _key_spki(tmp_path / f"{CN}.key")
    assert new.subject == x509.load_der_x509_certificate(der).subject
    assert (tmp_path / f"{CN}.key").read_bytes() == key


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
