"""
One verdict for every chain, on every openssl build.

What trusting the root cannot cure (an unknown critical extension, a name LibreSSL
refuses, a forged signature) fails with the root and without it; what it can cure (an
expired copy of the root sent along) only warns. Each set is checked with the openssl
under test and with every other build, and must give the same findings, JSON and exit
code (``make test-matrix`` runs the rest of the suite once per build; here the builds
are compared side by side).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID, ObjectIdentifier

from tests.helpers import each_build, needs_builds, requires_openssl
from tests.pki import NOW, Issued, make_ca, make_leaf, write

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.helpers import Run

pytestmark = [requires_openssl, needs_builds]
HOST = "flow.mycompany.com"
UNKNOWN = x509.UnrecognizedExtension(ObjectIdentifier("1.2.3.4.5"), b"\x05\x00")


@dataclass
class Pki:
    """A root (and an expired copy of it: same name and key), an issuing CA under it."""

    root: Issued
    expired_root: Issued
    issuing: Issued
    folder: Path
    files: dict[str, list[bytes]] = field(default_factory=dict)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    """The root (root.pem), its expired copy, and an issuing CA, in the test's folder."""
    key = ec.generate_private_key(ec.SECP384R1())
    root = make_ca("Verdict Root", key=key)
    expired = make_ca(
        "Verdict Root",
        key=key,
        starts=datetime(2020, 1, 1, tzinfo=timezone.utc),
        ends=datetime(2021, 1, 1, tzinfo=timezone.utc),
    )
    write(tmp_path, "root.pem", root.pem())
    return Pki(root, expired, make_ca("Verdict Issuing CA", root), tmp_path)


def _verdicts(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, *args: str
) -> dict[str, tuple[int, str]]:
    """``check ARGS --json`` with every build: its exit code and JSON, by build."""

    def run() -> tuple[int, str]:
        result = cli("check", *args, "--host", HOST, "--json")
        return result.code, result.out

    return each_build(monkeypatch, run)


def _one_verdict(seen: dict[str, tuple[int, str]]) -> tuple[int, dict[str, dict[str, str]]]:
    """The exit code and findings every build gave (they must all give the same)."""
    (code, out), *_ = seen.values()
    assert {build: given == (code, out) for build, given in seen.items()} == dict.fromkeys(
        seen, True
    ), seen
    return code, {f["check"]: f for f in json.loads(out)["findings"]}


OCSP = x509.AccessDescription(
    AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier("http://ocsp.example.com")
)
CRL = x509.DistributionPoint(
    [x509.UniformResourceIdentifier("http://crl.example.com/ca.crl")], None, None, None
)
Extensions = list[tuple[x509.ExtensionType, bool]]
# Each case: (leaf extensions, the intermediate's, words chain-verifies must say).
UNCURABLE: dict[str, tuple[Extensions, Extensions, str]] = {
    "unknown-in-leaf": ([(UNKNOWN, True)], [], "critical extension 1.2.3.4.5"),
    "unknown-in-intermediate": ([], [(UNKNOWN, True)], "critical extension 1.2.3.4.5"),
    # Go takes these two critical; OpenSSL and LibreSSL refuse them.
    "critical-subject-key-id": (
        [(x509.SubjectKeyIdentifier(b"\x01" * 20), True)],
        [],
        "critical subjectKeyIdentifier",
    ),
    "critical-authority-info-access": (
        [(x509.AuthorityInformationAccess([OCSP]), True)],
        [],
        "critical authorityInfoAccess",
    ),
    # OpenSSL and Go take it critical; LibreSSL refuses it.
    "critical-crl-distribution-points": (
        [(x509.CRLDistributionPoints([CRL]), True)],
        [],
        "critical crlDistributionPoints",
    ),
    # Every openssl takes it critical; Go (the admin console's) refuses it.
    "critical-policy-constraints": (
        [],
        [(x509.PolicyConstraints(require_explicit_policy=None, inhibit_policy_mapping=0), True)],
        "critical policyConstraints",
    ),
}
POLICIES = x509.CertificatePolicies(
    [x509.PolicyInformation(ObjectIdentifier("2.23.140.1.2.1"), None)]
)


@pytest.mark.parametrize("case", sorted(UNCURABLE))
@pytest.mark.parametrize("trusted", [False, True], ids=["no-root", "ca-file"])
def test_what_trust_cannot_cure_fails_without_the_root_too(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, pki: Pki, case: str, trusted: bool
) -> None:
    """A critical extension some client refuses: not ready, root given or not, on every build."""
    leaf_extensions, issuing_extensions, words = UNCURABLE[case]
    issuing = (
        make_ca("Verdict Issuing CA", pki.root, extensions=issuing_extensions)
        if issuing_extensions
        else pki.issuing
    )
    leaf = make_leaf(issuing, [HOST], cn=HOST, extensions=leaf_extensions)
    write(pki.folder, "full.pem", leaf.pem(), issuing.pem())
    code, found = _one_verdict(
        _verdicts(cli, monkeypatch, "--cert", "full.pem", *(["--ca-file", "root.pem"] * trusted))
    )
    assert code == 1
    assert found["chain-verifies"]["status"] == "fail"
    assert words in found["chain-verifies"]["message"]
    assert "whatever roots they trust" in found["chain-verifies"]["message"]


def test_a_critical_extension_every_client_handles_is_ready(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, pki: Pki
) -> None:
    """Critical certificatePolicies (handled by every openssl and Go): ready on every build."""
    leaf = make_leaf(pki.issuing, [HOST], cn=HOST, extensions=[(POLICIES, True)])
    write(pki.folder, "full.pem", leaf.pem(), pki.issuing.pem())
    code, found = _one_verdict(
        _verdicts(cli, monkeypatch, "--cert", "full.pem", "--ca-file", "root.pem")
    )
    assert code == 0
    assert found["chain-verifies"]["status"] == "pass"


@pytest.mark.parametrize("trusted", [False, True], ids=["no-root", "ca-file"])
def test_an_expired_copy_of_the_root_sent_along_is_one_verdict(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, pki: Pki, trusted: bool
) -> None:
    """An expired copy of the root sent along: a warning without the root, a pass with it."""
    leaf = make_leaf(pki.issuing, [HOST], cn=HOST)
    write(pki.folder, "full.pem", leaf.pem(), pki.issuing.pem(), pki.expired_root.pem())
    code, found = _one_verdict(
        _verdicts(cli, monkeypatch, "--cert", "full.pem", *(["--ca-file", "root.pem"] * trusted))
    )
    assert code == 0
    assert found["chain-verifies"]["status"] == ("pass" if trusted else "warn")


def test_an_uncurable_leaf_with_an_expired_root_sent_fails_on_every_build(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, pki: Pki
) -> None:
    """An unknown critical extension, and the expired root sent along: not ready everywhere."""
    leaf = make_leaf(pki.issuing, [HOST], cn=HOST, extensions=[(UNKNOWN, True)])
    write(pki.folder, "full.pem", leaf.pem(), pki.issuing.pem(), pki.expired_root.pem())
    code, found = _one_verdict(_verdicts(cli, monkeypatch, "--cert", "full.pem"))
    assert code == 1
    assert "critical extension 1.2.3.4.5" in found["chain-verifies"]["message"]


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("f*.example.com", "f*.example.com"),
        ("flow.mycompany.com.", "flow.mycompany.com."),
        ("*.example.com.", "*.example.com."),
        ("-flow.example.com", "-flow.example.com"),
    ],
)
def test_a_name_libressl_refuses_fails_on_every_build(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, pki: Pki, name: str, words: str
) -> None:
    """A SAN LibreSSL refuses (it stops before signatures): chain-verifies fails on every build."""
    leaf = make_leaf(pki.issuing, [HOST, name], cn=HOST)
    write(pki.folder, "full.pem", leaf.pem(), pki.issuing.pem())
    code, found = _one_verdict(
        _verdicts(cli, monkeypatch, "--cert", "full.pem", "--ca-file", "root.pem")
    )
    assert code == 1
    message = found["chain-verifies"]["message"]
    assert found["chain-verifies"]["status"] == "fail"
    assert repr(words) in message
    assert "LibreSSL" in message


@pytest.mark.parametrize("name", ["under_score.example.com", "*.co.uk", "*.com"])
def test_a_name_every_build_takes_is_not_failed(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, pki: Pki, name: str
) -> None:
    """An underscore, *.co.uk, *.com: odd, but no build refuses the chain for them."""
    leaf = make_leaf(pki.issuing, [HOST, name], cn=HOST)
    write(pki.folder, "full.pem", leaf.pem(), pki.issuing.pem())
    code, found = _one_verdict(
        _verdicts(cli, monkeypatch, "--cert", "full.pem", "--ca-file", "root.pem")
    )
    assert code == 0
    assert found["chain-verifies"]["status"] == "pass"


def test_a_key_agreement_only_leaf_is_the_same_finding_everywhere(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, pki: Pki
) -> None:
    """keyUsage keyAgreement alone (LibreSSL's verify refuses it): the same findings everywhere."""
    usage = x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=True,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    leaf = make_leaf(pki.issuing, [HOST], cn=HOST, extensions=[(usage, True)])
    write(pki.folder, "full.pem", leaf.pem(), pki.issuing.pem())
    code, found = _one_verdict(
        _verdicts(cli, monkeypatch, "--cert", "full.pem", "--ca-file", "root.pem")
    )
    assert code == 1
    assert found["server-auth-eku"]["status"] == "fail"
    assert found["chain-verifies"]["status"] == "pass"
    assert "server-auth-eku" in found["chain-verifies"]["message"]


def _edwards_leaf(issuer: Issued, kind: str) -> Issued:
    """A server leaf with an Ed25519 or Ed448 key, issued by ``issuer``."""
    key = (
        ed25519.Ed25519PrivateKey.generate()
        if kind == "ed25519"
        else ed448.Ed448PrivateKey.generate()
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(hours=1))
        .not_valid_after(NOW + timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .sign(issuer.key, hashes.SHA256())
    )
    return Issued(cert, key)


def _ed25519_root() -> Issued:
    """A root CA with an Ed25519 key (self-signed with it)."""
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Edwards Root")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, None)
    )
    return Issued(cert, key)


# What each build cannot read (measured): exit 3 there, naming the build; a verdict elsewhere.
LIMITS = {
    "ed25519-leaf-and-key": ({"openssl-libressl-3.3.6"}, 1),
    "ed448-leaf-and-key": ({"openssl-libressl-3.3.6", "openssl-libressl-4.3.2"}, 1),
    "ed25519-root": ({"openssl-libressl-3.3.6"}, 0),
    "p192-root": ({"openssl-libressl-4.3.2"}, 1),
}


@pytest.mark.parametrize("case", sorted(LIMITS))
def test_a_key_a_build_cannot_read_is_exit_3_naming_the_build(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, pki: Pki, case: str
) -> None:
    """Ed25519, Ed448 or P-192 where a build lacks it: exit 3 there, one verdict everywhere else."""
    lacking, verdict = LIMITS[case]
    args = ["--cert", "leaf.pem", "--ca-file", "root.pem"]
    if case.endswith("leaf-and-key"):
        leaf = _edwards_leaf(pki.root, case.split("-", maxsplit=1)[0])
        write(pki.folder, "leaf.key", leaf.key_pem())
        args += ["--key", "leaf.key"]
    else:
        root = (
            _ed25519_root()
            if case == "ed25519-root"
            else make_ca("P-192 Root", key=ec.generate_private_key(ec.SECP192R1()))
        )
        write(pki.folder, "root.pem", root.pem())
        leaf = make_leaf(root, [HOST], cn=HOST)
    write(pki.folder, "leaf.pem", leaf.pem())

    def run() -> Run:
        return cli("check", *args, "--host", HOST, "--json")

    seen = each_build(monkeypatch, run)
    limited = {build for build, result in seen.items() if result.code == 3}
    assert limited == lacking & set(seen)
    for build in limited:
        words = seen[build].err
        assert build.removeprefix("openssl-").replace("libressl-", "LibreSSL ") in words
        assert "cannot read" in words
    verdicts = {(result.code, result.out) for build, result in seen.items() if build not in limited}
    assert len(verdicts) == 1
    assert verdicts.pop()[0] == verdict


def _altered(leaf: Issued) -> bytes:
    """The leaf as PEM with one byte of what was signed changed (its CN): a forgery."""
    der = leaf.cert.public_bytes(serialization.Encoding.DER).replace(b"flow.", b"glow.", 1)
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("sent", ["leaf+issuing", "leaf+issuing+root"])
@pytest.mark.parametrize("trusted", [False, True], ids=["no-root", "ca-file"])
def test_a_forged_signature_fails_without_the_root_too(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, pki: Pki, sent: str, trusted: bool
) -> None:
    """A leaf its issuer did not sign (LibreSSL 4.3 checks before trust, others not): not ready."""
    leaf = make_leaf(pki.issuing, [HOST], cn=HOST)
    root = [pki.root.pem()] if sent.endswith("root") else []
    write(pki.folder, "full.pem", _altered(leaf), pki.issuing.pem(), *root)
    code, found = _one_verdict(
        _verdicts(cli, monkeypatch, "--cert", "full.pem", *(["--ca-file", "root.pem"] * trusted))
    )
    assert code == 1
    assert found["chain-verifies"]["status"] == "fail"
    words = "certificate signature failure" if trusted else "is not signed by the key of"
    assert words in found["chain-verifies"]["message"]


@pytest.mark.parametrize("trusted", [False, True], ids=["no-root", "itself"])
def test_a_self_signed_leaf_with_an_unknown_critical_extension_is_never_ready(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, trusted: bool
) -> None:
    """Self-signed, with an unknown critical extension, given as its own root or not: not ready."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(hours=1))
        .not_valid_after(NOW + timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(UNKNOWN, critical=True)
        .sign(key, hashes.SHA256())
    )
    write(tmp_path, "self.pem", Issued(cert, key).pem())
    code, found = _one_verdict(
        _verdicts(cli, monkeypatch, "--cert", "self.pem", *(["--ca-file", "self.pem"] * trusted))
    )
    assert code == 1
    assert found["chain-verifies"]["status"] == "fail"
    assert "critical extension 1.2.3.4.5" in found["chain-verifies"]["message"]


@pytest.mark.parametrize("kind", ["ed25519", "ed448"])
def test_a_p12_of_a_key_a_build_cannot_read_is_exit_3_naming_the_build(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, pki: Pki, kind: str
) -> None:
    """bundle --p12 of an Ed25519 or Ed448 key: exit 3 where the build lacks it, made elsewhere."""
    lacking, _ = LIMITS[f"{kind}-leaf-and-key"]
    leaf = _edwards_leaf(pki.root, kind)
    write(pki.folder, "leaf.pem", leaf.pem())
    write(pki.folder, "leaf.key", leaf.key_pem())
    monkeypatch.setenv("P12_PASS", "correct horse")

    given = ["--cert", "leaf.pem", "--key", "leaf.key", "--p12", "out.pfx"]

    def run() -> Run:
        (pki.folder / "out.pfx").unlink(missing_ok=True)
        return cli("bundle", *given, "--pass", "env:P12_PASS")

    seen = each_build(monkeypatch, run)
    assert {build for build, result in seen.items() if result.code == 3} == lacking & set(seen)
    assert {result.code for build, result in seen.items() if build not in lacking} == {0}
    for build in lacking & set(seen):
        assert f"cannot read {kind.capitalize()} keys" in seen[build].err
