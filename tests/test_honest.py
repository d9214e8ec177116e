"""Honest findings, safe terminals, unechoed secrets: what a careless reader would be told."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.helpers import listing, requires_openssl
from tests.pki import NOW, Issued, make_ca, make_leaf, write
from tests.tls import s_server

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.helpers import Run

pytestmark = requires_openssl
HOST = "flow.mycompany.com"
# Clear the screen, home the cursor, and print a fake "all good" line over the real one.
HOSTILE = "Acme\x1b[2J\x1b[H  ok    chain-verifies  fine\r\u202eevil"


@pytest.fixture(scope="module")
def pki() -> tuple[Issued, Issued]:
    """A private root and an issuing CA under it."""
    root = make_ca("Honest Root CA")
    return root, make_ca("Honest Issuing CA", root)


def _statuses(result: Run) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in json.loads(result.out)["findings"]:
        found.setdefault(item["check"], []).append(item["status"])
    return found


def _messages(result: Run) -> dict[str, str]:
    return {f["check"]: f["message"] for f in json.loads(result.out)["findings"]}


def test_a_private_chain_is_never_called_trusted_without_its_root(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """A company-CA chain checked against the system's roots warns; with --ca-file it passes."""
    root, issuing = pki
    leaf = make_leaf(issuing, [HOST])
    cert = write(tmp_path, "full.pem", leaf.pem(), issuing.pem())
    write(tmp_path, "root.pem", root.pem())
    untrusted = cli("check", "--cert", str(cert), "--host", HOST, "--json")
    assert untrusted.code == 0
    assert _statuses(untrusted)["chain-verifies"] == ["warn"]
    assert "ca trust" in _messages(untrusted)["chain-verifies"]
    assert _statuses(untrusted)["chain-complete"] == ["pass"]
    human = cli("check", "--cert", str(cert), "--host", HOST)
    assert "clients refuse it until they trust its root" in human.out
    trusted = cli("check", "--cert", str(cert), "--host", HOST, "--ca-file", "root.pem", "--json")
    assert _statuses(trusted)["chain-verifies"] == ["pass"]


def test_check_without_host_says_the_names_were_not_checked(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """No --host: a hostname warning says so, instead of silence that reads as a pass."""
    root, issuing = pki
    cert = write(tmp_path, "full.pem", make_leaf(issuing, [HOST]).pem(), issuing.pem())
    write(tmp_path, "root.pem", root.pem())
    result = cli("check", "--cert", str(cert), "--ca-file", "root.pem", "--json")
    assert _statuses(result)["hostname"] == ["warn"]
    assert "not checked" in _messages(result)["hostname"]


def test_the_leaf_sent_twice_is_named(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """leaf, leaf, intermediate: chain-order fails saying the leaf is there twice."""
    root, issuing = pki
    leaf = make_leaf(issuing, [HOST])
    cert = write(tmp_path, "twice.pem", leaf.pem(), leaf.pem(), issuing.pem())
    write(tmp_path, "root.pem", root.pem())
    result = cli("check", "--cert", str(cert), "--ca-file", "root.pem", "--host", HOST, "--json")
    assert result.code == 1
    assert _statuses(result)["chain-order"] == ["fail"]
    assert "certificate 2 is the leaf again" in _messages(result)["chain-order"]


def test_chain_order_counts_the_chain_file(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """--chain whose first certificate did not issue the leaf: chain-order fails."""
    root, issuing = pki
    leaf = make_leaf(issuing, [HOST])
    write(tmp_path, "leaf.pem", leaf.pem())
    write(tmp_path, "chain.pem", root.pem(), issuing.pem())
    write(tmp_path, "root.pem", root.pem())
    result = cli("check", "--cert", "leaf.pem", "--chain", "chain.pem", "--ca-file", "root.pem",
                 "--host", HOST, "--json")  # fmt: skip
    assert _statuses(result)["chain-order"] == ["fail"]


def test_bundle_leaves_the_root_out_without_warning(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """The root is left out on purpose: no 'left out' warning for it, only for strangers."""
    root, issuing = pki
    stranger = make_ca("Stranger CA")
    write(tmp_path, "leaf.pem", make_leaf(issuing, [HOST]).pem())
    write(tmp_path, "chain.pem", root.pem(), issuing.pem(), stranger.pem())
    result = cli("bundle", "--cert", "leaf.pem", "--chain", "chain.pem", "--out", "full.pem")
    assert result.code == 0
    warnings = [line for line in result.err.splitlines() if "left out" in line]
    assert len(warnings) == 1
    assert "Stranger CA" in warnings[0]


def test_probe_advice_is_about_the_server(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """A server that forgets its intermediate is told to send the full chain, not to use --chain."""
    root, issuing = pki
    leaf = make_leaf(issuing, ["localhost"], cn="localhost")
    write(tmp_path, "leaf.pem", leaf.pem())
    write(tmp_path, "leaf.key", leaf.key_pem())
    write(tmp_path, "root.pem", root.pem())
    with s_server(tmp_path / "leaf.pem", tmp_path / "leaf.key") as port:
        result = cli("probe", f"localhost:{port}", "--connect", f"127.0.0.1:{port}",
                     "--ca-file", "root.pem", "--json")  # fmt: skip
    assert result.code == 1
    message = _messages(result)["chain-complete"]
    assert "server" in message
    assert "--chain" not in message


def _hostile_leaf(issuer: Issued) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, HOSTILE),
        x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
    ])  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(hours=1))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(issuer.key, hashes.SHA256())
    )
    return Issued(cert, key)


def _assert_terminal_safe(text: str) -> None:
    assert "\x1b" not in text
    assert "\r" not in text
    assert "\u202e" not in text


def test_escape_sequences_in_a_certificate_never_reach_the_terminal(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """inspect and check show a hostile subject escaped; --json carries it exactly."""
    root, issuing = pki
    hostile = write(tmp_path, "hostile.pem", _hostile_leaf(issuing).pem(), issuing.pem())
    write(tmp_path, "root.pem", root.pem())
    shown = cli("inspect", str(hostile))
    assert shown.code == 0, shown.err
    _assert_terminal_safe(shown.out + shown.err)
    assert "\\x1b[2J" in shown.out
    exact = json.loads(cli("inspect", str(hostile), "--json").out)
    assert exact[0]["subject"][0]["value"] == HOSTILE
    checked = cli("check", "--cert", str(hostile), "--ca-file", "root.pem")
    _assert_terminal_safe(checked.out + checked.err)


def test_a_hostile_server_cannot_write_to_the_terminal(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """probe of a server sending escape sequences in its certificate prints them escaped."""
    _, issuing = pki
    leaf = _hostile_leaf(issuing)
    write(tmp_path, "leaf.pem", leaf.pem(), issuing.pem())
    write(tmp_path, "leaf.key", leaf.key_pem())
    with s_server(tmp_path / "leaf.pem", tmp_path / "leaf.key", tmp_path / "leaf.pem") as port:
        result = cli("probe", f"localhost:{port}", "--connect", f"127.0.0.1:{port}")
    _assert_terminal_safe(result.out + result.err)
    assert "Acme\\x1b[2J" in result.out


@pytest.mark.parametrize("secret", ["hunter2", "pass:hunter2", "stdin:hunter2"])
def test_a_literal_passphrase_is_refused_and_never_echoed(
    cli: Callable[..., Run], tmp_path: Path, secret: str
) -> None:
    """--ca-pass with a passphrase: exit 2 naming --ca-pass, the secret nowhere in the output."""
    assert cli("ca", "init", "--dir", "root", "--name", "Root", "--key", "ec:P-256").code == 0
    before = listing(tmp_path)
    result = cli("ca", "issue", "--dir", "root", "--cn", HOST, "--subj", "--ca-pass", secret)
    assert result.code == 2
    assert "--ca-pass" in result.err
    assert "hunter2" not in result.err + result.out
    assert listing(tmp_path) == before


def test_a_manifests_literal_passphrase_is_never_echoed(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """ca_pass = "pass:..." in a manifest: exit 2 naming ca_pass, the secret not repeated."""
    assert cli("ca", "init", "--dir", "root", "--name", "Root", "--key", "ec:P-256").code == 0
    (tmp_path / "hosts.toml").write_text(
        f'[[cert]]\ncn = "{HOST}"\nmode = "ca"\nca_dir = "root"\nca_pass = "pass:hunter2"\n'
    )
    result = cli("batch", "hosts.toml", "--json")
    assert result.code == 2
    assert "ca_pass" in result.err
    assert "hunter2" not in result.err + result.out


@pytest.mark.parametrize("name", ["fe80::1%eth0", "[fe80::1%25eth0]", " flow.example.com"])
def test_names_openssl_would_refuse_are_bad_input(cli: Callable[..., Run], name: str) -> None:
    """An IPv6 zone or a name with blanks is exit 2 before openssl runs, not exit 3 after."""
    result = cli("selfsigned", "--cn", "a.example.com", "--san", name, "--subj")
    assert result.code == 2, result.err
    assert "--san" in result.err


def _variant(issuer: Issued, **change: object) -> Issued:
    """A server leaf for HOST with one thing changed: key, CA flag, key usage or EKU."""
    from cryptography.x509.oid import ExtendedKeyUsageOID

    key = change.get("key") or ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(hours=1))
        .not_valid_after(NOW + timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(
            x509.BasicConstraints(ca=bool(change.get("ca")), path_length=None), critical=True
        )
    )
    if "key_usage" in change:
        builder = builder.add_extension(change["key_usage"], critical=True)  # type: ignore[arg-type]
    if not change.get("no_eku"):
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    return Issued(builder.sign(issuer.key, hashes.SHA256()), key)  # type: ignore[arg-type]


def _usage(**wanted: bool) -> x509.KeyUsage:
    names = ["digital_signature", "content_commitment", "key_encipherment",
             "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign",
             "encipher_only", "decipher_only"]  # fmt: skip
    return x509.KeyUsage(**{name: wanted.get(name, False) for name in names})


@pytest.mark.parametrize(
    ("change", "check_id", "status"),
    [
        ({"key": ec.generate_private_key(ec.SECP256K1())}, "key-strength", "fail"),
        ({"key": ec.generate_private_key(ec.SECP521R1())}, "key-strength", "warn"),
        ({"ca": True}, "server-auth-eku", "fail"),
        ({"key_usage": _usage(key_encipherment=True)}, "server-auth-eku", "fail"),
        ({"no_eku": True}, "server-auth-eku", "warn"),
    ],
)
def test_what_clients_refuse_is_never_ready(
    cli: Callable[..., Run],
    tmp_path: Path,
    pki: tuple[Issued, Issued],
    change: dict[str, object],
    check_id: str,
    status: str,
) -> None:
    """secp256k1, a CA as leaf, an unusable keyUsage fail; P-521 and no EKU warn, and say so."""
    root, issuing = pki
    leaf = _variant(issuing, **change)
    cert = write(tmp_path, "full.pem", leaf.pem(), issuing.pem())
    write(tmp_path, "root.pem", root.pem())
    args = ["check", "--cert", str(cert), "--ca-file", "root.pem", "--host", HOST]
    result = cli(*args, "--json")
    assert _statuses(result)[check_id] == [status]
    assert result.code == (1 if status == "fail" else 0)
    human = cli(*args).out.strip().splitlines()[-1]
    assert human != "Ready to install."
    assert ("NOT ready" in human) == (status == "fail")


def test_an_ed25519_server_key_is_not_ready(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """Browsers take no Ed25519 server certificate: key-strength fails."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    root, issuing = pki
    leaf = _variant(issuing, key=ed25519.Ed25519PrivateKey.generate())
    cert = write(tmp_path, "full.pem", leaf.pem(), issuing.pem())
    write(tmp_path, "root.pem", root.pem())
    result = cli("check", "--cert", str(cert), "--ca-file", "root.pem", "--host", HOST, "--json")
    assert _statuses(result)["key-strength"] == ["fail"]
    assert result.code == 1


def test_json_carries_hostile_values_exactly_but_inertly(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """--json escapes bidi overrides and C1 controls as \\u: the same value once parsed."""
    _, issuing = pki
    hostile = write(tmp_path, "hostile.pem", _hostile_leaf(issuing).pem())
    result = cli("inspect", str(hostile), "--json")
    _assert_terminal_safe(result.out)
    assert "\\u202e" in result.out
    assert json.loads(result.out)[0]["subject"][0]["value"] == HOSTILE


def test_a_complete_chain_failing_for_another_reason_is_not_called_incomplete(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """A leaf the root issued, for clientAuth only: chain-complete passes, chain-verifies fails."""
    from cryptography.x509.oid import ExtendedKeyUsageOID

    root, _ = pki
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
        .issuer_name(root.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(hours=1))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(root.key, hashes.SHA256())
    )
    write(tmp_path, "leaf.pem", Issued(cert, key).pem())
    write(tmp_path, "root.pem", root.pem())
    result = cli("check", "--cert", "leaf.pem", "--ca-file", "root.pem", "--host", HOST, "--json")
    assert _statuses(result)["chain-complete"] == ["pass"]
    assert _statuses(result)["chain-verifies"] == ["fail"]
    assert "--chain" not in _messages(result)["chain-complete"]
