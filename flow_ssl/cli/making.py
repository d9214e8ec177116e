"""
``selfsigned``, ``csr`` and ``renew``: a key with a certificate, or with a request for a CA.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from flow_ssl.cli import console
from flow_ssl.cli.options import (
    CaPassOpt,
    CertOutOpt,
    DaysOpt,
    ForceFlag,
    JsonFlag,
    KeyoutOpt,
    Printing,
    RequestFlags,
    SubjFlag,
    printing_options,
    request_from_flags,
    request_options,
)
from flow_ssl.cli.running import Asked, run_issued, run_made


@request_options
@printing_options
def selfsigned(
    request: RequestFlags,
    printing: Printing,
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
    force: ForceFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """
    Make a private key and a self-signed certificate.

    The vendor page's "create your own" certificate: openssl's questions are
    answered for you (or given with --subj), and the result is read back.
    """
    asked = Asked.of(printing, force=force, as_json=as_json, subj=subj)
    _make(request, asked, keyout=keyout, out=out, x509=True, days=days, literal=literal)


@request_options
@printing_options
def csr(
    request: RequestFlags,
    printing: Printing,
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
    force: ForceFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """
    Make a private key and a CSR to send to a public or company CA.

    The key stays on the server; the CSR carries the names to the CA.
    """
    asked = Asked.of(printing, force=force, as_json=as_json, subj=subj)
    _make(request, asked, keyout=keyout, out=out, x509=False, days=None, literal=literal)


def _make(
    flags: RequestFlags,
    asked: Asked,
    *,
    keyout: Path | None,
    out: Path | None,
    x509: bool,
    days: int | None,
    literal: bool,
) -> None:
    from flow_ssl.make import generate

    request = request_from_flags(flags, days=days, literal=literal)
    default_key, default_out = generate.default_paths(request, x509=x509)
    plan = generate.Plan(
        request=request,
        key_path=keyout or default_key,
        out_path=out or default_out,
        x509=x509,
        use_subj=asked.subj,
    )
    warned = [*request.warnings(), *generate.name_notices(plan)]
    console.warn_all(warned)
    run_made(plan, asked, warned=warned)


@printing_options
def renew(
    printing: Printing,
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
    from flow_ssl.make import generate
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
    # The files being renewed are replaced (and kept as backups); any other, and a key and
    # CSR an earlier renewal left waiting for its CA, needs --force.
    given = [files.Output(path) for path in (keyout, out) if path is not None]
    waiting = [files.Output(path) for path in renewal.waiting if path not in (keyout, out)]
    check_outputs([*given, *waiting], force=force)
    warned = [*renewal.notices, *renewal.request.warnings()]
    shown = Asked.of(printing, force=True, as_json=as_json, subj=subj)
    if isinstance(plan, generate.Plan):
        console.warn_all(warned)
        run_made(plan, shown, warned=warned, after=renewal.next_step)
        return
    heading = f"renew {cert} from the CA in {ca_dir}"
    run_issued(plan, shown, notices=warned, heading=heading)
