"""doctor, --version and completion: what an operator pastes into a problem report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.helpers import OPENSSL, listing, requires_openssl

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.helpers import Run

WRAPPERS = Path(__file__).resolve().parents[2] / "shared" / "openssl" / "bin"


def _openssl_version(binary: str) -> str:
    return subprocess.run(
        [binary, "version"], capture_output=True, text=True, check=True
    ).stdout.strip()


@requires_openssl
def test_doctor_is_green_and_cleans_up(cli: Callable[..., Run], tmp_path: Path) -> None:
    """doctor names the openssl in use, runs its self-test, leaves no file, exits 0."""
    result = cli("doctor", "--json")
    assert result.code == 0, result.out
    found = json.loads(result.out)
    assert found["openssl_path"] in {OPENSSL, os.path.realpath(str(OPENSSL))}
    assert found["openssl"] == _openssl_version(str(OPENSSL))
    assert found["self_test"].startswith("ok")
    assert "error" not in found
    assert found["python"] == ".".join(map(str, sys.version_info[:3]))
    assert listing(tmp_path) == []
    human = cli("doctor")
    assert "self-test" in human.out
    assert _openssl_version(str(OPENSSL)) in human.out


@pytest.mark.skipif(not WRAPPERS.is_dir(), reason="no ../shared/openssl wrappers here")
def test_doctor_names_another_openssl_and_why(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With FLOW_SSL_OPENSSL at LibreSSL, doctor says so and lists the fallbacks it needs."""
    wrapper = WRAPPERS / "openssl-libressl-3.3.6"
    monkeypatch.setenv("FLOW_SSL_OPENSSL", str(wrapper))
    found = json.loads(cli("doctor", "--json").out)
    assert found["chosen_by"] == f"FLOW_SSL_OPENSSL={wrapper}"
    assert found["flavour"] == "LibreSSL"
    assert found["openssl"] == _openssl_version(str(wrapper))
    assert found["fallbacks"], "LibreSSL needs fallbacks (no req -CA, no storeutl)"


def test_doctor_without_openssl_is_exit_3_with_the_diagnosis(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No openssl: exit 3, the rest of the diagnosis still printed, the missing part named."""
    monkeypatch.delenv("FLOW_SSL_OPENSSL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = cli("doctor", "--json")
    assert result.code == 3
    found = json.loads(result.out)
    assert found["openssl_path"] is None
    assert any("openssl not found" in problem for problem in found["problems"])
    assert found["flow_ssl"]
    assert "openssl not found" in result.err
    assert found["error"]["exit_code"] == 3
    assert found["error"]["message"] == result.err.strip().removeprefix("flow-ssl: ")


@requires_openssl
def test_version_names_flow_ssl_and_the_openssl_in_use(cli: Callable[..., Run]) -> None:
    """--version is one line: flow-ssl's version and the openssl it will run."""
    from flow_ssl import __version__

    lines = cli("--version").out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"flow-ssl {__version__} with ")
    assert _openssl_version(str(OPENSSL)).split(" (Library")[0] in lines[0]


def test_shell_completion_completes_commands_options_and_choices(tmp_path: Path) -> None:
    """The bash completion typer installs answers commands, options and --shell's choices."""

    def complete(words: str) -> list[str]:
        env = {
            **os.environ,
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
            "_FLOW_SSL_COMPLETE": "complete_bash",
        }
        done = subprocess.run(
            [sys.executable, "-m", "flow_ssl"], env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.split()

    assert complete("flow-ssl sel") == ["selfsigned"]
    assert complete("flow-ssl ca i") == ["init", "issue"]
    assert complete("flow-ssl selfsigned --shell ") == ["posix", "powershell"]
    assert listing(tmp_path) == []


def test_python_without_the_dependencies_gets_one_line(tmp_path: Path) -> None:
    """python -m flow_ssl under a Python lacking typer says how to install, no traceback."""
    package = Path(__file__).resolve().parents[1]
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(package)}
    # -S: no site-packages, as for a system Python that never installed flow-ssl's needs.
    done = subprocess.run(
        [sys.executable, "-S", "-m", "flow_ssl", "--version"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 70, done.stderr
    assert "install flow-ssl first" in done.stderr
    assert "Traceback" not in done.stderr
