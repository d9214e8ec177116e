"""The offline install: a wheelhouse, then a fresh venv with --no-index that runs doctor green."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

from tests.helpers import requires_openssl

ROOT = Path(__file__).resolve().parents[1]
DEV_TOOLS = ("pytest", "mypy", "ruff", "hypothesis", "cryptography")

pytestmark = [pytest.mark.slow, requires_openssl]


def _locked_versions(lock: Path) -> dict[str, set[str]]:
    """Each package's versions in uv.lock (a package may have one per Python range)."""
    versions: dict[str, set[str]] = {}
    for package in tomllib.loads(lock.read_text())["package"]:
        versions.setdefault(package["name"], set()).add(package["version"])
    return versions


def _run(*argv: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in argv], capture_output=True, text=True, check=False, cwd=cwd
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_wheelhouse_installs_with_no_index_and_doctor_is_green(tmp_path: Path) -> None:
    """What make dist builds from the lock installs offline into a fresh venv: runtime only."""
    wheels = tmp_path / "dist"
    _run("make", "--no-print-directory", "dist", f"DIST={wheels}", cwd=ROOT)
    assert any(p.name.startswith("flow_ssl-") for p in wheels.iterdir())
    locked = _locked_versions(ROOT / "uv.lock")
    for wheel in wheels.glob("*.whl"):
        name, version = wheel.name.split("-")[:2]
        if name != "flow_ssl":
            assert version in locked[name.lower().replace("_", "-")], wheel.name
    venv = tmp_path / "v"
    _run(sys.executable, "-m", "venv", venv)
    _run(
        venv / "bin" / "pip", "install", "--quiet", "--no-index", "--find-links", wheels, "flow-ssl"
    )
    installed = _run(venv / "bin" / "pip", "list", "--format=freeze").lower()
    assert not [tool for tool in DEV_TOOLS if f"{tool}==" in installed]
    report = _run(venv / "bin" / "flow-ssl", "doctor", cwd=tmp_path)
    assert "self-test    ok" in report
    assert "All good." in report
