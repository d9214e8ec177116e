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
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from tests.helpers import (
    OPENSSL,
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
MADE = ["--cn", CN, "--san", "10.0.0.5", "--org", "My Company", "--key", "ec:P-256", "--subj"]
WRAPPERS = Path(__file__).resolve().parents[2] / "shared" / "openssl" / "bin"
LIBRESSL = WRAPPERS / "openssl-libressl-3.3.6"
UNDER_TEST = (
    subprocess.run([OPENSSL, "version"], capture_output=True, text=True, check=False).stdout
    if OPENSSL
    else ""
)
Attr = tuple[x509.ObjectIdentifier, str]


def _old(
    folder: Path,
    rdns: list[x509.RelativeDistinguishedName],
    name: str = "old",
    more: tuple[x509.GeneralName, ...] = (),
) -> Path:
    """A self-signed certificate with this subject (SAN: CN, and ``more``), its key as NAME.key."""
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
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(CN), *more]), critical=False)
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


# --same-key: the key is read, never written


def test_same_key_with_keyout_is_refused(cli: Callable[..., Run], tmp_path: Path) -> None:
    """--same-key --keyout: exit 2, one line naming --keyout, nothing written."""
    assert cli("selfsigned", *MADE).code == 0
    before = contents(tmp_path)
    result = cli("renew", f"{CN}.crt", "--same-key", "--keyout", "new.key", "--subj")
    assert result.code == 2, result.err
    assert result.err.startswith("flow-ssl: --keyout ")
    assert len(result.err.strip().splitlines()) == 1
    assert contents(tmp_path) == before


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
    before = contents(tmp_path)
    result = cli("renew", f"{CN}.crt", "--same-key", *mode, "--subj", "--out", out, "--force")
    assert result.code == 2, result.err
    assert "never writes it (even with --force)" in result.err
    assert contents(tmp_path) == before
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
    old_key = key_spki(tmp_path / f"{CN}.key")
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
    assert key_spki(tmp_path / "site.key") == old_key
    key_bytes = (tmp_path / "site.key").read_bytes()
    result = cli("renew", "site.pfx", "--pass", "env:PFX_PASS", "--same-key", "--subj")
    assert result.code == 0, result.err
    assert spki(load_cert(tmp_path / "site.crt").public_key()) == old_key
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
    assert spki(new.public_key()) == key_spki(tmp_path / f"{CN}.key")
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


# the old subject, whole

ODD_SUBJECTS = {
    "OU twice": (
        _rdns((NameOID.COUNTRY_NAME, "US"), (NameOID.ORGANIZATION_NAME, "My Company"),
              (NameOID.ORGANIZATIONAL_UNIT_NAME, "Eng"),
              (NameOID.ORGANIZATIONAL_UNIT_NAME, "Ops / Night+Day"),
              (NameOID.COMMON_NAME, CN)),
        "a second OU",
    ),
    "serialNumber": (
        _rdns((NameOID.COMMON_NAME, CN), (NameOID.SERIAL_NUMBER, "5157550")),
        "serialNumber=5157550",
    ),
    "another order": (
        _rdns((NameOID.COMMON_NAME, CN), (NameOID.ORGANIZATION_NAME, "My Company"),
              (NameOID.COUNTRY_NAME, "US")),
        "in this order",
    ),
    "lower-case country": (
        _rdns((NameOID.COUNTRY_NAME, "us"), (NameOID.COMMON_NAME, CN)),
        "would change C='us' to 'US'",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(ODD_SUBJECTS))
def test_a_subject_the_questions_cannot_give_needs_subj(
    cli: Callable[..., Run], tmp_path: Path, case: str
) -> None:
    """Without --subj: exit 2 saying --subj is needed and why; with it: the subject exactly."""
    rdns, why = ODD_SUBJECTS[case]
    old = _old(tmp_path, rdns)
    before = contents(tmp_path)
    refused = cli("renew", "old.crt")
    assert refused.code == 2, refused.err
    assert refused.err.startswith("flow-ssl: --subj is needed to renew old.crt")
    assert why in refused.err
    assert contents(tmp_path) == before
    result = cli("renew", "old.crt", "--subj")
    assert result.code == 0, result.err
    assert load_cert(old).subject.rdns == rdns
    csr = cli("renew", "old.crt", "--csr", "--subj", "--out", "n.csr", "--keyout", "n.key")
    assert csr.code == 0, csr.err
    assert load_csr(tmp_path / "n.csr").subject.rdns == rdns


def test_the_company_ca_carries_an_odd_subject(cli: Callable[..., Run], tmp_path: Path) -> None:
    """--ca-dir --subj: the CA's certificate has the old subject, attribute for attribute."""
    rdns, _ = ODD_SUBJECTS["OU twice"]
    _old(tmp_path, rdns)
    assert cli("ca", "init", "--dir", "ca", "--name", "Edge Root", "--key", "ec:P-256").code == 0
    result = cli("renew", "old.crt", "--ca-dir", "ca", "--subj", "--same-key", "--out", "n.crt")
    assert result.code == 0, result.err
    new = load_cert(tmp_path / "n.crt")
    new.verify_directly_issued_by(load_cert(tmp_path / "ca" / "ca.crt"))
    assert new.subject.rdns == rdns
    assert spki(new.public_key()) == key_spki(tmp_path / "old.key")
    assert "old.key (private key" not in result.out


def test_a_multi_valued_rdn_is_refused(cli: Callable[..., Run], tmp_path: Path) -> None:
    """A multi-valued RDN: exit 2 with or without --subj, nothing written."""
    rdn = x509.RelativeDistinguishedName(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "My Company"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Eng"),
        ]
    )
    _old(tmp_path, [rdn, *_rdns((NameOID.COMMON_NAME, CN))])
    before = contents(tmp_path)
    for subj in ([], ["--subj"]):
        result = cli("renew", "old.crt", *subj)
        assert result.code == 2, result.err
        assert "cannot be given again exactly" in result.err
        assert "a multi-valued RDN" in result.err
        assert contents(tmp_path) == before


def test_a_value_go_does_not_read_is_refused(cli: Callable[..., Run], tmp_path: Path) -> None:
    """A BIT STRING name value (Go refuses the certificate): exit 2 naming it, nothing written."""
    unique = x509.NameAttribute(NameOID.X500_UNIQUE_IDENTIFIER, b"\x00\x01", _ASN1Type.BitString)
    _old(tmp_path, [x509.RelativeDistinguishedName([unique]), *_rdns((NameOID.COMMON_NAME, CN))])
    before = contents(tmp_path)
    for subj in ([], ["--subj"]):
        result = cli("renew", "old.crt", *subj)
        assert result.code == 2, result.err
        assert "a name holds a BIT STRING at byte" in result.err
        assert contents(tmp_path) == before


EV = _rdns(
    (NameOID.JURISDICTION_COUNTRY_NAME, "US"), (NameOID.BUSINESS_CATEGORY, "Private Organization"),
    (NameOID.SERIAL_NUMBER, "5157550"), (NameOID.ORGANIZATION_IDENTIFIER, "NTRUS-5157550"),
    (NameOID.COUNTRY_NAME, "US"), (NameOID.ORGANIZATION_NAME, "My Company"),
    (NameOID.COMMON_NAME, CN),
)  # fmt: skip


@pytest.mark.skipif(not UNDER_TEST.startswith("OpenSSL"), reason="EV names need OpenSSL")
def test_an_ev_subject_renews_exactly_on_openssl(cli: Callable[..., Run], tmp_path: Path) -> None:
    """jurisdictionC and organizationIdentifier: carried exactly by OpenSSL's -subj."""
    old = _old(tmp_path, EV)
    result = cli("renew", "old.crt", "--subj")
    assert result.code == 0, result.err
    assert load_cert(old).subject.rdns == EV


@pytest.mark.skipif(not LIBRESSL.exists(), reason="no ../shared/openssl LibreSSL wrapper")
def test_an_ev_subject_is_refused_up_front_on_libressl(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LibreSSL skips EV names in -subj: exit 3 naming the missing feature, nothing written."""
    _old(tmp_path, EV)
    monkeypatch.setenv("FLOW_SSL_OPENSSL", str(LIBRESSL))
    before = contents(tmp_path)
    for extra in ([], ["--print"]):
        result = cli("renew", "old.crt", "--subj", *extra)
        assert result.code == 3, result.err
        assert "LibreSSL 3.3.6" in result.err
        assert "jurisdictionC/ST/L and organizationIdentifier" in result.err
        assert contents(tmp_path) == before


def test_printed_exact_subject_runs_as_printed(cli: Callable[..., Run], tmp_path: Path) -> None:
    """--print --subj of an odd subject: quoted so sh makes the very same subject."""
    rdns = _rdns(
        (NameOID.ORGANIZATION_NAME, 'O\'Brien & "Sons" $HOME `id` Müller'),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "a\\b / c+d"),
        (NameOID.COMMON_NAME, CN),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "x=y, z; #1"),
    )
    _old(tmp_path, rdns)
    before = listing(tmp_path)
    printed = cli("renew", "old.crt", "--subj", "--print", "--out", "p.crt", "--keyout", "p.key")
    assert printed.code == 0, printed.err
    assert listing(tmp_path) == before
    run_sh(printed.out, tmp_path)
    assert load_cert(tmp_path / "p.crt").subject.rdns == rdns


def test_a_cn_that_is_no_host_name_is_replaced_and_said(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """CN 'Flow Server': the new CN is the first SAN name, with a warning; the rest is kept."""
    old = _old(tmp_path, _rdns((NameOID.ORGANIZATION_NAME, "My Company"),
                               (NameOID.COMMON_NAME, "Flow Server")))  # fmt: skip
    result = cli("renew", "old.crt")
    assert result.code == 0, result.err
    assert f"its CN 'Flow Server' is not a host name: the new CN is {CN}" in result.err
    assert load_cert(old).subject.rdns == _rdns(
        (NameOID.ORGANIZATION_NAME, "My Company"), (NameOID.COMMON_NAME, CN)
    )


@pytest.mark.parametrize(
    "more",
    [
        x509.UniformResourceIdentifier("spiffe://mycompany.com/flow"),
        x509.RFC822Name("ops@mycompany.com"),
    ],
    ids=["uri", "email"],
)
def test_a_san_flow_ssl_cannot_write_is_refused_not_dropped(
    cli: Callable[..., Run], tmp_path: Path, more: x509.GeneralName
) -> None:
    """A URI or e-mail SAN: renew says so (exit 2) and writes nothing, rather than lose it."""
    _old(tmp_path, _rdns((NameOID.COMMON_NAME, CN)), more=(more,))
    before = contents(tmp_path)
    result = cli("renew", "old.crt", "--subj")
    assert result.code == 2, result.err
    assert str(more.value) in result.err
    assert "drops no name" in result.err
    assert contents(tmp_path) == before


@pytest.mark.parametrize(
    ("attribute", "words"),
    [((NameOID.ORGANIZATION_NAME, "O" * 70), "is 70 characters; openssl takes 1 to 64 for O"),
     ((NameOID.COUNTRY_NAME, "USA"), "is 3 characters; openssl takes 2 for C"),
     ((NameOID.SERIAL_NUMBER, "ABC_123@x"), "openssl takes only A-Z, a-z, 0-9")],
    ids=["long-o", "three-letter-c", "serial-not-printable"],
)  # fmt: skip
@pytest.mark.filterwarnings("ignore:Attribute's length:UserWarning")
def test_a_value_openssl_would_refuse_is_refused_before_anything_runs(
    cli: Callable[..., Run], tmp_path: Path, attribute: Attr, words: str
) -> None:
    """A value -subj cannot take: exit 2 naming it, with and without --subj, run or --print."""
    # As other tools write them: no length check, UTF8String (which can hold any letter).
    odd = x509.NameAttribute(*attribute, _type=_ASN1Type.UTF8String, _validate=False)
    cert = _old(
        tmp_path, [x509.RelativeDistinguishedName([odd]), *_rdns((NameOID.COMMON_NAME, CN))]
    )
    before = contents(tmp_path)
    for args in ([], ["--subj"], ["--subj", "--print"]):
        result = cli("renew", cert.name, *args)
        assert result.code == 2, (args, result.err)
        assert "cannot be given again exactly" in result.err
        assert words in result.err
        assert "--subj is needed" not in result.err
        assert contents(tmp_path) == before


def test_an_old_name_flow_ssl_refuses_is_named_as_the_certificate_s(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """An old SAN entry no host name (foo_bar): exit 2 about old.crt's SAN, not a --san option."""
    _old(tmp_path, _rdns((NameOID.COMMON_NAME, CN)), more=(x509.DNSName("foo_bar.example.com"),))
    before = contents(tmp_path)
    result = cli("renew", "old.crt")
    assert result.code == 2, result.err
    assert result.err.startswith("flow-ssl: old.crt: its SAN cannot be carried over: 'foo_bar")
    assert "--san" not in result.err
    assert contents(tmp_path) == before


def test_a_carried_value_powershell_cannot_pass_is_named_by_its_subject(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """A '"' in a carried O: PowerShell's refusal names the carried subject, not the CN."""
    _old(tmp_path, _rdns((NameOID.COMMON_NAME, CN), (NameOID.ORGANIZATION_NAME, 'Acme "Q" Inc')))
    result = cli("renew", "old.crt", "--subj", "--print", "--shell", "powershell")
    assert result.code == 2, result.err
    assert result.err.startswith("flow-ssl: --subj: '/CN=flow.mycompany.com/O=Acme \"Q\" Inc'")
    assert "--cn" not in result.err


def test_a_value_that_does_not_decode_is_refused_not_replaced(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """An O holding a lone UTF-16 surrogate (BMPString D800): exit 2 everywhere, never U+FFFD."""
    odd = x509.NameAttribute(NameOID.ORGANIZATION_NAME, "x", _type=_ASN1Type.BMPString)
    cert = _old(
        tmp_path, [x509.RelativeDistinguishedName([odd]), *_rdns((NameOID.COMMON_NAME, CN))]
    )
    data = cert.read_bytes()
    der = x509.load_pem_x509_certificate(data).public_bytes(serialization.Encoding.DER)
    assert der.count(b"\x1e\x02\x00x") == 2  # issuer and subject: each made a lone surrogate
    patched = der.replace(b"\x1e\x02\x00x", b"\x1e\x02\xd8\x00")
    (tmp_path / "old.der").write_bytes(patched)
    before = contents(tmp_path)
    result = cli("renew", "old.der", "--key", "old.key", "--subj")
    assert result.code == 2, result.err
    assert "\ufffd" not in result.out + result.err
    assert contents(tmp_path) == before
