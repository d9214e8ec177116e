"""
The flow-ssl command (``python -m flow_ssl`` and the console script).

Signals are handled before anything heavy is imported, so a Ctrl-C or SIGTERM at
start-up is one line too; a Python without flow-ssl's dependencies gets one line
saying how to install it.
"""

from __future__ import annotations

import sys


def main() -> int:
    """Install the signal handling, then run the CLI; returns the exit code."""
    from flow_ssl.cli import stopping
    from flow_ssl.core.errors import ExitCode, Stopped

    try:
        stopping.install()
        try:
            from flow_ssl.cli.app import main as run
        except ModuleNotFoundError as missing:  # a Python without flow-ssl's dependencies
            sys.stderr.write(
                f"flow-ssl: {missing.name} is not installed for {sys.executable}; install "
                "flow-ssl first (make install, then .venv/bin/flow-ssl; or pipx install .)\n"
            )
            return int(ExitCode.INTERNAL)
        return run()
    except Stopped as stop:  # before the CLI's own error boundary was reached
        return stopping.report_early_stop(stop.signum, sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
