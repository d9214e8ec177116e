"""selfsigned end to end with the real openssl, checked with cryptography and real TLS."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.golang import go_client_fixture  # noqa: F401 - a fixture
from tests.helpers import VENDOR_SUBJECT, Run, load_cert, openssl, requires_openssl, run_sh
from tests.tls import go_handshake, handshake, s_server

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

pytestmark = requires_openssl


def test_vendor_example_by_prompts(cli: Callable[..., Run], tmp_path: Path) -> None:
    """The issue's example answers openssl's prompts and makes the asked-for certificate."""
    result = cli("selfsigned", "--cn", "flow.mycompany.com", *VENDOR_SUBJECT)
    assert result.code == 0, result.err
    cert = load_cert(tmp_path / "flow.mycompany.com.crt")
    assert [(a.oid, a.value) for a in cert.subject] == [
        (NameOID.COUNTRY_NAME, "US"),
        (NameOID.STATE_OR_PROVINCE_NAME, "Colorado"),
        (NameOID.LOCALITY_NAME, "Denver"),
        (NameOID.ORGANIZATION_NAME, "My Company"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "Software Engineering"),
        (NameOID.COMMON_NAME, "flow.mycompany.com"),
        (NameOID.EMAIL_ADDRESS, "admin@mycompany.com"),
    ]
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["flow.mycompany.com"]
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca is False
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    assert usage.value.key_encipherment
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=365)
    key = tmp_path / "flow.mycompany.com.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "flow.mycompany.com.crt",
        "flow.mycompany.com.key",
    ]


def test_blank_fields_do_not_take_openssl_defaults(cli: Callable[..., Run], tmp_path: Path) -> None:
    """With only --cn, the stock defaults (AU, Some-State, Internet Widgits) stay out."""
    assert cli("selfsigned", "--cn", "flow.mycompany.com", "--key", "ec:P-256").code == 0
    cert = load_cert(tmp_path / "flow.mycompany.com.crt")
    assert cert.subject.rfc4514_string() == "CN=flow.mycompany.com"


@pytest.mark.parametrize(
    ("key", "kind", "size"),
    [
        ("rsa:2048", rsa.RSAPublicKey, 2048),
        ("rsa:3072", rsa.RSAPublicKey, 3072),
        pytest.param("rsa:4096", rsa.RSAPublicKey, 4096, marks=pytest.mark.slow),
        ("ec:P-256", ec.EllipticCurvePublicKey, 256),
        ("ec:P-384", ec.EllipticCurvePublicKey, 384),
    ],
)
def test_key_types_and_days(
    cli: Callable[..., Run], tmp_path: Path, key: str, kind: type, size: int
) -> None:
    """Each offered key type is made as asked, valid exactly --days."""
    result = cli("selfsigned", "--cn", "k.example.com", "--key", key, "--days", "30", "--subj")
    assert result.code == 0, result.err
    cert = load_cert(tmp_path / "k.example.com.crt")
    public = cert.public_key()
    assert isinstance(public, kind)
    assert isinstance(public, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey))
    assert public.key_size == size
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=30)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_encipherment is (kind is rsa.RSAPublicKey)


TRICKY = {
    "--org": ' Acme, "Inc" & Sons #1 ',
    "--ou": "R/D+x=y\\z $HOME `id` 'q'",
    "--locality": "Zürich",
    "--state": "東京都",
}


def _tricky_args() -> list[str]:
    return [item for flag, value in TRICKY.items() for item in (flag, value)]


def test_prompts_and_subj_give_byte_identical_subjects(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """The same request by prompts and by -subj stores the same subject DER, as asked."""
    common = ["--cn", "flow.mycompany.com", "--country", "DE", *_tricky_args(), "--key", "ec:P-256"]
    assert cli("selfsigned", *common, "--out", "p.crt", "--keyout", "p.key").code == 0
    assert cli("selfsigned", *common, "--subj", "--out", "s.crt", "--keyout", "s.key").code == 0
    by_prompt = load_cert(tmp_path / "p.crt").subject
    by_subj = load_cert(tmp_path / "s.crt").subject
    assert by_prompt.public_bytes() == by_subj.public_bytes()
    values = {a.oid: a.value for a in by_prompt}
    assert values[NameOID.ORGANIZATION_NAME] == TRICKY["--org"]
    assert values[NameOID.ORGANIZATIONAL_UNIT_NAME] == TRICKY["--ou"]
    assert values[NameOID.LOCALITY_NAME] == "Zürich"
    assert values[NameOID.STATE_OR_PROVINCE_NAME] == "東京都"


def _openssl_3_or_later() -> bool:
    """Whether the openssl under test is OpenSSL 3+ (it needs no config of flow-ssl's)."""
    version = openssl("version").decode().split()
    return version[0] == "OpenSSL" and int(version[1].split(".")[0]) >= 3


def test_printed_subj_line_pastes_into_sh(cli: Callable[..., Run], tmp_path: Path) -> None:
    """The --print line (the whole script on 1.1.1 and LibreSSL), run by sh, makes the subject."""
    printed = cli(
        "selfsigned", "--cn", "flow.mycompany.com", *_tricky_args(), "--subj", "--print",
        "--key", "ec:P-256", "--out", "pasted.crt", "--keyout", "pasted.key",
    )  # fmt: skip
    assert printed.code == 0, printed.err
    script = printed.out
    if _openssl_3_or_later():
        pasted = "MSYS_NO_PATHCONV=1 openssl req -x509"
        [script] = [line for line in script.splitlines() if line.startswith(pasted)]
    else:
        assert '-config "$work"/request.cnf' in script
    assert not (tmp_path / "pasted.crt").exists()
    run_sh(script, tmp_path)
    values = {a.oid: a.value for a in load_cert(tmp_path / "pasted.crt").subject}
    assert values[NameOID.ORGANIZATION_NAME] == TRICKY["--org"]
    assert values[NameOID.ORGANIZATIONAL_UNIT_NAME] == TRICKY["--ou"]
    assert values[NameOID.STATE_OR_PROVINCE_NAME] == "東京都"


def test_json_reports_command_files_and_result(cli: Callable[..., Run], tmp_path: Path) -> None:
    """--json prints the command, the files and the read-back result."""
    result = cli("selfsigned", "--cn", "j.example.com", "--key", "ec:P-256", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["argv"][:3] == ["openssl", "req", "-x509"]
    assert data["files"] == {"key": "j.example.com.key", "certificate": "j.example.com.crt"}
    cert = load_cert(tmp_path / "j.example.com.crt")
    assert int(data["result"]["serial"], 16) == cert.serial_number
    assert all(f["status"] == "pass" for f in data["findings"])


def _names_accepted(cert: Path, key: Path, names: list[str]) -> dict[str, str | None]:
    with s_server(cert, key) as port:
        return {name: handshake(port, name, cafile=cert) for name in names}


@pytest.mark.parametrize("key", ["ec:P-256", "rsa:2048"])
def test_tls_clients_accept_each_name_and_refuse_others(
    cli: Callable[..., Run], tmp_path: Path, go_client: Path, key: str
) -> None:
    """Python's ssl and Go's crypto/tls, trusting the certificate, accept every SAN name only."""
    result = cli(
        "selfsigned", "--cn", "localhost", "--san", "flow-analytics.mycompany.com",
        "--san", "127.0.0.1", "--key", key,
    )  # fmt: skip
    assert result.code == 0, result.err
    cert = tmp_path / "localhost.crt"
    names = ["localhost", "flow-analytics.mycompany.com", "127.0.0.1"]
    outcome = _names_accepted(cert, tmp_path / "localhost.key", [*names, "other.mycompany.com"])
    assert [outcome[name] for name in names] == [None] * len(names)
    assert outcome["other.mycompany.com"] is not None
    with s_server(cert, tmp_path / "localhost.key") as port:
        for name in names:
            assert go_handshake(go_client, port, name, cert) is None, name
        assert go_handshake(go_client, port, "other.mycompany.com", cert) is not None


def test_wildcard_covers_exactly_one_label(cli: Callable[..., Run], tmp_path: Path) -> None:
    """*.mycompany.com covers flow.mycompany.com, not the apex or two labels."""
    assert cli("selfsigned", "--cn", "*.mycompany.com", "--key", "ec:P-256").code == 0
    outcome = _names_accepted(
        tmp_path / "wildcard.mycompany.com.crt",
        tmp_path / "wildcard.mycompany.com.key",
        ["flow.mycompany.com", "mycompany.com", "a.b.mycompany.com"],
    )
    assert outcome["flow.mycompany.com"] is None
    assert outcome["mycompany.com"] is not None
    assert outcome["a.b.mycompany.com"] is not None


def test_literal_makes_cn_only_certificate_and_warns(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """--literal runs the vendor command: no SAN, and a warning saying who rejects that."""
    result = cli("selfsigned", "--cn", "flow.mycompany.com", "--literal", "--key", "ec:P-256")
    assert result.code == 0, result.err
    assert "Chrome" in result.err
    assert "Go" in result.err
    cert = load_cert(tmp_path / "flow.mycompany.com.crt")
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_force_replaces_and_fixes_key_mode(cli: Callable[..., Run], tmp_path: Path) -> None:
    """--force replaces existing files, and a 0644 key is replaced by a 0600 one."""
    key = tmp_path / "flow.mycompany.com.key"
    key.write_text("old")
    key.chmod(0o644)
    (tmp_path / "flow.mycompany.com.crt").write_text("old")
    assert cli("selfsigned", "--cn", "flow.mycompany.com", "--key", "ec:P-256", "--force").code == 0
    assert key.stat().st_mode & 0o777 == 0o600
    assert "PRIVATE KEY" in key.read_text()
    load_cert(tmp_path / "flow.mycompany.com.crt")
