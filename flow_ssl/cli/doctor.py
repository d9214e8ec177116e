"""``doctor``: the machine's diagnosis and a self-test, for a problem report."""

from __future__ import annotations

import typer

from flow_ssl.cli import console
from flow_ssl.cli.options import JsonFlag


def doctor(*, as_json: JsonFlag = False) -> None:
    """
    Say what flow-ssl finds on this machine, and prove it works.

    Versions, which openssl and why, its features and the fallbacks in use, the
    trust store and the locale; then a throwaway EC certificate made and read back.
    """
    from dataclasses import asdict

    from flow_ssl import doctor as diagnosis
    from flow_ssl.output import text

    found = diagnosis.diagnose()
    if as_json:
        console.emit_json(asdict(found))
    else:
        console.say(text.diagnosis_text(found))
    if found.exit_code:
        console.say(f"flow-ssl: doctor: {found.problems[-1]}", err=True)
        raise typer.Exit(found.exit_code)
