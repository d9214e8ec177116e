"""Signals mid-run: every openssl child stopped, staging gone, one line, exit 128+N."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from tests.helpers import OPENSSL, listing, requires_openssl

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = requires_openssl

# openssl itself finishes in milliseconds; this stand-in runs the real one, then lingers
# (as a slow RSA-4096 or a stalled disk would), so a signal lands while it is running.
# $LINGER_ON: only a key request one of whose arguments holds it lingers.
LINGERING_OPENSSL = f"""#!{sys.executable}
import os, subprocess, sys, time
args = sys.argv[1:]
code = subprocess.call([{str(OPENSSL)!r}, *args])
named = any(os.environ.get("LINGER_ON", "") in arg for arg in args)
if args[:1] == ["req"] and "-keyout" in args and named:
    with open(os.environ["LINGER_PIDS"], "a") as pids:
        pids.write(f"{{os.getpid()}}\\n")
    time.sleep(120)
sys.exit(code)
"""


def _lingering_openssl(folder: Path) -> Path:
    script = folder / "lingering-openssl"
    script.write_text(LINGERING_OPENSSL)
    script.chmod(0o755)
    return script


class _Announced:
    """
    A pipe each lingering openssl writes its PID to as it starts: the test waits on it (an
    event, not a clock). The test holds its write end open too, so it never reads an end.
    """

    def __init__(self, fifo: Path) -> None:
        os.mkfifo(fifo)
        self.path = fifo
        self._read = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        self._keep = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        self._seen = b""

    def wait_for(self, count: int, timeout: float = 30) -> list[int]:
        """The PIDs of the first ``count`` openssl processes to start, once they have."""
        deadline = time.monotonic() + timeout
        while self._seen.count(b"\n") < count:
            ready, _, _ = select.select([self._read], [], [], max(0, deadline - time.monotonic()))
            if not ready:
                pytest.fail(f"openssl did not start {count} time(s) within {timeout:.0f} s")
            self._seen += os.read(self._read, 4096)
        return [int(line) for line in self._seen.split()][:count]

    def all(self) -> list[int]:
        """Every PID announced so far (what is in the pipe now, without waiting)."""
        while select.select([self._read], [], [], 0)[0]:
            self._seen += os.read(self._read, 4096)
        return [int(line) for line in self._seen.split()]


def _start(
    args: list[str], work: Path, tools: Path, linger_on: str = ""
) -> tuple[subprocess.Popen[str], _Announced]:
    announced = _Announced(tools / "pids")
    env = {
        **os.environ,
        "FLOW_SSL_OPENSSL": str(_lingering_openssl(tools)),
        "LINGER_PIDS": str(announced.path),
        "LINGER_ON": linger_on,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flow_ssl", *args],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, announced


def _wait_for(announced: _Announced, count: int) -> list[int]:
    return announced.wait_for(count)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize(
    ("signum", "code", "words"),
    [
        (signal.SIGTERM, 143, "stopped by SIGTERM"),
        (signal.SIGHUP, 129, "stopped by SIGHUP"),
        (signal.SIGINT, 130, "cancelled (Ctrl-C)"),
    ],
)
@pytest.mark.parametrize("mode", ["prompts", "subj"])
def test_a_signal_mid_run_stops_openssl_and_leaves_nothing(
    tmp_path: Path, signum: int, code: int, words: str, mode: str
) -> None:
    """A signal while openssl runs: the child dies, no key is left anywhere, exit 128+N."""
    work, tools = tmp_path / "work", tmp_path / "tools"
    work.mkdir()
    tools.mkdir()
    args = ["selfsigned", "--cn", "flow.example.com", "--key", "ec:P-256"]
    process, pids = _start([*args, "--subj"] if mode == "subj" else args, work, tools)
    (child,) = _wait_for(pids, 1)
    assert len(listing(work)) > 0, "the key should be in a staging folder by now"
    process.send_signal(signum)
    _, err = process.communicate(timeout=30)
    assert process.returncode == code
    assert err.strip().splitlines()[-1] == f"flow-ssl: {words}; nothing was left behind"
    assert "Traceback" not in err
    assert listing(work) == []
    assert not _alive(child)


def test_a_signal_stops_every_entry_of_a_batch(tmp_path: Path) -> None:
    """SIGTERM during batch stops each running openssl; no entry leaves a file; exit 143."""
    work, tools = tmp_path / "work", tmp_path / "tools"
    work.mkdir()
    tools.mkdir()
    hosts = "".join(f'[[cert]]\ncn = "h{n}.example.com"\n' for n in range(4))
    (work / "hosts.toml").write_text('[defaults]\nkey = "ec:P-256"\nsubj = true\n' + hosts)
    process, pids = _start(["batch", "hosts.toml", "--jobs", "2"], work, tools)
    children = _wait_for(pids, 2)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 143, err
    assert "stopped by SIGTERM" in err
    assert listing(work) == ["hosts.toml"]
    assert not any(map(_alive, children))
    assert len(pids.all()) == 2, "no entry started after the signal"


def test_a_signal_names_what_earlier_entries_put_in_place(tmp_path: Path) -> None:
    """SIGTERM while a batch's second entry runs: the first's files stay and the line names them."""
    work, tools = tmp_path / "work", tmp_path / "tools"
    work.mkdir()
    tools.mkdir()
    hosts = '[[cert]]\ncn = "done.example.com"\n[[cert]]\ncn = "slow.example.com"\n'
    (work / "hosts.toml").write_text('[defaults]\nkey = "ec:P-256"\nsubj = true\n' + hosts)
    process, pids = _start(["batch", "hosts.toml", "--jobs", "1"], work, tools, "slow.example")
    (child,) = _wait_for(pids, 1)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 143, err
    assert err.strip().splitlines()[-1] == (
        "flow-ssl: stopped by SIGTERM after these were complete and in place (kept): "
        "done.example.com.key, done.example.com.crt; nothing else was left"
    )
    assert listing(work) == ["done.example.com.crt", "done.example.com.key", "hosts.toml"]
    assert not _alive(child)


def test_a_second_signal_never_cuts_the_clean_up_short(tmp_path: Path) -> None:
    """SIGTERM, then SIGHUP and Ctrl-C right after: one line, exit 143, no key left anywhere."""
    work, tools = tmp_path / "work", tmp_path / "tools"
    work.mkdir()
    tools.mkdir()
    process, pids = _start(["selfsigned", "--cn", "flow.example.com", "--subj"], work, tools)
    (child,) = _wait_for(pids, 1)
    process.send_signal(signal.SIGTERM)
    for again in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
        time.sleep(0.005)
        if process.poll() is None:
            process.send_signal(again)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 143
    assert err.count("flow-ssl: ") == 1
    assert listing(work) == []
    assert not _alive(child)


def test_a_signal_once_the_run_is_over_changes_nothing(tmp_path: Path) -> None:
    """After the run (the report, Python's shutdown), SIGTERM neither kills nor raises: rc kept."""
    probe = (
        "import os, signal, sys\n"
        "from flow_ssl.cli import stopping\n"
        "from flow_ssl.cli.app import main\n"
        "stopping.install()\n"
        "code = main(['--version'])\n"
        "os.kill(os.getpid(), signal.SIGTERM)\n"
        "print('after', signal.getsignal(signal.SIGTERM) == signal.SIG_IGN)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "after True" in done.stdout
    assert "Stopped" not in done.stderr
    assert "Traceback" not in done.stderr
