"""Name constraints: the rule flow-ssl judges by, and a constrained CA that signs only its names."""

from __future__ import annotations

import ipaddress
import json
import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from flow_ssl.core import name_constraints as nc
from flow_ssl.core.models import (
    NameAttribute,
    NameConstraints,
    NameSubtrees,
    ParsedCertificate,
    PublicKeyInfo,
    SubjectAltNames,
)
from tests.golang import go_client_fixture  # noqa: F401 - a fixture
from tests.helpers import contents, listing, load_cert, openssl, requires_openssl
from tests.tls import go_handshake, handshake, s_server

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.helpers import Run

COMPANY = NameConstraints(
    critical=True,
    permitted=NameSubtrees(dns=["mycompany.com"], ip=["10.0.0.0/8", "fd00::/8"]),
)


@pytest.mark.parametrize(
    ("name", "subtree", "inside"),
    [
        ("mycompany.com", "mycompany.com", True),
        ("flow.mycompany.com", "mycompany.com", True),
        ("a.b.mycompany.com", "mycompany.com", True),
        ("FLOW.MyCompany.COM", "mycompany.com", True),
        ("*.mycompany.com", "mycompany.com", True),
        ("evilmycompany.com", "mycompany.com", False),  # LibreSSL 3.3.6 says inside
        ("xmycompany.com", "mycompany.com", False),
        ("mycompany.com.evil.com", "mycompany.com", False),
        ("flow.mycompany.com.", "mycompany.com", False),
        ("mycompany.com", ".mycompany.com", False),  # a leading dot: below only
        ("flow.mycompany.com", ".mycompany.com", True),
        ("anything.example", "", True),
    ],
)
def test_dns_subtrees_match_on_label_boundaries(name: str, subtree: str, inside: bool) -> None:
    """A DNS subtree holds itself and the names below it, never a name merely ending like it."""
    assert nc.dns_within(name, subtree) is inside


@pytest.mark.parametrize(
    ("address", "subtree", "inside"),
    [
        ("10.1.2.3", "10.0.0.0/8", True),
        ("11.0.0.1", "10.0.0.0/8", False),
        ("10.1.2.3", "10.0.0.0/255.0.0.0", True),
        ("fd00::1", "fd00::/8", True),
        ("2001:db8::1", "fd00::/8", False),
        ("10.1.2.3", "fd00::/8", False),  # another version never matches
        ("10.5.0.7", "10.0.0.0/255.0.255.0", True),  # a mask that is no prefix
        ("10.0.1.5", "10.0.0.0/255.0.255.0", False),
    ],
)
def test_ip_subtrees_are_networks(address: str, subtree: str, inside: bool) -> None:
    """An IP subtree holds the addresses of its network, of its own IP version only."""
    assert nc.ip_within(address, subtree) is inside


def _cert(cn: str, dns: list[str], ip: list[str] | None = None) -> ParsedCertificate:
    return ParsedCertificate(
        kind="certificate",
        source="leaf.crt",
        subject=[NameAttribute(type="CN", value=cn)],
        public_key=PublicKeyInfo(algorithm="ec", bits=256),
        subject_alt_names=SubjectAltNames(dns=dns, ip=ip or []),
    )


def _constrained(constraints: NameConstraints) -> ParsedCertificate:
    cert = _cert("Company Root", [])
    cert.name_constraints = constraints
    return cert


@pytest.mark.parametrize(
    ("leaf", "outside"),
    [
        (_cert("flow.mycompany.com", ["flow.mycompany.com"], ["10.1.2.3"]), None),
        (_cert("evil.com", ["flow.mycompany.com"]), None),  # SAN inside: the CN is not a name
        (_cert("flow.mycompany.com", ["evil.com"]), "evil.com"),
        (_cert("flow.mycompany.com", ["flow.mycompany.com"], ["192.168.1.1"]), "192.168.1.1"),
        (_cert("evil.com", []), "evil.com"),  # no SAN: the CN is judged, as OpenSSL does
        (_cert("Flow Server", []), None),  # a label is no name
    ],
)
def test_a_leaf_is_judged_by_its_san_and_else_its_cn(
    leaf: ParsedCertificate, outside: str | None
) -> None:
    """violation(): the first SAN name outside, or the CN when there is no DNS SAN."""
    found = nc.violation(leaf, [_constrained(COMPANY)])
    if outside is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(f"{outside} is outside the names Company Root may sign for")
        assert "permitted DNS mycompany.com, IP 10.0.0.0/8, IP fd00::/8" in found


def test_an_excluded_subtree_wins_and_unconstrained_kinds_pass() -> None:
    """Excluded beats permitted; a kind with no permitted subtree is not constrained."""
    only_dns = NameConstraints(
        permitted=NameSubtrees(dns=["mycompany.com"]),
        excluded=NameSubtrees(dns=["secret.mycompany.com"]),
    )
    assert not nc.allows(only_dns, "dns", "a.secret.mycompany.com")
    assert nc.allows(only_dns, "dns", "open.mycompany.com")
    assert nc.allows(only_dns, "ip", "192.168.1.1")


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("MyCompany.com", ("dns", "mycompany.com")),
        ("10.0.0.0/8", ("ip", "10.0.0.0/8")),
        ("fd00::/8", ("ip", "fd00::/8")),
        ("10.1.2.3", ("ip", "10.1.2.3/32")),
    ],
)
def test_permit_values_are_domains_or_networks(text: str, parsed: tuple[str, str]) -> None:
    """--permit takes a domain or an IP network (a single address: a network of one)."""
    assert nc.parse_permit(text) == parsed


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (".mycompany.com", "give 'mycompany.com'"),
        ("*.mycompany.com", "without '*.'"),
        ("10.1.0.0/8", "did you mean 10.0.0.0/8"),
        ("10.0.0.0/33", "not an IP network"),
        ("my company", "not a valid host name"),
    ],
)
def test_bad_permit_values_say_what_to_give(text: str, words: str) -> None:
    """A leading dot, a wildcard, host bits set, a bad prefix or no name: refused with the fix."""
    with pytest.raises(ValueError, match=re.escape(words)):
        nc.parse_permit(text)


def test_openssl_value_uses_address_and_mask() -> None:
    """No openssl build takes IP:fd00::/8: the networks are written addr/mask."""
    value = nc.openssl_value([("dns", "mycompany.com"), ("ip", "10.0.0.0/8"), ("ip", "fd00::/8")])
    assert value == (
        "critical,permitted;DNS:mycompany.com,permitted;IP:10.0.0.0/255.0.0.0,"
        "permitted;IP:fd00::/ff00::"
    )


def test_an_issuing_ca_may_narrow_its_parent_never_widen_it() -> None:
    """beyond_parent(): subtrees the parent's constraints do not hold."""
    parent = _constrained(COMPANY)
    wanted: list[tuple[nc.Kind, str]] = [
        ("dns", "eu.mycompany.com"),
        ("ip", "10.4.0.0/16"),
        ("dns", "other.com"),
        ("ip", "192.168.0.0/16"),
        ("ip", "0.0.0.0/0"),
    ]
    assert nc.beyond_parent(wanted, parent) == ["other.com", "192.168.0.0/16", "0.0.0.0/0"]


# --- a constrained CA, made and used by the CLI -------------------------------------------

HOST = "flow.mycompany.com"


@pytest.fixture
def root(cli: Callable[..., Run], tmp_path: Path) -> Path:
    """A root CA constrained to mycompany.com, 10.0.0.0/8 and fd00::/8, in ./ca."""
    made = cli(
        "ca",
        "init",
        "--dir",
        "ca",
        "--name",
        "Constrained Root",
        "--key",
        "ec:P-256",
        "--permit",
        "mycompany.com",
        "--permit",
        "10.0.0.0/8",
        "--permit",
        "fd00::/8",
    )
    assert made.code == 0, made.err
    return tmp_path / "ca"


@requires_openssl
def test_init_permit_writes_critical_name_constraints(cli: Callable[..., Run], root: Path) -> None:
    """ca init --permit: a critical nameConstraints of exactly those subtrees; inspect shows it."""
    cert = load_cert(root / "ca.crt")
    extension = cert.extensions.get_extension_for_class(x509.NameConstraints)
    assert extension.critical
    assert extension.value.excluded_subtrees is None
    assert list(extension.value.permitted_subtrees or []) == [
        x509.DNSName("mycompany.com"),
        x509.IPAddress(ipaddress.ip_network("10.0.0.0/8")),
        x509.IPAddress(ipaddress.ip_network("fd00::/8")),
    ]
    shown = cli("inspect", str(root / "ca.crt"))
    assert "Constraints  permitted DNS mycompany.com, IP 10.0.0.0/8, IP fd00::/8" in shown.out
    data = json.loads(cli("inspect", str(root / "ca.crt"), "--json").out)[0]
    assert data["name_constraints"]["permitted"]["dns"] == ["mycompany.com"]
    assert data["name_constraints"]["critical"] is True


@requires_openssl
def test_a_constrained_root_issues_inside_its_names(cli: Callable[..., Run], root: Path) -> None:
    """Names inside (apex, deep, wildcard, IPv4, IPv6) are issued, and Python accepts them."""
    result = cli(
        "ca",
        "issue",
        "--dir",
        "ca",
        "--cn",
        "*.mycompany.com",
        "--san",
        "mycompany.com",
        "--san",
        "a.b.mycompany.com",
        "--san",
        "10.9.8.7",
        "--san",
        "fd00::5",
        "--subj",
        "--key",
        "ec:P-256",
    )
    assert result.code == 0, result.err
    leaf = root.parent / "wildcard.mycompany.com.crt"
    load_cert(leaf).verify_directly_issued_by(load_cert(root / "ca.crt"))
    with s_server(leaf, root.parent / "wildcard.mycompany.com.key") as port:
        assert handshake(port, HOST, root / "ca.crt") is None


@requires_openssl
@pytest.mark.parametrize(
    "args",
    [
        ("--cn", "evil.com"),
        ("--cn", "evilmycompany.com"),
        ("--cn", HOST, "--san", "www.evil.com"),
        ("--cn", HOST, "--san", "192.168.1.1"),
        ("--cn", HOST, "--san", "2001:db8::1"),
    ],
)
def test_a_constrained_root_refuses_outside_before_signing(
    cli: Callable[..., Run], root: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    """ca issue of a name outside: exit 2 naming it and the subtrees; no file, no serial spent."""
    before, ca_before = listing(tmp_path), contents(root)
    for extra in ((), ("--print",)):
        result = cli("ca", "issue", "--dir", "ca", *args, "--subj", "--key", "ec:P-256", *extra)
        assert result.code == 2, result.err
        outside = args[-1]
        assert f"{outside} is outside the names Constrained Root may sign for" in result.err
        assert "(permitted DNS mycompany.com, IP 10.0.0.0/8, IP fd00::/8)" in result.err
        assert result.out == ""
    assert listing(tmp_path) == before
    assert contents(root) == ca_before


@requires_openssl
def test_sign_refuses_a_csr_with_a_name_outside(
    cli: Callable[..., Run], root: Path, tmp_path: Path
) -> None:
    """ca sign of a CSR whose SAN has a name outside (its CN inside): exit 2, nothing signed."""
    openssl(
        "req",
        "-new",
        "-nodes",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-pkeyopt",
        "ec_param_enc:named_curve",
        "-keyout",
        "r.key",
        "-subj",
        f"/CN={HOST}",
        "-addext",
        f"subjectAltName=DNS:{HOST},DNS:login.bank.example",
        "-out",
        "r.csr",
        cwd=tmp_path,
    )
    serial = (root / "serial").read_text()
    result = cli("ca", "sign", "r.csr", "--dir", "ca")
    assert result.code == 2
    assert "login.bank.example is outside the names Constrained Root may sign for" in result.err
    assert not (tmp_path / "r.crt").exists()
    assert (root / "serial").read_text() == serial


def _forged(root: Path, names: list[x509.GeneralName]) -> tuple[bytes, bytes]:
    """A leaf for ``names`` signed with the CA's key by hand (PEM certificate, PEM key)."""
    ca_key = serialization.load_pem_private_key((root / "ca.key").read_bytes(), None)
    ca_cert = load_cert(root / "ca.crt")
    key = ec.generate_private_key(ec.SECP256R1())
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "login.bank.example")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


FORGED: dict[str, tuple[str, list[x509.GeneralName]]] = {
    "bank": ("login.bank.example", [x509.DNSName("login.bank.example")]),
    "lookalike": ("evilmycompany.com", [x509.DNSName("evilmycompany.com")]),
    "ip": (HOST, [x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("192.168.1.1"))]),
}


@requires_openssl
@pytest.mark.parametrize("case", FORGED)
def test_a_leaf_forged_outside_is_refused_by_go_pyca_and_check(
    cli: Callable[..., Run], root: Path, tmp_path: Path, go_client: Path, case: str
) -> None:
    """A leaf signed by hand outside the constraints: Go, pyca and flow-ssl check all refuse it."""
    host, names = FORGED[case]
    cert_pem, key_pem = _forged(root, names)
    (tmp_path / "forged.crt").write_bytes(cert_pem)
    (tmp_path / "forged.key").write_bytes(key_pem)
    ca_cert = load_cert(root / "ca.crt")
    verifier = (
        PolicyBuilder()
        .store(Store([ca_cert]))
        .time(datetime.now(timezone.utc))
        .build_server_verifier(x509.DNSName(host))
    )
    with pytest.raises(VerificationError, match="name constraint"):
        verifier.verify(x509.load_pem_x509_certificate(cert_pem), [])
    with s_server(tmp_path / "forged.crt", tmp_path / "forged.key") as port:
        refused = go_handshake(go_client, port, host, root / "ca.crt")
        assert refused is not None
        assert "not authorized to sign for this name" in refused
        assert handshake(port, host, root / "ca.crt") is not None
    # flow-ssl check fails it with the same words on every openssl build (LibreSSL 3.3.6's
    # verify accepts the look-alike: it matches a plain suffix).
    checked = cli("check", "--cert", "forged.crt", "--ca-file", str(root / "ca.crt"), "--json")
    assert checked.code == 1, checked.out
    verdicts = {f["check"]: f for f in json.loads(checked.out)["findings"]}
    outside = names[-1].value
    assert verdicts["chain-verifies"]["status"] == "fail"
    assert verdicts["chain-verifies"]["message"].startswith(
        f"{outside} is outside the names Constrained Root may sign for"
    )


@requires_openssl
@pytest.mark.usefixtures("root")
def test_an_issuing_ca_is_constrained_within_its_root(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """ca init --parent --permit: narrower is written on the issuing CA; wider is refused."""
    wider = cli(
        "ca",
        "init",
        "--dir",
        "wide",
        "--name",
        "Wide",
        "--parent",
        "ca",
        "--permit",
        "mycompany.com",
        "--permit",
        "other.com",
    )
    assert wider.code == 2
    assert "--permit: other.com: outside what the parent Constrained Root may sign for" in wider.err
    assert not (tmp_path / "wide").exists()
    made = cli(
        "ca",
        "init",
        "--dir",
        "eu",
        "--name",
        "EU Issuing",
        "--parent",
        "ca",
        "--permit",
        "eu.mycompany.com",
    )
    assert made.code == 0, made.err
    issuing = load_cert(tmp_path / "eu" / "ca.crt")
    extension = issuing.extensions.get_extension_for_class(x509.NameConstraints)
    assert extension.critical
    assert list(extension.value.permitted_subtrees or []) == [x509.DNSName("eu.mycompany.com")]
    # Inside the root's names but outside the issuing CA's: refused by the issuing CA.
    refused = cli("ca", "issue", "--dir", "eu", "--cn", "us.mycompany.com", "--subj")
    assert refused.code == 2
    assert "us.mycompany.com is outside the names EU Issuing may sign for" in refused.err
    issued = cli("ca", "issue", "--dir", "eu", "--cn", "flow.eu.mycompany.com", "--subj")
    assert issued.code == 0, issued.err


@requires_openssl
def test_a_cn_outside_with_every_san_inside_is_inside_on_every_build(
    cli: Callable[..., Run], root: Path, tmp_path: Path
) -> None:
    """A CN outside and every SAN inside: pyca accepts it, and check on every build."""
    cert_pem, _ = _forged(root, [x509.DNSName(HOST)])
    (tmp_path / "inside.crt").write_bytes(cert_pem)
    verifier = (
        PolicyBuilder()
        .store(Store([load_cert(root / "ca.crt")]))
        .time(datetime.now(timezone.utc))
        .build_server_verifier(x509.DNSName(HOST))
    )
    verifier.verify(x509.load_pem_x509_certificate(cert_pem), [])
    checked = cli(
        "check", "--cert", "inside.crt", "--ca-file", str(root / "ca.crt"), "--host", HOST, "--json"
    )
    verdicts = {f["check"]: f["status"] for f in json.loads(checked.out)["findings"]}
    assert verdicts["chain-verifies"] == "pass", checked.out
