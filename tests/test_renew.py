"""renew: the old certificate's subject and names, nothing retyped, the old files kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.helpers import key_spki, listing, load_cert, load_csr, requires_openssl, run_sh, spki

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.helpers import Run

pytestmark = requires_openssl
CN = "flow.mycompany.com"
MADE = ["--cn", CN, "--san", "flow-analytics.mycompany.com", "--san", "10.0.0.5",
        "--org", "My Company", "--country", "US", "--key", "ec:P-256", "--subj"]  # fmt: skip


def _names(cert: x509.Certificate | x509.CertificateSigningRequest) -> list[str]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [
        *san.get_values_for_type(x509.DNSName),
        *map(str, san.get_values_for_type(x509.IPAddress)),
    ]


def test_a_self_signed_certificate_renews_as_itself(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """Same subject, every name (IP too), still self-signed, a new key; old files kept."""
    assert cli("selfsigned", *MADE).code == 0
    old = load_cert(tmp_path / f"{CN}.crt")
    old_key = (tmp_path / f"{CN}.key").read_bytes()
    result = cli("renew", f"{CN}.crt", "--subj")
    assert result.code == 0, result.err
    new = load_cert(tmp_path / f"{CN}.crt")
    assert new.subject == old.subject
    assert new.issuer == new.subject
    assert _names(new) == _names(old) == [CN, "flow-analytics.mycompany.com", "10.0.0.5"]
    assert new.serial_number != old.serial_number
    assert key_spki(tmp_path / f"{CN}.key") == spki(new.public_key())
    assert (tmp_path / f"{CN}.key").read_bytes() != old_key
    backups = {p.name.split(".bak-")[0]: p for p in tmp_path.glob("*.bak-*")}
    assert backups[f"{CN}.key"].read_bytes() == old_key
    assert load_cert(backups[f"{CN}.crt"]) == old


def test_same_key_keeps_the_key_untouched(cli: Callable[..., Run], tmp_path: Path) -> None:
    """--same-key: the certificate is new, the key file is the very same bytes."""
    assert cli("selfsigned", *MADE).code == 0
    key = (tmp_path / f"{CN}.key").read_bytes()
    result = cli("renew", f"{CN}.crt", "--same-key", "--subj", "--days", "90")
    assert result.code == 0, result.err
    assert (tmp_path / f"{CN}.key").read_bytes() == key
    new = load_cert(tmp_path / f"{CN}.crt")
    assert spki(new.public_key()) == key_spki(tmp_path / f"{CN}.key")
    assert (new.not_valid_after_utc - new.not_valid_before_utc).days == 90
    assert not list(tmp_path.glob(f"{CN}.key.bak-*"))


def test_csr_renews_for_the_ca_that_issued_it(cli: Callable[..., Run], tmp_path: Path) -> None:
    """--csr: a new key and a CSR carrying every old name; the installed certificate stays."""
    assert cli("selfsigned", *MADE).code == 0
    cert_bytes = (tmp_path / f"{CN}.crt").read_bytes()
    result = cli("renew", f"{CN}.crt", "--csr", "--subj", "--json")
    assert result.code == 0, result.err
    csr = load_csr(tmp_path / f"{CN}.csr")
    assert _names(csr) == _names(load_cert(tmp_path / f"{CN}.crt"))
    assert csr.subject == load_cert(tmp_path / f"{CN}.crt").subject
    assert (tmp_path / f"{CN}.crt").read_bytes() == cert_bytes
    assert json.loads(result.out)["files"] == {"key": f"{CN}.key", "csr": f"{CN}.csr"}


def test_a_ca_issued_certificate_becomes_a_csr_with_a_warning(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """Issued by a CA, no --csr or --ca-dir: a CSR, and a warning that only that CA renews it."""
    assert cli("ca", "init", "--dir", "ca", "--name", "Renew Root", "--key", "ec:P-256").code == 0
    assert cli("ca", "issue", "--dir", "ca", "--cn", CN, "--san", "10.0.0.5", "--subj",
               "--key", "ec:P-256").code == 0  # fmt: skip
    result = cli("renew", f"{CN}.crt", "--subj")
    assert result.code == 0, result.err
    assert "only that CA can issue it again" in result.err
    assert _names(load_csr(tmp_path / f"{CN}.csr")) == [CN, "10.0.0.5"]


def test_the_company_ca_renews_what_it_issued(cli: Callable[..., Run], tmp_path: Path) -> None:
    """--ca-dir: a new certificate from the CA, same names, a new serial, the chain rewritten."""
    assert cli("ca", "init", "--dir", "ca", "--name", "Renew Root", "--key", "ec:P-256").code == 0
    assert cli("ca", "issue", "--dir", "ca", "--cn", CN, "--subj", "--key", "ec:P-256").code == 0
    old = load_cert(tmp_path / f"{CN}.crt")
    result = cli("renew", f"{CN}.crt", "--ca-dir", "ca", "--subj")
    assert result.code == 0, result.err
    new = load_cert(tmp_path / f"{CN}.crt")
    new.verify_directly_issued_by(load_cert(tmp_path / "ca" / "ca.crt"))
    assert new.serial_number != old.serial_number
    assert _names(new) == _names(old)
    log = (tmp_path / "ca" / "issued.log").read_text().splitlines()
    assert len(log) == 2


def test_renew_print_writes_nothing_and_runs_as_printed(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """--print shows the openssl command with the old names; sh makes the same certificate."""
    assert cli("selfsigned", *MADE).code == 0
    old = load_cert(tmp_path / f"{CN}.crt")
    before = listing(tmp_path)
    printed = cli(
        "renew", f"{CN}.crt", "--print", "--out", "printed.crt", "--keyout", "printed.key"
    )
    assert printed.code == 0, printed.err
    assert listing(tmp_path) == before
    run_sh(printed.out, tmp_path)
    made = load_cert(tmp_path / "printed.crt")
    assert made.subject == old.subject
    assert _names(made) == _names(old)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--same-key", "--key", "other.key"], "is not the key"),
        (["--csr", "--ca-dir", "ca"], "choose one"),
        (["--out", "taken.crt"], "already exists"),
    ],
)
def test_renew_refuses_what_would_break_a_pair(
    cli: Callable[..., Run], tmp_path: Path, args: list[str], words: str
) -> None:
    """Another key with --same-key, two modes, an existing --out: exit 2, nothing changed."""
    assert cli("selfsigned", *MADE).code == 0
    assert cli("selfsigned", "--cn", "other.example.com", "--key", "ec:P-256", "--subj",
               "--keyout", "other.key", "--out", "other.crt").code == 0  # fmt: skip
    (tmp_path / "taken.crt").write_text("taken\n")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    result = cli("renew", f"{CN}.crt", "--subj", *args)
    assert result.code == 2, result.err
    assert words in result.err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_pfx_renews_beside_itself(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """renew of a .pfx (--pass): the new certificate and key go beside it; the .pfx stays."""
    monkeypatch.setenv("PFX_PASS", "correct horse")
    assert cli("selfsigned", *MADE).code == 0
    assert cli("bundle", "--cert", f"{CN}.crt", "--key", f"{CN}.key", "--p12", "site.pfx",
               "--pass", "env:PFX_PASS").code == 0  # fmt: skip
    pfx = (tmp_path / "site.pfx").read_bytes()
    result = cli("renew", "site.pfx", "--pass", "env:PFX_PASS", "--subj")
    assert result.code == 0, result.err
    assert (tmp_path / "site.pfx").read_bytes() == pfx
    assert _names(load_cert(tmp_path / "site.crt")) == _names(load_cert(tmp_path / f"{CN}.crt"))
    assert "correct horse" not in result.out + result.err


@pytest.mark.parametrize(("old", "new"), [("site.der", "site.crt"), ("site.crt", "site.pem")])
def test_a_der_certificate_is_not_overwritten_with_pem(
    cli: Callable[..., Run], tmp_path: Path, old: str, new: str
) -> None:
    """A DER file keeps its bytes; the PEM renewal goes beside it, named on stderr."""
    assert cli("selfsigned", *MADE).code == 0
    der = load_cert(tmp_path / f"{CN}.crt").public_bytes(serialization.Encoding.DER)
    (tmp_path / old).write_bytes(der)
    (tmp_path / f"{CN}.crt").unlink()
    result = cli("renew", old, "--key", f"{CN}.key", "--subj")
    assert result.code == 0, result.err
    assert (tmp_path / old).read_bytes() == der
    assert f"the new certificate is PEM, in {new}" in result.err
    renewed = (tmp_path / new).read_bytes()
    assert renewed.startswith(b"-----BEGIN CERTIFICATE-----")
    assert _names(load_cert(tmp_path / new)) == _names(x509.load_der_x509_certificate(der))
