"""The probe cache: what a binary said is remembered per file, never trusted when it is not ours."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from flow_ssl.openssl import probe_cache
from tests.helpers import OPENSSL, SYSTEM_OPENSSL, requires_openssl

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

pytestmark = requires_openssl


def _logging_openssl(folder: Path, log: Path) -> Path:
    """An openssl that writes each argv to ``log``, then runs the real one (it counts probes)."""
    wrapper = folder / "openssl"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{OPENSSL}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def _print_with(binary: Path, cache: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``selfsigned --print`` in a process of its own, with this binary and this cache folder."""
    env = {**os.environ, "FLOW_SSL_OPENSSL": str(binary), "XDG_CACHE_HOME": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "flow_ssl", "selfsigned", "--cn", "a.example.com", "--print"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )


def _probes(log: Path) -> list[str]:
    """The version and -help runs the log shows (each a probe), then empties it."""
    lines = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return [line for line in lines if line == "version" or line.endswith("-help")]


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A logging openssl, its log, and an empty cache folder."""
    log = tmp_path / "calls.log"
    return _logging_openssl(tmp_path, log), log, tmp_path / "cache"


def test_a_second_run_asks_the_binary_nothing_the_first_learned(
    setup: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """The first --print probes version and req -help; the next probes nothing, same script."""
    binary, log, cache = setup
    first = _print_with(binary, cache, tmp_path)
    assert first.returncode == 0, first.stderr
    assert _probes(log) == ["version", "req -help"]
    second = _print_with(binary, cache, tmp_path)
    assert second.returncode == 0, second.stderr
    assert _probes(log) == []
    assert second.stdout == first.stdout
    (remembered,) = (cache / "flow-ssl").iterdir()
    assert remembered.stat().st_mode & 0o777 == 0o600
    assert (cache / "flow-ssl").stat().st_mode & 0o777 == 0o700


def test_a_binary_replaced_at_the_same_path_is_asked_again(
    setup: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Rewriting the binary's file (same path) makes the cache stale: it is probed anew."""
    binary, log, cache = setup
    _print_with(binary, cache, tmp_path)
    _probes(log)
    replacement = tmp_path / "new-openssl"
    replacement.write_text(binary.read_text() + "# a new build\n")
    replacement.chmod(0o755)
    replacement.replace(binary)
    assert _print_with(binary, cache, tmp_path).returncode == 0
    assert _probes(log) == ["version", "req -help"]


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda f: f.write_text("{not json"), id="corrupt"),
        pytest.param(lambda f: f.write_bytes(b"\xff\xfe" * 10), id="binary"),
        pytest.param(lambda f: f.write_text("[]"), id="not-an-object"),
        pytest.param(lambda f: f.write_text("[" * 100_000 + "]" * 100_000), id="nested-deep"),
        pytest.param(
            lambda f: f.write_text(
                json.dumps({**json.loads(f.read_text()), "path": "/usr/bin/other"})
            ),
            id="foreign",
        ),
        pytest.param(
            lambda f: f.write_text(
                json.dumps({**json.loads(f.read_text()), "options": {"req": ["-CA", 5]}})
            ),
            id="bad-option",
        ),
        pytest.param(lambda f: f.chmod(0o666), id="writable-by-others"),
    ],
)
def test_a_spoiled_cache_file_is_ignored_and_written_again(
    setup: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    spoil: Callable[[Path], object],
) -> None:
    """A corrupt, foreign or unsafe cache file is never trusted; remembering writes it whole."""
    binary, _, cache = setup
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    facts = probe_cache.Facts("OpenSSL 3.0.19", {"req": frozenset({"-addext"}), "cms": None})
    probe_cache.remember(str(binary), facts)
    (remembered,) = (cache / "flow-ssl").iterdir()
    assert probe_cache.recall(str(binary)) == facts
    spoil(remembered)
    assert probe_cache.recall(str(binary)) is None
    probe_cache.remember(str(binary), facts)
    assert probe_cache.recall(str(binary)) == facts
    assert remembered.stat().st_mode & 0o777 == 0o600


def test_a_lie_in_a_cache_others_can_write_is_not_believed(
    setup: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Our own cache is believed (a lie refuses the binary); one others can write is not."""
    binary, _, cache = setup
    _print_with(binary, cache, tmp_path)
    (remembered,) = (cache / "flow-ssl").iterdir()
    data = json.loads(remembered.read_text())
    data["options"]["req"] = ["-new"]  # no -addext: flow-ssl refuses such an openssl
    remembered.write_text(json.dumps(data))
    believed = _print_with(binary, cache, tmp_path)
    assert believed.returncode == 3
    assert "-addext" in believed.stderr
    remembered.write_text(json.dumps(data))
    remembered.chmod(0o646)
    done = _print_with(binary, cache, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "-addext" in done.stdout


def test_a_cache_that_cannot_be_written_only_makes_runs_slower(
    setup: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Where the cache cannot be written (a file in its way, as a read-only home), runs work."""
    binary, log, cache = setup
    cache.write_text("not a folder")
    for _ in range(2):
        done = _print_with(binary, cache, tmp_path)
        assert done.returncode == 0, done.stderr
        assert _probes(log) == ["version", "req -help"]
    assert cache.read_text() == "not a folder"


def test_doctor_shows_the_cache_and_refresh_drops_it(
    setup: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """doctor names the cache folder; --refresh drops what was remembered and asks again."""
    binary, log, cache = setup
    env = {**os.environ, "FLOW_SSL_OPENSSL": str(binary), "XDG_CACHE_HOME": str(cache)}

    def doctor(*args: str) -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, "-m", "flow_ssl", "doctor", "--json", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            check=True,
        )
        found: dict[str, object] = json.loads(done.stdout)
        return found

    first = doctor()
    remembered = {"folder": str(cache / "flow-ssl"), "binaries": 1, "script": True}
    assert first["probe_cache"] == remembered
    _probes(log)
    assert doctor()["probe_cache"] == remembered
    assert _probes(log) == []
    refreshed = doctor("--refresh")
    assert refreshed["probe_cache"] == {**remembered, "dropped": 1}
    assert "version" in _probes(log)


@pytest.mark.parametrize(
    ("spoil", "said"),
    [
        ("kill -9 $$", "killed by SIGKILL"),
        # A wrapper script run where its own tools are missing (a test with PATH emptied did
        # this in CI: the wrapper's "dirname: not found" was kept as "req has no options").
        ('echo "$0: 4: dirname: not found" >&2; exit 127', "listed no options"),
    ],
)
def test_a_probe_that_gets_no_answer_is_neither_believed_nor_remembered(
    tmp_path: Path, spoil: str, said: str
) -> None:
    """req -help spoiled once: that run stops (exit 3); the next asks again and works."""
    marker = tmp_path / "spoiled-once"
    binary = tmp_path / "openssl"
    binary.write_text(
        "#!/bin/sh\n"
        f'if [ "$*" = "req -help" ] && [ ! -e "{marker}" ]; then : > "{marker}"; {spoil}; fi\n'
        f'exec "{OPENSSL}" "$@"\n'
    )
    binary.chmod(0o755)
    cache = tmp_path / "cache"
    first = _print_with(binary, cache, tmp_path)
    assert first.returncode == 3, first.stderr
    assert "-addext" not in first.stderr  # not "has no req -addext": it gave no answer
    assert said in first.stderr
    assert "Traceback" not in first.stderr
    second = _print_with(binary, cache, tmp_path)
    assert second.returncode == 0, second.stderr
    assert "-addext" in second.stdout


def test_doctor_says_what_the_cache_cannot_see_or_hold(
    setup: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """A wrapper script: doctor says to refresh after changing it; a file as the folder: unused."""
    binary, _, cache = setup
    env = {**os.environ, "FLOW_SSL_OPENSSL": str(binary), "XDG_CACHE_HOME": str(cache)}
    cache.mkdir()
    (cache / "flow-ssl").write_text("not a folder")
    done = subprocess.run(
        [sys.executable, "-m", "flow_ssl", "doctor"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    (row,) = [line for line in done.stdout.splitlines() if line.startswith("probe cache")]
    assert "cannot be used: it is a file, not a folder; every run asks openssl again" in row
    assert f"{binary} is a script: what it runs is not watched, so run doctor --refresh" in row
    real = subprocess.run(
        [sys.executable, "-m", "flow_ssl", "doctor", "--json"],
        capture_output=True,
        text=True,
        env={**env, "FLOW_SSL_OPENSSL": str(SYSTEM_OPENSSL)},  # a binary, no script
        cwd=tmp_path,
        check=True,
    )
    assert "script" not in json.loads(real.stdout)["probe_cache"]
