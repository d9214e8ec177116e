"""
--print is a person's: every command's, parsed, holds no shell code that could close the
interactive shell it is pasted into (no set, trap, exit, functions or loops), in POSIX sh
and in PowerShell; and each, run under sh, makes what flow-ssl itself makes.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography import x509

from flow_ssl.cli.app import main
from tests.helpers import listing, requires_openssl, run_sh

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = requires_openssl
PFX = ["--pass", "env:PRINT_PFX_PASS"]
# Every command that prints, on files a first run made (tests/test_print.py's fixture).
CASES = {
    "selfsigned prompts": ["selfsigned", "--cn", "new.example.com", "--key", "ec:P-256"],
    "selfsigned subj": ["selfsigned", "--cn", "new.example.com", "--subj", "--key", "ec:P-256"],
    "selfsigned literal": ["selfsigned", "--cn", "new.example.com", "--literal"],
    "selfsigned force": ["selfsigned", "--cn", "self.example.com", "--subj", "--key", "ec:P-256",
                         "--force"],
    "csr": ["csr", "--cn", "new.example.com", "--san", "10.0.0.9", "--key", "ec:P-256"],
    "renew self-signed": ["renew", "self.example.com.crt", "--subj"],
    "renew for its CA": ["renew", "issued.example.com.crt", "--subj"],
    "renew by the company CA": ["renew", "issued.example.com.crt", "--ca-dir", "ca"],
    "inspect": ["inspect", "issued.example.com.crt", "site.pfx", *PFX],
    "check": ["check", "--cert", "issued.example.com.crt", "--key", "issued.example.com.key",
              "--ca-file", "ca/ca.crt"],
    "check a pfx": ["check", "--cert", "site.pfx", *PFX, "--ca-file", "ca/ca.crt"],
    "bundle": ["bundle", "--cert", "combined.pem", "--out", "fc.pem", "--key-out", "k.pem"],
    "bundle p12": ["bundle", "--cert", "site.pfx", *PFX, "--p12", "re.pfx"],
    "ca init": ["ca", "init", "--dir", "newca", "--name", "New Root", "--key", "ec:P-256"],
    "ca init issuing": ["ca", "init", "--dir", "sub", "--name", "Sub CA", "--parent", "ca",
                        "--key", "ec:P-256"],
    "ca sign": ["ca", "sign", "req.example.com.csr", "--dir", "ca"],
    "ca issue": ["ca", "issue", "--dir", "ca", "--cn", "new.example.com", "--key", "ec:P-256"],
    "ca revoke": ["ca", "revoke", "issued.example.com.crt", "--dir", "ca", "--reason",
                  "superseded"],
    "ca crl": ["ca", "crl", "--dir", "ca", "--out", "ca.crl", "--der"],
    "batch": ["batch", "hosts.toml"],
}  # fmt: skip
# Shell words a person's commands never run: each could end or change the pasting shell.
POSIX_FORBIDDEN = frozenset(
    {
        *("set", "trap", "exit", "return", "function", "eval", "exec", "source", "."),
        *("for", "while", "until", "do", "done", "break", "continue", "shift", "logout"),
        *("if", "then", "elif", "else", "fi", "case", "esac"),
    }
)
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_HERE = re.compile(r"<<-?\s*'?([A-Za-z_][A-Za-z0-9_]*)'?")
_SEPARATORS = frozenset({";", "&", "&&", "|", "||", "(", ")", "{", "}", "\n", ";;"})
_PS_FORBIDDEN = re.compile(
    r"(?im)(?:^|[;{}|(])\s*(exit|trap|throw|foreach|for|while|do|until|function|try|catch|"
    r"finally|break|continue|return|if)\b"
)


def _posix_commands(script: str) -> list[list[str]]:
    """Each simple command's words, here-document bodies and comment lines left out."""
    kept, ending = [], None
    for line in script.split("\n"):
        if ending is not None:
            ending = None if line == ending else ending
            continue
        if line.lstrip().startswith("#"):
            continue
        kept.append(line)
        found = _HERE.search(line)
        ending = found.group(1) if found else None
    lexer = shlex.shlex("\n".join(kept), posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace = " \t"
    lexer.commenters = ""
    commands: list[list[str]] = [[]]
    for word in lexer:
        if word == "()":  # shlex keeps punctuation together: NAME() defines a function
            commands += [[word], []]
        elif word in _SEPARATORS:
            commands.append([])
        else:
            commands[-1].append(word)
    return [command for command in commands if command]


def _forbidden_posix(script: str) -> list[str]:
    """The shell code a person's paste must never hold: words, and function definitions."""
    found = []
    for command in _posix_commands(script):
        if command == ["()"]:
            found.append("() (a function definition)")
            continue
        words = [word for word in command if not _ASSIGNMENT.match(word)] or [""]
        if words[0] in POSIX_FORBIDDEN:
            found.append(words[0])
    return found


def _forbidden_powershell(script: str) -> list[str]:
    """PowerShell statements a person's paste must never hold (outside strings and comments)."""
    text = re.sub(r"(?s)@'\n.*?\n'@", "''", script)
    text = re.sub(r"'(?:[^'\u2018\u2019\u201a\u201b]|'')*'", "''", text)
    text = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("#"))
    found = [match.group(1) for match in _PS_FORBIDDEN.finditer(text)]
    return found + re.findall(r"\$ErrorActionPreference", text)


def test_the_checks_find_what_a_script_holds() -> None:
    """The parsers see set, trap, exit, a loop and a function in a --script, none in prose."""
    script = (
        "set -eu\nfor f in a b; do :; done\nundo() { :; }\ntrap 'x' EXIT\n"
        "# set trap exit in a comment\ncat > a <<'END'\nexit\nEND\n"
        "MSYS_NO_PATHCONV=1 openssl req -subj '/CN=exit'\n(umask 077\nopenssl req\n)\n"
        "[ -x a ] || { echo no; exit 1; }\n"
    )
    assert _forbidden_posix(script) == ["set", "for", "do", "done", "() (a function definition)",
                                        "trap", "exit"]  # fmt: skip
    assert _forbidden_powershell("$ErrorActionPreference = 'Stop'\n# exit\n'exit' | x") == [
        "$ErrorActionPreference"
    ]
    assert _forbidden_powershell("foreach ($f in @()) { throw 'x' }") == ["foreach", "throw"]


@contextmanager
def _inside(folder: Path) -> Iterator[None]:
    """The current folder and PRINT_PFX_PASS set for a run of flow-ssl, then put back."""
    before = Path.cwd()
    os.chdir(folder)
    os.environ["PRINT_PFX_PASS"] = "correct horse"  # noqa: S105 - a test passphrase
    try:
        yield
    finally:
        os.chdir(before)
        del os.environ["PRINT_PFX_PASS"]


def _flow_ssl(
    folder: Path,
    args: list[str],
    capsys: pytest.CaptureFixture[str],
    *,
    codes: set[int] | None = None,
) -> str:
    """flow-ssl run in ``folder``; its stdout (it must succeed, or end with one of ``codes``)."""
    capsys.readouterr()
    with _inside(folder):
        code = main(args)
    out, err = capsys.readouterr()
    assert code in (codes or {0}), (args, err)
    return out


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a certificate it issued, a CSR, a self-signed pair, a .pfx, a combined PEM."""
    folder = tmp_path_factory.mktemp("print")
    steps = [
        ["ca", "init", "--dir", "ca", "--name", "Print Root", "--key", "ec:P-256"],
        ["ca", "issue", "--dir", "ca", "--cn", "issued.example.com", "--subj", "--key", "ec:P-256"],
        ["csr", "--cn", "req.example.com", "--subj", "--key", "ec:P-256"],
        ["selfsigned", "--cn", "self.example.com", "--subj", "--key", "ec:P-256"],
        ["bundle", "--cert", "issued.example.com.crt", "--key", "issued.example.com.key",
         "--p12", "site.pfx", *PFX],
    ]  # fmt: skip
    with _inside(folder):
        for args in steps:
            assert main([*args, "--json"]) == 0, args
    (folder / "combined.pem").write_bytes(
        (folder / "issued.example.com.key").read_bytes()
        + (folder / "issued.example.com.fullchain.pem").read_bytes()
    )
    (folder / "hosts.toml").write_text(
        '[defaults]\nkey = "ec:P-256"\nout_dir = "out"\n'
        '[[cert]]\ncn = "a.example.com"\n[[cert]]\ncn = "b.example.com"\nmode = "csr"\n'
        '[[cert]]\ncn = "c.example.com"\nmode = "ca"\nca_dir = "ca"\n'
    )
    return folder


@pytest.mark.parametrize("case", list(CASES))
def test_print_holds_no_shell_code_that_could_close_a_shell(
    made: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    """--print, in sh and PowerShell: no set, trap, exit, function or loop; --script has them."""
    args = CASES[case]
    posix = _flow_ssl(made, [*args, "--print"], capsys)
    assert _forbidden_posix(posix) == [], posix
    powershell = _flow_ssl(made, [*args, "--print", "--shell", "powershell"], capsys)
    assert _forbidden_powershell(powershell) == [], powershell
    if case not in {"inspect", "check", "check a pfx"}:  # they write nothing: nothing to guard
        assert "set" in _forbidden_posix(_flow_ssl(made, [*args, "--script"], capsys))


def _normal(name: str) -> str:
    """A file's name with a backup's date and time left out (two runs differ in them)."""
    return re.sub(r"\.bak-\d{8}-\d{6}(-\d+)?$", ".bak", name)


def _subject(path: Path) -> bytes | None:
    """The stored subject of a PEM certificate or CSR file, else None."""
    data = path.read_bytes()
    if b"-----BEGIN CERTIFICATE-----" in data:
        return x509.load_pem_x509_certificates(data)[0].subject.public_bytes()
    if b"-----BEGIN CERTIFICATE REQUEST-----" in data:
        return x509.load_pem_x509_csr(data).subject.public_bytes()
    return None


# What only flow-ssl's own run keeps: the CA's lock, its issued log, and its openssl ca
# records of what it issued (a printed script records nothing; a folder gets them on first
# use): the index, the CRL number, the copy of each certificate, openssl's .old copies.
_RUN_ONLY = re.compile(
    r"(^|/)(\.lock|issued\.log|index\.txt(\.attr)?(\.old)?|crlnumber(\.old)?|certs(/[^/]+)?)$"
)


@pytest.mark.parametrize("case", list(CASES))
def test_print_run_under_sh_makes_what_flow_ssl_makes(
    made: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    """--print | sh writes the files flow-ssl writes: the same names, subjects and key modes."""
    args = CASES[case]
    by_sh, by_flow_ssl = tmp_path / "sh", tmp_path / "flow-ssl"
    shutil.copytree(made, by_sh, symlinks=True)
    shutil.copytree(made, by_flow_ssl, symlinks=True)
    # Printed where it runs: openssl ca's config names the CA folder by its full path.
    printed = _flow_ssl(by_sh, [*args, "--print"], capsys)
    with _inside(by_sh):
        run_sh(printed, by_sh)
    _flow_ssl(by_flow_ssl, args, capsys, codes={0, 1})  # check: a .pfx's key fails, rightly
    made_by_sh = {_normal(name) for name in listing(by_sh) if not _RUN_ONLY.search(name)}
    made_by_run = {_normal(name) for name in listing(by_flow_ssl) if not _RUN_ONLY.search(name)}
    assert made_by_sh == made_by_run
    for name in listing(by_sh):
        path = by_sh / name
        if not path.is_file() or _RUN_ONLY.search(name) or ".bak" in name:
            continue
        if (made / name).is_file() and (made / name).read_bytes() == path.read_bytes():
            continue  # untouched
        twin = by_flow_ssl / name
        assert _subject(path) == _subject(twin), name
        if name.endswith(".key"):
            assert path.stat().st_mode & 0o777 == twin.stat().st_mode & 0o777 == 0o600, name


def test_probe_print_is_one_command(made: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """probe --print, in sh and PowerShell: the s_client line alone, no shell code around it."""
    args = ["probe", "flow.mycompany.com:8443", "--print"]
    posix = _flow_ssl(made, args, capsys)
    assert _forbidden_posix(posix) == []
    assert posix.splitlines()[0].startswith("openssl s_client -connect flow.mycompany.com:8443")
    assert _forbidden_powershell(_flow_ssl(made, [*args, "--shell", "powershell"], capsys)) == []
