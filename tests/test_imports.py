"""Start-up imports only what the command needs: --version and --print read and sign nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

# Code no --print or --version ever runs: reading files, the CA, PKCS#12, verifying, running
# steps, prompting (pexpect) and terminal styling (rich).
NEVER_ON_START = (
    "flow_ssl.openssl.read.",
    "flow_ssl.ca.",
    "flow_ssl.check.",
    "flow_ssl.openssl.verify",
    "flow_ssl.openssl.keymatch",
    "flow_ssl.make.perform",
    "pexpect",
    "rich",
)


def _imported(tmp_path: Path, *args: str) -> set[str]:
    """Every module ``python -m flow_ssl ARGS`` imports (``-X importtime`` lists each)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "flow_ssl", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return {
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


@pytest.mark.parametrize(
    "args",
    [
        ("--version",),
        ("selfsigned", "--cn", "flow.mycompany.com", "--print"),
        ("csr", "--cn", "flow.mycompany.com", "--subj", "--print"),
        ("selfsigned", "--cn", "flow.mycompany.com", "--script", "--shell", "powershell"),
    ],
    ids=["version", "selfsigned-print", "csr-print", "selfsigned-script"],
)
def test_start_up_imports_only_what_it_runs(tmp_path: Path, args: tuple[str, ...]) -> None:
    """--version and --print import no reader, CA, PKCS#12, prompt or styling code."""
    imported = _imported(tmp_path, *args)
    assert "flow_ssl.cli.app" in imported  # the listing is real
    unexpected = sorted(m for m in imported if m.startswith(NEVER_ON_START))
    assert unexpected == []


def test_version_builds_no_pydantic_model(tmp_path: Path) -> None:
    """--version does not even import pydantic (the models are built lazily)."""
    assert not [m for m in _imported(tmp_path, "--version") if m.startswith("pydantic")]
