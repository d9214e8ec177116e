"""check and bundle on real chains: every broken set is named, the good one serves over TLS."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from tests.helpers import (
    OPENSSL,
    each_build,
    listing,
    needs_builds,
    openssl,
    requires_openssl,
    run_sh,
)
from tests.pki import NOW, Issued, damaged_key, make_ca, make_leaf, write
from tests.tls import handshake, s_server

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.helpers import Run

pytestmark = [
    requires_openssl,
    # cryptography warns about SHA-1 signatures it makes for the broken-set tests.
    pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning"),
]
HOSTS = ["flow.mycompany.com", "flow-analytics.mycompany.com"]


@pytest.fixture(scope="module")
def pki() -> tuple[Issued, Issued]:
    """A root and an intermediate under it."""
    root = make_ca("Test Root CA")
    return root, make_ca("Test Issuing CA", root)


def _findings(result: Run) -> dict[str, list[str]]:
    data = json.loads(result.out)
    found: dict[str, list[str]] = {}
    for finding in data["findings"]:
        found.setdefault(finding["check"], []).append(finding["status"])
    return found


def _check(cli: Callable[..., Run], tmp_path: Path, leaf: Issued, pki: tuple[Issued, Issued],
           *extra: str, chain: bool = True, key: bytes | None = None) -> Run:  # fmt: skip
    root, intermediate = pki
    args = ["check", "--cert", str(write(tmp_path, "leaf.crt", leaf.pem())),
            "--key", str(write(tmp_path, "leaf.key", key or leaf.key_pem())),
            "--ca-file", str(write(tmp_path, "root.crt", root.pem())), "--json"]  # fmt: skip
    if chain:
        args += ["--chain", str(write(tmp_path, "chain.crt", intermediate.pem()))]
    for host in HOSTS:
        args += ["--host", host]
    return cli(*args, *extra)


def test_good_set_passes_every_check(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """A proper leaf with key, intermediate and root passes every check ID."""
    leaf = make_leaf(pki[1], HOSTS)
    result = _check(cli, tmp_path, leaf, pki)
    assert result.code == 0, result.out + result.err
    found = _findings(result)
    assert set(found) == {
        "cert-readable", "not-yet-valid", "expired", "expires-soon", "key-matches-cert",
        "key-unencrypted", "chain-order", "chain-complete", "chain-verifies", "hostname",
        "san-present", "server-auth-eku", "key-strength", "signature-hash", "validity-period",
        "self-signed",
    }  # fmt: skip
    assert all(status == ["pass"] * len(status) for status in found.values()), found
    assert len(found["hostname"]) == 2
    assert json.loads(result.out)["ready"] is True


BROKEN = [
    ("wrong key", {}, "key-matches-cert"),
    ("damaged key", {}, "key-matches-cert"),
    ("missing intermediate", {}, "chain-complete"),
    ("chain before leaf", {}, "chain-order"),
    ("name not covered", {"names": ["other.mycompany.com"]}, "hostname"),
    ("wildcard vs apex", {"names": ["*.flow.mycompany.com"]}, "hostname"),
    ("expired", {"start": NOW - timedelta(days=100), "days": 50}, "expired"),
    ("not yet valid", {"start": NOW + timedelta(days=2)}, "not-yet-valid"),
    ("CN only", {"names": None}, "san-present"),
    ("RSA-1024", {"rsa_bits": 1024}, "key-strength"),
    ("SHA-1", {}, "signature-hash"),
    ("encrypted key", {}, "key-unencrypted"),
]


@pytest.mark.parametrize(("case", "options", "check_id"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_sets_fail_with_the_right_id(
    cli: Callable[..., Run],
    tmp_path: Path,
    pki: tuple[Issued, Issued],
    case: str,
    options: dict[str, object],
    check_id: str,
) -> None:
    """Each classic installation mistake is reported with its check ID, status fail, exit 1."""
    names = options.pop("names", HOSTS)
    leaf = make_leaf(pki[1], names, **options)  # type: ignore[arg-type]
    key = None
    chain = True
    if case == "wrong key":
        key = make_leaf(pki[1], HOSTS).key_pem()
    elif case == "damaged key":  # the leaf's public half beside another key's private part
        key = damaged_key(make_leaf(pki[1], HOSTS).key, leaf.key)
    elif case == "encrypted key":
        key = leaf.key_pem(b"secret-passphrase")
    elif case == "missing intermediate":
        chain = False
    elif case == "SHA-1":
        leaf = _sha1_leaf(tmp_path, pki[1], leaf)
    elif case == "chain before leaf":
        leaf = Issued(pki[1].cert, pki[1].key)
        chain = False
        combined = make_leaf(pki[1], HOSTS)
        write(tmp_path, "combined.crt", pki[1].pem(), combined.pem())
    if case == "chain before leaf":
        result = cli("check", "--cert", str(tmp_path / "combined.crt"), "--json",
                     "--ca-file", str(write(tmp_path, "root.crt", pki[0].pem())))  # fmt: skip
    else:
        result = _check(cli, tmp_path, leaf, pki, chain=chain, key=key)
    assert result.code == 1, result.out + result.err
    assert "fail" in _findings(result)[check_id], result.out


def _sha1_leaf(tmp_path: Path, issuer: Issued, like: Issued) -> Issued:
    """Re-sign ``like`` with SHA-1 using openssl (cryptography no longer signs SHA-1)."""
    ca_key = write(tmp_path, "ca.key", issuer.key_pem())
    ca_crt = write(tmp_path, "ca.crt", issuer.pem())
    leaf_crt = write(tmp_path, "old.crt", like.pem())
    leaf_key = write(tmp_path, "old.key", like.key_pem())
    # The system's openssl on purpose: -copy_extensions is OpenSSL 3 (an oracle, not under test).
    openssl(
        "x509",
        "-x509toreq",
        "-in",
        str(leaf_crt),
        "-signkey",
        str(leaf_key),
        "-copy_extensions",
        "copy",
        "-out",
        str(tmp_path / "old.csr"),
        system=True,
    )
    openssl("x509", "-req", "-in", str(tmp_path / "old.csr"), "-CA", str(ca_crt),
            "-CAkey", str(ca_key), "-sha1", "-days", "30", "-copy_extensions", "copy",
            "-out", str(tmp_path / "sha1.crt"), system=True)  # fmt: skip
    cert = x509.load_pem_x509_certificate((tmp_path / "sha1.crt").read_bytes())
    return Issued(cert, like.key)


def test_wildcard_two_labels_fail(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """*.mycompany.com does not cover a.b.mycompany.com (exit 1, hostname fail)."""
    leaf = make_leaf(pki[1], ["*.mycompany.com"])
    result = _check(cli, tmp_path, leaf, pki, "--host", "a.b.mycompany.com")
    assert result.code == 1
    assert _findings(result)["hostname"] == ["pass", "pass", "fail"]


@pytest.mark.parametrize(
    ("san", "host", "covered"),
    [
        ("*.com", "example.com", False),
        ("*.co.uk", "example.co.uk", True),
        ("*.example.com", "www.example.com", True),
        ("*.example.co.uk", "www.example.co.uk", True),
    ],
)
def test_a_wildcard_covers_only_what_flow_ssl_would_issue(
    cli: Callable[..., Run],
    tmp_path: Path,
    pki: tuple[Issued, Issued],
    san: str,
    host: str,
    covered: bool,
) -> None:
    """*.com covers nothing (flow-ssl's input rule, OpenSSL's, Python's); *.co.uk covers a name."""
    leaf = make_leaf(pki[1], [san], cn=san)
    write(tmp_path, "leaf.crt", leaf.pem())
    (hostname,) = [
        f
        for f in json.loads(cli("check", "--cert", "leaf.crt", "--host", host, "--json").out)[
            "findings"
        ]
        if f["check"] == "hostname"
    ]
    assert hostname["status"] == ("pass" if covered else "fail")
    if not covered:
        assert f"{san} covers no name: a wildcard needs at least two labels" in hostname["message"]
    refused = cli("selfsigned", "--cn", san, "--subj", "--print")
    assert (refused.code == 2) == (not covered)


@pytest.mark.parametrize(
    ("options", "check_id"),
    [
        ({"days": 10}, "expires-soon"),
        ({"eku": False}, "server-auth-eku"),
        ({"days": 900}, "validity-period"),
    ],
)
def test_warnings_exit_0(
    cli: Callable[..., Run],
    tmp_path: Path,
    pki: tuple[Issued, Issued],
    options: dict[str, object],
    check_id: str,
) -> None:
    """Warn-level findings are reported but the set is still ready (exit 0)."""
    leaf = make_leaf(pki[1], HOSTS, **options)  # type: ignore[arg-type]
    result = _check(cli, tmp_path, leaf, pki)
    assert result.code == 0, result.out
    assert _findings(result)[check_id] == ["warn"]


def test_a_weak_intermediate_key_fails(cli: Callable[..., Run], tmp_path: Path) -> None:
    """An RSA-1024 intermediate fails key-strength (browsers refuse it; openssl's level 1 not)."""
    root = make_ca("Test Root CA")
    weak = make_ca("Weak Issuing CA", root, rsa_bits=1024)
    leaf = make_leaf(weak, HOSTS)
    result = _check(cli, tmp_path, leaf, (root, weak))
    assert result.code == 1, result.out
    assert _findings(result)["key-strength"] == ["fail"]
    assert "CN=Weak Issuing CA" in json.dumps(json.loads(result.out)["findings"])


def _weak_root(kind: str) -> Issued:
    """A root with a weak key: RSA of so many bits (``rsa:1024``), or EC on ``P-192``."""
    if kind.startswith("rsa:"):
        return make_ca(f"Weak Root {kind}", rsa_bits=int(kind[4:]))
    key = ec.generate_private_key(ec.SECP192R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Weak Root P-192")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


@pytest.mark.parametrize("kind", ["rsa:1024", "rsa:2047", "P-192"])
@pytest.mark.parametrize("given", ["sent", "ca-file"])
def test_a_weak_root_key_fails_sent_or_given(
    cli: Callable[..., Run], tmp_path: Path, kind: str, given: str
) -> None:
    """A root's RSA key under 2048 bits or P-192 key, sent or given: key-strength fails."""
    root = _weak_root(kind)
    issuing = make_ca("Issuing Under Weak Root", root)
    leaf = make_leaf(issuing, HOSTS)
    sent = [leaf.pem(), issuing.pem(), *([root.pem()] if given == "sent" else [])]
    write(tmp_path, "full.pem", *sent)
    write(tmp_path, "root.pem", root.pem())
    trust = ["--ca-file", "root.pem"] if given == "ca-file" else []
    result = cli("check", "--cert", "full.pem", *trust, "--host", HOSTS[0], "--json")
    if result.code == 3:  # LibreSSL 4.3 has no P-192: its limit (test_chain_verdicts pins where)
        assert kind == "P-192"
        assert "LibreSSL" in result.err
        assert "cannot read the EC P-192 key of CN=Weak Root P-192" in result.err
        return
    assert result.code == 1, result.out
    (strength,) = [f for f in json.loads(result.out)["findings"] if f["check"] == "key-strength"]
    assert strength["status"] == "fail"
    assert f"CN=Weak Root {kind}" in strength["message"]


def test_verify_judges_the_certificates_flow_ssl_read(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """A portal PEM with an empty unknown block after the chain is ready on every openssl."""
    leaf = make_leaf(pki[1], HOSTS)
    portal = write(tmp_path, "portal.pem", leaf.pem(), pki[1].pem(),
                   b"-----BEGIN FOO-----\n-----END FOO-----\n")  # fmt: skip
    root = write(tmp_path, "root.crt", pki[0].pem())
    result = cli("check", "--cert", str(portal), "--ca-file", str(root), "--host", HOSTS[0],
                 "--json")  # fmt: skip
    assert _findings(result)["chain-verifies"] == ["pass"], result.out


def test_self_signed_is_ready_but_never_called_trusted(cli: Callable[..., Run]) -> None:
    """A good self-signed certificate is complete by itself; untrusted until --ca-file names it."""
    assert cli("selfsigned", "--cn", "flow.mycompany.com", "--key", "ec:P-256").code == 0
    args = ["check", "--cert", "flow.mycompany.com.crt", "--key", "flow.mycompany.com.key",
            "--host", "flow.mycompany.com"]  # fmt: skip
    result = cli(*args, "--json")
    assert result.code == 0, result.out
    found = _findings(result)
    assert found["self-signed"] == ["warn"]
    assert found["chain-complete"] == ["pass"]
    assert found["chain-verifies"] == ["warn"]
    human = cli(*args)
    assert "clients refuse it until they trust its root" in human.out
    assert "Ready to install." not in human.out
    trusted = cli(*args, "--ca-file", "flow.mycompany.com.crt", "--json")
    assert _findings(trusted)["chain-verifies"] == ["pass"]


def test_bad_input_exits_2(cli: Callable[..., Run]) -> None:
    """A missing certificate or a bad --host is bad input."""
    assert cli("check", "--cert", "nope.crt").code == 2
    assert cli("selfsigned", "--cn", "x.example.com", "--key", "ec:P-256").code == 0
    result = cli("check", "--cert", "x.example.com.crt", "--host", "bad_host!")
    assert result.code == 2
    assert "--host" in result.err


def test_bundle_orders_and_serves_over_tls(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """bundle orders leaf then intermediate from shuffled, duplicated input; TLS accepts it."""
    root, intermediate = pki
    leaf = make_leaf(intermediate, ["localhost"], cn="localhost")
    write(tmp_path, "leaf.crt", leaf.pem())
    write(tmp_path, "leaf.key", leaf.key_pem())
    write(tmp_path, "mixed.pem", root.pem(), intermediate.pem(), intermediate.pem())
    write(tmp_path, "root.crt", root.pem())
    result = cli("bundle", "--cert", "leaf.crt", "--chain", "mixed.pem", "--out", "full.pem")
    assert result.code == 0, result.err
    bundle = x509.load_pem_x509_certificates((tmp_path / "full.pem").read_bytes())
    assert bundle == [leaf.cert, intermediate.cert]
    # s_server sends only the first certificate of -cert; -cert_chain adds the rest.
    with s_server(tmp_path / "full.pem", tmp_path / "leaf.key", tmp_path / "full.pem") as port:
        assert handshake(port, "localhost", cafile=tmp_path / "root.crt") is None
        assert handshake(port, "other.example", cafile=tmp_path / "root.crt") is not None
    assert (
        cli("bundle", "--cert", "leaf.crt", "--chain", "mixed.pem", "--out", "full.pem").code == 2
    )
    with_root = cli("bundle", "--cert", "leaf.crt", "--chain", "mixed.pem", "--out", "r.pem",
                    "--include-root")  # fmt: skip
    assert with_root.code == 0
    assert len(x509.load_pem_x509_certificates((tmp_path / "r.pem").read_bytes())) == 3


def test_bundle_refuses_unrelated_chain(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """Chain certificates that did not issue the leaf: exit 1, nothing written."""
    leaf = make_leaf(pki[1], HOSTS)
    other = make_ca("Unrelated CA")
    write(tmp_path, "leaf.crt", leaf.pem())
    write(tmp_path, "other.crt", other.pem())
    before = listing(tmp_path)
    result = cli("bundle", "--cert", "leaf.crt", "--chain", "other.crt", "--out", "full.pem")
    assert result.code == 1
    assert listing(tmp_path) == before


def _roots_shut() -> str:
    """The options the openssl under test lists to keep the system's roots out, if any."""
    binary = OPENSSL
    assert binary is not None
    shown = subprocess.run([binary, "verify", "-help"], capture_output=True, text=True, check=False)
    listed = shown.stdout + shown.stderr
    return "".join(f"{option} " for option in ("-no-CApath", "-no-CAstore") if option in listed)


def test_bundle_refuses_a_leaf_clients_refuse_whatever_they_trust(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """A leaf with an unknown critical extension: bundle exits 1, writes nothing; --force warns."""
    unknown = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4.5"), b"\x05\x00")
    write(tmp_path, "leaf.pem", make_leaf(pki[1], HOSTS, extensions=[(unknown, True)]).pem())
    write(tmp_path, "chain.pem", pki[1].pem())
    before = listing(tmp_path)
    args = ["bundle", "--cert", "leaf.pem", "--chain", "chain.pem", "--out", "full.pem"]
    refused = cli(*args)
    assert refused.code == 1
    assert "critical extension 1.2.3.4.5" in refused.err
    assert listing(tmp_path) == before
    forced = cli(*args, "--force")
    assert forced.code == 0, forced.err
    assert "critical extension 1.2.3.4.5" in forced.err
    assert len(x509.load_pem_x509_certificates((tmp_path / "full.pem").read_bytes())) == 2


def test_print_shows_the_commands_and_runs_none(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """check/bundle --print: the openssl commands they would run; nothing runs or is written."""
    root, issuing = pki
    leaf = make_leaf(issuing, HOSTS)
    write(tmp_path, "leaf.crt", leaf.pem())
    write(tmp_path, "leaf.key", leaf.key_pem())
    write(tmp_path, "chain.pem", issuing.pem())
    write(tmp_path, "root.pem", root.pem())
    before = listing(tmp_path)
    result = cli("check", "--cert", "leaf.crt", "--key", "leaf.key", "--chain", "chain.pem",
                 "--ca-file", "root.pem", "--print")  # fmt: skip
    assert result.code == 0
    lines = [line for line in result.out.splitlines() if not line.startswith("#")]
    assert lines == [
        "work=$(mktemp -d)",
        "openssl x509 -noout -text -in leaf.crt",
        "openssl x509 -noout -text -in chain.pem",
        "openssl x509 -noout -text -in root.pem",
        'openssl rand -out "$work"/challenge 32',
        (
            'openssl pkeyutl -sign -inkey leaf.key -passin pass: -in "$work"/challenge '
            '-out "$work"/challenge.sig'
        ),
        (
            'openssl pkeyutl -verify -certin -inkey leaf.crt -in "$work"/challenge '
            '-sigfile "$work"/challenge.sig'
        ),
        (
            f"openssl verify -purpose sslserver -CAfile root.pem {_roots_shut()}-untrusted "
            "leaf.crt -untrusted chain.pem leaf.crt"
        ),
        'rm -rf -- "$work"',
    ]
    bundled = cli("bundle", "--cert", "leaf.crt", "--chain", "chain.pem", "--out", "full.pem",
                  "--print")  # fmt: skip
    assert bundled.code == 0
    assert "openssl x509 -noout -text -in chain.pem" in bundled.out
    assert listing(tmp_path) == before


@needs_builds
def test_print_verifies_what_flow_ssl_read_behind_a_byte_order_mark(
    cli: Callable[..., Run],
    tmp_path: Path,
    pki: tuple[Issued, Issued],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A PEM chain behind a BOM: the printed verify reads flow-ssl's copy; OK run on every build."""
    root, issuing = pki
    (tmp_path / "full.pem").write_bytes(
        b"\xef\xbb\xbf" + make_leaf(issuing, HOSTS).pem() + issuing.pem()
    )
    write(tmp_path, "root.pem", root.pem())

    def run() -> str:
        printed = cli("check", "--cert", "full.pem", "--ca-file", "root.pem", "--print")
        assert printed.code == 0, printed.err
        (verify,) = [line for line in printed.out.splitlines() if line.startswith("openssl verify")]
        assert "full.pem" not in verify
        return run_sh(printed.out, tmp_path, binary=os.environ["FLOW_SSL_OPENSSL"]).stdout

    for build, out in each_build(monkeypatch, run).items():
        assert out.rstrip().endswith(": OK"), (build, out[-300:])


@pytest.mark.parametrize(("within", "code", "status"), [(30, 1, "fail"), (10, 0, "pass")])
def test_renew_within_turns_expiry_into_an_exit_code(
    cli: Callable[..., Run],
    tmp_path: Path,
    pki: tuple[Issued, Issued],
    within: int,
    code: int,
    status: str,
) -> None:
    """--renew-within DAYS: 20 days left fails at 30 (cron sees exit 1), passes at 10."""
    leaf = make_leaf(pki[1], HOSTS, start=NOW - timedelta(days=70), days=90)
    result = _check(cli, tmp_path, leaf, pki, "--renew-within", str(within), "--min-days", "5")
    assert result.code == code, result.out
    assert _findings(result)["expires-soon"] == [status]


@pytest.mark.parametrize(
    ("start", "words"),
    [(NOW - timedelta(days=93), "no time left: it has expired"),
     (NOW - timedelta(days=90) + timedelta(hours=3), "less than a day left")],
    ids=["expired", "hours-left"],
)  # fmt: skip
def test_time_left_is_never_negative_or_rounded_to_nothing(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued], start: datetime, words: str
) -> None:
    """An expired certificate is not '-3 days left'; three hours left is not '0 days left'."""
    leaf = make_leaf(pki[1], HOSTS, start=start, days=90)
    result = _check(cli, tmp_path, leaf, pki)
    (soon,) = [f for f in json.loads(result.out)["findings"] if f["check"] == "expires-soon"]
    assert soon["message"].startswith(words), soon


@pytest.mark.parametrize(
    ("defect", "words"),
    [({"is_ca": False}, "is not a CA (no CA:TRUE)"),
     ({"cert_sign": False}, "has a key usage without keyCertSign"),
     ({"client_only": True}, "limits its use to clientAuth, not serverAuth"),
     ({"ends": NOW - timedelta(hours=2)}, "CN=Broken Issuing CA expired")],
    ids=["ca-false", "no-keycertsign", "client-eku", "expired"],
)  # fmt: skip
@pytest.mark.parametrize("root_given", [True, False], ids=["root-given", "root-unknown"])
def test_an_intermediate_that_cannot_issue_fails_on_every_openssl(
    cli: Callable[..., Run],
    tmp_path: Path,
    pki: tuple[Issued, Issued],
    defect: dict[str, object],
    words: str,
    root_given: bool,
) -> None:
    """An intermediate that cannot issue is a FAIL on every openssl, never 'trust the root'."""
    root = pki[0]
    broken = make_ca("Broken Issuing CA", root, **defect)  # type: ignore[arg-type]
    leaf = make_leaf(broken, HOSTS)
    args = ["check", "--cert", str(write(tmp_path, "leaf.crt", leaf.pem())),
            "--key", str(write(tmp_path, "leaf.key", leaf.key_pem())),
            "--chain", str(write(tmp_path, "chain.crt", broken.pem())), "--json"]  # fmt: skip
    if root_given:
        args += ["--ca-file", str(write(tmp_path, "root.crt", root.pem()))]
    result = cli(*args)
    assert result.code == 1, result.out
    data = json.loads(result.out)
    assert data["ready"] is False
    (verdict,) = [f for f in data["findings"] if f["check"] == "chain-verifies"]
    assert verdict["status"] == "fail"
    assert words in verdict["message"]


def test_a_root_s_path_length_holds_on_every_openssl(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """A root with pathlen:0 above an intermediate: FAIL (Go refuses; LibreSSL's verify says OK)."""
    root = make_ca("Short Root CA", path_length=0)
    intermediate = make_ca("Too Deep Issuing CA", root)
    result = _check(cli, tmp_path, make_leaf(intermediate, HOSTS), (root, intermediate))
    assert result.code == 1, result.out
    (verdict,) = [f for f in json.loads(result.out)["findings"] if f["check"] == "chain-verifies"]
    assert verdict["status"] == "fail"
    assert "CN=Short Root CA allows 0 CA(s) below it (pathlen:0)" in verdict["message"]


def test_a_san_ending_in_a_dot_covers_no_host(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """SAN 'flow.mycompany.com.': Go and openssl -verify_hostname refuse the host, so does check."""
    leaf = make_leaf(pki[1], ["flow.mycompany.com."])
    (tmp_path / "leaf.crt").write_bytes(leaf.pem())
    with pytest.raises(subprocess.CalledProcessError) as refused:
        openssl("verify", "-CAfile", str(write(tmp_path, "root.crt", pki[0].pem())),
                "-untrusted", str(write(tmp_path, "i.crt", pki[1].pem())),
                "-verify_hostname", "flow.mycompany.com", "leaf.crt", cwd=tmp_path,
                system=True)  # fmt: skip
    assert b"hostname mismatch" in refused.value.stdout + refused.value.stderr
    result = cli("check", "--cert", "leaf.crt", "--host", "flow.mycompany.com", "--json")
    assert result.code == 1
    (hostname,) = [f for f in json.loads(result.out)["findings"] if f["check"] == "hostname"]
    assert hostname["status"] == "fail"
    assert "a name ending in a dot matches only that dotted name" in hostname["message"]


def test_an_ed25519_key_is_named_without_a_size(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """key-strength of an Ed25519 leaf says 'ED25519', never 'None bits'."""
    key = ed25519.Ed25519PrivateKey.generate()
    template = make_leaf(pki[1], HOSTS).cert
    cert = (
        x509.CertificateBuilder()
        .subject_name(template.subject)
        .issuer_name(template.issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(template.not_valid_before_utc)
        .not_valid_after(template.not_valid_after_utc)
        .add_extension(
            template.extensions.get_extension_for_class(x509.SubjectAlternativeName).value,
            critical=False,
        )
        .sign(pki[1].key, hashes.SHA256())
    )
    write(tmp_path, "ed.crt", cert.public_bytes(serialization.Encoding.PEM))
    result = cli("check", "--cert", "ed.crt", "--json")
    (strength,) = [f for f in json.loads(result.out)["findings"] if f["check"] == "key-strength"]
    assert strength["status"] == "fail"
    assert strength["message"].startswith("key is ED25519: browsers do not accept it")


def test_an_rsa_pss_key_fails_key_strength(cli: Callable[..., Run], tmp_path: Path) -> None:
    """An RSA-PSS key (id-RSASSA-PSS, which Go cannot load): key-strength fails, not RSA 2048."""
    openssl("genpkey", "-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048",
            "-out", str(tmp_path / "ps.key"))  # fmt: skip
    openssl("req", "-new", "-x509", "-key", str(tmp_path / "ps.key"), "-subj", "/CN=ps.example.com",
            "-days", "30", "-out", str(tmp_path / "ps.crt"))  # fmt: skip
    result = cli("check", "--cert", "ps.crt", "--key", "ps.key", "--json")
    assert result.code == 1, result.out + result.err
    findings = {f["check"]: f for f in json.loads(result.out)["findings"]}
    assert findings["key-matches-cert"]["status"] == "pass"  # its own key: only its kind fails
    assert findings["key-strength"]["status"] == "fail"
    message = findings["key-strength"]["message"]
    assert message.startswith("key is RSA-PSS 2048 bits (id-RSASSA-PSS, not rsaEncryption)")
    assert "RSA (rsaEncryption) or EC P-256/P-384" in message


def _copy(ca: Issued, issuer: Issued, *, expired: bool) -> Issued:
    """
    Another certificate for ``ca``'s name and key, issued by ``issuer`` (a cross-sign, or
    an old copy of an intermediate), in date or expired an hour ago.
    """
    builder = (
        x509.CertificateBuilder()
        .subject_name(ca.cert.subject)
        .issuer_name(issuer.cert.subject)
        .public_key(ca.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=400))
        .not_valid_after(NOW - timedelta(hours=1) if expired else NOW + timedelta(days=400))
    )
    for extension in ca.cert.extensions:
        if not isinstance(extension.value, x509.AuthorityKeyIdentifier):
            builder = builder.add_extension(extension.value, critical=extension.critical)
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
        critical=False,
    )
    return Issued(builder.sign(issuer.key, hashes.SHA256()), ca.key)


@pytest.mark.parametrize("shape", ["expired-cross-sign", "root-sent-pathlen-0"])
def test_what_clients_accept_is_not_failed(
    cli: Callable[..., Run], tmp_path: Path, shape: str
) -> None:
    """An expired cross-sign above the trusted root, or a pathlen:0 root sent too: a pass."""
    if shape == "expired-cross-sign":  # Sectigo/AddTrust 2020, Let's Encrypt DST X3 2024
        root = make_ca("Root B")
        intermediate = make_ca("Issuing B", root)
        sent = [intermediate, _copy(root, make_ca("Old Root A"), expired=True)]
    else:
        root = make_ca("Short Root", path_length=0)
        intermediate, sent = root, [root]
    leaf = make_leaf(intermediate, HOSTS)
    args = ["check", "--cert", str(write(tmp_path, "leaf.crt", leaf.pem())),
            "--key", str(write(tmp_path, "leaf.key", leaf.key_pem())),
            "--chain", str(write(tmp_path, "chain.crt", *(c.pem() for c in sent))),
            "--ca-file", str(write(tmp_path, "root.crt", root.pem())), "--json"]  # fmt: skip
    for host in HOSTS:
        args += ["--host", host]
    result = cli(*args)
    findings = {f["check"]: f for f in json.loads(result.out)["findings"]}
    assert findings["chain-verifies"]["status"] == "pass", findings["chain-verifies"]
    assert result.code == 0, result.out


def test_two_versions_of_an_intermediate_are_named(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """An expired old copy of the intermediate sent too: verified, and named by chain-order."""
    root, intermediate = pki
    old = _copy(intermediate, root, expired=True)
    leaf = make_leaf(intermediate, HOSTS)
    chain = write(tmp_path, "sent.crt", old.pem(), intermediate.pem())
    result = _check(cli, tmp_path, leaf, pki, "--chain", str(chain), chain=False)
    findings = {f["check"]: f for f in json.loads(result.out)["findings"]}
    assert findings["chain-verifies"]["status"] == "pass", findings["chain-verifies"]
    assert findings["chain-order"]["status"] == "fail"
    assert (
        "two versions of CN=Test Issuing CA: send only the one in date"
        in (findings["chain-order"]["message"])
    )


def test_ca_file_means_only_those_roots(
    cli: Callable[..., Run],
    tmp_path: Path,
    pki: tuple[Issued, Issued],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The chain's root in the system's folder, another in --ca-file: not trusted, never 'OK'."""
    root, _ = pki
    system = tmp_path / "system"
    system.mkdir()
    write(system, "root.pem", root.pem())
    openssl("rehash", str(system), system=True)
    monkeypatch.setenv("SSL_CERT_DIR", str(system))
    other = make_ca("Another Root")
    leaf = make_leaf(pki[1], HOSTS)
    result = _check(cli, tmp_path, leaf, (other, pki[1]))
    (verdict,) = [f for f in json.loads(result.out)["findings"] if f["check"] == "chain-verifies"]
    assert verdict["status"] == "warn", verdict
    assert "is not among the roots in" in verdict["message"]


def test_an_intermediate_given_as_the_root_is_a_warning_saying_so(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """--ca-file holding the issuing CA, not its root: warn (Go takes it, openssl verify not)."""
    root, intermediate = pki
    leaf = make_leaf(intermediate, HOSTS)
    result = _check(cli, tmp_path, leaf, (intermediate, intermediate))
    (verdict,) = [f for f in json.loads(result.out)["findings"] if f["check"] == "chain-verifies"]
    assert verdict["status"] == "warn", verdict
    assert "CN=Test Issuing CA among the roots in" in verdict["message"]
    assert f"want its root too (CN={root.cert.subject.rfc4514_string()[3:]})" in verdict["message"]


def _chain_order(result: Run) -> dict[str, str]:
    (found,) = [f for f in json.loads(result.out)["findings"] if f["check"] == "chain-order"]
    return {"status": found["status"], "message": found["message"]}


def test_a_wrong_intermediate_is_named_so_not_an_order_to_fix(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """An intermediate that issued nothing sent: 'the wrong intermediate', never 'order them'."""
    root = make_ca("Order Root")
    right, wrong = make_ca("Right Issuing", root), make_ca("Wrong Issuing", root)
    leaf = make_leaf(right, ["flow.mycompany.com"])
    write(tmp_path, "wrong.pem", leaf.pem(), wrong.pem())
    write(tmp_path, "swapped.pem", leaf.pem(), root.pem(), right.pem())
    write(tmp_path, "root.pem", root.pem())
    found = _chain_order(cli("check", "--cert", "wrong.pem", "--ca-file", "root.pem", "--json"))
    assert found["status"] == "fail"
    assert "CN=Wrong Issuing" in found["message"]
    assert "the wrong intermediate; send CN=Right Issuing instead" in found["message"]
    assert "order them" not in found["message"]
    swapped = _chain_order(cli("check", "--cert", "swapped.pem", "--ca-file", "root.pem", "--json"))
    assert "order them leaf, intermediate(s), (root)" in swapped["message"]


def _tlv(data: bytes, at: int) -> tuple[int, int]:
    """Where the DER element at ``at`` starts its content, and where it ends."""
    length, start = data[at + 1], at + 2
    if length & 0x80:
        count = length & 0x7F
        length, start = int.from_bytes(data[start : start + count], "big"), start + count
    return start, start + length


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    body = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(body)]) + body + content


def _elements(der: bytes) -> list[bytes]:
    """The elements a DER SEQUENCE holds, each whole."""
    at, end = _tlv(der, 0)
    found = []
    while at < end:
        stop = _tlv(der, at)[1]
        found.append(der[at:stop])
        at = stop
    return found


def _signed_with(cert: x509.Certificate, oid: bytes) -> bytes:
    """
    The certificate as PEM, its signature algorithm (inside and out) replaced by the
    OID ``oid`` (its DER content): what a CA signing with MD2, MD4 or SHA-0 wrote (no
    library here signs with them, so the signature no longer matches).
    """
    tbs, _, signature = _elements(cert.public_bytes(serialization.Encoding.DER))
    algorithm = _der(0x30, _der(0x06, oid) + b"\x05\x00")
    fields = _elements(tbs)
    fields[2 if fields[0][0] == 0xA0 else 1] = algorithm
    whole = _der(0x30, _der(0x30, b"".join(fields)) + algorithm + signature)
    return x509.load_der_x509_certificate(whole).public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize(
    ("oid", "words"),
    [
        (bytes.fromhex("2a864886f70d010102"), "md2WithRSAEncryption"),  # 1.2.840.113549.1.1.2
        (bytes.fromhex("2a864886f70d010103"), "md4WithRSAEncryption"),
        (bytes.fromhex("2b0e03020f"), "shaWithRSAEncryption"),  # 1.3.14.3.2.15: SHA-0
        (bytes.fromhex("2a864886f70d010104"), "md5WithRSAEncryption"),
    ],
    ids=["md2", "md4", "sha0", "md5"],
)
def test_md2_md4_and_sha0_signatures_fail_like_md5(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued], oid: bytes, words: str
) -> None:
    """A leaf or an intermediate signed with MD2, MD4 or SHA-0: signature-hash fails, naming it."""
    root, intermediate = pki
    leaf = make_leaf(intermediate, HOSTS)
    write(tmp_path, "weak-leaf.pem", _signed_with(leaf.cert, oid))
    write(tmp_path, "chain.pem", intermediate.pem())
    write(tmp_path, "root.pem", root.pem())
    common = ["--ca-file", "root.pem", "--json"]
    result = cli("check", "--cert", "weak-leaf.pem", "--chain", "chain.pem", *common)
    found = {f["check"]: f for f in json.loads(result.out)["findings"]}
    assert found["signature-hash"]["status"] == "fail"
    assert f"the certificate is signed with {words}" in found["signature-hash"]["message"]
    write(tmp_path, "weak-chain.pem", _signed_with(intermediate.cert, oid))
    write(tmp_path, "leaf.pem", leaf.pem())
    result = cli("check", "--cert", "leaf.pem", "--chain", "weak-chain.pem", *common)
    found = {f["check"]: f for f in json.loads(result.out)["findings"]}
    assert result.code == 1
    assert found["signature-hash"]["status"] == "fail"
    assert f"CN=Test Issuing CA is signed with {words}" in found["signature-hash"]["message"]
