"""
Advice is only worth giving if it can be followed: every --option a message, warning or
hint names exists on the command it is said of (the command run, or the ``flow-ssl
COMMAND`` it names), in the source and in what the commands print.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import typer

from flow_ssl.cli.app import app, main
from tests.helpers import requires_openssl
from tests.pki import NOW, make_ca, make_leaf, write

if TYPE_CHECKING:
    from collections.abc import Iterator

PACKAGE = Path(__file__).resolve().parent.parent / "flow_ssl"
_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
# "flow-ssl ca trust --dir ca": a command named in a message, its options up to ) ; or ,
_MENTION = re.compile(r"flow-ssl ((?:ca )?[a-z]+)([^);,]*)")
# Options of the root, good after any command.
_GLOBAL = {"--debug", "--help", "--version"}
# Other programs' options in the lines flow-ssl prints for a person to run: sudo's, which
# hands keytool the store password from the environment (ca trust's Java lines).
_OTHER_PROGRAMS = {"--preserve-env"}


@cache
def _options() -> dict[str, frozenset[str]]:
    """Each command's path ('ca sign') and every long option it takes."""
    found: dict[str, frozenset[str]] = {}

    def walk(command: object, path: list[str]) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, [*path, name])
            return
        params = getattr(command, "params", [])
        opts = {o for p in params for o in (*p.opts, *p.secondary_opts) if o.startswith("--")}
        found[" ".join(path)] = frozenset(opts | _GLOBAL)

    walk(typer.main.get_command(app), [])
    return found


def _unknown(text: str, command: str) -> list[str]:
    """The options ``text`` names that the command it names them for does not take."""
    options = _options()
    wrong = []
    for line in text.splitlines():
        rest = line
        for mention in _MENTION.finditer(line):
            named = mention.group(1)
            if named in options:
                wrong += [f"{named} {o}" for o in _OPTION.findall(mention.group(2))
                          if o not in options[named]]  # fmt: skip
                rest = rest.replace(mention.group(0), "")
        wrong += [
            f"{command} {o}"
            for o in _OPTION.findall(rest)
            if o not in options[command] and o not in _OTHER_PROGRAMS
        ]
    return wrong


def test_every_option_the_source_names_exists() -> None:
    """Each --option in a string of flow_ssl is an option of some command (none invented)."""
    known = set().union(*_options().values()) | {"--install-completion", "--show-completion"}
    known |= _OTHER_PROGRAMS
    invented = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                invented += [
                    f"{path.name}:{node.lineno} {option}"
                    for option in _OPTION.findall(node.value)
                    if option not in known
                ]
    assert invented == []


def test_the_check_finds_an_option_the_command_lacks() -> None:
    """The check itself: --key said of ca sign is wrong, --dir of ca trust is right."""
    assert _unknown("give the server's key with --key", "ca sign") == ["ca sign --key"]
    assert _unknown("clients must trust it (flow-ssl ca trust --dir ca).", "ca sign") == []
    assert _unknown("flow-ssl check --cert a.crt --key a.key, then --ca-dir", "renew") == []


@contextmanager
def _inside(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    os.environ["MSG_PFX_PASS"] = "correct horse"  # noqa: S105 - a test passphrase
    try:
        yield
    finally:
        os.chdir(before)
        del os.environ["MSG_PFX_PASS"]


def _said(folder: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Everything a run of flow-ssl printed (stdout and stderr)."""
    capsys.readouterr()
    with _inside(folder):
        main(args)
    out, err = capsys.readouterr()
    return out + err


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, what it issued, a CSR, a self-signed pair, a .pfx, a chain clients refuse."""
    folder = tmp_path_factory.mktemp("messages")
    steps = [
        ["ca", "init", "--dir", "ca", "--name", "Msg Root", "--key", "ec:P-256"],
        ["ca", "issue", "--dir", "ca", "--cn", "issued.example.com", "--subj", "--key", "ec:P-256"],
        ["csr", "--cn", "req.example.com", "--subj", "--key", "ec:P-256"],
        ["selfsigned", "--cn", "self.example.com", "--subj", "--key", "ec:P-256"],
        ["bundle", "--cert", "issued.example.com.crt", "--key", "issued.example.com.key",
         "--p12", "site.pfx", "--pass", "env:MSG_PFX_PASS"],
    ]  # fmt: skip
    with _inside(folder):
        for args in steps:
            assert main([*args, "--json"]) == 0, args
    root = make_ca("Msg Other Root")
    expired = make_ca("Msg Expired Issuing", root, ends=NOW)
    write(folder, "leaf.pem", make_leaf(expired, ["flow.mycompany.com"]).pem())
    write(folder, "chain.pem", expired.pem(), root.pem())
    (folder / "encrypted.key").write_bytes(make_ca("Msg Key").key_pem(b"secret"))
    return folder


# Runs that end in advice: refusals, warnings and next steps, each said of its command.
SCENARIOS = [
    ["selfsigned", "--cn", "self.example.com"],
    ["selfsigned", "--cn", "x.example.com", "--days", "900", "--print"],
    ["selfsigned", "--cn", "x.example.com", "--literal", "--print"],
    ["selfsigned", "--cn", "x.example.com", "--org", 'A "B"', "--subj", "--print", "--shell",
     "powershell"],
    ["selfsigned", "--cn", "self.example.com", "--print"],
    ["selfsigned", "--cn", "x.example.com", "--explain"],
    ["selfsigned", "--cn", "x.example.com", "--print", "--script"],
    ["csr", "--cn", "x.example.com", "--out", "x.crt", "--print"],
    ["renew", "issued.example.com.crt"],
    ["renew", "issued.example.com.crt"],
    ["renew", "self.example.com.crt", "--same-key", "--keyout", "n.key"],
    ["renew", "self.example.com.crt", "--same-key", "--key", "issued.example.com.key"],
    ["renew", "site.pfx", "--pass", "env:MSG_PFX_PASS", "--same-key"],
    ["renew", "req.example.com.csr"],
    ["check", "--cert", "issued.example.com.crt"],
    ["check", "--cert", "site.pfx", "--pass", "env:MSG_PFX_PASS"],
    ["check", "--cert", "self.example.com.crt", "--key", "encrypted.key"],
    ["check", "--cert", "leaf.pem", "--chain", "chain.pem"],
    ["bundle", "--cert", "site.pfx", "--pass", "env:MSG_PFX_PASS", "--out", "fc.pem"],
    ["bundle", "--cert", "leaf.pem", "--chain", "chain.pem", "--out", "bad.pem"],
    ["bundle", "--cert", "issued.example.com.crt", "--out", "alone.pem"],
    ["bundle", "--cert", "site.pfx", "--p12", "x.pfx", "--key-out", "k.pem"],
    ["bundle", "--cert", "issued.example.com.crt", "--p12", "x.pfx"],
    ["bundle", "--cert", "self.example.com.crt", "--out", "o.pem", "--key-out", "k.pem"],
    ["inspect", "site.pfx"],
    ["ca", "init", "--dir", "ca", "--name", "Again"],
    ["ca", "init", "--dir", "x", "--name", "X", "--parent", "nowhere"],
    ["ca", "sign", "req.example.com.csr", "--dir", "ca"],
    ["ca", "sign", "issued.example.com.crt", "--dir", "ca"],
    ["ca", "issue", "--dir", "ca", "--cn", "issued.example.com"],
    ["ca", "issue", "--dir", "nowhere", "--cn", "n.example.com"],
    ["ca", "trust", "--dir", "ca"],
    ["probe", "flow.mycompany.com", "--print"],
    ["batch", "missing.toml"],
    ["ca", "issue", "--dir", "ca", "--cn", "n.example.com", "--crl-url", "ftp://x"],
    ["ca", "revoke", "--dir", "ca", "--serial", "ABCD"],
    ["ca", "revoke", "issued.example.com.crt", "--dir", "ca", "--reason", "lost"],
    ["ca", "revoke", "issued.example.com.crt", "--dir", "ca"],
    ["ca", "crl", "--dir", "ca", "--der"],
    ["ca", "list", "--dir", "ca", "--expiring", "400"],
]  # fmt: skip


def _path(args: list[str]) -> str:
    return " ".join(args[:2]) if args[0] == "ca" else args[0]


@requires_openssl
@pytest.mark.parametrize("args", SCENARIOS, ids=lambda args: " ".join(args)[:60])
def test_every_option_a_run_names_is_one_of_its_command(
    made: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    """What a command prints (results, warnings, errors, hints) names only options it takes."""
    folder = tmp_path / "run"
    shutil.copytree(made, folder, symlinks=True)
    said = _said(folder, args, capsys)
    if args == SCENARIOS[9]:  # the second renew: refused, the key waits for its CA
        said = _said(folder, args, capsys)
    assert said
    assert _unknown(said, _path(args)) == [], said
