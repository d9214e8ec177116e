"""ca revoke, ca crl and ca list against real openssl: CRLs clients act on, on every build."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.x509.oid import CRLEntryExtensionOID

from flow_ssl.ca.index import serial_text
from tests.helpers import OPENSSL, contents, listing, load_cert, openssl, requires_openssl, run_sh
from tests.test_ca_records import index_lines, status

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.helpers import Run

pytestmark = requires_openssl


def _issue(cli: Callable[..., Run], ca: str, host: str, *extra: str) -> int:
    made = cli("ca", "issue", "--dir", ca, "--cn", host, "--subj", "--key", "ec:P-256", *extra)
    assert made.code == 0, made.err
    return int(json.loads(made.out)["serial"], 16) if "--json" in extra else 0


def verify_with_crl(
    cert: Path, root: Path, crls: list[Path], *chain: Path, leaf_only: bool = False
) -> tuple[int, str]:
    """
    ``openssl verify -crl_check_all`` (``leaf_only``: ``-crl_check``) with the CRLs in one
    file (LibreSSL reads only the last -CRLfile).
    """
    assert OPENSSL is not None
    joined = cert.parent / "all-crls.pem"
    joined.write_bytes(b"".join(path.read_bytes() for path in crls))
    flag = "-crl_check" if leaf_only else "-crl_check_all"
    argv = [OPENSSL, "verify", flag, "-CAfile", str(root), "-CRLfile", str(joined)]
    for intermediate in chain:
        argv += ["-untrusted", str(intermediate)]
    done = subprocess.run([*argv, str(cert)], capture_output=True, text=True, check=False)
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def hosts(cli: Callable[..., Run], tmp_path: Path) -> Path:
    """A root (./root), an issuing CA (./issuing) and three leaves from it."""
    for args in (
        ("--dir", "root", "--name", "Revoking Root"),
        ("--dir", "issuing", "--name", "Revoking Issuing", "--parent", "root"),
    ):
        made = cli("ca", "init", *args, "--key", "ec:P-256")
        assert made.code == 0, made.err
    for host in ("keep.mycompany.com", "lost.mycompany.com", "old.mycompany.com"):
        _issue(cli, "issuing", host)
    return tmp_path


def test_a_revoked_certificate_is_refused_by_openssl_verify_with_the_crl(
    cli: Callable[..., Run], hosts: Path
) -> None:
    """ca revoke, then the CRLs: verify -crl_check_all refuses the revoked leaf, passes the rest."""
    lost = load_cert(hosts / "lost.mycompany.com.crt")
    revoked = cli(
        "ca", "revoke", "lost.mycompany.com.crt", "--dir", "issuing", "--reason", "keyCompromise"
    )
    assert revoked.code == 0, revoked.err
    old = load_cert(hosts / "old.mycompany.com.crt").serial_number
    by_serial = cli(
        "ca", "revoke", "--dir", "issuing", "--serial", f"{old:x}", "--reason", "superseded"
    )
    assert by_serial.code == 0, by_serial.err
    assert cli("ca", "crl", "--dir", "root").code == 0
    root, issuing = hosts / "root" / "ca.crt", hosts / "issuing" / "ca.crt"
    crls = [hosts / "issuing" / "crl.pem", hosts / "root" / "crl.pem"]
    code, said = verify_with_crl(hosts / "lost.mycompany.com.crt", root, crls, issuing)
    assert code != 0
    assert "error 23 at 0 depth lookup" in said
    assert "certificate revoked" in said
    code, said = verify_with_crl(hosts / "old.mycompany.com.crt", root, crls, issuing)
    assert code != 0
    assert "certificate revoked" in said
    code, said = verify_with_crl(hosts / "keep.mycompany.com.crt", root, crls, issuing)
    assert code == 0, said
    assert said.strip().endswith("keep.mycompany.com.crt: OK")
    # -crl_check (the leaf's CRL only) says the same of the leaves.
    leaf_crl = [hosts / "issuing" / "crl.pem"]
    for host, revoked_here in (("lost", True), ("old", True), ("keep", False)):
        cert = hosts / f"{host}.mycompany.com.crt"
        code, said = verify_with_crl(cert, root, leaf_crl, issuing, leaf_only=True)
        assert (code != 0 and "certificate revoked" in said) is revoked_here, said
        assert (code == 0) is not revoked_here
    # The CRL, read by cryptography: signed by the issuing CA, numbered, reasons kept.
    crl = x509.load_pem_x509_crl((hosts / "issuing" / "crl.pem").read_bytes())
    assert crl.is_signature_valid(load_cert(issuing).public_key())  # type: ignore[arg-type]
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 2
    entry = crl.get_revoked_certificate_by_serial_number(lost.serial_number)
    assert entry is not None
    reason = entry.extensions.get_extension_for_oid(CRLEntryExtensionOID.CRL_REASON).value
    assert reason.reason == x509.ReasonFlags.key_compromise  # type: ignore[attr-defined]
    assert crl.next_update_utc is not None
    assert crl.next_update_utc - crl.last_update_utc == timedelta(days=30)


def test_a_revoked_issuing_ca_takes_its_leaves_down(cli: Callable[..., Run], hosts: Path) -> None:
    """The root revokes the issuing CA: every leaf under it fails verify -crl_check_all."""
    revoked = cli(
        "ca",
        "revoke",
        str(hosts / "issuing" / "ca.crt"),
        "--dir",
        "root",
        "--reason",
        "CACompromise",
    )
    assert revoked.code == 0, revoked.err
    assert cli("ca", "crl", "--dir", "issuing").code == 0
    code, said = verify_with_crl(
        hosts / "keep.mycompany.com.crt",
        hosts / "root" / "ca.crt",
        [hosts / "issuing" / "crl.pem", hosts / "root" / "crl.pem"],
        hosts / "issuing" / "ca.crt",
    )
    assert code != 0
    assert "error 23 at 1 depth lookup" in said


def test_a_der_copy_and_the_folder_crl_hold_the_same_crl(
    cli: Callable[..., Run], hosts: Path
) -> None:
    """ca crl --out --der: the same CRL as the folder's crl.pem, binary; numbers go up."""
    first = cli(
        "ca", "crl", "--dir", "issuing", "--days", "7", "--out", "pub.crl", "--der", "--json"
    )
    assert first.code == 0, first.err
    data = json.loads(first.out)
    pem = x509.load_pem_x509_crl((hosts / "issuing" / "crl.pem").read_bytes())
    binary = x509.load_der_x509_crl((hosts / "pub.crl").read_bytes())
    assert pem == binary
    assert data["crl"]["number"] == 1
    assert data["crl"]["revoked"] == []
    assert pem.next_update_utc is not None
    assert pem.next_update_utc - pem.last_update_utc == timedelta(days=7)
    again = cli("ca", "crl", "--dir", "issuing", "--out", "pub.crl", "--der")
    assert again.code == 2
    assert "pub.crl already exists" in again.err
    forced = cli("ca", "crl", "--dir", "issuing", "--out", "pub.crl", "--der", "--force")
    assert forced.code == 0, forced.err
    assert list(hosts.glob("pub.crl.bak-*"))
    number = x509.load_der_x509_crl((hosts / "pub.crl").read_bytes()).extensions
    assert number.get_extension_for_class(x509.CRLNumber).value.crl_number == 2


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--serial", "0123"), "serial 0123 is not in issuing/index.txt"),
        (("--serial", "xyz"), "'xyz' is not a serial number in hex"),
        (("root/ca.crt",), "root/ca.crt was issued by CN=Revoking Root, not by Revoking Issuing"),
        (("issuing/ca.crt",), "is the CA's own certificate"),
        (("keep.mycompany.com.crt", "--reason", "privilegeWithdrawn"), "privilegeWithdrawn: give"),
        ((), "give the certificate to revoke, or --serial"),
    ],
)
def test_a_revocation_that_cannot_be_is_bad_input_and_changes_nothing(
    cli: Callable[..., Run], hosts: Path, args: tuple[str, ...], words: str
) -> None:
    """An unknown serial, another CA's or the CA's own certificate, a bad reason: exit 2."""
    before, files_before = contents(hosts / "issuing"), listing(hosts)
    result = cli("ca", "revoke", "--dir", "issuing", *args)
    assert result.code == 2, result.err
    assert words in result.err
    assert contents(hosts / "issuing") == before
    assert listing(hosts) == files_before


def test_revoking_twice_is_refused(cli: Callable[..., Run], hosts: Path) -> None:
    """The second revocation of one certificate: exit 2 saying when; index and CRL unchanged."""
    first = cli("ca", "revoke", "lost.mycompany.com.crt", "--dir", "issuing", "--json")
    assert first.code == 0, first.err
    said = json.loads(first.out)
    lost = load_cert(hosts / "lost.mycompany.com.crt").serial_number
    assert int(said["revoked"]["serial"], 16) == lost
    assert said["revoked"]["reason"] is None
    assert [int(e["serial"], 16) for e in said["crl"]["revoked"]] == [lost]
    assert said["files"] == {"crl": "issuing/crl.pem"}
    before = contents(hosts / "issuing")
    again = cli(
        "ca", "revoke", "lost.mycompany.com.crt", "--dir", "issuing", "--reason", "superseded"
    )
    assert again.code == 2
    assert "was revoked already" in again.err
    assert contents(hosts / "issuing") == before


def test_a_forged_certificate_with_the_cas_name_is_not_revoked(
    cli: Callable[..., Run], hosts: Path
) -> None:
    """A certificate naming the CA as issuer but signed by another key: exit 2 (signature)."""
    assert cli("ca", "init", "--dir", "twin", "--name", "Revoking Issuing").code == 0
    _issue(cli, "twin", "twin.mycompany.com")
    before = contents(hosts / "issuing")
    result = cli("ca", "revoke", "twin.mycompany.com.crt", "--dir", "issuing")
    assert result.code == 2
    assert "not by Revoking Issuing in issuing: nothing was revoked" in result.err
    assert contents(hosts / "issuing") == before


def test_a_certificate_a_printed_script_issued_can_be_revoked(
    cli: Callable[..., Run], hosts: Path
) -> None:
    """Not in the index (a printed script records nothing): openssl adds it, revoked."""
    printed = cli(
        "ca",
        "issue",
        "--dir",
        "issuing",
        "--cn",
        "script.mycompany.com",
        "--subj",
        "--key",
        "ec:P-256",
        "--print",
    )
    assert printed.code == 0, printed.err
    run_sh(printed.out, hosts)
    serial = load_cert(hosts / "script.mycompany.com.crt").serial_number
    assert serial not in [int(line[3], 16) for line in index_lines(hosts / "issuing")]
    result = cli("ca", "revoke", "script.mycompany.com.crt", "--dir", "issuing")
    assert result.code == 0, result.err
    assert "openssl adds it, revoked" in result.out
    crl = x509.load_pem_x509_crl((hosts / "issuing" / "crl.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None


def test_a_printed_revocation_runs_as_flow_ssl_would(cli: Callable[..., Run], hosts: Path) -> None:
    """ca revoke --print writes nothing; run by sh, it revokes and makes the CRL."""
    before = contents(hosts / "issuing")
    printed = cli(
        "ca",
        "revoke",
        "lost.mycompany.com.crt",
        "--dir",
        "issuing",
        "--reason",
        "cessationOfOperation",
        "--print",
    )
    assert printed.code == 0, printed.err
    assert contents(hosts / "issuing") == before
    assert "openssl ca -config" in printed.out
    run_sh(printed.out, hosts)
    lost = load_cert(hosts / "lost.mycompany.com.crt").serial_number
    crl = x509.load_pem_x509_crl((hosts / "issuing" / "crl.pem").read_bytes())
    entry = crl.get_revoked_certificate_by_serial_number(lost)
    assert entry is not None
    reason = entry.extensions.get_extension_for_oid(CRLEntryExtensionOID.CRL_REASON).value
    assert reason.reason == x509.ReasonFlags.cessation_of_operation  # type: ignore[attr-defined]
    listed = json.loads(cli("ca", "list", "--dir", "issuing", "--json").out)
    assert {c["status"] for c in listed["certificates"] if int(c["serial"], 16) == lost} == {
        "revoked"
    }


def _expire(folder: Path, serial: int) -> None:
    """Time passes for one certificate: its index line's expiry moves into the past."""
    lines = index_lines(folder)
    for line in lines:
        if int(line[3], 16) == serial:
            line[1] = "200101000000Z"
    (folder / "index.txt").write_text("".join("\t".join(line) + "\n" for line in lines))


def test_list_agrees_with_openssl_ca_status(cli: Callable[..., Run], hosts: Path) -> None:
    """Valid, revoked and expired: ca list and openssl ca -status say the same of each."""
    assert cli("ca", "revoke", "lost.mycompany.com.crt", "--dir", "issuing").code == 0
    old = load_cert(hosts / "old.mycompany.com.crt").serial_number
    _expire(hosts / "issuing", old)
    result = cli("ca", "list", "--dir", "issuing", "--json")
    assert result.code == 0, result.err
    listed = json.loads(result.out)["certificates"]
    states = {c["names"][0]: c["status"] for c in listed}
    assert states == {
        "keep.mycompany.com": "valid",
        "lost.mycompany.com": "revoked",
        "old.mycompany.com": "expired",
    }
    for certificate in listed:
        assert status(hosts / "issuing", certificate["serial"].upper()) == certificate["status"]
    text = cli("ca", "list", "--dir", "issuing")
    assert "3 certificate(s), 1 valid, 1 revoked, 1 expired" in text.out


def test_list_expiring_fails_for_cron(cli: Callable[..., Run], hosts: Path) -> None:
    """--expiring DAYS: exit 1 naming what ends within DAYS; revoked and expired do not count."""
    _issue(cli, "issuing", "soon.mycompany.com", "--days", "5")
    assert cli("ca", "list", "--dir", "issuing", "--expiring", "4").code == 0
    due = cli("ca", "list", "--dir", "issuing", "--expiring", "6", "--json")
    assert due.code == 1
    soon = load_cert(hosts / "soon.mycompany.com.crt").serial_number
    assert json.loads(due.out)["expiring"] == [f"{soon:x}"]
    assert "1 certificate(s) expire within 6 days" in due.err
    assert "soon.mycompany.com" in due.err
    assert cli("ca", "revoke", "soon.mycompany.com.crt", "--dir", "issuing").code == 0
    assert cli("ca", "list", "--dir", "issuing", "--expiring", "6").code == 0


def test_a_renewed_certificate_stops_the_expiry_alarm_and_is_not_retired_by_its_new_file(
    cli: Callable[..., Run], hosts: Path
) -> None:
    """After renew: --expiring leaves the superseded one out; NAME.crt superseded is refused."""
    _issue(cli, "issuing", "e.mycompany.com", "--days", "10")
    old = load_cert(hosts / "e.mycompany.com.crt").serial_number
    assert cli("ca", "list", "--dir", "issuing", "--expiring", "30").code == 1
    renewed = cli("renew", "e.mycompany.com.crt", "--ca-dir", "issuing")
    assert renewed.code == 0, renewed.err
    new = load_cert(hosts / "e.mycompany.com.crt").serial_number
    assert new != old
    quiet = cli("ca", "list", "--dir", "issuing", "--expiring", "30", "--json")
    assert quiet.code == 0, quiet.err
    assert json.loads(quiet.out)["expiring"] == []
    wrong = cli("ca", "revoke", "e.mycompany.com.crt", "--dir", "issuing", "--reason", "superseded")
    assert wrong.code == 2, wrong.err
    assert f"--serial {serial_text(old)} --reason superseded" in wrong.err
    listed = {int(c["serial"], 16): c["status"] for c in json.loads(quiet.out)["certificates"]}
    assert listed[new] == "valid"
    by_serial = cli(
        "ca", "revoke", "--dir", "issuing", "--serial", f"{old:x}", "--reason", "superseded"
    )
    assert by_serial.code == 0, by_serial.err
    after = json.loads(cli("ca", "list", "--dir", "issuing", "--json").out)["certificates"]
    states = {int(c["serial"], 16): c["status"] for c in after}
    assert (states[old], states[new]) == ("revoked", "valid")


def test_list_warns_of_a_crl_past_or_near_its_next_update(
    cli: Callable[..., Run], hosts: Path
) -> None:
    """The silent failure: a CRL past nextUpdate, or near it, or missing a revocation."""
    from flow_ssl.ca import inventory
    from flow_ssl.ca.authority import open_ca

    assert cli("ca", "revoke", "lost.mycompany.com.crt", "--dir", "issuing").code == 0
    assert cli("ca", "crl", "--dir", "issuing", "--days", "10").code == 0
    authority = open_ca(hosts / "issuing", passin=None)
    now = datetime.now(timezone.utc)
    assert inventory.take(authority, now=now).warnings == []
    (near,) = inventory.take(authority, now=now + timedelta(days=6)).warnings
    assert "Revoking Issuing's CRL (number 2) expires" in near
    assert "in 3 days" in near or "in 4 days" in near
    (past,) = inventory.take(authority, now=now + timedelta(days=11)).warnings
    assert "expired" in past
    assert "refuse every certificate it issued" in past
    # A revocation the CRL does not carry yet (its CRL failed to be made, say).
    index = hosts / "issuing" / "index.txt"
    keep = load_cert(hosts / "keep.mycompany.com.crt").serial_number
    lines = index_lines(hosts / "issuing")
    for line in lines:
        if int(line[3], 16) == keep:
            line[0], line[2] = "R", "261201000000Z"
    index.write_text("".join("\t".join(line) + "\n" for line in lines))
    listed = cli("ca", "list", "--dir", "issuing")
    assert "1 revoked certificate(s) are not in the last CRL (number 2) yet" in listed.err


def test_a_locked_ca_key_revokes_with_its_pass_source(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An encrypted CA key: revoke needs --ca-pass (exit 2 without); list does not."""
    monkeypatch.setenv("CA_WORDS", "correct horse battery")
    made = cli("ca", "init", "--dir", "locked", "--name", "Locked", "--ca-pass", "env:CA_WORDS")
    assert made.code == 0, made.err
    _issue(cli, "locked", "a.mycompany.com", "--ca-pass", "env:CA_WORDS")
    without = cli("ca", "revoke", "a.mycompany.com.crt", "--dir", "locked")
    assert without.code == 2
    assert "--ca-pass" in without.err
    done = cli(
        "ca", "revoke", "a.mycompany.com.crt", "--dir", "locked", "--ca-pass", "env:CA_WORDS"
    )
    assert done.code == 0, done.err
    assert "correct horse" not in done.out + done.err
    assert cli("ca", "list", "--dir", "locked").code == 0
    assert (tmp_path / "locked" / "crl.pem").is_file()


def test_crl_distribution_points_in_what_the_ca_signs(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """ca init --crl-url: in each certificate the CA signs; sign/issue --crl-url for one."""
    root_url, issuing_url = "http://pki.mycompany.com/root.crl", "http://pki.mycompany.com/i.crl"
    assert (
        cli(
            "ca",
            "init",
            "--dir",
            "root",
            "--name",
            "CDP Root",
            "--key",
            "ec:P-256",
            "--crl-url",
            root_url,
        ).code
        == 0
    )
    assert (
        cli(
            "ca",
            "init",
            "--dir",
            "issuing",
            "--name",
            "CDP Issuing",
            "--key",
            "ec:P-256",
            "--parent",
            "root",
            "--crl-url",
            issuing_url,
        ).code
        == 0
    )
    _issue(cli, "issuing", "a.mycompany.com")
    _issue(cli, "issuing", "b.mycompany.com", "--crl-url", "http://other.mycompany.com/x.crl")
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
        "c.key",
        "-subj",
        "/CN=c.mycompany.com",
        "-out",
        "c.csr",
        cwd=tmp_path,
    )
    assert cli("ca", "sign", "c.csr", "--dir", "root").code == 0

    def points(path: Path) -> list[str]:
        found = load_cert(path).extensions.get_extension_for_class(x509.CRLDistributionPoints)
        return [str(name.value) for point in found.value for name in point.full_name or []]

    assert points(tmp_path / "issuing" / "ca.crt") == [root_url]
    assert points(tmp_path / "a.mycompany.com.crt") == [issuing_url]
    assert points(tmp_path / "b.mycompany.com.crt") == ["http://other.mycompany.com/x.crl"]
    assert points(tmp_path / "c.crt") == [root_url]
    root = load_cert(tmp_path / "root" / "ca.crt")
    with pytest.raises(x509.ExtensionNotFound):
        root.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    bad = cli(
        "ca",
        "issue",
        "--dir",
        "root",
        "--cn",
        "d.mycompany.com",
        "--subj",
        "--crl-url",
        "http://a.example/x.crl,URI:http://b",
    )
    assert bad.code == 2
    assert "--crl-url: " in bad.err


def _findings(result: Run) -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = {}
    for item in json.loads(result.out)["findings"]:
        found.setdefault(item["check"], []).append(item)
    return found


@pytest.mark.usefixtures("hosts")
def test_check_fails_a_revoked_certificate_and_passes_the_others(cli: Callable[..., Run]) -> None:
    """check --crl: revocation fails for the revoked leaf (exit 1), passes for the kept one."""
    assert cli("ca", "revoke", "lost.mycompany.com.crt", "--dir", "issuing").code == 0
    assert cli("ca", "crl", "--dir", "root").code == 0
    crls = ["--crl", "issuing/crl.pem", "--crl", "root/crl.pem"]
    common = ["--ca-file", "root/ca.crt", *crls, "--json"]
    lost = cli("check", "--cert", "lost.mycompany.com.fullchain.pem", *common)
    assert lost.code == 1, lost.out
    found = _findings(lost)
    (revoked,) = found["revocation"]
    assert revoked["status"] == "fail"
    serial = serial_text(load_cert(Path("lost.mycompany.com.crt")).serial_number)
    assert revoked["message"].startswith(f"lost.mycompany.com (serial {serial}) ")
    assert "is revoked by Revoking Issuing's CRL since" in revoked["message"]
    assert [f["status"] for f in found["crl"]] == ["pass", "pass"]
    kept = cli("check", "--cert", "keep.mycompany.com.fullchain.pem", *common)
    assert kept.code == 0, kept.out
    assert _findings(kept)["revocation"] == [
        {
            "check": "revocation",
            "status": "pass",
            "message": "not revoked (the CRL of Revoking Issuing, Revoking Root)",
        }
    ]


@pytest.mark.usefixtures("hosts")
@pytest.mark.parametrize("order", ["root first", "issuing first"])
def test_check_reads_every_crl_of_one_file(
    cli: Callable[..., Run], hosts: Path, order: str
) -> None:
    """check --crl of one file holding the root's and the issuing CA's CRLs: both are read."""
    assert cli("ca", "revoke", "lost.mycompany.com.crt", "--dir", "issuing").code == 0
    assert cli("ca", "crl", "--dir", "root").code == 0
    parts = [
        (hosts / "root" / "crl.pem").read_bytes(),
        (hosts / "issuing" / "crl.pem").read_bytes(),
    ]
    if order == "issuing first":
        parts.reverse()
    (hosts / "crls.pem").write_bytes(b"".join(parts))
    common = ["--ca-file", "root/ca.crt", "--crl", "crls.pem", "--json"]
    lost = cli("check", "--cert", "lost.mycompany.com.fullchain.pem", *common)
    assert lost.code == 1, lost.out
    found = _findings(lost)
    assert [f["status"] for f in found["revocation"]] == ["fail"]
    assert [f["status"] for f in found["crl"]] == ["pass", "pass"]
    kept = cli("check", "--cert", "keep.mycompany.com.fullchain.pem", *common)
    assert kept.code == 0, kept.out
    (said,) = _findings(kept)["revocation"]
    assert said["status"] == "pass"
    assert "Revoking Issuing" in said["message"]
    assert "Revoking Root" in said["message"]


@pytest.mark.usefixtures("hosts")
def test_check_says_not_known_without_the_leaf_issuers_crl(cli: Callable[..., Run]) -> None:
    """check --crl with the root's CRL alone: it cannot list the leaf, so no "not revoked"."""
    assert cli("ca", "revoke", "lost.mycompany.com.crt", "--dir", "issuing").code == 0
    assert cli("ca", "crl", "--dir", "root").code == 0
    result = cli("check", "--cert", "lost.mycompany.com.fullchain.pem", "--ca-file",
                 "root/ca.crt", "--crl", "root/crl.pem", "--json")  # fmt: skip
    (said,) = _findings(result)["revocation"]
    assert said["status"] == "warn", said
    assert "the CRL of Revoking Issuing, the CA that issued it, was not given" in said["message"]
    assert (result.code, json.loads(result.out)["ready"]) == (0, True)


@pytest.mark.usefixtures("hosts")
def test_check_refuses_a_crl_no_ca_of_the_chain_signed(cli: Callable[..., Run]) -> None:
    """A CRL with the issuing CA's name, signed by another key, proves nothing: it fails."""
    assert cli("ca", "init", "--dir", "twin", "--name", "Revoking Issuing").code == 0
    assert cli("ca", "crl", "--dir", "twin").code == 0
    result = cli(
        "check",
        "--cert",
        "keep.mycompany.com.fullchain.pem",
        "--ca-file",
        "root/ca.crt",
        "--crl",
        "twin/crl.pem",
        "--json",
    )
    assert result.code == 1
    (said,) = _findings(result)["crl"]
    assert said["status"] == "fail"
    assert "no CA of this chain signed" in said["message"]


def test_check_warns_of_a_crl_past_its_next_update(cli: Callable[..., Run], hosts: Path) -> None:
    """A CRL whose nextUpdate has passed (made by hand with the CA's key): a warning, not ready."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = serialization.load_pem_private_key((hosts / "issuing" / "ca.key").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    issuer = load_cert(hosts / "issuing" / "ca.crt")
    now = datetime.now(timezone.utc)
    stale = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now - timedelta(days=40))
        .next_update(now - timedelta(days=10))
        .add_extension(x509.CRLNumber(7), critical=False)
        .sign(key, hashes.SHA256())
    )
    (hosts / "stale.crl").write_bytes(stale.public_bytes(serialization.Encoding.DER))
    result = cli(
        "check",
        "--cert",
        "keep.mycompany.com.fullchain.pem",
        "--ca-file",
        "root/ca.crt",
        "--crl",
        "stale.crl",
        "--json",
    )
    assert result.code == 0, result.out
    (said,) = _findings(result)["crl"]
    assert said["status"] == "warn"
    assert "Revoking Issuing's CRL (number 7) expired" in said["message"]
    assert "refuse every certificate it issued" in said["message"]


def test_a_lost_crl_number_file_goes_on_from_the_last_crl(
    cli: Callable[..., Run], hosts: Path
) -> None:
    """crlnumber deleted: the next CRL still gets a number above the last one's."""
    for _ in range(2):
        assert cli("ca", "crl", "--dir", "issuing").code == 0
    (hosts / "issuing" / "crlnumber").unlink()
    again = cli("ca", "crl", "--dir", "issuing", "--json")
    assert again.code == 0, again.err
    assert json.loads(again.out)["crl"]["number"] == 3


@pytest.mark.usefixtures("hosts")
@pytest.mark.parametrize(
    "kind",
    ["fifo", "folder", "missing", "not a CRL", "a header line", "a stray character", "cut short"],
)
def test_check_refuses_a_crl_file_it_cannot_read_whole(
    cli: Callable[..., Run], hosts: Path, kind: str
) -> None:
    """check --crl of a FIFO, a folder, no file, no CRL, or a block openssl skips: exit 2."""
    target = hosts / "given.crl"
    if kind in {"a header line", "a stray character", "cut short"}:
        assert cli("ca", "crl", "--dir", "issuing").code == 0
        good = (hosts / "issuing" / "crl.pem").read_bytes()
        begin, body = good.split(b"\n", 1)
        damaged = {
            "a header line": b"Comment: x\n\n" + body,
            "a stray character": b"!" + body,
            "cut short": body[:40],
        }[kind]
        target.write_bytes(good + begin + b"\n" + damaged)
    if kind == "fifo":
        os.mkfifo(target)  # never opened for writing: a blocking read would never end
    elif kind == "folder":
        target.mkdir()
    elif kind == "not a CRL":
        target.write_bytes(b"-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----\n")
    result = cli(
        "check",
        "--cert",
        "keep.mycompany.com.fullchain.pem",
        "--ca-file",
        "root/ca.crt",
        "--crl",
        "given.crl",
    )
    assert result.code == 2, result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert "given.crl" in result.err
    if kind in {"a header line", "a stray character"}:
        assert "CRL block 2 of 2 is not plain base64" in result.err
    assert "Traceback" not in result.err


def test_two_servers_under_one_name_both_stay_in_the_expiry_alarm(
    cli: Callable[..., Run], hosts: Path
) -> None:
    """Two certificates for one name that renew did not link: neither silences the other."""
    first = ["--keyout", "ha1.key", "--out", "ha1.crt"]
    second = ["--keyout", "ha2.key", "--out", "ha2.crt"]
    _issue(cli, "issuing", "ha.mycompany.com", "--days", "10", *first)
    _issue(cli, "issuing", "ha.mycompany.com", "--days", "100", *second)
    soon = load_cert(hosts / "ha1.crt").serial_number
    result = cli("ca", "list", "--dir", "issuing", "--expiring", "30", "--json")
    assert result.code == 1, result.err
    assert soon in {int(serial, 16) for serial in json.loads(result.out)["expiring"]}
    # ha2.crt replaced nothing: retiring it as superseded is the operator's call.
    later = cli("ca", "revoke", "ha2.crt", "--dir", "issuing", "--reason", "superseded")
    assert later.code == 0, later.err
