"""Helpers shared by the tests: results of CLI runs and the independent oracle."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# The openssl under test: what flow-ssl itself uses (FLOW_SSL_OPENSSL, else PATH). Every
# openssl the tests run goes through openssl() below, so `make test-matrix` tries them all.
OPENSSL = os.environ.get("FLOW_SSL_OPENSSL") or shutil.which("openssl")
# The machine's own openssl, for the few oracles that need OpenSSL 3 features whatever is
# under test (s_server as a TLS peer, -copy_extensions to forge a SHA-1 chain). They say so.
SYSTEM_OPENSSL = shutil.which("openssl")
requires_openssl = pytest.mark.skipif(OPENSSL is None, reason="needs the openssl binary")
# The other openssl builds (`make test-matrix` runs the whole suite with each of them).
BUILDS = Path(os.environ.get("OPENSSL_BIN", Path(__file__).parents[2] / "shared/openssl/bin"))
WRAPPERS = sorted(BUILDS.glob("openssl-*")) if BUILDS.is_dir() else []
needs_builds = pytest.mark.skipif(not WRAPPERS, reason=f"no openssl builds in {BUILDS}")


def openssl(*args: str, stdin: bytes = b"", cwd: Path | None = None, system: bool = False) -> bytes:
    """
    Run openssl (the one under test, or the system's with ``system``); return its stdout.

    Raises:
        subprocess.CalledProcessError: it failed (its stderr is on the exception).
    """
    binary = SYSTEM_OPENSSL if system else OPENSSL
    assert binary is not None, "no openssl"
    done = subprocess.run([binary, *args], input=stdin, capture_output=True, check=True, cwd=cwd)
    return done.stdout


# The vendor page's example subject.
VENDOR_SUBJECT = [
    "--country", "US", "--state", "Colorado", "--locality", "Denver",
    "--org", "My Company", "--ou", "Software Engineering", "--email", "admin@mycompany.com",
]  # fmt: skip


@dataclass
class Run:
    """One CLI run: exit code and what it printed."""

    code: int
    out: str
    err: str


def load_cert(path: Path) -> x509.Certificate:
    """Parse a PEM certificate with cryptography (the independent oracle)."""
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_csr(path: Path) -> x509.CertificateSigningRequest:
    """Parse a PEM CSR with cryptography."""
    return x509.load_pem_x509_csr(path.read_bytes())


def listing(folder: Path) -> list[str]:
    """Every file below a folder, hidden ones included (to prove nothing was left)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def fake_openssl(tmp_path: Path, body: str) -> Path:
    """A shell script standing in for openssl, to simulate what this machine cannot do."""
    folder = tmp_path / "fakebin"
    folder.mkdir(exist_ok=True)
    script = folder / "openssl"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return script


def run_sh(
    script: str,
    cwd: Path,
    *,
    binary: str | None = None,
    after: str = "",
    umask: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """
    Run a printed script with ``sh``, where ``openssl`` is the openssl under test (or
    ``binary``), followed by the shell lines ``after`` each time it ran, under ``umask``.

    Raises:
        subprocess.CalledProcessError: the script failed (its output is on the exception).
    """
    folder = cwd / ".openssl-under-test"
    folder.mkdir(exist_ok=True)
    shim = folder / "openssl"
    runs = f'"{binary or OPENSSL}" "$@"'
    shim.write_text(
        f"#!/bin/sh\n{runs}\nstatus=$?\n{after}\nexit $status\n"
        if after
        else f"#!/bin/sh\nexec {runs}\n"
    )
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = ["sh"] if umask is None else ["sh", "-c", f"umask {umask:03o}; exec sh"]
    try:
        return subprocess.run(
            command, input=script, text=True, cwd=cwd, env=env, capture_output=True, check=True
        )
    finally:
        shim.unlink()
        folder.rmdir()


def spki(public_key: object) -> bytes:
    """A public key as DER SubjectPublicKeyInfo, to compare keys from any source."""
    return public_key.public_bytes(  # type: ignore[attr-defined,no-any-return]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_spki(path: Path) -> bytes:
    """The public half of an unencrypted PEM private key file, as ``spki``."""
    return spki(serialization.load_pem_private_key(path.read_bytes(), None).public_key())


def contents(folder: Path) -> dict[str, bytes]:
    """Every file below a folder and its bytes (to prove nothing changed)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def argv_spy(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every argv flow-ssl starts, recorded (the processes still run)."""
    calls: list[list[str]] = []
    real = subprocess.Popen

    def spy(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        calls.append(list(argv))
        return real(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", spy)
    return calls


@contextmanager
def small_filesystem(mount: Path, size: str) -> Iterator[Path]:
    """
    A tmpfs of ``size`` mounted at ``mount`` (made), unmounted after; the test is skipped
    where mounting is not allowed.
    """
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], capture_output=True, check=False)


Seen = TypeVar("Seen")


def each_build(monkeypatch: pytest.MonkeyPatch, run: Callable[[], Seen]) -> dict[str, Seen]:
    """What ``run`` gives with the openssl under test and with each other build, by name."""
    seen = {}
    for binary in [OPENSSL, *map(str, WRAPPERS)]:
        assert binary is not None
        monkeypatch.setenv("FLOW_SSL_OPENSSL", binary)
        seen[Path(binary).name] = run()
    return seen


def fill_disk(path: Path, *, leave: int) -> None:
    """Take all of the filesystem's free space but ``leave`` bytes."""
    stats = os.statvfs(path.parent)
    free = stats.f_bavail * stats.f_frsize
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.posix_fallocate(descriptor, 0, max(1, free - leave - 8192))
        os.lseek(descriptor, 0, os.SEEK_END)
        while os.statvfs(path.parent).f_bavail * stats.f_frsize > leave:
            os.write(descriptor, b"\0" * 512)
    except OSError:
        pass  # full
    finally:
        os.close(descriptor)


def growth(small: Callable[[], object], large: Callable[[], object], runs: int = 5) -> float:
    """
    How many times more work ``large`` is than ``small``: the least CPU time of ``runs`` runs
    each, garbage collection paused. CPU time, not the clock: other processes on a busy
    machine barely move it, so a ratio of sizes can be held to a bound.
    """

    def least(run: Callable[[], object]) -> float:
        spent = []
        for _ in range(runs):
            started = time.process_time()
            run()
            spent.append(time.process_time() - started)
        return min(spent)

    collecting = gc.isenabled()
    gc.disable()
    try:
        return least(large) / max(least(small), 1e-6)
    finally:
        if collecting:
            gc.enable()
