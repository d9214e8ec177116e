"""
``selfsigned``, ``csr`` and ``renew``: a key with a certificate, or with a request for a CA.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from flow_ssl.cli import console
from flow_ssl.cli.options import (
    CaPassOpt,
    CertOutOpt,
    DaysOpt,
    ExplainFlag,
    ForceFlag,
    JsonFlag,
    KeyoutOpt,
    PrintFlag,
    RequestFlags,
    ShellChoice,
    ShellOpt,
    SubjFlag,
    request_from_flags,
    request_options,
)
from flow_ssl.core.errors import InvalidInputError

if TYPE_CHECKING:
    from flow_ssl.core.models import Notice
    from flow_ssl.make.generate import Plan
    from flow_ssl.openssl.commands.base import Shell
    from flow_ssl.openssl.script.steps import Step


@dataclass(frozen=True)
class _Asked:
    """How the operator asked for the result: where it goes and how it is shown."""

    keyout: Path | None
    out: Path | None
    subj: bool
    print_only: bool
    explain: bool
    shell: ShellChoice
    force: bool
    as_json: bool


@request_options
def selfsigned(
    request: RequestFlags,
    *,
    days: DaysOpt = None,
    keyout: KeyoutOpt = None,
    out: CertOutOpt = None,
    subj: SubjFlag = False,
    literal: Annotated[
        bool,
        typer.Option(
            "--literal",
            help="The vendor page's command verbatim (no SAN: modern clients refuse it).",
        ),
    ] = False,
    print_only: PrintFlag = False,
    explain: ExplainFlag = False,
    shell: ShellOpt = ShellChoice.posix,
    force: ForceFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """
    Make a private key and a self-signed certificate.

    The vendor page's "create your own" certificate: openssl's questions are
    answered for you (or given with --subj), and the result is read back.
    """
    asked = _Asked(keyout, out, subj, print_only, explain, shell, force, as_json)
    _make(request, asked, x509=True, days=days, literal=literal)


@request_options
def csr(
    request: RequestFlags,
    *,
    keyout: KeyoutOpt = None,
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--out", metavar="FILE", help="CSR file [default: NAME.csr]."),
    ] = None,
    subj: SubjFlag = False,
    literal: Annotated[
        bool, typer.Option("--literal", help="No SAN extension (the CA may refuse or drop names).")
    ] = False,
    print_only: PrintFlag = False,
    explain: ExplainFlag = False,
    shell: ShellOpt = ShellChoice.posix,
    force: ForceFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """
    Make a private key and a CSR to send to a public or company CA.

    The key stays on the server; the CSR carries the names to the CA.
    """
    asked = _Asked(keyout, out, subj, print_only, explain, shell, force, as_json)
    _make(request, asked, x509=False, days=None, literal=literal)


def _make(
    flags: RequestFlags, asked: _Asked, *, x509: bool, days: int | None, literal: bool
) -> None:
    from flow_ssl.make import generate

    if asked.explain and not asked.print_only:
        raise InvalidInputError("goes with --print", field="explain")
    request = request_from_flags(flags, days=days, literal=literal)
    default_key, default_out = generate.default_paths(request, x509=x509)
    plan = generate.Plan(
        request=request,
        key_path=asked.keyout or default_key,
        out_path=asked.out or default_out,
        x509=x509,
        use_subj=asked.subj,
    )
    warned = [*request.warnings(), *generate.name_notices(plan)]
    console.warn_all(warned)
    run_plan(plan, asked, warned=warned)


def run_plan(plan: Plan, asked: _Asked, *, warned: list[Notice]) -> None:
    """Print the plan (--print), or run it and report what was written."""
    from flow_ssl.make.run import run
    from flow_ssl.openssl import runner
    from flow_ssl.output import json_data, text

    shell = asked.shell.shell
    if asked.print_only:
        _print_plan(plan, shell, explain=asked.explain, as_json=asked.as_json, force=asked.force)
        return
    made = run(plan, force=asked.force, announce=None if asked.as_json else _announce)
    x509 = plan.x509
    what = "certificate" if x509 else "csr"
    if asked.as_json:
        key = {} if plan.existing_key else {"key": str(plan.key_path)}
        console.emit_json(
            json_data.made(
                plan.command(runner.find_openssl()),
                subj=asked.subj,
                files={**key, what: str(plan.out_path)},
                result=made.cert,
                found=made.findings,
                warned=console.warning_lines(warned),
                backups={str(old): str(kept) for old, kept in made.backups},
            )
        )
        return
    console.say(
        text.made_summary(plan.key_path, plan.out_path, x509=x509, kept=bool(plan.existing_key))
    )
    if made.backups:
        console.say(text.backups_text(made.backups))
    console.say(f"Read back with: {plan.readback().render()}")
    console.say(text.findings_table(made.findings))


def _announce(steps: list[Step]) -> None:
    """Show the exact steps (final paths) just before they run, and the answers given."""
    from flow_ssl.openssl.script.render import prompts_of, render_script
    from flow_ssl.output import text

    console.say(render_script(steps, brief=True))
    prompts = prompts_of(steps)
    if prompts:
        console.say("# answering openssl's questions:\n" + text.answers_text(prompts))


def _print_plan(plan: Plan, shell: Shell, *, explain: bool, as_json: bool, force: bool) -> None:
    from flow_ssl import files
    from flow_ssl.openssl.commands.base import Command
    from flow_ssl.openssl.script.render import for_print, openssl_for_print, render_script
    from flow_ssl.output import json_data, text

    openssl = openssl_for_print()
    steps = [
        files.script_guard(plan.outputs(), force=force),
        *for_print(openssl, plan.steps(openssl)),
    ]
    command = next(step for step in steps if isinstance(step, Command))
    readback = plan.readback()
    script = render_script(steps, shell)
    if as_json:
        console.emit_json(json_data.planned(command, readback, shell, script=script))
        return
    if explain:
        console.say(text.explanation(command, shell))
    console.say_script(script)
    console.say("# then reads the result back with:")
    console.say(f"# {readback.render(shell)}")


def renew(
    cert: Annotated[
        Path, typer.Argument(metavar="CERT", help="The certificate to renew (it names the rest).")
    ],
    *,
    key: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--key", metavar="FILE", help="Its key [default: CERT's name with .key]."),
    ] = None,
    passin: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--pass", metavar="SRC", help="CERT's passphrase, if a .pfx: env:VAR or file:PATH."
        ),
    ] = None,
    csr: Annotated[
        bool, typer.Option("--csr", help="Make a new key and CSR for the CA that issued it.")
    ] = False,
    ca_dir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--ca-dir", metavar="DIR", help="Have this company CA issue it."),
    ] = None,
    ca_pass: CaPassOpt = None,
    same_key: Annotated[
        bool, typer.Option("--same-key", help="Keep the old key (default: a new one).")
    ] = False,
    days: DaysOpt = None,
    keyout: KeyoutOpt = None,
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--out", metavar="FILE", help="The new certificate or CSR [default: CERT]."),
    ] = None,
    subj: SubjFlag = False,
    print_only: PrintFlag = False,
    shell: ShellOpt = ShellChoice.posix,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing --keyout/--out (kept as backups).")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """
    Renew a certificate: a new one with the old one's subject and names.

    Self-signed stays self-signed; --csr makes a CSR for a public CA; --ca-dir has the
    company CA issue it. The old files are replaced and kept as backups beside them.
    """
    from flow_ssl import files
    from flow_ssl.ca.issue import IssuePlan
    from flow_ssl.cli.ca import run_ca_plan
    from flow_ssl.make import renew as renewing
    from flow_ssl.make.run import check_outputs

    asked = renewing.Asked(
        cert=cert,
        passin=passin,
        key=key,
        csr=csr,
        ca_dir=ca_dir,
        ca_pass=ca_pass,
        same_key=same_key,
        days=days,
        keyout=keyout,
        out=out,
        use_subj=subj,
    )
    renewal = renewing.plan_renewal(asked)
    plan = renewal.plan
    # The files being renewed are replaced (and kept as backups); any other needs --force.
    explicit = [files.Output(path) for path in (keyout, out) if path is not None]
    check_outputs(explicit, force=force)
    warned = [*renewal.notices, *renewal.request.warnings()]
    if isinstance(plan, IssuePlan):
        run_ca_plan(
            plan,
            notices=warned,
            heading=f"renew {cert} from the CA in {ca_dir}",
            print_only=print_only,
            shell=shell.shell,
            force=True,
            as_json=as_json,
        )
        return
    console.warn_all(warned)
    shown = _Asked(
        keyout=plan.key_path,
        out=plan.out_path,
        subj=subj,
        print_only=print_only,
        explain=False,
        shell=shell,
        force=True,
        as_json=as_json,
    )
    run_plan(plan, shown, warned=warned)
