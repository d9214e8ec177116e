"""
Signals: Ctrl-C, SIGTERM and SIGHUP stop a run the same way, from its first instant.

The first signal stops every openssl flow-ssl started and unwinds the run (each
``finally`` removes its staging); later ones are ignored, so neither the clean-up
nor the one line that reports it is ever cut short. Light on purpose: the
flow-ssl command installs this before typer and the rest are imported.
"""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING

from flow_ssl.core.errors import Stopped

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from types import FrameType

SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
_first: list[int] = []


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    """The first signal: stop the openssl children and raise Stopped; later ones: nothing."""
    if _first:
        return
    _first.append(signum)
    for other in SIGNALS:
        # Ignored at the OS level from now on, through Python's own shutdown too
        # (which would put the default, deadly handlers back).
        signal.signal(other, signal.SIG_IGN)
    runner = sys.modules.get("flow_ssl.openssl.runner")
    stop_all = getattr(runner, "stop_all", None)  # None while it is still being imported
    if stop_all is not None:
        stop_all(signum)
    # Not KeyboardInterrupt for Ctrl-C: typer would turn that into a silent exit 130.
    raise Stopped(signum)


def what_stopped(signum: int) -> str:
    """How the one line names a stop: ``cancelled (Ctrl-C)`` or ``stopped by SIGTERM``."""
    if signum == signal.SIGINT:
        return "cancelled (Ctrl-C)"
    return f"stopped by {signal.Signals(signum).name}"


def report_early_stop(signum: int, args: Sequence[str]) -> int:
    """
    Say that a signal stopped the run before the CLI's error boundary did (at start-up,
    while typer and the rest were still being imported); return the exit code.

    The same line as the boundary's, and with ``--json`` the same JSON error on
    stdout, however early the signal came; nothing was made yet.
    """
    from flow_ssl.core.errors import ExitCode
    from flow_ssl.output.json_data import dumps, error

    code = ExitCode.for_signal(signum)
    message = f"{what_stopped(signum)}; nothing was left behind"
    sys.stderr.write(f"flow-ssl: {message}\n")
    if "--json" in args:
        sys.stdout.write(dumps(error(code, message)) + "\n")
    return code


def install() -> None:
    """Handle the signals from now on (the console script calls this first thing)."""
    for signum in SIGNALS:
        signal.signal(signum, _on_signal)


@contextmanager
def stop_the_run() -> Iterator[None]:
    """Signals stop this run and its openssl children; the old handlers come back after it."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (tests run main() in threads too)
        return
    saved = {signum: signal.signal(signum, _on_signal) for signum in SIGNALS}
    _first.clear()
    try:
        yield
    finally:
        # After a stop, later signals stay ignored while the run reports; so do they after
        # any run the flow-ssl command started (its start-up handler's work is done, and
        # the report and Python's shutdown must not be cut short).
        for signum, handler in saved.items():
            started_by_us = handler is _on_signal
            signal.signal(signum, signal.SIG_IGN if _first or started_by_us else handler)
        runner = sys.modules.get("flow_ssl.openssl.runner")
        if runner is not None and hasattr(runner, "resume"):
            runner.resume()
