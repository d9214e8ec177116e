"""
Every printed form, piped into sh, makes what flow-ssl makes, on the openssl under test.

``--print`` (a person's commands) and ``--script`` (a machine's guarded script) run with
``tests.helpers.run_sh`` (its ``openssl`` is the one under test, FLOW_SSL_OPENSSL in
``make test-matrix``), in prompt mode and in --subj mode. What they made is read with
cryptography, compared with what flow-ssl itself makes from the same request, and
served to Go's crypto/tls. The script's guards (existing files, backups, undo on a
failure or a signal, the CA serial) are proved on --script.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import select
import signal
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.golang import go_client_fixture  # noqa: F401 - a fixture
from tests.helpers import (
    OPENSSL,
    contents,
    key_spki,
    listing,
    load_cert,
    load_csr,
    openssl,
    requires_openssl,
    run_sh,
    spki,
)
from tests.shapes import (
    assert_ca_certificate,
    assert_server_certificate,
    printed,
    same_subject,
)
from tests.tls import go_handshake, s_server

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.helpers import Run

pytestmark = requires_openssl
MODES = [pytest.param([], id="prompts"), pytest.param(["--subj"], id="subj")]
FORMS = [pytest.param("--print", id="print"), pytest.param("--script", id="script")]
# A subject a here-document and -subj must both carry intact.
SUBJECT = [
    "--country", "DE", "--state", "Baden-Württemberg", "--locality", "Zürich",
    "--org", "O'Brien, \"Acme\" & Sons $HOME `id`", "--ou", "R/D+x=y\\z FLOW_SSL_EOF",
    "--email", "admin@mycompany.com",
]  # fmt: skip
NAMES = ["localhost", "flow.mycompany.com", "127.0.0.1"]
HOST = ["--cn", "localhost", "--san", "flow.mycompany.com", "--san", "127.0.0.1"]
# What a line passing -subj starts with (for Git for Windows' bash).
NO_PATH_CONVERSION = "MSYS_NO_PATHCONV=1 "


def _last_openssl_fails(script: str) -> str:
    """The script with its last openssl command doing its work, then failing."""
    lines = script.split("\n")
    at = max(
        i
        for i, line in enumerate(lines)
        if line.removeprefix(NO_PATH_CONVERSION).startswith("openssl ")
    )
    lines[at] = 'fails() { openssl "$@"; return 1; }; ' + lines[at].replace("openssl ", "fails ", 1)
    return "\n".join(lines)


def _serve_to_go(go_client: Path, cert: Path, key: Path, root: Path, chain: Path | None) -> None:
    with s_server(cert, key, chain=chain) as port:
        for name in NAMES:
            assert go_handshake(go_client, port, name, root) is None, name
        assert go_handshake(go_client, port, "other.mycompany.com", root) is not None


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("mode", MODES)
def test_selfsigned_script_makes_what_flow_ssl_makes(
    cli: Callable[..., Run], tmp_path: Path, go_client: Path, mode: list[str], form: str
) -> None:
    """selfsigned --print/--script | sh: the same subject and extensions, once each; Go accepts."""
    request = [*HOST, *SUBJECT, "--key", "ec:P-256", *mode]
    script = printed(cli("selfsigned", *request, form, "--keyout", "s.key", "--out", "s.crt"))
    assert listing(tmp_path) == []
    run_sh(script, tmp_path)
    made = cli("selfsigned", *request, "--keyout", "f.key", "--out", "f.crt")
    assert made.code == 0, made.err
    for name in ("s.crt", "f.crt"):
        assert_server_certificate(load_cert(tmp_path / name), NAMES)
    assert same_subject(tmp_path / "s.crt", tmp_path / "f.crt")
    assert (tmp_path / "s.key").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.crt", "f.key", "s.crt", "s.key"]
    _serve_to_go(go_client, tmp_path / "s.crt", tmp_path / "s.key", tmp_path / "s.crt", None)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("mode", MODES)
def test_csr_script_makes_what_flow_ssl_makes(
    cli: Callable[..., Run], tmp_path: Path, mode: list[str], form: str
) -> None:
    """csr --print/--script | sh: the same subject and names, no challenge password, signed."""
    script = printed(
        cli("csr", *HOST, *SUBJECT, *mode, form, "--keyout", "s.key", "--out", "s.csr")
    )
    run_sh(script, tmp_path)
    made = cli("csr", *HOST, *SUBJECT, *mode, "--keyout", "f.key", "--out", "f.csr")
    assert made.code == 0, made.err
    by_script, by_flow_ssl = load_csr(tmp_path / "s.csr"), load_csr(tmp_path / "f.csr")
    assert by_script.is_signature_valid
    assert by_script.subject.public_bytes() == by_flow_ssl.subject.public_bytes()
    for csr in (by_script, by_flow_ssl):  # the extension request, and no challenge password
        assert [a.oid.dotted_string for a in csr.attributes] == ["1.2.840.113549.1.9.14"]
    for csr in (by_script, by_flow_ssl):
        assert [e.oid for e in csr.extensions] == [x509.OID_SUBJECT_ALTERNATIVE_NAME]
    assert (tmp_path / "s.key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("form", FORMS)
def test_literal_script_keeps_the_vendor_line_whole(
    cli: Callable[..., Run], tmp_path: Path, form: str
) -> None:
    """--literal --print/--script holds the vendor's line as a whole line; it runs as printed."""
    vendor = (
        "openssl req -x509 -nodes -days 365 -newkey rsa:2048 -keyout certs/myserverkey.pem "
        "-out certs/myservercert.pem"
    )
    (tmp_path / "certs").mkdir()
    paths = ["--keyout", "certs/myserverkey.pem", "--out", "certs/myservercert.pem"]
    script = printed(cli("selfsigned", "--cn", "flow.mycompany.com", "--literal", form, *paths))
    assert vendor in script.splitlines()
    run_sh(script, tmp_path)
    cert = load_cert(tmp_path / "certs" / "myservercert.pem")
    assert cert.subject.rfc4514_string() == "CN=flow.mycompany.com"


@pytest.fixture(params=FORMS)
def ca_scripts(cli: Callable[..., Run], tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A root and an issuing CA, both made by their printed commands (or scripts) under sh."""
    form = request.param
    root = printed(cli("ca", "init", "--dir", "root", "--name", "Script Root", "--org", "Acme",
                       form))  # fmt: skip
    assert listing(tmp_path) == []
    run_sh(root, tmp_path)
    issuing = printed(cli("ca", "init", "--dir", "issuing", "--name", "Script Issuing",
                          "--parent", "root", form))  # fmt: skip
    assert not (tmp_path / "issuing").exists()
    serial = (tmp_path / "root" / "serial").read_text()
    run_sh(issuing, tmp_path)
    made = load_cert(tmp_path / "issuing" / "ca.crt")
    assert made.serial_number == int(serial, 16)
    assert int((tmp_path / "root" / "serial").read_text(), 16) == made.serial_number + 1
    return tmp_path


def test_ca_init_scripts_make_a_root_and_an_issuing_ca(ca_scripts: Path) -> None:
    """ca init --print/--script | sh, root and --parent: CA extensions, each signed by its key."""
    root = load_cert(ca_scripts / "root" / "ca.crt")
    issuing = load_cert(ca_scripts / "issuing" / "ca.crt")
    assert_ca_certificate(root, None)
    assert_ca_certificate(issuing, 0)
    root.verify_directly_issued_by(root)
    issuing.verify_directly_issued_by(root)
    assert (ca_scripts / "issuing" / "root.crt").read_bytes() == (
        ca_scripts / "root" / "ca.crt"
    ).read_bytes()
    for folder in ("root", "issuing"):
        assert (ca_scripts / folder).stat().st_mode & 0o777 == 0o700
        assert (ca_scripts / folder / "ca.key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(("mode", "form"), [([], "--print"), (["--subj"], "--script")])
def test_ca_issue_script_makes_a_leaf_go_accepts(
    cli: Callable[..., Run], ca_scripts: Path, go_client: Path, mode: list[str], form: str
) -> None:
    """ca issue --print/--script | sh: key, leaf, full chain; the serial moves on; Go accepts."""
    serial = int((ca_scripts / "issuing" / "serial").read_text(), 16)
    request = ["--dir", "issuing", *HOST, *SUBJECT, "--key", "ec:P-256", *mode]
    script = printed(cli("ca", "issue", *request, form))
    assert not (ca_scripts / "localhost.key").exists()
    run_sh(script, ca_scripts)
    leaf = load_cert(ca_scripts / "localhost.crt")
    assert_server_certificate(leaf, NAMES)
    assert leaf.serial_number == serial
    assert int((ca_scripts / "issuing" / "serial").read_text(), 16) == serial + 1
    leaf.verify_directly_issued_by(load_cert(ca_scripts / "issuing" / "ca.crt"))
    chain = x509.load_pem_x509_certificates((ca_scripts / "localhost.fullchain.pem").read_bytes())
    assert [c.serial_number for c in chain] == [
        serial,
        load_cert(ca_scripts / "issuing" / "ca.crt").serial_number,
    ]
    outputs = ["--keyout", "f.key", "--out", "f.crt", "--fullchain", "f.pem"]
    made = cli("ca", "issue", *request, *outputs, "--json")
    assert made.code == 0, made.err
    assert int(json.loads(made.out)["serial"], 16) == serial + 1
    assert same_subject(ca_scripts / "localhost.crt", ca_scripts / "f.crt")
    _serve_to_go(
        go_client,
        ca_scripts / "localhost.crt",
        ca_scripts / "localhost.key",
        ca_scripts / "root" / "ca.crt",
        ca_scripts / "issuing" / "ca.crt",
    )


@pytest.mark.parametrize("form", FORMS)
def test_ca_sign_script_signs_the_names_and_never_the_request_extensions(
    cli: Callable[..., Run], ca_scripts: Path, go_client: Path, form: str
) -> None:
    """ca sign --print/--script | sh: the CSR's names, flow-ssl's extensions, not its CA:TRUE."""
    openssl("req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-pkeyopt", "ec_param_enc:named_curve", "-keyout", "op.key",
            "-subj", "/O=Acme/CN=localhost", "-out", "op.csr",
            "-addext", "subjectAltName=DNS:flow.mycompany.com,IP:127.0.0.1",
            "-addext", "basicConstraints=critical,CA:TRUE", cwd=ca_scripts)  # fmt: skip
    serial = int((ca_scripts / "issuing" / "serial").read_text(), 16)
    script = printed(cli("ca", "sign", "op.csr", "--dir", "issuing", form))
    assert not (ca_scripts / "op.crt").exists()
    run_sh(script, ca_scripts)
    leaf = load_cert(ca_scripts / "op.crt")
    assert_server_certificate(leaf, NAMES)
    assert leaf.serial_number == serial
    assert int((ca_scripts / "issuing" / "serial").read_text(), 16) == serial + 1
    _serve_to_go(
        go_client,
        ca_scripts / "op.crt",
        ca_scripts / "op.key",
        ca_scripts / "root" / "ca.crt",
        ca_scripts / "issuing" / "ca.crt",
    )


def test_a_failing_script_spends_its_serial_and_writes_no_full_chain(
    cli: Callable[..., Run], ca_scripts: Path
) -> None:
    """--script, set -eu: openssl fails, so no 'fullchain'; the serial it took stays taken."""
    script = printed(cli("ca", "issue", "--dir", "issuing", "--cn", "a.example.com", "--subj",
                         "--script"))  # fmt: skip
    serial = int((ca_scripts / "issuing" / "serial").read_text(), 16)
    (ca_scripts / "issuing" / "ca.key").rename(ca_scripts / "issuing" / "ca.key.away")
    with pytest.raises(Exception, match="returned non-zero exit status"):
        run_sh(script, ca_scripts)
    assert int((ca_scripts / "issuing" / "serial").read_text(), 16) == serial + 1
    assert not (ca_scripts / "a.example.com.fullchain.pem").exists()


def test_a_script_never_signs_with_a_serial_another_run_took(
    cli: Callable[..., Run], ca_scripts: Path
) -> None:
    """A CA --script printed, then flow-ssl issues, then the script runs: it stops, unsigned."""
    script = printed(cli("ca", "issue", "--dir", "issuing", "--cn", "a.example.com", "--subj",
                         "--key", "ec:P-256", "--script"))  # fmt: skip
    assert cli("ca", "issue", "--dir", "issuing", "--cn", "b.example.com", "--subj",
               "--key", "ec:P-256").code == 0  # fmt: skip
    taken = load_cert(ca_scripts / "b.example.com.crt").serial_number
    serial = (ca_scripts / "issuing" / "serial").read_text()
    with pytest.raises(Exception, match="returned non-zero exit status") as failed:
        run_sh(script, ca_scripts)
    assert "another run took it" in failed.value.stderr  # type: ignore[attr-defined]
    assert not (ca_scripts / "a.example.com.crt").exists()
    assert (ca_scripts / "issuing" / "serial").read_text() == serial
    again = printed(cli("ca", "issue", "--dir", "issuing", "--cn", "a.example.com", "--subj",
                        "--key", "ec:P-256", "--script"))  # fmt: skip
    run_sh(again, ca_scripts)
    assert load_cert(ca_scripts / "a.example.com.crt").serial_number == taken + 1


def test_a_script_never_writes_over_a_file_without_force(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """A file made after printing stops the --script; --force keeps it as a dated backup."""
    args = ("selfsigned", "--cn", "a.example.com", "--subj", "--key", "ec:P-256", "--script")
    script = printed(cli(*args))
    (tmp_path / "a.example.com.key").write_text("the live key\n")
    with pytest.raises(Exception, match="returned non-zero exit status") as failed:
        run_sh(script, tmp_path)
    assert "a.example.com.key exists" in failed.value.stderr  # type: ignore[attr-defined]
    assert listing(tmp_path) == ["a.example.com.key"]
    run_sh(printed(cli(*args, "--force")), tmp_path)
    backups = list(tmp_path.glob("a.example.com.key.bak-*"))
    assert [b.read_text() for b in backups] == ["the live key\n"]
    assert load_cert(tmp_path / "a.example.com.crt").subject.rfc4514_string() == "CN=a.example.com"


@pytest.mark.parametrize("form", FORMS)
def test_renew_scripts_keep_the_live_pair(
    cli: Callable[..., Run], tmp_path: Path, form: str
) -> None:
    """renew --csr --print/--script | sh: new key and CSR wait as NAME.next.*; live untouched."""
    assert cli("selfsigned", "--cn", "r.example.com", "--subj", "--key", "ec:P-256").code == 0
    live = contents(tmp_path)
    script = printed(cli("renew", "r.example.com.crt", "--csr", "--subj", form))
    assert "When the CA answers" in script
    run_sh(script, tmp_path)
    made = contents(tmp_path)
    assert {name: made[name] for name in live} == live
    csr = load_csr(tmp_path / "r.example.com.next.csr")
    assert csr.subject.rfc4514_string() == "CN=r.example.com"
    assert spki(csr.public_key()) == key_spki(tmp_path / "r.example.com.next.key")
    assert (tmp_path / "r.example.com.next.key").stat().st_mode & 0o777 == 0o600


def test_leading_dash_names_stay_names(cli: Callable[..., Run], tmp_path: Path) -> None:
    """A key named -k.key: chmod and mkdir take it as a file, not an option."""
    script = printed(cli("ca", "init", "--dir", "-r", "--name", "Dash Root", "--key", "ec:P-256",
                         "--print"))  # fmt: skip
    run_sh(script, tmp_path)
    assert (tmp_path / "-r" / "ca.key").stat().st_mode & 0o777 == 0o600
    assert load_cert(tmp_path / "-r" / "ca.crt").subject.rfc4514_string() == "CN=Dash Root"


@pytest.mark.parametrize(("subj", "form"), [("false", "--print"), ("true", "--script")])
def test_batch_script_makes_every_entry(
    cli: Callable[..., Run], tmp_path: Path, go_client: Path, subj: str, form: str
) -> None:
    """batch --print/--script | sh, prompts or -subj: selfsigned, csr, CA entries as made."""
    assert cli("ca", "init", "--dir", "ca", "--name", "Batch Root").code == 0
    (tmp_path / "hosts.toml").write_text(
        f'[defaults]\nkey = "ec:P-256"\nout_dir = "out"\nsubj = {subj}\norg = "Acme, Inc."\n'
        '[[cert]]\ncn = "localhost"\nsan = ["flow.mycompany.com", "127.0.0.1"]\n'
        '[[cert]]\ncn = "c.mycompany.com"\nmode = "csr"\n'
        '[[cert]]\ncn = "a.mycompany.com"\nmode = "ca"\nca_dir = "ca"\n'
        '[[cert]]\ncn = "b.mycompany.com"\nmode = "ca"\nca_dir = "ca"\n'
    )
    serial = int((tmp_path / "ca" / "serial").read_text(), 16)
    script = printed(cli("batch", "hosts.toml", form))
    assert not (tmp_path / "out").exists()
    run_sh(script, tmp_path)
    out = tmp_path / "out"
    assert_server_certificate(load_cert(out / "localhost.crt"), NAMES)
    assert load_csr(out / "c.mycompany.com.csr").is_signature_valid
    root = load_cert(tmp_path / "ca" / "ca.crt")
    for index, name in enumerate(("a.mycompany.com", "b.mycompany.com")):
        leaf = load_cert(out / f"{name}.crt")
        assert_server_certificate(leaf, [name])
        leaf.verify_directly_issued_by(root)
        assert leaf.serial_number == serial + index
    assert int((tmp_path / "ca" / "serial").read_text(), 16) == serial + 2
    assert "0 made, 4 skipped" in cli("batch", "hosts.toml").out
    _serve_to_go(
        go_client, out / "localhost.crt", out / "localhost.key", out / "localhost.crt", None
    )


def test_print_without_any_openssl_writes_for_openssl_3_and_says_so(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No openssl at all: --print still works, writes nothing, and names what it assumed."""
    monkeypatch.delenv("FLOW_SSL_OPENSSL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    script = printed(cli("selfsigned", "--cn", "a.example.com", "--subj", "--print"))
    lines = script.splitlines()
    [command] = [line for line in lines if line.startswith(f"{NO_PATH_CONVERSION}openssl ")]
    command = command.removeprefix(NO_PATH_CONVERSION)
    assert command.startswith("openssl req -x509 -nodes -days 365 -newkey rsa:2048 ")
    assert "-config" not in command
    assert any("no openssl was found here, so this is written for OpenSSL 3" in x for x in lines)
    (tmp_path / "hosts.toml").write_text('[[cert]]\ncn = "b.example.com"\n')
    batch = printed(cli("batch", "hosts.toml", "--print"))
    assert "written for OpenSSL 3" in batch
    assert listing(tmp_path) == ["hosts.toml"]


def test_print_json_carries_the_script(cli: Callable[..., Run], tmp_path: Path) -> None:
    """selfsigned --print --json: the command, its answers, and the whole script that runs."""
    data = json.loads(printed(cli("selfsigned", "--cn", "a.example.com", "--print", "--json")))
    assert data["argv"][:3] == ["openssl", "req", "-x509"]
    assert [p["answer"] for p in data["prompts"]][-2:] == ["a.example.com", "."]
    assert data["command"] in data["script"].splitlines()
    run_sh(data["script"], tmp_path)
    assert load_cert(tmp_path / "a.example.com.crt").subject.rfc4514_string() == "CN=a.example.com"


@pytest.mark.parametrize("force", [False, True], ids=["new-files", "force"])
def test_a_script_failing_half_way_leaves_every_file_as_it_was(
    cli: Callable[..., Run], tmp_path: Path, force: bool
) -> None:
    """openssl writes the key, then fails: --script removes what it made, restores the rest."""
    made = ["--cn", "flow.mycompany.com", "--subj", "--key", "ec:P-256"]
    if force:
        assert cli("selfsigned", *made).code == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    script = cli("selfsigned", *made, "--script", *(["--force"] if force else [])).out
    # An openssl that does its work, then fails (as on a value it refuses after -keyout).
    failing = _last_openssl_fails(script)
    with pytest.raises(subprocess.CalledProcessError) as stopped:
        run_sh(failing, tmp_path)
    assert "stopped: the files of the step that failed are as they were" in stopped.value.stderr
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before


def test_two_forced_runs_in_one_second_keep_both_backups(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """A --force script run twice at once: each keeps its own backup; the original survives."""
    made = ["--cn", "flow.mycompany.com", "--subj", "--key", "ec:P-256"]
    assert cli("selfsigned", *made).code == 0
    original = (tmp_path / "flow.mycompany.com.key").read_bytes()
    script = cli("selfsigned", *made, "--script", "--force").out
    run_sh(script, tmp_path)
    run_sh(script, tmp_path)
    kept = [p.read_bytes() for p in tmp_path.glob("flow.mycompany.com.key.bak-*")]
    assert len(kept) == 2
    assert original in kept


def test_a_later_step_failing_leaves_the_earlier_steps_alone(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """batch --force: the 2nd entry failing (its backup, its openssl) never undoes the 1st."""
    (tmp_path / "hosts.toml").write_text(
        '[defaults]\nkey = "ec:P-256"\nout_dir = "out"\nsubj = true\n'
        '[[cert]]\ncn = "a.mycompany.com"\n[[cert]]\ncn = "b.mycompany.com"\n'
    )
    assert cli("batch", "hosts.toml").code == 0
    script = printed(cli("batch", "hosts.toml", "--script", "--force"))
    backup = 'mv -f -- "$f" "$f.bak-$stamp"'
    second = script.index(backup, script.index(backup) + 1)
    backup_fails = script[:second] + "false" + script[second + len("mv -f") :]
    openssl_fails = _last_openssl_fails(script)
    for broken in (backup_fails, openssl_fails):
        before = contents(tmp_path / "out")
        with pytest.raises(subprocess.CalledProcessError):
            run_sh(broken, tmp_path)
        after = contents(tmp_path / "out")
        for name in ("a.mycompany.com.key", "a.mycompany.com.crt"):
            assert after[name] != before[name]  # the 1st entry: made anew, and kept
        for name in ("b.mycompany.com.key", "b.mycompany.com.crt"):
            assert after[name] == before[name]


@pytest.mark.slow
def test_a_signal_during_a_script_puts_the_files_back(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """SIGTERM while the --script's openssl runs: exit 143, every output as it was before."""
    made = ["--cn", "flow.mycompany.com", "--subj", "--key", "ec:P-256"]
    assert cli("selfsigned", *made).code == 0
    script = cli("selfsigned", *made, "--script", "--force").out
    before = contents(tmp_path)
    slow = tmp_path / "slowbin"
    slow.mkdir()
    # openssl says on this pipe that it has written the new files, then lingers (sh runs its
    # TERM trap once the command it waits for ends: two seconds later).
    written = slow / "written"
    os.mkfifo(written)
    reader = os.open(written, os.O_RDONLY | os.O_NONBLOCK)
    (slow / "openssl").write_text(
        f'#!/bin/sh\n"{OPENSSL}" "$@"; status=$?; echo >> "{written}"; sleep 2; exit $status\n'
    )
    (slow / "openssl").chmod(0o755)
    env = {**os.environ, "PATH": f"{slow}{os.pathsep}{os.environ['PATH']}"}
    running = subprocess.Popen(
        ["sh", "-c", script], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
    )
    assert select.select([reader], [], [], 20)[0], "openssl never ran"
    os.close(reader)
    running.send_signal(signal.SIGTERM)
    _, err = running.communicate(timeout=30)
    assert running.returncode == 143, err
    written.unlink()
    assert contents(tmp_path) == before | {"slowbin/openssl": (slow / "openssl").read_bytes()}


def test_a_dangling_symlink_output_is_refused_by_the_script(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """An output that is a link to nowhere: the script refuses it (openssl would write there)."""
    script = cli("selfsigned", "--cn", "flow.mycompany.com", "--subj", "--script").out
    (tmp_path / "flow.mycompany.com.crt").symlink_to(tmp_path / "elsewhere.crt")
    with pytest.raises(subprocess.CalledProcessError) as refused:
        run_sh(script, tmp_path)
    assert "flow.mycompany.com.crt exists: nothing was changed" in refused.value.stderr
    assert not (tmp_path / "elsewhere.crt").exists()
    assert (tmp_path / "flow.mycompany.com.crt").is_symlink()


def test_a_ca_init_script_failing_leaves_no_half_ca(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """ca init --parent --script failing as it signs: no issuing folder; the serial spent."""
    assert cli("ca", "init", "--dir", "root", "--name", "Script Root").code == 0
    parent = contents(tmp_path / "root")
    script = cli("ca", "init", "--dir", "issuing", "--name", "Script Issuing", "--parent", "root",
                 "--script").out  # fmt: skip
    failing = _last_openssl_fails(script)
    with pytest.raises(subprocess.CalledProcessError):
        run_sh(failing, tmp_path)
    assert not (tmp_path / "issuing").exists()
    after = contents(tmp_path / "root")
    assert int(after["serial"], 16) == int(parent["serial"], 16) + 1  # never given again
    assert {k: v for k, v in after.items() if k != "serial"} == {
        k: v for k, v in parent.items() if k != "serial"
    }
    assert cli("ca", "init", "--dir", "issuing", "--name", "Script Issuing", "--parent",
               "root").code == 0  # fmt: skip


# Attacks on the printed forms (#20)

WRAPPERS = Path(__file__).resolve().parents[2] / "shared" / "openssl" / "bin"
LIBRESSL = WRAPPERS / "openssl-libressl-3.3.6"
ODD_NAME = "a\ntouch PWNED\n.crt"


@pytest.mark.parametrize("form", FORMS)
def test_a_newline_in_a_file_name_never_runs_as_a_command(
    cli: Callable[..., Run], tmp_path: Path, form: str
) -> None:
    """A name holding a line break is quoted or escaped everywhere it appears: no PWNED."""
    script = printed(cli("selfsigned", "--cn", "a.example.com", "--subj", "--key", "ec:P-256",
                         "--out", ODD_NAME, form))  # fmt: skip
    run_sh(script, tmp_path)
    assert not (tmp_path / "PWNED").exists()
    assert load_cert(tmp_path / ODD_NAME).subject.rfc4514_string() == "CN=a.example.com"
    checked = printed(cli("check", "--cert", ODD_NAME, "--ca-file", ODD_NAME, form))
    # Its verdict may differ by build (LibreSSL trusts no self-signed leaf as its own root).
    with contextlib.suppress(subprocess.CalledProcessError):
        run_sh(checked, tmp_path)
    assert not (tmp_path / "PWNED").exists()


def _tampered(csr: Path) -> None:
    """One byte of the CN changed (flow to glow), the signature kept: a CSR altered."""
    der = load_csr(csr).public_bytes(serialization.Encoding.DER)
    assert b"flow.mycompany.com" in der
    body = base64.encodebytes(der.replace(b"flow.", b"glow.")).decode()
    csr.write_text(
        f"-----BEGIN CERTIFICATE REQUEST-----\n{body}-----END CERTIFICATE REQUEST-----\n"
    )


def test_a_script_never_signs_a_request_altered_after_printing(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """ca sign --script: a CSR changed before it runs stops it (on every build), unsigned."""
    assert cli("ca", "init", "--dir", "ca", "--name", "Sign Root", "--key", "ec:P-256").code == 0
    assert cli("csr", "--cn", "flow.mycompany.com", "--subj", "--key", "ec:P-256").code == 0
    script = printed(cli("ca", "sign", "flow.mycompany.com.csr", "--dir", "ca", "--script"))
    _tampered(tmp_path / "flow.mycompany.com.csr")
    before = contents(tmp_path / "ca")
    with pytest.raises(subprocess.CalledProcessError) as stopped:
        run_sh(script, tmp_path)
    assert "is not the CSR this was printed for" in stopped.value.stderr
    assert not (tmp_path / "flow.mycompany.com.crt").exists()
    assert contents(tmp_path / "ca") == before


def test_a_script_never_signs_a_request_replaced_by_another_valid_one(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """ca sign --script: a CSR replaced by another validly self-signed one is not signed."""
    assert cli("ca", "init", "--dir", "ca", "--name", "Sign Root", "--key", "ec:P-256").code == 0
    assert cli("csr", "--cn", "flow.mycompany.com", "--subj", "--key", "ec:P-256").code == 0
    printed_for = (tmp_path / "flow.mycompany.com.csr").read_bytes()
    script = printed(cli("ca", "sign", "flow.mycompany.com.csr", "--dir", "ca", "--script"))
    replaced = cli("csr", "--cn", "www.bank.example", "--subj", "--key", "ec:P-256", "--force",
                   "--out", "flow.mycompany.com.csr", "--keyout", "evil.key")  # fmt: skip
    assert replaced.code == 0, replaced.err
    assert (tmp_path / "flow.mycompany.com.csr").read_bytes() != printed_for
    before = contents(tmp_path / "ca")
    with pytest.raises(subprocess.CalledProcessError) as stopped:
        run_sh(script, tmp_path)
    assert "is not the CSR this was printed for" in stopped.value.stderr
    assert not (tmp_path / "flow.mycompany.com.crt").exists()
    assert contents(tmp_path / "ca") == before
    (tmp_path / "flow.mycompany.com.csr").write_bytes(printed_for)
    run_sh(script, tmp_path)
    signed = load_cert(tmp_path / "flow.mycompany.com.crt")
    assert signed.public_key() == load_csr(tmp_path / "flow.mycompany.com.csr").public_key()


def test_ca_sign_print_names_the_fingerprint_of_the_csr(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """ca sign --print: a comment names the CSR's SHA-256, beside the dgst line that prints it."""
    assert cli("ca", "init", "--dir", "ca", "--name", "Sign Root", "--key", "ec:P-256").code == 0
    assert cli("csr", "--cn", "flow.mycompany.com", "--subj", "--key", "ec:P-256").code == 0
    digest = hashlib.sha256((tmp_path / "flow.mycompany.com.csr").read_bytes()).hexdigest()
    text = printed(cli("ca", "sign", "flow.mycompany.com.csr", "--dir", "ca", "--print"))
    comments = [line for line in text.splitlines() if digest in line]
    assert comments, text
    assert all(line.startswith("#") for line in comments)
    assert "openssl dgst -sha256 -r flow.mycompany.com.csr" in text


@pytest.mark.skipif(not LIBRESSL.exists(), reason="no ../shared/openssl LibreSSL wrapper")
@pytest.mark.parametrize("umask", [0o022, 0o000])
@pytest.mark.parametrize("form", FORMS)
def test_a_new_key_is_never_readable_by_others_on_libressl(
    cli: Callable[..., Run],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    form: str,
    umask: int,
) -> None:
    """LibreSSL writes keys with the umask: the printed key is 0600 the moment openssl ends."""
    monkeypatch.setenv("FLOW_SSL_OPENSSL", str(LIBRESSL))
    script = printed(cli("selfsigned", "--cn", "a.example.com", "--subj", "--key", "ec:P-256",
                         form))  # fmt: skip
    # Each time openssl ends, before any later line of the script runs: the key's mode.
    after = "stat -c %a a.example.com.key >> modes.log 2>/dev/null || :"
    run_sh(script, tmp_path, binary=str(LIBRESSL), after=after, umask=umask)
    assert set((tmp_path / "modes.log").read_text().split()) == {"600"}
    assert (tmp_path / "a.example.com.key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("form", FORMS)
def test_ca_init_goes_into_an_existing_empty_folder_as_printed(
    cli: Callable[..., Run], tmp_path: Path, form: str
) -> None:
    """ca init's printed form makes the CA in an empty folder (as a run does), made 0700."""
    (tmp_path / "ca").mkdir(mode=0o755)
    script = printed(cli("ca", "init", "--dir", "ca", "--name", "Empty Root", form))
    run_sh(script, tmp_path)
    assert_ca_certificate(load_cert(tmp_path / "ca" / "ca.crt"), None)
    assert (tmp_path / "ca").stat().st_mode & 0o777 == 0o700
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("kept\n")
    refused = cli("ca", "init", "--dir", "full", "--name", "Full Root", form)
    assert refused.code == 2, refused.err
    assert "is not empty" in refused.err


def test_a_run_shows_the_steps_it_runs_and_no_script_code(cli: Callable[..., Run]) -> None:
    """ca init (run): the commands shown as they run, no undo function or trap among them."""
    result = cli("ca", "init", "--dir", "ca", "--name", "Shown Root", "--key", "ec:P-256")
    assert result.code == 0, result.err
    shown = result.out.split("Made the root CA")[0]
    assert "mkdir -m 700 -- ca" in shown.splitlines()
    for code in ("undo", "trap", "set -eu", "exit"):
        assert code not in shown


@pytest.mark.parametrize("form", FORMS)
def test_only_a_line_passing_subj_turns_path_conversion_off(
    cli: Callable[..., Run], form: str
) -> None:
    """Git Bash: MSYS_NO_PATHCONV=1 starts each line passing -subj, and no other line."""
    script = printed(cli("ca", "init", "--dir", "ca", "--name", "Git Root", form))
    lines = script.splitlines()
    assert [line for line in lines if NO_PATH_CONVERSION in line] == [
        line for line in lines if " -subj " in line
    ]
    assert all(line.startswith(NO_PATH_CONVERSION) for line in lines if " -subj " in line)
    assert sum(" -subj " in line for line in lines) == 1
    prompts = printed(cli("selfsigned", "--cn", "a.example.com", form))
    literal = printed(cli("selfsigned", "--cn", "a.example.com", "--literal", form))
    powershell = printed(cli("selfsigned", "--cn", "a.example.com", "--subj", form,
                             "--shell", "powershell"))  # fmt: skip
    for other in (prompts, literal, powershell):
        assert NO_PATH_CONVERSION not in other
