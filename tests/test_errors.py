"""Bad input, missing or failing openssl: a clear line, the right exit code, nothing written."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from tests.helpers import OPENSSL, Run, fake_openssl, listing, requires_openssl

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


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
        'if [ "$2" = -help ]; then echo "Usage: req [options]" >&2; exit 0; fi\n'
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
    import json

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
    [("selfsigned", "pkey -in"), ("selfsigned", "x509 -in"), ("csr", "-verify -noout"),
     ("check", "pkey -pubout")],
)  # fmt: skip
def test_openssl_killed_while_reading_is_not_bad_input(
    cli: Callable[..., Run],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    killed: str,
) -> None:
    """openssl killed while reading back: exit 3 'killed by SIGKILL', not 2; nothing written."""
    made = ["--cn", "flow.mycompany.com", "--subj", "--key", "ec:P-256"]
    assert cli("selfsigned", *made, "--out", "made.crt", "--keyout", "made.key").code == 0
    script = fake_openssl(
        tmp_path,
        f'case "$*" in *"{killed}"*) "{OPENSSL}" "$@" | head -c 300; kill -9 $$;; esac\n'
        f'exec "{OPENSSL}" "$@"\n',
    )
    monkeypatch.setenv("FLOW_SSL_OPENSSL", str(script))
    before = listing(tmp_path)
    args = {
        "check": ["check", "--cert", "made.crt", "--key", "made.key"],
    }.get(command, [command, *made])
    result = cli(*args)
    _assert_clean_failure(result, 3, tmp_path, before)
    assert "killed by SIGKILL" in result.err
    assert ".flow-ssl-" not in result.err
