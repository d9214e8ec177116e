"""
The command line: options -> models -> services -> output; exceptions -> exit codes.

The only module that imports typer. Everything it decides is wiring.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from shlex import quote as shlex_quote
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from pydantic import ValidationError

from flow_ssl import __version__, output
from flow_ssl.errors import (
    CheckFailedError,
    ExitCode,
    FlowSSLError,
    InvalidInputError,
)
from flow_ssl.models import (
    APPLE_MAX_DAYS,
    KEY_NAMES,
    CertRequest,
    KeySpec,
    ParsedCertificate,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from flow_ssl.ca import CA, Issued, IssuePlan, SignPlan
    from flow_ssl.commands import Command, Shell
    from flow_ssl.generate import Plan
    from flow_ssl.readiness import Report
    from flow_ssl.script import Step

app = typer.Typer(
    name="flow-ssl",
    help="Get a TLS certificate onto a Flow Enterprise Server, with openssl doing the work.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)

_state: dict[str, bool] = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"flow-ssl {__version__}")
        raise typer.Exit


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Make keys, certificates and CSRs with openssl, and check them before they are installed."""
    del version
    _state["debug"] = debug


# Options shared by every command that makes a key (selfsigned, csr, ca issue).
CnOpt = Annotated[
    Optional[str],  # noqa: UP045 - typer reads the annotation at runtime
    typer.Option("--cn", help="Common Name: the server's DNS name, a *.wildcard, or an IP."),
]
SanOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option("--san", help="Another name the certificate covers (repeat for several)."),
]
DaysOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option("--days", help="Days of validity [default: 365]."),
]
KeyOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--key", help=f"Key type: {', '.join(KEY_NAMES)} [default: rsa:2048]."),
]
PathOpt = Annotated[Optional[Path], typer.Option()]  # noqa: UP045
TextOpt = Annotated[Optional[str], typer.Option()]  # noqa: UP045
FlagOpt = Annotated[bool, typer.Option()]
CountryOpt = Annotated[Optional[str], typer.Option(help="Country: two letters, like US.")]  # noqa: UP045
StateOpt = Annotated[Optional[str], typer.Option(help="State or province, in full.")]  # noqa: UP045
LocalityOpt = Annotated[Optional[str], typer.Option(help="City or other location.")]  # noqa: UP045
OrgOpt = Annotated[Optional[str], typer.Option(help="Organization (company) name.")]  # noqa: UP045
OuOpt = Annotated[Optional[str], typer.Option(help="Organizational unit (department).")]  # noqa: UP045
EmailOpt = Annotated[Optional[str], typer.Option(help="Contact e-mail address.")]  # noqa: UP045
ForceFlag = Annotated[bool, typer.Option("--force", help="Replace existing files.")]
KeyoutOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--keyout", help="Private key file [default: <name>.key]."),
]
CertOutOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--out", help="Certificate file [default: <name>.crt]."),
]
SubjectFileOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--subject-file", help="TOML file with the subject fields (flags win)."),
]
SubjFlag = Annotated[
    bool, typer.Option("--subj", help="Give the subject with -subj instead of answering prompts.")
]
PrintCommandFlag = Annotated[
    bool, typer.Option("--print", help="Show the command and answers; run nothing.")
]
ExplainFlag = Annotated[
    bool, typer.Option("--explain", help="With --print: say what each option does.")
]
ShellOpt = Annotated[
    str, typer.Option("--shell", help="Render --print for this shell: posix or powershell.")
]
PrintFlag = Annotated[
    bool, typer.Option("--print", help="Show the openssl commands as a script; run nothing.")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable result on stdout.")]


def build_request(
    *,
    cn: str | None,
    san: list[str] | None,
    days: int | None,
    key: str | None,
    country: str | None,
    state: str | None,
    locality: str | None,
    org: str | None,
    ou: str | None,
    email: str | None,
    subject_file: Path | None,
    literal: bool = False,
) -> CertRequest:
    """Flags (over a --subject-file) -> a validated request, or InvalidInputError."""
    from flow_ssl import inputs

    fields: dict[str, Any] = {}
    if subject_file:
        data = inputs.read_toml(subject_file, "--subject-file")
        fields = inputs.subject_fields(data, f"--subject-file {subject_file}")
    flags = {
        "common_name": cn,
        "country": country,
        "state": state,
        "locality": locality,
        "organization": org,
        "organizational_unit": ou,
        "email": email,
    }
    fields.update({k: v for k, v in flags.items() if v is not None})
    fields["san"] = list(fields.get("san", [])) + list(san or [])
    return inputs.build_request(fields, days=days, key=key, literal=literal)


def _warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


def _emit_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _check_shell(shell: str) -> Shell:
    if shell not in {"posix", "powershell"}:
        raise InvalidInputError(f"--shell {shell!r}: choose posix or powershell")
    return "powershell" if shell == "powershell" else "posix"


def _make(
    *,
    x509: bool,
    cn: str | None,
    san: list[str] | None,
    days: int | None,
    key: str | None,
    keyout: Path | None,
    out: Path | None,
    country: str | None,
    state: str | None,
    locality: str | None,
    org: str | None,
    ou: str | None,
    email: str | None,
    subject_file: Path | None,
    subj: bool,
    literal: bool,
    print_only: bool,
    explain: bool,
    shell: str,
    force: bool,
    as_json: bool,
) -> None:
    from flow_ssl import files, generate

    if not x509 and days is not None:
        raise InvalidInputError("--days is for certificates; the CA decides a CSR's validity")
    request = build_request(
        cn=cn,
        san=san,
        days=days,
        key=key,
        country=country,
        state=state,
        locality=locality,
        org=org,
        ou=ou,
        email=email,
        subject_file=subject_file,
        literal=literal,
    )
    shell_name = _check_shell(shell)
    if explain and not print_only:
        raise InvalidInputError("--explain goes with --print")
    default_key, default_out = generate.default_paths(request, x509=x509)
    plan = generate.Plan(
        request=request,
        key_path=keyout or default_key,
        out_path=out or default_out,
        x509=x509,
        use_subj=subj,
    )
    for warning in request.warnings():
        _warn(warning)
    command = plan.command()
    if print_only:
        _print_plan(plan, shell_name, explain=explain, as_json=as_json)
        return
    files.check_outputs(plan.outputs(), force=force)
    if not as_json:
        typer.echo(command.render())
        if not subj:
            typer.echo("# answering openssl's questions:")
            typer.echo(_answers_text(command))
    outcome = generate.execute(plan, force=force)
    if as_json:
        _emit_json(
            {
                "command": command.render(),
                "argv": list(command.argv),
                "mode": "subj" if subj else "prompts",
                "files": {
                    "key": str(plan.key_path),
                    ("certificate" if x509 else "csr"): str(plan.out_path),
                },
                "result": _parsed_json(outcome.result),
                "findings": [f.model_dump() for f in outcome.findings],
                "warnings": request.warnings(),
            }
        )
        return
    made = "certificate" if x509 else "certificate request"
    typer.echo(f"Wrote {plan.key_path} (private key, mode 0600) and {plan.out_path} ({made}).")
    typer.echo(f"Read back with: {plan.readback().render()}")
    typer.echo(output.findings_table(outcome.findings))
    if not x509:
        typer.echo(f"Send {plan.out_path} to your CA; keep {plan.key_path} on the server only.")


def _answers_text(command: Command) -> str:
    lines = []
    for prompt in command.prompts:
        shown = prompt.answer if prompt.answer not in {"", "."} else "(blank)"
        lines.append(f"#   {prompt.display}: {shown}")
    return "\n".join(lines)


def _print_plan(plan: Plan, shell: Shell, *, explain: bool, as_json: bool) -> None:
    command = plan.command()
    readback = plan.readback()
    if as_json:
        _emit_json(
            {
                "command": command.render(shell),
                "argv": list(command.argv),
                "prompts": [
                    {"field": p.field, "label": p.label, "answer": p.answer}
                    for p in command.prompts
                ],
                "readback": readback.render(shell),
            }
        )
        return
    typer.echo(output.command_text(command, shell, explain=explain))
    if command.prompts:
        typer.echo("# openssl will ask these questions; flow-ssl answers:")
        typer.echo(_answers_text(command))
    typer.echo("# then reads the result back with:")
    typer.echo(f"# {readback.render(shell)}")


def _parsed_json(parsed: ParsedCertificate) -> dict[str, Any]:
    data: dict[str, Any] = parsed.model_dump(mode="json")
    if parsed.kind == "csr":
        for key in (
            "serial",
            "issuer",
            "not_before",
            "not_after",
            "self_signed",
            "sha256_fingerprint",
        ):
            data.pop(key, None)
    return data


@app.command()
def selfsigned(
    cn: CnOpt = None,
    san: SanOpt = None,
    days: DaysOpt = None,
    key: KeyOpt = None,
    keyout: KeyoutOpt = None,
    out: CertOutOpt = None,
    country: CountryOpt = None,
    state: StateOpt = None,
    locality: LocalityOpt = None,
    org: OrgOpt = None,
    ou: OuOpt = None,
    email: EmailOpt = None,
    subject_file: SubjectFileOpt = None,
    subj: SubjFlag = False,
    literal: Annotated[
        bool,
        typer.Option(
            "--literal",
            help="The vendor page's command verbatim (no SAN: modern clients refuse it).",
        ),
    ] = False,
    print_only: PrintCommandFlag = False,
    explain: ExplainFlag = False,
    shell: ShellOpt = "posix",
    force: ForceFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Make a private key and a self-signed certificate (the vendor's 'create your own')."""
    _make(
        x509=True,
        cn=cn,
        san=san,
        days=days,
        key=key,
        keyout=keyout,
        out=out,
        country=country,
        state=state,
        locality=locality,
        org=org,
        ou=ou,
        email=email,
        subject_file=subject_file,
        subj=subj,
        literal=literal,
        print_only=print_only,
        explain=explain,
        shell=shell,
        force=force,
        as_json=as_json,
    )


@app.command()
def csr(
    cn: CnOpt = None,
    san: SanOpt = None,
    key: KeyOpt = None,
    keyout: KeyoutOpt = None,
    out: Annotated[Optional[Path], typer.Option(help="CSR file [default: <name>.csr].")] = None,  # noqa: UP045
    country: CountryOpt = None,
    state: StateOpt = None,
    locality: LocalityOpt = None,
    org: OrgOpt = None,
    ou: OuOpt = None,
    email: EmailOpt = None,
    subject_file: SubjectFileOpt = None,
    subj: SubjFlag = False,
    literal: Annotated[
        bool, typer.Option("--literal", help="No SAN extension (the CA may refuse or drop names).")
    ] = False,
    print_only: PrintCommandFlag = False,
    explain: ExplainFlag = False,
    shell: ShellOpt = "posix",
    force: ForceFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Make a private key and a CSR to send to a public or company CA."""
    _make(
        x509=False,
        cn=cn,
        san=san,
        days=None,
        key=key,
        keyout=keyout,
        out=out,
        country=country,
        state=state,
        locality=locality,
        org=org,
        ou=ou,
        email=email,
        subject_file=subject_file,
        subj=subj,
        literal=literal,
        print_only=print_only,
        explain=explain,
        shell=shell,
        force=force,
        as_json=as_json,
    )


@app.command()
def inspect(
    files: Annotated[list[Path], typer.Argument(help="Certificates (PEM, DER, bundles) or CSRs.")],
    raw: Annotated[bool, typer.Option("--raw", help="openssl's own text, unchanged.")] = False,
    print_only: Annotated[
        bool, typer.Option("--print", help="Show the openssl command; run nothing.")
    ] = False,
    explain: ExplainFlag = False,
    shell: ShellOpt = "posix",
    as_json: Annotated[
        bool, typer.Option("--json", help="A JSON list, one object per certificate.")
    ] = False,
) -> None:
    """Show what a certificate, bundle or CSR holds (openssl x509|req -noout -text)."""
    from flow_ssl import reader

    shell_name = _check_shell(shell)
    if print_only:
        for path in files:
            items, is_pem = reader.split_file(path)
            command = reader.display_command(path, items[0].kind, der=not is_pem)
            typer.echo(output.command_text(command, shell_name, explain=explain))
            if explain:
                typer.echo(
                    "#  flow-ssl itself adds -nameopt RFC2253,-esc_msb when it parses, so names "
                    "read the same on every openssl version"
                )
        return
    if raw:
        for path in files:
            typer.echo(reader.raw_text(path), nl=False)
        return
    parsed = [cert for path in files for cert in reader.read_file(path)]
    if as_json:
        _emit_json([_parsed_json(cert) for cert in parsed])
        return
    color = sys.stdout.isatty()
    typer.echo("\n\n".join(output.certificate_summary(cert, color=color) for cert in parsed))


@app.command()
def check(
    cert: Annotated[
        Path, typer.Option("--cert", help="The certificate (or combined file, leaf first).")
    ],
    key: Annotated[Optional[Path], typer.Option("--key", help="Its private key.")] = None,  # noqa: UP045
    chain: Annotated[
        list[Path] | None, typer.Option("--chain", help="Intermediate chain file (repeatable).")
    ] = None,
    ca_file: Annotated[
        Path | None,
        typer.Option("--ca-file", help="Roots to trust [default: the system store]."),
    ] = None,
    host: Annotated[
        list[str] | None, typer.Option("--host", help="A name clients will use (repeatable).")
    ] = None,
    min_days: Annotated[int, typer.Option("--min-days", help="Warn with fewer days left.")] = 30,
    print_only: Annotated[
        bool, typer.Option("--print", help="Show the openssl commands it runs; run nothing.")
    ] = False,
    shell: ShellOpt = "posix",
    as_json: Annotated[
        bool, typer.Option("--json", help="Machine-readable findings on stdout.")
    ] = False,
) -> None:
    """Is this key + certificate + chain ready to install? Why not?"""
    from flow_ssl import readiness

    hosts = tuple(host or ())
    _check_hosts(hosts, min_days)
    if print_only:
        steps = readiness.planned_check(cert, key=key, chain=tuple(chain or ()), ca_file=ca_file)
        _print_steps(steps, _check_shell(shell), as_json=as_json, heading=f"check {cert}")
        return
    report = readiness.check(
        cert, key=key, chain=tuple(chain or ()), ca_file=ca_file, hosts=hosts, min_days=min_days
    )
    _finish_report(report, as_json=as_json)


@app.command()
def bundle(
    cert: Annotated[Path, typer.Option("--cert", help="The server (leaf) certificate.")],
    chain: Annotated[
        list[Path], typer.Option("--chain", help="Chain file(s), any order (repeatable).")
    ],
    out: Annotated[Path, typer.Option("--out", help="The combined file to write (leaf first).")],
    include_root: Annotated[
        bool, typer.Option("--include-root", help="Keep the root at the end.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out.")] = False,
    print_only: Annotated[
        bool, typer.Option("--print", help="Show the openssl commands it runs; write nothing.")
    ] = False,
    shell: ShellOpt = "posix",
    as_json: JsonFlag = False,
) -> None:
    """Write the one file the console wants: leaf, then each issuer in order."""
    from flow_ssl import files, readiness
    from flow_ssl.script import Note

    if print_only:
        steps = [
            *readiness.planned_reads((cert, *chain)),
            Note(f"then flow-ssl writes {out}: the leaf, then each issuer (by name and key id)"),
        ]
        _print_steps(steps, _check_shell(shell), as_json=as_json, heading=f"bundle {cert}")
        return
    files.check_outputs([files.Output(out)], force=force)
    ordered, left_out = readiness.build_bundle(cert, tuple(chain), include_root=include_root)
    readiness.write_bundle(ordered, out, force=force)
    for extra in left_out:
        _warn(f"left out {output.name_text(extra.subject)}: it is not in the leaf's chain")
    if as_json:
        _emit_json({"out": str(out), "certificates": [_parsed_json(c) for c in ordered]})
        return
    typer.echo(f"Wrote {out}:")
    for number, cert_in in enumerate(ordered, 1):
        typer.echo(f"  {number}. {output.name_text(cert_in.subject)}")


@app.command("batch")
def batch_command(
    manifest: Annotated[
        Path, typer.Argument(help="TOML: a [defaults] table and [[cert]] entries.")
    ],
    jobs: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--jobs", help="Entries made at once [default: the number of cores]."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Redo entries whose files exist (else skipped).")
    ] = False,
    print_only: Annotated[
        bool, typer.Option("--print", help="Print every openssl command as a shell script.")
    ] = False,
    shell: ShellOpt = "posix",
    as_json: JsonFlag = False,
) -> None:
    """Make every certificate in a manifest, in parallel; exit 1 if any entry failed."""
    import time

    from flow_ssl import batch
    from flow_ssl.script import render_script

    shell_name = _check_shell(shell)
    if jobs is not None and jobs < 1:
        raise InvalidInputError("--jobs must be 1 or more")
    entries = batch.load(manifest)
    if print_only:
        if shell_name == "posix":
            typer.echo("#!/bin/sh\nset -e")
        typer.echo(
            f"# flow-ssl batch {manifest}: {len(entries)} entries. flow-ssl answers openssl's "
            "questions; this script gives the same subject with -subj."
        )
        typer.echo(render_script(batch.script_steps(entries, force=force), shell_name))
        return
    for entry in entries:
        for warning in entry.request.warnings():
            _warn(f"[[cert]] #{entry.number} ({entry.name}): {warning}")
    on_terminal = sys.stderr.isatty() and not as_json
    finished: list[int] = []

    def report(outcome: batch.Outcome) -> None:
        finished.append(outcome.job.number)
        if on_terminal:
            line = output.progress_bar(len(finished), len(entries), outcome.job.name)
            typer.echo(f"\r\033[K{line}", err=True, nl=False)
        elif not as_json:
            typer.echo(
                f"[{len(finished)}/{len(entries)}] {outcome.status} {outcome.job.name}", err=True
            )

    started = time.monotonic()
    outcomes = batch.run(
        entries, workers=jobs or batch.default_workers(), force=force, report=report
    )
    if on_terminal:
        typer.echo("\r\033[K", err=True, nl=False)
    counts = {
        status: sum(o.status == status for o in outcomes)
        for status in ("made", "skipped", "failed")
    }
    if as_json:
        _emit_json(
            {
                **counts,
                "entries": [
                    {
                        "number": o.job.number,
                        "cn": o.job.name,
                        "mode": o.job.mode,
                        "status": o.status,
                        "files": [str(p) for p in o.job.outputs()],
                        "message": o.message,
                    }
                    for o in outcomes
                ],
            }
        )
    else:
        typer.echo(
            output.batch_table(
                (o.job.number, o.status, o.job.mode, o.job.name, o.message) for o in outcomes
            )
        )
        typer.echo(
            f"{counts['made']} made, {counts['skipped']} skipped, {counts['failed']} failed "
            f"in {time.monotonic() - started:.1f}s"
        )
    if counts["failed"]:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


@app.command()
def probe(
    host: Annotated[str, typer.Argument(help="HOST[:PORT] (port 443 unless given).")],
    connect: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--connect", help="Connect here instead (ADDR[:PORT]), e.g. before DNS moves."
        ),
    ] = None,
    ca_file: Annotated[
        Path | None,
        typer.Option("--ca-file", help="Roots to trust [default: the system store]."),
    ] = None,
    extra_host: Annotated[
        list[str] | None,
        typer.Option("--host", help="Names to check [default: HOST] (repeatable)."),
    ] = None,
    min_days: Annotated[int, typer.Option("--min-days", help="Warn with fewer days left.")] = 30,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for the server.")
    ] = 10.0,
    print_only: Annotated[
        bool, typer.Option("--print", help="Show the openssl command; connect to nothing.")
    ] = False,
    shell: ShellOpt = "posix",
    as_json: Annotated[
        bool, typer.Option("--json", help="Machine-readable findings on stdout.")
    ] = False,
) -> None:
    """What does the live server send, and is it ready? (openssl s_client -showcerts)"""
    from flow_ssl import probe as probing

    shell_name = _check_shell(shell)
    where = probing.target(host, connect)
    hosts = tuple(extra_host or ())
    _check_hosts(hosts, min_days)
    if not 0 < timeout <= 300:
        raise InvalidInputError("--timeout must be more than 0 and at most 300 seconds")
    if print_only:
        line = probing.s_client_command(where).render(shell_name)
        # stdin at end of file: s_client closes once it has printed the handshake.
        typer.echo(f"$null | {line}" if shell_name == "powershell" else f"{line} < /dev/null")
        typer.echo("# then the same checks as flow-ssl check, on the certificates it prints")
        return
    report = probing.probe(where, ca_file=ca_file, hosts=hosts, min_days=min_days, timeout=timeout)
    if not as_json:
        typer.echo(f"{where.shown} sent {len(report.certificates)} certificate(s):")
        for number, served in enumerate(report.certificates, 1):
            typer.echo(f"  {number}. {output.name_text(served.subject)}")
    _finish_report(report, as_json=as_json, ready_text="Ready: clients will accept what it sends.")


def _check_hosts(hosts: tuple[str, ...], min_days: int) -> None:
    from flow_ssl import names

    for name in hosts:
        try:
            names.classify(name)
        except ValueError as exc:
            raise InvalidInputError(f"--host: {exc}") from None
    if min_days < 0:
        raise InvalidInputError("--min-days must be 0 or more")


def _finish_report(report: Report, *, as_json: bool, ready_text: str = "Ready to install.") -> None:
    """The findings (table or JSON), then exit 1 unless ready."""
    if as_json:
        _emit_json({"ready": report.ready, "findings": [f.model_dump() for f in report.findings]})
    else:
        typer.echo(output.findings_table(report.findings))
        typer.echo(ready_text if report.ready else "NOT ready: fix the FAIL lines above.")
    if not report.ready:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


# --- ca ----------------------------------------------------------------------

ca_app = typer.Typer(
    help="A company CA: make one, sign CSRs with it, issue key + certificate, trust it.",
    no_args_is_help=True,
)
app.add_typer(ca_app, name="ca")

CaDirOpt = Annotated[Path, typer.Option("--dir", help="The CA folder (made by ca init).")]
CaPassOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--ca-pass",
        help="The CA key's passphrase source: env:VARIABLE or file:PATH (never the passphrase).",
    ),
]
LeafDaysOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option("--days", help="Days of validity [default: 397]."),
]
FullchainOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--fullchain", help="Certificate + issuing CA file [default: <name>.fullchain.pem]."
    ),
]


def _announcer(shell: Shell, *, quiet: bool) -> Callable[[list[Step]], None]:
    """Show the exact steps (final paths, the serial taken) just before they run."""
    from flow_ssl.script import render_script

    def announce(steps: list[Step]) -> None:
        if not quiet:
            typer.echo(render_script(steps, shell, brief=True))

    return announce


def _print_steps(steps: list[Step], shell: Shell, *, as_json: bool, heading: str) -> None:
    """A plan's steps as a script (with the prompt answers), or as JSON."""
    from flow_ssl.commands import Command
    from flow_ssl.script import render_script, render_step

    prompts = [p for step in steps if isinstance(step, Command) for p in step.prompts]
    if as_json:
        _emit_json(
            {
                "steps": [render_step(step, shell) for step in steps],
                "prompts": [
                    {"field": p.field, "label": p.label, "answer": p.answer} for p in prompts
                ],
            }
        )
        return
    typer.echo(f"# {heading}")
    typer.echo(render_script(steps, shell))
    for step in steps:
        if isinstance(step, Command) and step.prompts:
            typer.echo("# openssl will ask these questions; flow-ssl answers:")
            typer.echo(_answers_text(step))


def _issued_json(issued: Issued, command_files: dict[str, str], warnings: list[str]) -> None:
    _emit_json(
        {
            "serial": issued.serial.lower(),
            "files": command_files,
            "result": _parsed_json(issued.cert),
            "findings": [f.model_dump() for f in issued.findings],
            "warnings": warnings,
        }
    )


@ca_app.command("init")
def ca_init(
    folder: CaDirOpt,
    name: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--name", help="The CA's name (its CN), like 'Acme Internal Root CA'."),
    ] = None,
    parent: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--parent", help="A root CA folder: make an issuing CA signed by it."),
    ] = None,
    key: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--key", help=f"Key type: {', '.join(KEY_NAMES)} [default: ec:P-384]."),
    ] = None,
    days: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--days", help="Validity [default: 3650 for a root, 1825 for issuing]."),
    ] = None,
    country: CountryOpt = None,
    state: StateOpt = None,
    locality: LocalityOpt = None,
    org: OrgOpt = None,
    ou: OuOpt = None,
    email: EmailOpt = None,
    ca_pass: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--ca-pass", help="Encrypt the new CA key: env:VARIABLE or file:PATH."),
    ] = None,
    parent_pass: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--parent-pass", help="The parent key's passphrase source, if it has one."),
    ] = None,
    print_only: PrintFlag = False,
    shell: ShellOpt = "posix",
    as_json: JsonFlag = False,
) -> None:
    """Make a root CA, or with --parent an issuing CA under a root."""
    from flow_ssl import ca, cafolder
    from flow_ssl.models import CASubject

    shell_name = _check_shell(shell)
    if not name:
        raise InvalidInputError("--name is required: the CA's name, like 'Acme Internal Root CA'")
    if key is not None and key not in KEY_NAMES:
        raise InvalidInputError(
            f"--key {key!r} is not offered; choose one of {', '.join(KEY_NAMES)}"
        )
    cafolder.check_pass_source(ca_pass, "--ca-pass")
    parent_ca = ca.open_ca(parent, passin=parent_pass, flag="--parent") if parent else None
    if parent_ca is not None and not parent_ca.is_root:
        raise InvalidInputError(
            f"--parent {parent} is an issuing CA (pathlen 0): it cannot sign another CA; "
            "give the root's folder"
        )
    try:
        subject = CASubject(
            common_name=name,
            country=country,
            state=state,
            locality=locality,
            organization=org,
            organizational_unit=ou,
            email=email,
        )
        key_spec = KeySpec(name=key or ca.DEFAULT_CA_KEY)
    except ValidationError as exc:
        from flow_ssl.inputs import validation_message

        raise InvalidInputError(validation_message(exc).replace("--cn", "--name")) from None
    plan = ca.InitPlan(
        target=folder,
        subject=subject,
        key=key_spec,
        days=days or (ca.ISSUING_DAYS if parent_ca else ca.ROOT_DAYS),
        passout=ca_pass,
        parent=parent_ca,
    )
    if print_only:
        serial = cafolder.read_serial(parent_ca.folder) if parent_ca else ""
        kind = f"an issuing CA signed by {parent}" if parent_ca else "a root CA"
        _print_steps(
            plan.steps(parent_serial=serial),
            shell_name,
            as_json=as_json,
            heading=f"{kind} in {folder}",
        )
        return
    cert = ca.init(plan, announce=_announcer(shell_name, quiet=as_json))
    made = {
        "key": str(folder / "ca.key"),
        "certificate": str(folder / "ca.crt"),
        "config": str(folder / "ca.cnf"),
        "serial": str(folder / "serial"),
    }
    if parent_ca:
        made["root"] = str(folder / "root.crt")
    if as_json:
        _emit_json({"dir": str(folder), "files": made, "certificate": _parsed_json(cert)})
        return
    what = "issuing CA" if parent_ca else "root CA"
    typer.echo(f"Made the {what} {name!r} in {folder} (key {folder / 'ca.key'}, mode 0600).")
    typer.echo(f"  valid until {cert.not_after:%Y-%m-%d}; SHA-256 {cert.sha256_fingerprint}")
    if parent_ca is None:
        typer.echo(f"Trust it on your clients: flow-ssl ca trust --dir {folder}")
    typer.echo(f"Sign a CSR: flow-ssl ca sign SERVER.csr --dir {folder}")


@ca_app.command("sign")
def ca_sign(
    csr_file: Annotated[
        Path, typer.Argument(help="The CSR to sign (from flow-ssl csr or any tool).")
    ],
    folder: CaDirOpt,
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--out", help="The certificate [default: the CSR's name with .crt]."),
    ] = None,
    fullchain: FullchainOpt = None,
    days: LeafDaysOpt = None,
    ca_pass: CaPassOpt = None,
    print_only: PrintFlag = False,
    shell: ShellOpt = "posix",
    force: ForceFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Sign a CSR as a server certificate: its names, never its requested extensions."""
    from flow_ssl import ca
    from flow_ssl.models import days_warning

    shell_name = _check_shell(shell)
    authority = ca.open_ca(folder, passin=ca_pass)
    stem = str(csr_file.with_suffix("")) if csr_file.suffix else str(csr_file)
    default_out, default_chain = ca.default_outputs(stem)
    days = days if days is not None else ca.LEAF_DAYS
    plan = ca.plan_sign(
        authority, csr_file, days=days, out=out or default_out, fullchain=fullchain or default_chain
    )
    warnings = [days_warning(days)] if days > APPLE_MAX_DAYS else []
    _run_ca_plan(
        plan,
        warnings=warnings,
        heading=f"sign {csr_file} with the CA in {folder}",
        print_only=print_only,
        shell=shell_name,
        force=force,
        as_json=as_json,
    )


def _run_ca_plan(
    plan: SignPlan | IssuePlan,
    *,
    warnings: list[str],
    heading: str,
    print_only: bool,
    shell: Shell,
    force: bool,
    as_json: bool,
) -> None:
    """Warn, then print the steps, or run them and report what was issued."""
    from flow_ssl import ca, cafolder

    for warning in warnings:
        _warn(warning)
    authority = plan.ca
    if print_only:
        steps = plan.steps(serial=cafolder.read_serial(authority.folder))
        _print_steps(steps, shell, as_json=as_json, heading=heading)
        return
    announce = _announcer(shell, quiet=as_json)
    written = {"certificate": str(plan.out), "fullchain": str(plan.fullchain)}
    if isinstance(plan, ca.IssuePlan):
        issued = ca.issue(plan, force=force, announce=announce)
        written = {"key": str(plan.key_path), **written}
    else:
        issued = ca.sign(plan, force=force, announce=announce)
    if as_json:
        _issued_json(issued, written, warnings)
        return
    if "key" in written:
        typer.echo(f"Wrote {written['key']} (private key, mode 0600).")
    _report_issued(issued, plan.out, plan.fullchain, authority)


def _report_issued(issued: Issued, out: Path, fullchain: Path, authority: CA) -> None:
    names = ", ".join(issued.cert.subject_alt_names.dns + issued.cert.subject_alt_names.ip)
    typer.echo(f"Wrote {out} (serial {issued.serial}, for {names}) and {fullchain}.")
    typer.echo(output.findings_table(issued.findings))
    typer.echo(
        f"Install {fullchain} with its key; clients must trust "
        f"{authority.folder.root_cert()} (flow-ssl ca trust --dir {authority.folder.path})."
    )


@ca_app.command("issue")
def ca_issue(
    folder: CaDirOpt,
    cn: CnOpt = None,
    san: SanOpt = None,
    days: LeafDaysOpt = None,
    key: KeyOpt = None,
    keyout: KeyoutOpt = None,
    out: CertOutOpt = None,
    fullchain: FullchainOpt = None,
    country: CountryOpt = None,
    state: StateOpt = None,
    locality: LocalityOpt = None,
    org: OrgOpt = None,
    ou: OuOpt = None,
    email: EmailOpt = None,
    subject_file: SubjectFileOpt = None,
    subj: SubjFlag = False,
    ca_pass: CaPassOpt = None,
    print_only: PrintFlag = False,
    shell: ShellOpt = "posix",
    force: ForceFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Make a key and a server certificate signed by the CA, in one step (like mkcert)."""
    from flow_ssl import ca, generate

    shell_name = _check_shell(shell)
    request = build_request(
        cn=cn,
        san=san,
        days=days if days is not None else ca.LEAF_DAYS,
        key=key,
        country=country,
        state=state,
        locality=locality,
        org=org,
        ou=ou,
        email=email,
        subject_file=subject_file,
    )
    authority = ca.open_ca(folder, passin=ca_pass)
    default_key, default_out = generate.default_paths(request, x509=True)
    _, default_chain = ca.default_outputs(str(default_out.with_suffix("")))
    plan = ca.IssuePlan(
        ca=authority,
        request=request,
        key_path=keyout or default_key,
        out=out or default_out,
        fullchain=fullchain or default_chain,
        use_subj=subj,
    )
    _run_ca_plan(
        plan,
        warnings=request.warnings(),
        heading=f"a key and certificate from the CA in {folder}",
        print_only=print_only,
        shell=shell_name,
        force=force,
        as_json=as_json,
    )


@ca_app.command("trust")
def ca_trust(
    folder: CaDirOpt,
    print_only: Annotated[
        bool, typer.Option("--print", help="Print the commands (the only thing ca trust does).")
    ] = True,
    as_json: JsonFlag = False,
) -> None:
    """Print how to install the CA's root on clients; it never changes a trust store itself."""
    from flow_ssl import cafolder, reader, trust

    del print_only
    root_path = cafolder.Folder(folder).root_cert()
    if not root_path.is_file():
        raise InvalidInputError(f"--dir {folder} is not a flow-ssl CA folder: no ca.crt")
    root = reader.read_file(root_path)[0]
    if not root.self_signed:
        raise InvalidInputError(f"{root_path} is not a root (it is not self-signed)")
    name = root.subject_value("CN") or "Company Root CA"
    steps = trust.instructions(name)
    local = trust.file_name(name)
    if as_json:
        _emit_json(
            {
                "root": str(root_path),
                "copy_as": local,
                "sha256_fingerprint": root.sha256_fingerprint,
                "systems": [
                    {"system": s.system, "commands": list(s.commands), "note": s.note}
                    for s in steps
                ],
            }
        )
        return
    typer.echo(f"# Trust {name!r} on each client: copy {root_path} there as {local},")
    typer.echo("# check its fingerprint, then run the lines for that system in its folder.")
    typer.echo(f"#   SHA-256 {root.sha256_fingerprint}")
    typer.echo(f"openssl x509 -in {shlex_quote(local)} -noout -fingerprint -sha256")
    for instruction in steps:
        typer.echo(f"\n# {instruction.system}")
        if instruction.note:
            typer.echo(f"#   ({instruction.note})")
        for line in instruction.commands:
            typer.echo(line)


def _is_usage_error(exc: Exception) -> bool:
    """Click's (or Typer's vendored click's) usage errors, without importing click."""
    return hasattr(exc, "format_message") and getattr(exc, "exit_code", None) == 2


def _app_for(args: list[str]) -> typer.Typer:
    """
    The app with only the command being run registered.

    Typer turns every registered command into a click command at each start
    (about 50 ms for all of them, most of the start-up over the imports); the
    one being run is enough. Anything else (no command, --help, a typo) gets
    the whole app, so listings and "did you mean" stay complete.
    """
    wanted = next((arg for arg in args if not arg.startswith("-")), None)
    commands = [
        info
        for info in app.registered_commands
        if info.callback is not None
        and (info.name or info.callback.__name__.lower().replace("_", "-")) == wanted
    ]
    groups = [info for info in app.registered_groups if info.name == wanted]
    version_only = wanted is None and "--version" in args and "--help" not in args
    if not commands and not groups and not version_only:
        return app
    slim = copy.copy(app)
    slim.registered_commands = commands
    slim.registered_groups = groups
    return slim


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (for tests and the console script)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    command = typer.main.get_command(_app_for(args))
    try:
        # standalone_mode=False: click returns the code of a typer.Exit instead of exiting.
        returned = command.main(args=args, prog_name="flow-ssl", standalone_mode=False)
    except CheckFailedError as exc:
        typer.echo(f"flow-ssl: {exc}", err=True)
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        if debug:
            raise
        return int(exc.exit_code)
    except FlowSSLError as exc:
        if debug:
            raise
        typer.echo(f"flow-ssl: {exc}", err=True)
        return int(exc.exit_code)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("flow-ssl: cancelled", err=True)
        return 130
    except Exception as exc:
        if _is_usage_error(exc):
            typer.echo(f"flow-ssl: {exc.format_message()}", err=True)  # type: ignore[attr-defined]
            context = getattr(exc, "ctx", None)
            where = context.command_path if context is not None else "flow-ssl"
            typer.echo(f"  (run '{where} --help' for usage)", err=True)
            return int(ExitCode.BAD_INPUT)
        if debug:
            raise
        typer.echo(
            f"flow-ssl: unexpected error: {type(exc).__name__}: {exc} "
            "(run with --debug for details)",
            err=True,
        )
        return int(ExitCode.INTERNAL)
    return returned if isinstance(returned, int) else 0
