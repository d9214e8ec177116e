"""
The commands that make files, printed (``--print``) or run on the run loop, and what they
made said: ``selfsigned``, ``csr``, ``renew``, ``ca init``, ``ca sign`` and ``ca issue``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flow_ssl.cli import console

if TYPE_CHECKING:
    from collections.abc import Sequence

    from flow_ssl import files
    from flow_ssl.ca.authority import CA
    from flow_ssl.ca.issue import IssuePlan
    from flow_ssl.ca.sign import SignPlan
    from flow_ssl.cli.options import Printing
    from flow_ssl.core.models import Notice
    from flow_ssl.make.generate import Plan
    from flow_ssl.make.run import Announce
    from flow_ssl.openssl.commands.base import Shell
    from flow_ssl.openssl.script.render import Form
    from flow_ssl.openssl.script.steps import Guard, Step

# What each output is called in the reports (the JSON "files" keys).
_WRITTEN = {"keyout": "key", "out": "certificate", "fullchain": "fullchain"}


@dataclass(frozen=True)
class Asked:
    """How a command was asked: shown (in a form, for a shell) or run; what it may replace."""

    form: Form | None  # print (a person's), script (a machine's), or None: run
    shell: Shell
    force: bool
    as_json: bool
    explain: bool = False  # each option in plain words
    subj: bool = False  # --subj (said in a made key's JSON)

    @classmethod
    def of(cls, printing: Printing, *, force: bool, as_json: bool, subj: bool = False) -> Asked:
        """From the printing options (refused: --print with --script, a lone --explain)."""
        return cls(
            printing.form, printing.shell.shell, force, as_json, explain=printing.explain, subj=subj
        )


def announcer(asked: Asked) -> Announce | None:
    """Show the exact steps (final paths, a serial taken) just before they run, with answers."""
    if asked.as_json:
        return None

    def announce(steps: list[Step]) -> None:
        from flow_ssl.openssl.script.render import prompts_of, render_listing
        from flow_ssl.output import text

        console.say(render_listing(steps, asked.shell))
        prompts = prompts_of(steps)
        if prompts:
            console.say("# answering openssl's questions:\n" + text.answers_text(prompts))

    return announce


def written(outputs: list[files.Output], *, out: str = "certificate") -> dict[str, str]:
    """Each file written, by what it is (``out`` names the --out file: certificate or csr)."""
    return {
        out if output.field == "out" else _WRITTEN[output.field]: str(output.path)
        for output in outputs
    }


def run_made(plan: Plan, asked: Asked, *, warned: list[Notice], after: str | None = None) -> None:
    """
    Print the plan (--print, --script), or run it and say what was written: a key, a
    certificate or CSR; ``after``: what to do next, said last.
    """
    from flow_ssl.make.run import run
    from flow_ssl.openssl import runner
    from flow_ssl.output import json_data, text

    if asked.form is not None:
        _print_made(plan, asked, asked.form, after)
        return
    made = run(plan, force=asked.force, announce=announcer(asked))
    if asked.as_json:
        console.emit_json(
            json_data.made(
                plan.command(runner.find_openssl()),
                subj=asked.subj,
                files=written(plan.outputs(), out="certificate" if plan.x509 else "csr"),
                result=made.cert,
                found=made.findings,
                warned=console.warning_lines(warned),
                backups={str(old): str(kept) for old, kept in made.backups},
            )
        )
        return
    console.say(
        text.made_summary(
            plan.key_path, plan.out_path, x509=plan.x509, kept=bool(plan.existing_key)
        )
    )
    if made.backups:
        console.say(text.backups_text(made.backups))
    console.say(f"Read back with: {plan.readback().render()}")
    console.say(text.findings_table(made.findings))
    if after is not None:
        console.say(after)


def _print_made(plan: Plan, asked: Asked, form: Form, after: str | None) -> None:
    from flow_ssl.openssl.commands.base import Command
    from flow_ssl.openssl.script.render import for_print, openssl_for_print, render_script
    from flow_ssl.openssl.script.steps import Note
    from flow_ssl.output import json_data

    openssl = openssl_for_print()
    guard = guard_over(plan.outputs(), force=asked.force)
    steps = [guard, *for_print(openssl, plan.steps(openssl))]
    if after is not None:
        steps.append(Note(after))
    command = next(step for step in steps if isinstance(step, Command))
    readback = plan.readback()
    script = render_script(steps, asked.shell, form=form, readback=readback, explain=asked.explain)
    said_existing(guard, form)
    if asked.as_json:
        console.emit_json(json_data.planned(command, readback, asked.shell, script=script))
        return
    console.say_script(script)


def guard_over(outputs: Sequence[files.Output], *, force: bool) -> Guard:
    """A printed script's guard of its outputs, worded with the options that change it."""
    from flow_ssl.cli.options import PRINT_OVERWRITE, SCRIPT_REFUSAL
    from flow_ssl.openssl.script.steps import Guard

    return Guard.over(outputs, force=force, refusal=SCRIPT_REFUSAL, overwrite=PRINT_OVERWRITE)


def said_existing(guard: Guard, form: Form) -> None:
    """--print has no guard: a file it would write over is said on stderr too."""
    if form == "print" and not guard.keep:
        for path in guard.existing:
            console.warn(
                f"{path} exists: the printed commands write over it (--force keeps it as a "
                "backup first; --script refuses to)"
            )


def run_issued(
    plan: SignPlan | IssuePlan, asked: Asked, *, notices: list[Notice], heading: str
) -> None:
    """Warn, then print the steps, or run them and say what the CA issued."""
    from flow_ssl.ca.folder import script_serial
    from flow_ssl.make.run import Where, run
    from flow_ssl.output import json_data, text

    console.warn_all(notices)
    folder = plan.ca.folder
    if asked.form is not None:
        from flow_ssl.openssl.commands.read import build_readback
        from flow_ssl.openssl.script.render import for_print, openssl_for_print

        openssl = openssl_for_print()
        steps = plan.steps(openssl, Where(serial=script_serial(folder)))
        guard = guard_over(plan.outputs(), force=asked.force)
        said_existing(guard, asked.form)
        console.print_steps(
            [guard, *for_print(openssl, steps)],
            asked.form,
            asked.shell,
            as_json=asked.as_json,
            explain=asked.explain,
            heading=heading,
            readback=build_readback(str(plan.out), "certificate", der=False),
        )
        return
    warn_serial_behind(plan.ca)
    made = run(plan, force=asked.force, announce=announcer(asked))
    say_records(plan.ca)
    files_written = written(plan.outputs())
    if asked.as_json:
        console.emit_json(
            json_data.issued(
                made.serial,
                files_written,
                made.cert,
                made.findings,
                console.warning_lines(notices),
                {str(old): str(kept) for old, kept in made.backups},
            )
        )
        return
    console.say(text.issued_summary(made, files_written, folder.root_cert(), folder.path))


def warn_serial_behind(authority: CA) -> None:
    """Before a run signs: warn when the serial file is behind the index (read only)."""
    from flow_ssl.ca.folder import serial_behind

    behind = serial_behind(authority.folder)
    if behind is not None:
        console.warn(behind)


def say_records(authority: CA) -> None:
    """After a run: what bringing the CA's records up to date did (an index made, once)."""
    for line in authority.said:
        console.say(line, err=True)
