"""
``batch``: every certificate of a TOML manifest, made in parallel through the single commands' code.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from flow_ssl.cli import console
from flow_ssl.cli.options import JsonFlag, Printing, printing_options
from flow_ssl.core.errors import ExitCode, InvalidInputError

if TYPE_CHECKING:
    from flow_ssl.make.batch import Outcome


@printing_options
def batch(
    printing: Printing,
    manifest: Annotated[
        Path,
        typer.Argument(metavar="MANIFEST", help="TOML: a [defaults] table and [[cert]] entries."),
    ],
    *,
    jobs: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--jobs", metavar="N", help="Entries made at once [default: the number of cores]."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Redo entries whose files exist (else skipped).")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """
    Make every certificate in a manifest, in parallel.

    The whole manifest is checked first; exit 1 if any entry failed.
    """
    import time

    from flow_ssl.make import batch as batching
    from flow_ssl.output import json_data, text

    if jobs is not None and jobs < 1:
        raise InvalidInputError("must be 1 or more", field="jobs")
    entries = batching.load(manifest)
    form = printing.form
    if form is not None:
        from flow_ssl.cli.running import guard_over
        from flow_ssl.openssl.script.render import for_print, openssl_for_print, render_script

        openssl = openssl_for_print()
        steps = for_print(
            openssl,
            batching.script_steps(
                entries,
                force=force,
                openssl=openssl,
                guard=lambda outputs: guard_over(outputs, force=force),
            ),
        )
        shell = printing.shell.shell
        script = render_script(
            steps,
            shell,
            form=form,
            heading=text.batch_heading(manifest, entries),
            shebang=form == "script",
            explain=printing.explain,
        )
        console.say_script(script)
        return
    for entry in entries:
        for line in console.warning_lines(entry.request.warnings()):
            console.warn(f"[[cert]] #{entry.number} ({entry.name}): {line}")
    started = time.monotonic()
    with console.progress(len(entries)) if not as_json else nullcontext() as advance:
        finished: list[int] = []

        def report(outcome: Outcome) -> None:
            finished.append(outcome.job.number)
            if advance is not None:
                advance(outcome.job.name)
            elif not as_json:
                done = f"[{len(finished)}/{len(entries)}] {outcome.status} {outcome.job.name}"
                console.say(done, err=True)

        outcomes = batching.run(
            entries, workers=jobs or batching.default_workers(), force=force, report=report
        )
    failed = [o for o in outcomes if o.status == "failed"]
    failure = text.batch_failure(failed, len(outcomes)) if failed else None
    if as_json:
        result = json_data.batch_result(outcomes)
        failing = json_data.error(int(ExitCode.CHECK_FAILED), failure) if failure else {}
        console.emit_json({**result, **failing})
    else:
        console.say(text.batch_summary(outcomes, time.monotonic() - started))
    if failure:
        console.say(f"flow-ssl: {failure}", err=True)
        raise typer.Exit(int(ExitCode.CHECK_FAILED))
