"""``doctor``: the machine's diagnosis and a self-test, for a problem report."""

from __future__ import annotations

from typing import Annotated

import typer

from flow_ssl.cli import console
from flow_ssl.cli.options import JsonFlag


def doctor(
    *,
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh", help="Forget what earlier runs learned of each openssl; ask it anew."
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """
    Say what flow-ssl finds on this machine, and prove it works.

    Versions, which openssl and why, its features and the fallbacks in use, what is
    remembered of it (the probe cache), the trust store and the locale; then a throwaway
    EC certificate made and read back.
    """
    from dataclasses import asdict

    from flow_ssl import doctor as diagnosis
    from flow_ssl.output import json_data, text

    found = diagnosis.diagnose(refresh=refresh)
    # A failing doctor still shows its whole report; with --json it carries the error
    # object every --json failure has, so one JSON document says both.
    failure = f"doctor: {found.problems[-1]}" if found.exit_code else None
    if as_json:
        failed = json_data.error(found.exit_code, failure) if failure else {}
        console.emit_json({**asdict(found), **failed})
    else:
        console.say(text.diagnosis_text(found))
    if failure:
        console.say(f"flow-ssl: {failure}", err=True)
        raise typer.Exit(found.exit_code)
