"""renew: the old certificate's subject and names, nothing retyped, the old files kept."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from tests.helpers import (
    contents,
    key_spki,
    listing,
    load_cert,
    load_csr,
    requires_openssl,
    run_sh,
    spki,
)

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
    """--csr: a new key and CSR (NAME.next.*) with every old name; the live pair is untouched."""
    assert cli("selfsigned", *MADE).code == 0
    live = {name: (tmp_path / name).read_bytes() for name in (f"{CN}.crt", f"{CN}.key")}
    result = cli("renew", f"{CN}.crt", "--csr", "--subj", "--json")
    assert result.code == 0, result.err
    csr = load_csr(tmp_path / f"{CN}.next.csr")
    assert _names(csr) == _names(load_cert(tmp_path / f"{CN}.crt"))
    assert csr.subject == load_cert(tmp_path / f"{CN}.crt").subject
    assert spki(csr.public_key()) == key_spki(tmp_path / f"{CN}.next.key")
    assert {name: (tmp_path / name).read_bytes() for name in live} == live
    assert json.loads(result.out)["files"] == {"key": f"{CN}.next.key", "csr": f"{CN}.next.csr"}


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
    assert _names(load_csr(tmp_path / f"{CN}.next.csr")) == [CN, "10.0.0.5"]


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


def _issued(cli: Callable[..., Run]) -> None:
    """A company CA in ca/ and a certificate it issued for CN, with its key."""
    assert cli("ca", "init", "--dir", "ca", "--name", "Renew Root", "--key", "ec:P-256").code == 0
    assert cli("ca", "issue", "--dir", "ca", "--cn", CN, "--san", "10.0.0.5", "--subj",
               "--key", "ec:P-256").code == 0  # fmt: skip


def _findings(result: Run) -> dict[str, dict[str, str]]:
    assert result.out, result.err
    return {f["check"]: f for f in json.loads(result.out)["findings"]}


def test_renewing_a_ca_issued_certificate_never_breaks_the_live_pair(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new key and CSR wait as NAME.next.*; the live pair still matches; check finds it."""
    _issued(cli)
    live = {name: (tmp_path / name).read_bytes() for name in (f"{CN}.crt", f"{CN}.key")}
    result = cli("renew", f"{CN}.crt", "--subj")
    assert result.code == 0, result.err
    assert {name: (tmp_path / name).read_bytes() for name in live} == live
    installed = cli("check", "--cert", f"{CN}.crt", "--key", f"{CN}.key", "--ca-file",
                    "ca/ca.crt", "--json")  # fmt: skip
    assert _findings(installed)["key-matches-cert"]["status"] == "pass"
    assert f"When the CA answers, save its certificate as {CN}.next.crt" in result.out
    # The CA answers; saved as the line says, and under a name of the CA's choosing.
    signed = cli("ca", "sign", f"{CN}.next.csr", "--dir", "ca", "--out", f"{CN}.next.crt",
                 "--fullchain", "sent.pem")  # fmt: skip
    assert signed.code == 0, signed.err
    (tmp_path / "from-the-ca.crt").write_bytes((tmp_path / f"{CN}.next.crt").read_bytes())
    for answer in (f"{CN}.next.crt", "from-the-ca.crt"):
        found = _findings(cli("check", "--cert", answer, "--ca-file", "ca/ca.crt", "--json"))
        assert found["key-matches-cert"]["status"] == "pass", found
        assert f"{CN}.next.key" in found["key-unencrypted"]["message"]
    monkeypatch.setenv("PFX_PASS", "correct horse")
    pfx = cli("bundle", "--cert", "from-the-ca.crt", "--p12", "new.pfx", "--pass", "env:PFX_PASS")
    assert pfx.code == 0, pfx.err
    key, cert, _ = pkcs12.load_key_and_certificates(
        (tmp_path / "new.pfx").read_bytes(), b"correct horse"
    )
    assert key is not None
    assert cert is not None
    assert spki(key.public_key()) == key_spki(tmp_path / f"{CN}.next.key")


def test_a_second_renewal_keeps_the_key_waiting_for_its_ca(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """Renewing again while NAME.next.* wait: exit 2, nothing changed; --force keeps backups."""
    _issued(cli)
    assert cli("renew", f"{CN}.crt", "--subj").code == 0
    before = contents(tmp_path)
    again = cli("renew", f"{CN}.crt", "--subj")
    assert again.code == 2, again.err
    assert f"{CN}.next.key already exists" in again.err
    assert contents(tmp_path) == before
    forced = cli("renew", f"{CN}.crt", "--subj", "--force")
    assert forced.code == 0, forced.err
    [kept] = tmp_path.glob(f"{CN}.next.key.bak-*")
    assert kept.read_bytes() == before[f"{CN}.next.key"]
    for name in (f"{CN}.crt", f"{CN}.key"):
        assert (tmp_path / name).read_bytes() == before[name]


def test_renewing_a_pfx_for_its_ca_names_the_files_it_wrote(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CA-issued .pfx renews as out.next.key/.csr, and never claims a certificate was written."""
    _issued(cli)
    monkeypatch.setenv("PFX_PASS", "correct horse")
    assert cli("bundle", "--cert", f"{CN}.fullchain.pem", "--key", f"{CN}.key", "--p12",
               "out.pfx", "--pass", "env:PFX_PASS").code == 0  # fmt: skip
    result = cli("renew", "out.pfx", "--pass", "env:PFX_PASS", "--subj")
    assert result.code == 0, result.err
    assert "the new certificate is PEM" not in result.err
    assert not (tmp_path / "out.crt").exists()
    assert _names(load_csr(tmp_path / "out.next.csr")) == [CN, "10.0.0.5"]
    assert "out.next.key" in result.out


def _self_signed(folder: Path, names: list[str], *, ca: bool, cert_sign: bool) -> None:
    """old.crt/old.key: self-signed for CN, CA:TRUE or not, keyCertSign or no key usage."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CN)])
    now = datetime.now(timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
    )
    if cert_sign:
        usage = dict.fromkeys(
            ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "encipher_only", "decipher_only"), False
        )  # fmt: skip
        builder = builder.add_extension(
            x509.KeyUsage(key_cert_sign=True, crl_sign=True, **usage), critical=True
        )
    (folder / "old.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (folder / "old.crt").write_bytes(
        builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
    )


def test_renew_says_what_it_changes(cli: Callable[..., Run], tmp_path: Path) -> None:
    """A SAN with a trailing dot and a CA:TRUE self-signed certificate: renewed, each said."""
    _self_signed(tmp_path, [CN, "dotted.mycompany.com."], ca=True, cert_sign=False)
    result = cli("renew", "old.crt", "--subj")
    assert result.code == 0, result.err
    assert "'dotted.mycompany.com.' ends in a dot: the new one names dotted.mycompany.com" in (
        result.err
    )
    assert "old.crt is marked CA:TRUE" in result.err
    new = load_cert(tmp_path / "old.crt")
    assert new.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert _names(new) == [CN, "dotted.mycompany.com"]


def test_a_ca_certificate_is_not_renewed_as_a_server_s(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """A self-signed CA that may sign (keyCertSign): exit 2 pointing to ca init, nothing written."""
    _self_signed(tmp_path, [CN], ca=True, cert_sign=True)
    before = contents(tmp_path)
    for extra in ([], ["--print"], ["--csr"]):
        result = cli("renew", "old.crt", "--subj", *extra)
        assert result.code == 2, result.err
        assert "is a CA certificate (CA:TRUE, keyCertSign)" in result.err
        assert "flow-ssl ca init" in result.err
        assert contents(tmp_path) == before
