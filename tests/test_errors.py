"""Bad input, missing or failing openssl: a clear line, the right exit code, nothing written."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.helpers import OPENSSL, Run, fake_openssl, listing, openssl, requires_openssl

if TYPE_CHECKING:
    from collections.abc import Callable


def _assert_clean_failure(result: Run, code: int, folder: Path, before: list[str]) -> None:
    assert result.code == code, (result.out, result.err)
    assert "Traceback" not in result.err
    assert result.err.startswith("flow-ssl: ")
    assert listing(folder) == before


def _without_literal_warning(result: Run) -> Run:
    """The run with --literal's warning (no SAN) taken off stderr."""
    warning, _, rest = result.err.partition("\n")
    assert warning.startswith("warning: --literal: ")
    return Run(result.code, result.out, rest)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--cn", "foo.*.mycompany.com"], "--cn"),
        (["--cn", "*.*.x.com"], "--cn"),
        (["--cn", "f*o.x.com"], "--cn"),
        (["--cn", "*.com"], "too broad"),
        (["--cn", "a.example.com", "--san", "bad_name!.com"], "--san"),
        (["--cn", "a.example.com", "--country", "USA"], "--country"),
        (["--cn", "a.example.com", "--email", "nobody"], "--email"),
        (["--cn", "a.example.com", "--org", "Acme\nInc"], "--org"),
        (["--cn", "a.example.com", "--ou", "x" * 65], "--ou"),
        (["--cn", "a.example.com", "--days", "0"], "--days"),
        (["--cn", "a.example.com", "--days", "abc"], "--days"),
        (["--cn", "a.example.com", "--key", "rsa:1024"], "rsa:1024"),
        (["--cn", "a.example.com", "--key", "dsa"], "--key"),
        (["--cn", "a.example.com", "--shell", "fish"], "--shell"),
        (["--country", "US"], "--cn is required"),
        (["--cn", "a.example.com", "--out", "missing/dir/c.crt"], "does not exist"),
        (["--cn", "a.example.com", "--out", "same", "--keyout", "same"], "two outputs"),
        (["--cn", "a.example.com", "--subject-file", "nope.toml"], "does not exist"),
    ],
)
def test_invalid_input_exits_2_and_writes_nothing(
    cli: Callable[..., Run], tmp_path: Path, args: list[str], words: str
) -> None:
    """Each invalid input gives exit 2, one clear line naming the flag, and no file."""
    before = listing(tmp_path)
    result = cli("selfsigned", *args)
    _assert_clean_failure(result, 2, tmp_path, before)
    assert words in result.err


def test_bad_subject_file_names_the_field(cli: Callable[..., Run], tmp_path: Path) -> None:
    """An unknown field in --subject-file is named; known fields are read and flags win."""
    (tmp_path / "s.toml").write_text('cn = "a.example.com"\ncolour = "blue"\n')
    result = cli("selfsigned", "--subject-file", "s.toml", "--print")
    assert result.code == 2
    assert "colour" in result.err
    (tmp_path / "s.toml").write_text('cn = "a.example.com"\norg = "File Org"\ncountry = "DE"\n')
    result = cli("selfsigned", "--subject-file", "s.toml", "--org", "Flag Org", "--subj", "--print")
    assert result.code == 0, result.err
    assert "/C=DE/O=Flag Org/CN=a.example.com" in result.out


@pytest.mark.parametrize(
    "nested",
    [
        "org = " + "[" * 5000 + "]" * 5000,
        "org = " + "{a=" * 3000 + "1" + "}" * 3000,
        "org." + "a." * 4000 + "b = 1",
    ],
    ids=["arrays", "inline-tables", "dotted-keys"],
)
def test_a_deeply_nested_subject_file_is_bad_input(
    cli: Callable[..., Run], tmp_path: Path, nested: str
) -> None:
    """A --subject-file nested thousands deep is exit 2 naming the file, not a crash."""
    (tmp_path / "s.toml").write_text(nested + "\n")
    result = cli("selfsigned", "--cn", "a.example.com", "--subject-file", "s.toml", "--print")
    assert result.code == 2, result.err
    assert result.err.startswith("flow-ssl: --subject-file s.toml is nested too deeply to read")
    assert len(result.err.strip().splitlines()) == 1
    assert listing(tmp_path) == ["s.toml"]


def test_every_bad_flag_is_named_in_one_run(cli: Callable[..., Run], tmp_path: Path) -> None:
    """Five bad flags: exit 2, the count, then one line each naming its flag; nothing written."""
    result = cli(
        "selfsigned", "--cn", "foo.*.x.com", "--san", "ok.example.com", "--san", "bad name",
        "--country", "USA", "--email", "nobody", "--days", "0", "--json",
    )  # fmt: skip
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert lines[0] == "flow-ssl: 5 problems"
    flags = [line.split(":", 1)[0].strip() for line in lines[1:]]
    assert flags == ["--cn", "--san", "--country", "--email", "--days"]
    assert "'bad name'" in lines[2]
    error = json.loads(result.out)["error"]
    assert error["message"] == "5 problems"
    assert error["problems"] == [line.strip() for line in lines[1:]]
    assert listing(tmp_path) == []


def test_every_mistake_of_a_subject_file_and_the_flags_is_named(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """A subject file's mistakes are named as the file's, the flags' as theirs, all at once."""
    (tmp_path / "s.toml").write_text(
        'cn = "a.example.com"\ncountry = "USA"\ncolour = "blue"\n'
        'san = ["ok.example.com", "bad name"]\nou = 5\n'
    )
    result = cli("selfsigned", "--subject-file", "s.toml", "--san", "x y", "--email", "nobody")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert lines[0] == "flow-ssl: 6 problems"
    expected = [
        "--subject-file: s.toml: unknown field 'colour' (known: cn, country, email, locality,",
        "--subject-file: s.toml: ou: must be a string, not 5",
        "--subject-file: s.toml: san: 'bad name' is not a valid host name",
        "--san: 'x y' is not a valid host name",
        "--subject-file: s.toml: country: 'USA' is not a two-letter country code",
        "--email: 'nobody' is not an e-mail address",
    ]
    assert len(lines) == 1 + len(expected)
    for start in expected:
        assert sum(line.startswith(f"  {start}") for line in lines[1:]) == 1, start
    assert listing(tmp_path) == ["s.toml"]


def test_a_flag_over_a_bad_file_value_still_names_the_file(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """A cn of the wrong type in the file is that file's problem, never '--cn is required'."""
    (tmp_path / "s.toml").write_text("cn = 5\n")
    result = cli("selfsigned", "--subject-file", "s.toml", "--print")
    assert result.code == 2
    assert result.err.strip() == "flow-ssl: --subject-file: s.toml: cn: must be a string, not 5"


@requires_openssl
def test_existing_files_are_untouched_without_force(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """An existing certificate is not replaced without --force (exit 2)."""
    (tmp_path / "flow.mycompany.com.crt").write_text("precious")
    before = listing(tmp_path)
    result = cli("selfsigned", "--cn", "flow.mycompany.com")
    _assert_clean_failure(result, 2, tmp_path, before)
    assert "--force" in result.err
    assert (tmp_path / "flow.mycompany.com.crt").read_text() == "precious"


def test_no_openssl_exits_3(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no openssl on PATH the run stops with exit 3 and a hint how to install it."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("FLOW_SSL_OPENSSL", raising=False)
    before = listing(tmp_path)
    result = cli("selfsigned", "--cn", "flow.mycompany.com")
    _assert_clean_failure(result, 3, tmp_path, before)
    assert "openssl not found" in result.err


def test_too_old_openssl_is_refused_before_running(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An openssl without -addext (1.0.2) is refused up front with exit 3."""
    script = fake_openssl(
        tmp_path,
        'if [ "$1" = version ]; then echo "OpenSSL 1.0.2u  20 Dec 2019"; exit 0; fi\n'
        # 1.0.2's own answer: "unknown option", then its options, none of them -addext.
        'if [ "$2" = -help ]; then printf "unknown option -help\\nreq [options] <infile >outfile'
        "\\nwhere options  are\\n -inform arg    input format\\n -subj arg      set or modify"
        ' request subject\\n" >&2; exit 1; fi\n'
        'touch "$0.ran"; exit 1\n',
    )
    monkeypatch.setenv("FLOW_SSL_OPENSSL", str(script))
    result = cli("selfsigned", "--cn", "flow.mycompany.com")
    assert result.code == 3
    assert "-addext" in result.err
    assert not (script.parent / "openssl.ran").exists()


@pytest.mark.parametrize("flood", ["head -c 50000000 /dev/zero | tr '\\0' x", "yes OpenSSL 3.0.0"])
def test_an_openssl_that_floods_is_cut_off(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flood: str
) -> None:
    """A FLOW_SSL_OPENSSL printing 50 MB (or never ending) for 'version': one short line, exit 3."""
    monkeypatch.setenv("FLOW_SSL_OPENSSL", str(fake_openssl(tmp_path, f"{flood}\n")))
    for args, code in ((["--version"], 0), (["doctor"], 3), (["selfsigned", "--cn", "x.com"], 3)):
        result = cli(*args)
        assert result.code == code, (args, result.err[:300])
        assert len(result.out) + len(result.err) < 2000, args
        said = result.out + result.err
        assert "does not behave like openssl" in said or "more than any openssl" in said


def test_openssl_failing_midway_leaves_nothing(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """openssl that writes the key then fails: exit 3, its reason shown, no file left."""
    script = fake_openssl(
        tmp_path,
        'if [ "$1" = version ]; then echo "OpenSSL 3.0.19 27 Jan 2026"; exit 0; fi\n'
        'if [ "$2" = -help ]; then echo " -addext val" >&2; exit 0; fi\n'
        'while [ $# -gt 0 ]; do [ "$1" = -keyout ] && echo KEY > "$2"; shift; done\n'
        'echo "40F7:error:0600006F:asn1 encoding routines:ASN1_mbstring_ncopy:'
        'illegal characters:../a.c:1:" >&2; exit 1\n',
    )
    monkeypatch.setenv("FLOW_SSL_OPENSSL", str(script))
    before = listing(tmp_path)
    result = cli("selfsigned", "--cn", "flow.mycompany.com", "--subj")
    _assert_clean_failure(result, 3, tmp_path, before)
    assert "illegal characters" in result.err


@requires_openssl
def test_unknown_prompt_from_custom_config_exits_3(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A config asking a question flow-ssl does not know stops with exit 3, naming it."""
    config = tmp_path / "custom.cnf"
    config.write_text(
        "[req]\ndistinguished_name = dn\n[dn]\n"
        "commonName = Common Name\nserialNumber = Badge number\n"
    )
    monkeypatch.setenv("OPENSSL_CONF", str(config))
    before = listing(tmp_path)
    # --literal: the vendor's command reads the system's config on every version (without
    # it, 1.1.1 and LibreSSL get flow-ssl's own config, and this one changes nothing).
    result = cli("selfsigned", "--cn", "flow.mycompany.com", "--key", "ec:P-256", "--literal")
    _assert_clean_failure(_without_literal_warning(result), 3, tmp_path, before)
    assert "Badge number" in result.err
    assert "--subj" in result.err


@requires_openssl
def test_config_without_a_field_exits_3(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A config that never asks for a field we were given is an error, not a silent drop."""
    config = tmp_path / "custom.cnf"
    config.write_text("[req]\ndistinguished_name = dn\n[dn]\ncommonName = Common Name\n")
    monkeypatch.setenv("OPENSSL_CONF", str(config))
    before = listing(tmp_path)
    result = cli("selfsigned", "--cn", "flow.mycompany.com", "--org", "Acme", "--literal")
    _assert_clean_failure(_without_literal_warning(result), 3, tmp_path, before)
    assert "organization" in result.err


def test_print_runs_nothing(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--print needs no openssl at all and writes nothing."""
    monkeypatch.delenv("FLOW_SSL_OPENSSL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = cli("selfsigned", "--cn", "flow.mycompany.com", "--print", "--explain")
    assert result.code == 0, result.err
    assert "#  -nodes" in result.out
    assert listing(tmp_path) == []


@requires_openssl
def test_end_to_end_console_script(tmp_path: Path) -> None:
    """python -m flow_ssl runs as a process and a usage error exits 2 without a traceback."""
    ok = subprocess.run(
        [sys.executable, "-m", "flow_ssl", "selfsigned", "--cn", "e2e.example.com",
         "--key", "ec:P-256"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "e2e.example.com.crt").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "flow_ssl", "selfsigned", "--no-such-flag"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr


def test_help_and_typos_see_every_command(cli: Callable[..., Run]) -> None:
    """Only the command being run is built at start-up; help and typos still see all."""
    listing_out = cli("--help").out
    for name in ("selfsigned", "csr", "inspect", "check", "bundle", "batch", "probe", "ca"):
        assert f"  {name} " in listing_out
    assert all(
        f"  {name} " in cli("ca", "--help").out for name in ("init", "sign", "issue", "trust")
    )
    typo = cli("selfsign", "--cn", "a.example.com")
    assert typo.code == 2
    assert "Did you mean 'selfsigned'?" in typo.err
    assert "--cn" in cli("--debug", "selfsigned", "--help").out


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["selfsigned", "--cn", "foo.*.x.com"], 2),
        (["inspect", "missing.pem"], 2),
        (["selfsigned", "--no-such-flag"], 2),
    ],
)
def test_debug_shows_where_and_keeps_the_exit_code(
    cli: Callable[..., Run], args: list[str], code: int
) -> None:
    """--debug adds the traceback; the exit code stays the contract's."""
    plain = cli(*args)
    debug = cli("--debug", *args)
    assert plain.code == debug.code == code
    assert "Traceback" not in plain.err
    assert plain.err.strip().splitlines()[0] in debug.err


def test_json_errors_are_json_too(cli: Callable[..., Run], tmp_path: Path) -> None:
    """With --json a failure also prints {"error": {...}} on stdout; stderr keeps its line."""
    result = cli("selfsigned", "--cn", "foo.*.x.com", "--json")
    assert result.code == 2
    error = json.loads(result.out)["error"]
    assert error["exit_code"] == 2
    assert "--cn" in error["message"]
    assert result.err.startswith("flow-ssl: ")
    assert listing(tmp_path) == []


def test_help_reads_like_the_readme(cli: Callable[..., Run]) -> None:
    """Value names are words (NAME, FILE, DAYS, TYPE), --shell is a choice, summaries end."""
    import re

    help_text = cli("selfsigned", "--help").out
    for wanted in ("--cn NAME", "--san NAME", "--days DAYS", "--key TYPE", "--keyout FILE",
                   "--shell [posix|powershell]", "required"):  # fmt: skip
        assert wanted in help_text
    assert not re.search(r"<(?:str|int|path|list\[str\])>", help_text)
    for group in ([], ["ca"]):
        listing_out = cli(*group, "--help").out
        commands = listing_out.split("Commands:", 1)[1].strip().splitlines()
        assert all(line.rstrip().endswith(".") for line in commands), commands
        assert "..." not in listing_out.split("Commands:", 1)[1]
    assert "[default: True]" not in cli("ca", "trust", "--help").out
    assert "--name NAME" in cli("ca", "init", "--help").out


def test_debug_is_global_wherever_it_is_written(cli: Callable[..., Run]) -> None:
    """--debug after the command works as before it: the traceback, the same exit code."""
    result = cli("selfsigned", "--cn", "foo.*.x.com", "--debug")
    assert result.code == 2
    assert "Traceback" in result.err
    assert "NoneType: None" not in result.err
    assert "No such option" not in result.err


def test_print_refuses_what_it_could_not_show_exactly(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """A control character in a file name: --print refuses (exit 2) rather than alter it."""
    result = cli("selfsigned", "--cn", "a.example.com", "--out", "a\x1b[2Jb.crt", "--print")
    assert result.code == 2
    assert "\x1b" not in result.err + result.out
    assert "control character" in result.err
    assert listing(tmp_path) == []


def test_a_huge_value_is_not_echoed_in_full(cli: Callable[..., Run]) -> None:
    """A 70,000-character --cn: one short line on stderr that still says what to fix."""
    result = cli("selfsigned", "--cn", "a" * 70_000, "--subj")
    assert result.code == 2
    assert len(result.err) < 2000
    assert result.err.startswith("flow-ssl: --cn: ")
    assert "characters left out" in result.err


@requires_openssl
@pytest.mark.parametrize(
    ("command", "killed"),
    [("csr", "-verify -noout"), ("check", "dgst -sha256 -sign")],
)
def test_openssl_killed_while_reading_is_not_bad_input(
    cli: Callable[..., Run],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    killed: str,
) -> None:
    """openssl killed while it verifies: exit 3 'killed by SIGKILL', not 2; nothing written."""
    made = ["--cn", "flow.mycompany.com", "--subj", "--key", "ec:P-256"]
    assert cli("selfsigned", *made, "--out", "made.crt", "--keyout", "made.key").code == 0
    # An encrypted key: only openssl can read it (and proves it signs for the certificate).
    openssl("pkey", "-in", "made.key", "-aes256", "-passout", "pass:kept", "-out", "enc.key",
            cwd=tmp_path)  # fmt: skip
    monkeypatch.setenv("KEY_PASS", "kept")
    script = fake_openssl(
        tmp_path,
        f'case "$*" in *"{killed}"*) "{OPENSSL}" "$@" | head -c 300; kill -9 $$;; esac\n'
        f'exec "{OPENSSL}" "$@"\n',
    )
    monkeypatch.setenv("FLOW_SSL_OPENSSL", str(script))
    before = listing(tmp_path)
    args = {
        "check": ["check", "--cert", "made.crt", "--key", "enc.key", "--pass", "env:KEY_PASS"],
    }.get(command, [command, *made])
    result = cli(*args)
    _assert_clean_failure(result, 3, tmp_path, before)
    assert "killed by SIGKILL" in result.err
    assert ".flow-ssl-" not in result.err


@requires_openssl
def test_openssl_killed_while_answering_prompts_is_named_so(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """openssl killed mid-dialog (prompts, not --subj): exit 3 'killed by SIGKILL', no file."""
    script = fake_openssl(
        tmp_path,
        f'case "$*" in *-keyout*) kill -9 $$;; esac\nexec "{OPENSSL}" "$@"\n',
    )
    monkeypatch.setenv("FLOW_SSL_OPENSSL", str(script))
    before = listing(tmp_path)
    result = cli("selfsigned", "--cn", "flow.mycompany.com", "--key", "ec:P-256")
    _assert_clean_failure(result, 3, tmp_path, before)
    assert "openssl req was killed by SIGKILL" in result.err


@requires_openssl
def test_an_openssl_that_never_answers_is_no_answer_not_a_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A timeout raises OpenSSLNoAnswerError, which no handler of openssl's answers catches."""
    from flow_ssl.core.errors import OpenSSLFailedError, OpenSSLNoAnswerError
    from flow_ssl.openssl import runner
    from flow_ssl.openssl.commands.read import build_print_certificates

    script = fake_openssl(
        tmp_path, f'case "$*" in *pkcs7*) exec sleep 30;; esac\nexec "{OPENSSL}" "$@"\n'
    )
    monkeypatch.setenv("FLOW_SSL_OPENSSL", str(script))
    with pytest.raises(OpenSSLNoAnswerError, match=r"openssl pkcs7 gave no answer within") as no:
        runner.run(build_print_certificates(), timeout=0.5)
    assert not isinstance(no.value, OpenSSLFailedError)
    assert no.value.exit_code == 3


def _handles(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler of its own for ``signum`` (Linux's /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) >> (signum - 1) & 1)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize(
    ("signum", "code", "words"),
    [
        (signal.SIGTERM, 143, "stopped by SIGTERM"),
        (signal.SIGHUP, 129, "stopped by SIGHUP"),
        (signal.SIGINT, 130, "cancelled (Ctrl-C)"),
    ],
)
def test_a_signal_at_start_up_still_gives_the_json_error(
    tmp_path: Path, signum: int, code: int, words: str
) -> None:
    """A signal the moment flow-ssl handles signals (typer still loading): JSON error, 128+N."""
    process = subprocess.Popen(
        [sys.executable, "-m", "flow_ssl", "selfsigned", "--cn", "a.example.com", "--json"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    # SIGHUP is the last handler flow-ssl installs (SIGINT has Python's own from the start).
    while not _handles(process.pid, signal.SIGHUP):
        assert process.poll() is None, "flow-ssl ended before it handled signals"
        assert time.monotonic() < deadline, "flow-ssl never handled signals"
        time.sleep(0.0005)
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    assert process.returncode == code, err
    message = f"{words}; nothing was left behind"
    assert json.loads(out) == {"error": {"exit_code": code, "message": message}}
    assert err.strip() == f"flow-ssl: {message}"
    assert listing(tmp_path) == []


# Every message true and actionable (#21)


@requires_openssl
def test_ca_sign_gives_no_advice_about_a_key_it_never_takes(cli: Callable[..., Run]) -> None:
    """ca sign has no --key: its report says nothing of a key, so no advice to give one."""
    assert cli("ca", "init", "--dir", "ca", "--name", "Msg Root", "--key", "ec:P-256").code == 0
    assert cli("csr", "--cn", "a.example.com", "--subj", "--key", "ec:P-256").code == 0
    result = cli("ca", "sign", "a.example.com.csr", "--dir", "ca")
    assert result.code == 0, result.err
    assert "--key" not in result.out + result.err
    assert "key-matches-cert" not in result.out


@requires_openssl
def test_ca_issue_names_the_key_where_it_is_put(cli: Callable[..., Run]) -> None:
    """ca issue's report names the key file it wrote, never the private staging folder."""
    assert cli("ca", "init", "--dir", "ca", "--name", "Msg Root", "--key", "ec:P-256").code == 0
    result = cli("ca", "issue", "--dir", "ca", "--cn", "a.example.com", "--subj",
                 "--key", "ec:P-256")  # fmt: skip
    assert result.code == 0, result.err
    assert ".flow-ssl-" not in result.out + result.err
    assert "the key a.example.com.key has no passphrase" in result.out


@requires_openssl
def test_a_key_that_is_not_a_self_signed_certificate_s_asks_for_no_csr(
    cli: Callable[..., Run],
) -> None:
    """A wrong key for a self-signed certificate: the advice names no CSR (there was none)."""
    made = ["--subj", "--key", "ec:P-256"]
    assert cli("selfsigned", "--cn", "a.example.com", *made).code == 0
    assert cli("selfsigned", "--cn", "b.example.com", *made).code == 0
    result = cli("check", "--cert", "a.example.com.crt", "--key", "b.example.com.key", "--json")
    assert result.code == 1
    (mismatch,) = [
        f for f in json.loads(result.out)["findings"] if f["check"] == "key-matches-cert"
    ]
    assert mismatch["status"] == "fail"
    assert "CSR was made" not in mismatch["message"]
    assert "made with the certificate itself (no CSR)" in mismatch["message"]


def test_the_literal_warning_names_everything_clients_refuse(cli: Callable[..., Run]) -> None:
    """--literal: the warning names the missing SAN and serverAuth, CA:TRUE, and check's FAIL."""
    result = cli("selfsigned", "--cn", "a.example.com", "--literal", "--print")
    assert result.code == 0, result.err
    warning = result.err.strip()
    assert warning.startswith("warning: --literal: ")
    for words in ("no Subject Alternative Name", "no serverAuth", "CA:TRUE", "check fails it"):
        assert words in warning
    csr = cli("csr", "--cn", "a.example.com", "--literal", "--print")
    assert "the request asks for no Subject Alternative Name" in csr.err


def test_ca_init_names_every_mistake_in_one_run(cli: Callable[..., Run], tmp_path: Path) -> None:
    """ca init: a bad name, country, e-mail, key and days are all named at once; nothing made."""
    result = cli("ca", "init", "--dir", "ca", "--name", "", "--country", "USA",
                 "--email", "nobody", "--key", "dsa", "--days", "0")  # fmt: skip
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert lines[0] == "flow-ssl: 5 problems"
    flags = sorted(line.strip().split(":")[0].split()[0] for line in lines[1:])
    assert flags == ["--country", "--days", "--email", "--key", "--name"]
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--cn", "https://flow.mycompany.com"], "drop https://; give flow.mycompany.com"),
        (["--cn", "flow.mycompany.com:443"], "drop :443 (the port is not part of the name)"),
        (["--cn", "a.example.com", "--san", "http://b.example.com/"], "drop http://"),
        (["--CN", "a.example.com"], "No such option: --CN (did you mean --cn?)"),
        (["-days", "30", "--cn", "a.example.com"], "No such option: -days (did you mean --days?)"),
        (["--day", "30", "--cn", "a.example.com"], "--days"),
    ],
)
def test_a_hurried_operator_s_typos_get_the_fix(
    cli: Callable[..., Run], tmp_path: Path, args: list[str], words: str
) -> None:
    """A URL or host:port for a name, a flag in the wrong case or with one dash: the fix, named."""
    result = cli("selfsigned", *args, "--print")
    assert result.code == 2
    assert words in result.err
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    ("command", "value"),
    [
        (["inspect"], "FILE..."),
        (["batch"], "MANIFEST"),
        (["probe"], "HOST[:PORT]"),
        (["ca", "sign"], "CSR"),
        (["renew"], "CERT"),
    ],
)
def test_help_names_positional_values_only(
    cli: Callable[..., Run], command: list[str], value: str
) -> None:
    """Positional arguments show their value name: no Python type, no braces."""
    help_text = cli(*command, "--help").out
    usage = help_text.splitlines()[0]
    assert usage == f"Usage: flow-ssl {' '.join(command)} [OPTIONS] {value}"
    assert any(line.strip().startswith(f"{value}  ") for line in help_text.splitlines())
    assert "<" not in help_text.split("Options:")[0]
    assert "{" not in help_text


def test_check_names_every_bad_host_and_count_at_once(cli: Callable[..., Run]) -> None:
    """check: two bad --host values and a bad --min-days, each named, in one run."""
    result = cli("check", "--cert", "x.crt", "--host", "https://a.example.com",
                 "--host", "b.example.com:443", "--min-days", "-1")  # fmt: skip
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert lines[0] == "flow-ssl: 3 problems"
    assert [line.split()[0].rstrip(":") for line in lines[1:]] == ["--host", "--host", "--min-days"]


def test_a_subject_file_with_a_number_thousands_of_digits_long_is_bad_input(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """A number past Python's integer-text limit is exit 2 naming the file, not exit 70."""
    (tmp_path / "s.toml").write_text("country = " + "9" * 5000 + "\n")
    result = cli("selfsigned", "--cn", "a.example.com", "--subject-file", "s.toml", "--print")
    assert result.code == 2, result.err
    assert "s.toml holds a number thousands of digits long" in result.err
    assert "Traceback" not in result.err
    assert listing(tmp_path) == ["s.toml"]
