"""
``inspect``, ``check``, ``bundle`` and ``probe``: reading what you have, and whether it is ready.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from flow_ssl.cli import console
from flow_ssl.cli.options import JsonFlag, Printing, printing_options
from flow_ssl.core.errors import ExitCode, InvalidInputError
from flow_ssl.openssl.script.steps import Note

if TYPE_CHECKING:
    from flow_ssl.check.bundle import Bundle
    from flow_ssl.check.readiness import Report

CaFileOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--ca-file", metavar="FILE", help="Roots to trust [default: the system store]."),
]
MinDaysOpt = Annotated[
    int, typer.Option("--min-days", metavar="DAYS", help="Warn with fewer days left.")
]
PassInOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--pass",
        metavar="SRC",
        help="A .pfx/.p12's passphrase: env:VARIABLE or file:PATH (none is tried first).",
    ),
]
FindingsJson = Annotated[bool, typer.Option("--json", help="Machine-readable findings on stdout.")]
# What --explain adds to inspect's commands: flow-ssl reads more than their text.
_OWN_READING = Note(
    "flow-ssl itself reads names and extensions from the certificate's own bytes, so they "
    "read the same on every openssl version"
)
RenewWithinOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        "--renew-within",
        metavar="DAYS",
        help="Fail (exit 1) when it expires within DAYS: a renewal is due (for cron).",
    ),
]


@printing_options
def inspect(
    printing: Printing,
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE...",
            help="Certificates or CSRs: PEM, DER, PKCS#7 (.p7b) or PKCS#12 (.pfx, .p12).",
        ),
    ],
    *,
    passin: PassInOpt = None,
    raw: Annotated[bool, typer.Option("--raw", help="openssl's own text, unchanged.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="A JSON list, one object per certificate.")
    ] = False,
) -> None:
    """
    Show what a certificate, bundle or CSR holds.

    The vendor page's openssl x509 -noout -text, read into a short summary.
    """
    from flow_ssl.make import inputs
    from flow_ssl.openssl.read import reader
    from flow_ssl.output import json_data, text

    inputs.check_pass_source(passin, "pass")
    if raw and as_json:
        raise InvalidInputError(
            "--raw prints openssl's own text and --json flow-ssl's reading of it: give one"
        )
    form = printing.form
    if form is not None:
        steps = [
            step
            for path in files
            for step in reader.show_steps(path, reader.frame_file(path), passin=passin)
        ]
        if printing.explain:
            steps.append(_OWN_READING)
        console.print_steps(
            list(steps), form, printing.shell.shell, as_json=as_json, explain=printing.explain
        )
        return
    if raw:
        for path in files:
            console.say(reader.raw_text(path, passin=passin), nl=False)
        return
    per_file = [reader.read_file(path, passin=passin) for path in files]
    if as_json:
        console.emit_json([json_data.parsed(cert) for found in per_file for cert in found])
        return
    console.say_styled(text.certificate_summaries(per_file))


@printing_options
def check(
    printing: Printing,
    *,
    cert: Annotated[
        Path,
        typer.Option(
            "--cert",
            metavar="FILE",
            help="The certificate, or a file with its chain and key: PEM, DER, .p7b, .pfx.",
        ),
    ],
    key: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--key", metavar="FILE", help="Its private key [default: the one in --cert]."),
    ] = None,
    passin: PassInOpt = None,
    chain: Annotated[
        Optional[list[Path]],  # noqa: UP045
        typer.Option("--chain", metavar="FILE", help="Intermediate chain file (repeatable)."),
    ] = None,
    ca_file: CaFileOpt = None,
    host: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--host", metavar="NAME", help="A name clients will use (repeatable)."),
    ] = None,
    min_days: MinDaysOpt = 30,
    renew_within: RenewWithinOpt = None,
    crl: Annotated[
        Optional[list[Path]],  # noqa: UP045
        typer.Option(
            "--crl",
            metavar="FILE",
            help="A CRL of the chain's CAs (repeatable): fail if it revokes the certificate, "
            "warn when it is past or near its nextUpdate.",
        ),
    ] = None,
    as_json: FindingsJson = False,
) -> None:
    """
    Is this key, certificate and chain ready to install? Why not?

    Exit 1 when a check fails; each line says what to fix.
    """
    from flow_ssl.check import readiness
    from flow_ssl.make import inputs

    hosts = tuple(host or ())
    _check_hosts(hosts, min_days, renew_within)
    inputs.check_pass_source(passin, "pass")
    form = printing.form
    if form is not None:
        steps = readiness.planned_check(
            cert, key=key, chain=tuple(chain or ()), ca_file=ca_file, passin=passin
        )
        console.print_steps(
            steps,
            form,
            printing.shell.shell,
            as_json=as_json,
            explain=printing.explain,
            heading=f"check {cert}",
        )
        return
    report = readiness.check(
        cert,
        key=key or _waiting_key(cert, passin),
        passin=passin,
        chain=tuple(chain or ()),
        ca_file=ca_file,
        hosts=hosts,
        min_days=min_days,
        renew_within=renew_within,
        crls=tuple(crl or ()),
    )
    _finish_report(report, as_json=as_json)


def _waiting_key(cert: Path, passin: str | None) -> Path | None:
    """
    The key a renewal left waiting beside ``cert`` (``NAME.next.key``) that is its key,
    when the file holds none: what ``check`` takes without ``--key``.
    """
    from flow_ssl.check import pending, readiness

    if not pending.waiting_keys(cert):
        return None
    main = readiness.read_certificates(cert, passin=passin)
    if main.loaded.keys or (main.loaded.opened is not None and main.loaded.opened.keys):
        return None
    return pending.waiting_key(cert, main.certificates[0])


@printing_options
def bundle(
    printing: Printing,
    *,
    cert: Annotated[
        Path,
        typer.Option(
            "--cert",
            metavar="FILE",
            help="The server (leaf) certificate, or a file with its chain.",
        ),
    ],
    chain: Annotated[
        Optional[list[Path]],  # noqa: UP045
        typer.Option("--chain", metavar="FILE", help="Chain file(s), any order (repeatable)."),
    ] = None,
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--out", metavar="FILE", help="Write a PEM file: leaf first, then issuers."),
    ] = None,
    p12: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--p12", metavar="FILE", help="Write a .pfx/.p12 (key + chain) instead."),
    ] = None,
    key: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--key",
            metavar="FILE",
            help="The private key, for --p12 [default: the one in --cert, if any].",
        ),
    ] = None,
    passout: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--pass",
            metavar="SRC",
            help="The passphrase of a .pfx read or written, or of the key in --cert: "
            "env:VARIABLE or file:PATH.",
        ),
    ] = None,
    p12_legacy: Annotated[
        bool,
        typer.Option(
            "--p12-legacy", help="Old algorithms (3DES, SHA-1) for Windows Server 2016, Java 8."
        ),
    ] = False,
    include_root: Annotated[
        bool, typer.Option("--include-root", help="Keep the root at the end.")
    ] = False,
    key_out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--key-out",
            metavar="FILE",
            help="With --out: write the key in --cert (a .pfx, a combined PEM) here, "
            "unencrypted, 0600.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace existing files (each kept as a backup); write a chain clients refuse.",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """
    Write the one file the console wants: the leaf, then each issuer in order.

    As PEM (--out; the key apart with --key-out) or PKCS#12 (--p12, with the key); the
    root is left out (servers should not send it) unless --include-root. A chain clients
    refuse (an issuer expired, or not a CA) is refused, exit 1, unless --force.
    """
    from flow_ssl import files
    from flow_ssl.check import bundle as bundling
    from flow_ssl.check import readiness
    from flow_ssl.cli.running import guard_over, said_existing
    from flow_ssl.make import inputs
    from flow_ssl.make.run import check_outputs
    from flow_ssl.output import json_data, text

    target = _bundle_target(out, p12, key, passout, p12_legacy, key_out)
    field = "out" if p12 is None else "p12"
    inputs.check_pass_source(passout, "pass", new=p12 is not None)
    chains = tuple(chain or ())
    form = printing.form
    if form is not None:
        made, steps = bundling.planned(
            cert,
            chains,
            target=target,
            p12=p12,
            key=key,
            passout=passout,
            legacy=p12_legacy,
            include_root=include_root,
            key_out=key_out,
        )
        _refuse_a_broken_chain(made, force=force)
        outputs = [files.Output(target, field=field)]
        if key_out is not None:
            outputs.append(files.Output(key_out, secret=True, field="key_out"))
        guard = guard_over(outputs, force=force)
        said_existing(guard, form)
        console.print_steps(
            [guard, *steps],
            form,
            printing.shell.shell,
            as_json=as_json,
            explain=printing.explain,
            heading=f"bundle {cert}",
        )
        return
    check_outputs([files.Output(target, secret=p12 is not None, field=field)], force=force)
    main = readiness.read_certificates(cert, passin=passout)
    source = bundling.key_source(main, key) if p12 is not None else None
    made = bundling.build_bundle(main, chains, include_root=include_root, passin=passout)
    _refuse_a_broken_chain(made, force=force)
    ordered = made.certificates
    if len(ordered) == 1 and not ordered[0].self_signed and not made.issuers:
        console.warn(
            f"{text.name_text(ordered[0].issuer)} issued the leaf and is not among the "
            "certificates given: the file holds the leaf alone (add --chain unless it is a root)"
        )
    inside = bundling.key_out_block(main) if p12 is None else None
    if p12 is not None and source is not None and passout is not None:
        kept = bundling.write_p12(
            ordered, key=source, out=p12, passout=passout, legacy=p12_legacy, force=force
        )
    else:
        if key_out is not None and inside is None:
            raise InvalidInputError(
                f"has no key to write: {cert} holds none (a .pfx or a PEM with the key has one)",
                field="key_out",
            )
        kept = bundling.write_bundle(
            made, target, force=force, key_out=key_out, key=inside, passin=passout
        )
    for extra in made.left_out:
        console.warn(f"left out {text.name_text(extra.subject)}: it is not in the leaf's chain")
    if inside is not None and key_out is None:
        console.warn(
            f"the key in {cert} is not in {target} (a PEM bundle holds certificates only): "
            "--key-out FILE writes it apart, unencrypted, 0600"
        )
    if as_json:
        console.emit_json(json_data.bundled(target, ordered))
        return
    wrote = f"Wrote {text.shown(target)}:\n{text.certificate_list(ordered)}"
    if key_out is not None:
        wrote += f"\nWrote {text.shown(key_out)} (its private key, unencrypted, mode 0600)."
    console.say(wrote)
    if kept:
        console.say(text.backups_text(kept))


def _refuse_a_broken_chain(made: Bundle, *, force: bool) -> None:
    """
    A chain clients refuse whatever roots they trust: exit 1 naming the certificate, or
    with --force a warning.

    Raises:
        CheckFailedError: it is refused and --force was not given.
    """
    from flow_ssl.core.errors import CheckFailedError

    broken = made.refused()
    if broken is None:
        return
    if force:
        console.warn(f"{broken}: clients refuse this chain (--force writes it all the same)")
        return
    raise CheckFailedError(
        f"{broken}: clients refuse this chain; nothing was written",
        hint="bundle the issuer your CA sends now (flow-ssl check shows the chain), "
        "or give --force to write it all the same",
    )


def _bundle_target(
    out: Path | None,
    p12: Path | None,
    key: Path | None,
    passout: str | None,
    legacy: bool,
    key_out: Path | None,
) -> Path:
    """The one output asked for; --p12 needs --pass (and a key: --key, or one in --cert)."""
    if (out is None) == (p12 is None):
        raise InvalidInputError("give one output: --out FILE (PEM) or --p12 FILE (PKCS#12)")
    if key_out is not None and p12 is not None:
        raise InvalidInputError("goes with --out: a .pfx holds its key inside", field="key_out")
    if p12 is None:
        for given, name in ((key, "key"), (legacy or None, "p12_legacy")):
            if given is not None:
                raise InvalidInputError("goes with --p12", field=name)
        assert out is not None  # noqa: S101 - one of the two is given
        return out
    if passout is None:
        raise InvalidInputError(
            "is needed with --p12: its passphrase source (env:VARIABLE or file:PATH)",
            field="pass",
        )
    return p12


@printing_options
def probe(
    printing: Printing,
    host: Annotated[str, typer.Argument(metavar="HOST[:PORT]", help="Port 443 unless given.")],
    *,
    connect: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--connect",
            metavar="ADDR[:PORT]",
            help="Connect here instead, e.g. before DNS points at the new server.",
        ),
    ] = None,
    ca_file: CaFileOpt = None,
    extra_host: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--host", metavar="NAME", help="Names to check [default: HOST] (repeatable)."),
    ] = None,
    min_days: MinDaysOpt = 30,
    renew_within: RenewWithinOpt = None,
    timeout: Annotated[
        float, typer.Option("--timeout", metavar="SECONDS", help="Seconds to wait for the server.")
    ] = 10.0,
    as_json: FindingsJson = False,
) -> None:
    """
    What does the live server send, and is it ready?

    Fetches the chain with openssl s_client -showcerts and runs check's findings on it.
    """
    from flow_ssl.check import probe as probing
    from flow_ssl.output import text

    where = probing.target(host, connect)
    hosts = tuple(extra_host or ())
    _check_hosts(hosts, min_days, renew_within)
    if not 0 < timeout <= 300:
        raise InvalidInputError("must be more than 0 and at most 300 seconds", field="timeout")
    form = printing.form
    if form is not None:
        command = probing.s_client_command(where)
        # stdin at end of file: s_client closes once it has printed the handshake.
        shell = printing.shell.shell
        line = command.render(shell)
        shown = f"$null | {line}" if shell == "powershell" else f"{line} < /dev/null"
        if printing.explain:
            from flow_ssl.openssl.script.render import explanation

            console.say_script(explanation(command, shell))
        console.say_script(shown)
        console.say("# then the same checks as flow-ssl check, on the certificates it prints")
        return
    report = probing.probe(
        where,
        ca_file=ca_file,
        hosts=hosts,
        min_days=min_days,
        renew_within=renew_within,
        timeout=timeout,
    )
    if not as_json:
        console.say(f"{text.shown(where.shown)} sent {len(report.certificates)} certificate(s):")
        console.say(text.certificate_list(report.certificates))
    _finish_report(report, as_json=as_json, served=True)


def _check_hosts(hosts: tuple[str, ...], min_days: int, renew_within: int | None) -> None:
    """
    Every --host a name, the day counts in range: every mistake named at once.

    Raises:
        InvalidInputError: one, or the list.
    """
    from flow_ssl.core import names
    from flow_ssl.core.errors import refuse_all

    problems = []
    for name in hosts:
        try:
            names.classify(name)
        except ValueError as exc:
            problems.append(InvalidInputError(str(exc), field="check_host", joiner=": "))
    if min_days < 0:
        problems.append(InvalidInputError("must be 0 or more", field="min_days"))
    if renew_within is not None and not 0 <= renew_within <= 36500:
        problems.append(InvalidInputError("must be from 0 to 36500 days", field="renew_within"))
    refuse_all(problems)


def _finish_report(report: Report, *, as_json: bool, served: bool = False) -> None:
    """The findings (table or JSON), then exit 1 unless ready."""
    from flow_ssl.output import json_data, text

    if as_json:
        console.emit_json(json_data.report(report.ready, report.findings))
    else:
        console.say(text.findings_table(report.findings))
        console.say(text.verdict(report.findings, served=served))
    if not report.ready:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))
