"""
The README's examples run: every ``flow-ssl ...`` line of its sh blocks that can run
offline, run as written by ``sh`` in a scratch folder holding the files it names.

A block that makes its own CA runs in order from a folder holding only the CSR it signs;
every other line runs in a fresh copy of a folder holding what the README's examples
read (a company CA in ``ca`` and ``issuing``, flow.crt/flow.key it issued, the forms a
CA sends, the manifest of the README). Lines that need a network or a server, or stand
for a shape (``...``), are listed in SKIPPED.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from flow_ssl.cli.app import main
from tests.helpers import OPENSSL, openssl, requires_openssl

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = requires_openssl
README = Path(__file__).resolve().parent.parent / "README.md"
PASSPHRASE = "correct horse battery"  # noqa: S105 - the README's PFX_PASS, for the test
# Not run: they reach a live server (probe) or stand for a shape, not a command (a serial
# as ca list shows one, a web server's folder).
SKIPPED = (
    "flow-ssl probe ",
    "flow-ssl bundle ... ",
    "flow-ssl ca revoke --dir issuing --serial 5F3A09C2D1E4B7A8 ",
    "flow-ssl ca crl --dir issuing --days 30 --out /var/www/",
)
# A line the README says fails ("# exit 2: outside the root's names") must exit so.
_EXIT = re.compile(r"#\s*exit (\d+):")
_BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)
_TOML = re.compile(r"```toml\n(# hosts\.toml\n.*?)```", re.DOTALL)


def _blocks() -> list[list[str]]:
    """Each sh block's flow-ssl lines, continuation lines joined."""
    blocks = []
    for body in _BLOCK.findall(README.read_text()):
        joined = re.sub(r"\\\n\s*", "", body)
        lines = [line.strip() for line in joined.splitlines()]
        blocks.append([line for line in lines if line.startswith("flow-ssl ")])
    return [block for block in blocks if block]


def _exit_code(line: str) -> int:
    """The exit code the README gives a line (``# exit N: why``), else 0."""
    found = _EXIT.search(line)
    return int(found.group(1)) if found else 0


def _makes_a_ca(block: list[str]) -> bool:
    return any(line.startswith("flow-ssl ca init ") for line in block)


BLOCKS = _blocks()
SEQUENCES = [block for block in BLOCKS if _makes_a_ca(block)]
LINES = [
    line
    for block in BLOCKS
    if not _makes_a_ca(block)
    for line in block
    if not line.startswith(SKIPPED)
]


@contextmanager
def _inside(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    os.environ["PFX_PASS"] = PASSPHRASE
    try:
        yield
    finally:
        os.chdir(before)
        del os.environ["PFX_PASS"]


def _run(folder: Path, *args: str) -> None:
    with _inside(folder):
        assert main([*args, "--json"]) == 0, args


@pytest.fixture(scope="module")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``flow-ssl`` (this one) and ``openssl`` (the one under test)."""
    folder = tmp_path_factory.mktemp("bin")
    (folder / "flow-ssl").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m flow_ssl "$@"\n')
    (folder / "openssl").write_text(f'#!/bin/sh\nexec "{OPENSSL}" "$@"\n')
    for tool in ("flow-ssl", "openssl"):
        (folder / tool).chmod(0o755)
    return folder


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the README's examples read: a company CA, what it issued, each form a CA sends."""
    folder = tmp_path_factory.mktemp("readme")
    _run(folder, "ca", "init", "--dir", "ca", "--name", "README Root", "--key", "ec:P-256")
    _run(folder, "ca", "init", "--dir", "issuing", "--name", "README Issuing", "--parent", "ca",
         "--key", "ec:P-256")  # fmt: skip
    _run(folder, "csr", "--cn", "flow.mycompany.com", "--san", "flow-analytics.mycompany.com",
         "--subj", "--key", "ec:P-256", "--keyout", "flow.key", "--out", "flow.csr")  # fmt: skip
    _run(folder, "ca", "sign", "flow.csr", "--dir", "issuing", "--out", "flow.crt",
         "--fullchain", "flow.fullchain.pem")  # fmt: skip
    files = {
        "intermediate.crt": ["issuing/ca.crt"],
        "root.crt": ["ca/ca.crt"],
        "chain.pem": ["issuing/ca.crt", "ca/ca.crt"],
        "request.csr": ["flow.csr"],
        "cert.pem": ["flow.crt"],
        "site.crt": ["flow.crt"],
        "site.ca-bundle": ["issuing/ca.crt"],
        "download.pem": ["flow.key", "flow.crt", "issuing/ca.crt"],
    }
    for name, parts in files.items():
        (folder / name).write_bytes(b"".join((folder / part).read_bytes() for part in parts))
    for pem, der in (("flow.crt", "site.der"), ("issuing/ca.crt", "intermediate.der")):
        openssl("x509", "-in", pem, "-outform", "DER", "-out", der, cwd=folder)
    openssl("crl2pkcs7", "-nocrl", "-certfile", "flow.crt", "-certfile", "issuing/ca.crt",
            "-out", "site.p7b", cwd=folder)  # fmt: skip
    _run(folder, "bundle", "--cert", "flow.crt", "--chain", "intermediate.crt", "--key",
         "flow.key", "--p12", "site.pfx", "--pass", "env:PFX_PASS")  # fmt: skip
    (folder / "hosts.toml").write_text(_TOML.findall(README.read_text())[0])
    return folder


def _sh(line: str, folder: Path, tools: Path) -> subprocess.CompletedProcess[str]:
    """One README line, as written, by sh in ``folder``."""
    env = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}", "PFX_PASS": PASSPHRASE}
    return subprocess.run(
        ["sh", "-c", line], cwd=folder, env=env, capture_output=True, text=True, check=False
    )


def test_the_readme_has_examples_to_run() -> None:
    """The extraction finds the README's lines: the three shapes, check, renew, a CA, batch."""
    assert len(LINES) >= 20
    assert len(SEQUENCES) == 1
    for wanted in ("flow-ssl selfsigned --cn '*.mycompany.com'", "flow-ssl check --cert",
                   "flow-ssl renew flow.crt --csr", "flow-ssl batch hosts.toml"):  # fmt: skip
        assert any(line.startswith(wanted) for line in LINES), wanted


@pytest.mark.parametrize("line", LINES, ids=lambda line: line[9:60])
def test_a_readme_example_runs_as_written(
    base: Path,
    tools: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    line: str,
) -> None:
    """Each offline example exits 0 (or as it says) in a fresh copy of the folder it describes."""
    folder = tmp_path / "here"
    shutil.copytree(base, folder, symlinks=True)
    command = line.split("#", 1)[0]
    if any(mark in command for mark in "|<>;&$`"):  # the shell's part too: sh runs it
        done = _sh(line, folder, tools)
        code, out, err = done.returncode, done.stdout, done.stderr
    else:  # its words, as sh would split them, given to flow-ssl in this process
        with _inside(folder):
            code = main(shlex.split(line, comments=True)[1:])
        out, err = capsys.readouterr()
    assert code == _exit_code(line), (line, out[-2000:], err[-2000:])


@pytest.mark.slow
@pytest.mark.parametrize("block", SEQUENCES, ids=lambda block: block[0][9:40])
def test_the_readme_s_company_ca_runs_in_order(
    base: Path, tools: Path, tmp_path: Path, block: list[str]
) -> None:
    """The company CA example, line after line (each exits 0 or as it says), from its CSR alone."""
    (tmp_path / "flow.csr").write_bytes((base / "flow.csr").read_bytes())
    for line in block:
        if line.startswith(SKIPPED):
            continue
        done = _sh(line, tmp_path, tools)
        assert done.returncode == _exit_code(line), (line, done.stdout[-2000:], done.stderr[-2000:])
    assert (tmp_path / "flow.fullchain.pem").is_file()
    assert (tmp_path / "issuing" / "root.crt").is_file()
    assert (tmp_path / "issuing" / "crl.pem").is_file()
