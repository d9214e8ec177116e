"""
``ca init``, ``ca sign``, ``ca issue``, ``ca revoke``, ``ca crl``, ``ca list`` and ``ca trust``:
a company CA in a folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from flow_ssl.cli import console
from flow_ssl.cli.options import (
    CaPassOpt,
    CertOutOpt,
    ForceFlag,
    JsonFlag,
    KeyoutOpt,
    Printing,
    RequestFlags,
    SubjectFlags,
    SubjFlag,
    printing_options,
    request_from_flags,
    request_options,
    subject_options,
)
from flow_ssl.cli.running import (
    Asked,
    announcer,
    guard_over,
    run_issued,
    said_existing,
    say_records,
    warn_serial_behind,
)
from flow_ssl.core.errors import InvalidInputError, refuse_all
from flow_ssl.core.keys import KEY_NAMES

if TYPE_CHECKING:
    from flow_ssl.ca.crl import CrlPlan
    from flow_ssl.core.name_constraints import Kind

ca_app = typer.Typer(
    help="A company CA: make one, sign CSRs with it, issue key + certificate, trust it.",
    no_args_is_help=True,
)

CaDirOpt = Annotated[
    Path, typer.Option("--dir", metavar="DIR", help="The CA folder (made by ca init).")
]
LeafDaysOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option("--days", metavar="DAYS", help="Days of validity [default: 397]."),
]
FullchainOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--fullchain",
        metavar="FILE",
        help="Certificate + issuing CA file [default: beside --out, NAME.fullchain.pem].",
    ),
]
CrlUrlOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--crl-url",
        metavar="URL",
        help="Where clients fetch the CA's CRL (a CRL Distribution Point) [default: the "
        "one given to ca init].",
    ),
]
# ca init names the CA with --name, where the other commands take --cn.
_INIT_FLAGS = {"common_name": "--name", "ca_pass": "--ca-pass"}


@ca_app.command("init", short_help="Make a root CA, or an issuing CA under a root.")
@subject_options
@printing_options
def ca_init(
    subject: SubjectFlags,
    printing: Printing,
    *,
    folder: CaDirOpt,
    name: Annotated[
        str,
        typer.Option(
            "--name", metavar="NAME", help="The CA's name (its CN), like 'Acme Internal Root CA'."
        ),
    ],
    parent: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--parent", metavar="DIR", help="A root CA folder: make an issuing CA signed by it."
        ),
    ] = None,
    key: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--key", metavar="TYPE", help=f"Key type: {', '.join(KEY_NAMES)} [default: ec:P-384]."
        ),
    ] = None,
    days: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--days",
            metavar="DAYS",
            help="Validity [default: 3650 for a root, 1825 for issuing].",
        ),
    ] = None,
    ca_pass: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--ca-pass", metavar="SRC", help="Encrypt the new CA key: env:VARIABLE or file:PATH."
        ),
    ] = None,
    parent_pass: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--parent-pass", metavar="SRC", help="The parent key's passphrase source, if any."
        ),
    ] = None,
    permit: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--permit",
            metavar="DOMAIN|CIDR",
            help="The only names it may sign for: a domain (and every name below it) or an "
            "IP network; repeat for several (a critical nameConstraints extension).",
        ),
    ] = None,
    crl_url: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--crl-url",
            metavar="URL",
            help="Where this CA's CRL will be published: put in everything it signs.",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """
    Make a root CA, or with --parent an issuing CA under a root.

    The folder must be new or empty: an existing CA is never replaced.
    """
    from pydantic import ValidationError

    from flow_ssl.ca import init as ca_init
    from flow_ssl.ca.authority import (
        DEFAULT_CA_KEY,
        ISSUING_DAYS,
        ROOT_DAYS,
        check_crl_url,
        open_ca,
    )
    from flow_ssl.ca.folder import Folder, script_serial
    from flow_ssl.core.models import CASubject, KeySpec
    from flow_ssl.make import inputs
    from flow_ssl.make.run import Where, run
    from flow_ssl.output import json_data, text

    # Every mistake of the flags at once (the parent folder is opened only once they pass).
    problems: list[InvalidInputError] = []
    checks: list[Callable[[], None]] = [
        lambda: inputs.check_key_name(key),
        lambda: inputs.check_pass_source(ca_pass, "ca_pass", new=True),
        lambda: inputs.check_pass_source(parent_pass, "parent_pass"),
    ]
    for check in checks:
        try:
            check()
        except InvalidInputError as exc:
            problems.append(exc)
    try:
        ca_subject = CASubject(common_name=name, **subject.fields())
    except ValidationError as exc:
        problems += inputs.validation_problems(exc)
    if days is not None and not 1 <= days <= 36500:
        problems.append(
            InvalidInputError(f"{days}: give a number of days from 1 to 36500", field="days")
        )
    permits: tuple[tuple[Kind, str], ...] = ()
    try:
        permits = ca_init.parse_permits(permit or [])
    except InvalidInputError as exc:
        problems.append(exc)
    try:
        crl_url = check_crl_url(crl_url)
    except InvalidInputError as exc:
        problems.append(exc)
    refuse_all(problems)
    parent_ca = (
        open_ca(parent, passin=parent_pass, field="parent", source_field="parent_pass")
        if parent
        else None
    )
    if parent_ca is not None and not parent_ca.is_root:
        raise InvalidInputError(
            f"{parent} is an issuing CA (pathlen 0): it cannot sign another CA; "
            "give the root's folder",
            field="parent",
        )
    plan = ca_init.InitPlan(
        target=folder,
        subject=ca_subject,
        key=KeySpec.model_validate({"name": key or DEFAULT_CA_KEY}),
        days=days or (ISSUING_DAYS if parent_ca else ROOT_DAYS),
        passout=ca_pass,
        parent=parent_ca,
        permits=permits,
        crl_url=crl_url,
    )
    asked = Asked.of(printing, force=False, as_json=as_json)
    if asked.form is not None:
        from flow_ssl.make.run import check_outputs
        from flow_ssl.openssl.commands.read import build_readback
        from flow_ssl.openssl.script.render import for_print, openssl_for_print

        check_outputs(plan.outputs(), force=False)  # a folder that holds files: never
        openssl = openssl_for_print()
        serial = script_serial(parent_ca.folder) if parent_ca else ""
        kind = f"an issuing CA signed by {parent}" if parent_ca else "a root CA"
        steps = for_print(openssl, plan.steps(openssl, Where(serial=serial)))
        console.print_steps(
            steps,
            asked.form,
            asked.shell,
            as_json=as_json,
            explain=asked.explain,
            heading=f"{kind} in {folder}",
            readback=build_readback(str(Folder(folder).cert), "certificate", der=False),
        )
        return
    if parent_ca is not None:
        warn_serial_behind(parent_ca)
    cert = run(plan, force=False, announce=announcer(asked)).cert
    if parent_ca is not None:
        say_records(parent_ca)
    made = Folder(folder)
    # Its records from the start (index, CRL number): openssl ca can read the folder now.
    with open_ca(folder, passin=ca_pass).locked():
        pass
    files = {
        "key": str(made.key),
        "certificate": str(made.cert),
        "config": str(made.config),
        "serial": str(made.serial),
    }
    if parent_ca:
        files["root"] = str(made.root)
    if as_json:
        console.emit_json(json_data.ca_made(folder, files, cert))
        return
    console.say(text.ca_made_summary(folder, name, cert, root=parent_ca is None, crl_url=crl_url))


@ca_app.command("sign", short_help="Sign a CSR as a server certificate.")
@printing_options
def ca_sign(
    printing: Printing,
    csr_file: Annotated[
        Path,
        typer.Argument(metavar="CSR", help="The CSR to sign (from flow-ssl csr or any tool)."),
    ],
    *,
    folder: CaDirOpt,
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--out", metavar="FILE", help="The certificate [default: the CSR's name with .crt]."
        ),
    ] = None,
    fullchain: FullchainOpt = None,
    days: LeafDaysOpt = None,
    ca_pass: CaPassOpt = None,
    crl_url: CrlUrlOpt = None,
    force: ForceFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """
    Sign a CSR as a server certificate: its names, never its requested extensions.

    The CSR's self-signature, names and key are checked before anything is signed.
    """
    from flow_ssl.ca import sign as ca_sign
    from flow_ssl.ca.authority import LEAF_DAYS, check_crl_url, default_outputs, open_ca
    from flow_ssl.core.models import APPLE_MAX_DAYS, days_notice

    crl_url = check_crl_url(crl_url)
    authority = open_ca(folder, passin=ca_pass)
    stem = str(csr_file.with_suffix("")) if csr_file.suffix else str(csr_file)
    default_out, _ = default_outputs(stem)
    # The full chain goes beside the certificate, named after it.
    _, default_chain = default_outputs(str((out or default_out).with_suffix("")))
    days = days if days is not None else LEAF_DAYS
    plan = ca_sign.plan_sign(
        authority,
        csr_file,
        days=days,
        out=out or default_out,
        fullchain=fullchain or default_chain,
        crl_url=crl_url,
    )
    run_issued(
        plan,
        Asked.of(printing, force=force, as_json=as_json),
        notices=[days_notice(days)] if days > APPLE_MAX_DAYS else [],
        heading=f"sign {csr_file} with the CA in {folder}",
    )


@ca_app.command("issue", short_help="Make a key and a server certificate from the CA.")
@request_options
@printing_options
def ca_issue(
    request: RequestFlags,
    printing: Printing,
    *,
    folder: CaDirOpt,
    days: LeafDaysOpt = None,
    keyout: KeyoutOpt = None,
    out: CertOutOpt = None,
    fullchain: FullchainOpt = None,
    subj: SubjFlag = False,
    ca_pass: CaPassOpt = None,
    crl_url: CrlUrlOpt = None,
    force: ForceFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """
    Make a key and a server certificate signed by the CA, in one step (like mkcert).

    Takes the same name and subject options as selfsigned.
    """
    from flow_ssl.ca import issue as ca_issue
    from flow_ssl.ca.authority import LEAF_DAYS, check_crl_url, default_outputs, open_ca
    from flow_ssl.make import generate

    crl_url = check_crl_url(crl_url)
    leaf = request_from_flags(request, days=days if days is not None else LEAF_DAYS)
    authority = open_ca(folder, passin=ca_pass)
    default_key, default_out = generate.default_paths(leaf, x509=True)
    # The full chain goes beside the certificate, named after it.
    _, default_chain = default_outputs(str((out or default_out).with_suffix("")))
    plan = ca_issue.IssuePlan(
        ca=authority,
        request=leaf,
        key_path=keyout or default_key,
        out=out or default_out,
        fullchain=fullchain or default_chain,
        use_subj=subj,
        crl_url=crl_url,
    )
    run_issued(
        plan,
        Asked.of(printing, force=force, as_json=as_json),
        notices=leaf.warnings(),
        heading=f"a key and certificate from the CA in {folder}",
    )


@ca_app.command("list", short_help="List what the CA issued: status, names, expiry.")
def ca_list(
    *,
    folder: CaDirOpt,
    expiring: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--expiring",
            metavar="DAYS",
            help="Fail (exit 1) when a valid certificate expires within DAYS (for cron).",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """
    List every certificate the CA issued (from its index.txt): serial, status (valid,
    revoked, expired), expiry and names; then its CRL.

    Warns when the CRL is past or near its nextUpdate, or misses a revocation.
    """
    from flow_ssl.ca import inventory
    from flow_ssl.ca.authority import open_ca
    from flow_ssl.core.errors import ExitCode
    from flow_ssl.output import json_data, text

    authority = open_ca(folder, passin=None, key_needed=False)
    found = inventory.take(authority, expiring=expiring)
    say_records(authority)
    for warning in found.warnings:
        console.warn(warning)
    if as_json:
        console.emit_json(json_data.inventory(found, folder, expiring=expiring is not None))
    else:
        console.say(text.inventory_text(found, authority.name, folder))
    if found.expiring:
        listed = ", ".join(
            f"{item.entry.serial} ({', '.join(item.names) or item.entry.subject}) on "
            f"{item.entry.expires:%Y-%m-%d}"
            for item in found.expiring
        )
        console.say(
            f"{len(found.expiring)} certificate(s) expire within {expiring} days: {listed}",
            err=True,
        )
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


@ca_app.command("trust", short_help="Print how to trust the CA's root on clients.")
def ca_trust(
    *,
    folder: CaDirOpt,
    print_only: Annotated[
        bool, typer.Option("--print", help="Accepted for symmetry: ca trust only ever prints.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """
    Print how to install the CA's root on each kind of client.

    It never changes a trust store itself: that is for you to do, on each client.
    """
    from flow_ssl.ca import trust
    from flow_ssl.ca.folder import Folder
    from flow_ssl.openssl.read import reader
    from flow_ssl.output import json_data, text

    del print_only
    root_path = Folder(folder).root_cert()
    if not root_path.is_file():
        raise InvalidInputError(f"{folder} is not a flow-ssl CA folder: no ca.crt", field="dir")
    root = reader.read_file(root_path)[0]
    if not root.self_signed:
        raise InvalidInputError(f"{root_path} is not a root (it is not self-signed)", field="dir")
    name = root.subject_value("CN") or "Company Root CA"
    systems = trust.instructions(name)
    if as_json:
        console.emit_json(json_data.trusted(root_path, name, root.sha256_fingerprint, systems))
        return
    console.say(text.trust_text(root_path, name, root.sha256_fingerprint or "", systems))


CrlOutOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--out", metavar="FILE", help="Also write the CRL here (PEM, or DER with --der)."),
]
DerFlag = Annotated[
    bool, typer.Option("--der", help="--out as binary DER (what most clients fetch).")
]


@ca_app.command("revoke", short_help="Revoke a certificate and make a new CRL.")
@printing_options
def ca_revoke(
    printing: Printing,
    cert: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Argument(metavar="[CERT]", help="The certificate to revoke (or give --serial)."),
    ] = None,
    *,
    folder: CaDirOpt,
    serial: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--serial", metavar="HEX", help="The serial to revoke (as ca list shows)."),
    ] = None,
    reason: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--reason",
            metavar="REASON",
            help="keyCompromise, superseded, cessationOfOperation, affiliationChanged, "
            "CACompromise or unspecified [default: none given].",
        ),
    ] = None,
    ca_pass: CaPassOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """
    Revoke a certificate the CA issued: record it in index.txt, then make a new CRL.

    Give the certificate file, or its serial. Revoking twice, an unknown serial or a
    certificate of another CA is refused.
    """
    from flow_ssl.ca import crl
    from flow_ssl.ca.authority import open_ca

    if (cert is None) == (serial is None):
        raise InvalidInputError("give the certificate to revoke, or --serial, not both")
    authority = open_ca(folder, passin=ca_pass)
    plan = crl.plan_revoke(authority, cert=cert, serial=serial, reason=reason)
    assert plan.revoke is not None  # noqa: S101 - plan_revoke always revokes
    if plan.revoke.cert is None and printing.form is not None:
        raise InvalidInputError(
            f"cannot print the revocation of serial {plan.revoke.serial}: its certificate "
            "file is gone, and openssl ca -revoke needs it; run it without --print or "
            "--script (flow-ssl marks index.txt itself)"
        )
    _publish(
        plan,
        Asked.of(printing, force=False, as_json=as_json),
        heading=f"revoke serial {plan.revoke.serial} in {folder}, then make its CRL",
    )


@ca_app.command("crl", short_help="Make the CA's CRL (its revoked certificates, signed).")
@printing_options
def ca_crl(
    printing: Printing,
    *,
    folder: CaDirOpt,
    days: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--days", metavar="DAYS", help="Days until its nextUpdate [default: 30]."),
    ] = None,
    out: CrlOutOpt = None,
    der: DerFlag = False,
    ca_pass: CaPassOpt = None,
    force: ForceFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """
    Make a new CRL: every certificate the index lists revoked, signed by the CA.

    It goes to the folder's crl.pem (and --out). Make one before the last one's
    nextUpdate: clients that check revocation refuse every certificate after it.
    """
    from flow_ssl.ca import config, crl
    from flow_ssl.ca.authority import open_ca

    if der and out is None:
        raise InvalidInputError("needs --out FILE for the DER copy", field="der", joiner=" ")
    authority = open_ca(folder, passin=ca_pass)
    plan = crl.CrlPlan(
        ca=authority, days=config.DEFAULT_CRL_DAYS if days is None else days, out=out, der=der
    )
    _publish(
        plan,
        Asked.of(printing, force=force, as_json=as_json),
        heading=f"a new CRL of the CA in {folder}",
    )


def _publish(plan: CrlPlan, asked: Asked, *, heading: str) -> None:
    """Print the steps (--print, --script), or run them and say what was revoked and written."""
    from flow_ssl.ca import crl
    from flow_ssl.output import json_data, text

    if asked.form is not None:
        from flow_ssl.openssl.script.render import for_print, openssl_for_print

        openssl = openssl_for_print()
        # The folder's crl.pem is replaced whole (it is the CA's state, not the operator's
        # file): only --out is guarded, and kept as a backup with --force.
        mine = [output for output in plan.outputs() if output.backup]
        guard = guard_over(mine, force=asked.force) if mine else None
        if guard is not None:
            said_existing(guard, asked.form)
        console.print_steps(
            [*([guard] if guard else []), *for_print(openssl, plan.steps(openssl))],
            asked.form,
            asked.shell,
            as_json=asked.as_json,
            explain=asked.explain,
            heading=heading,
        )
        return
    made = crl.publish(plan, force=asked.force, announce=announcer(asked))
    say_records(plan.ca)
    written = {"crl": str(plan.ca.folder.crl)}
    if plan.out is not None:
        written["out"] = str(plan.out)
    if asked.as_json:
        console.emit_json(json_data.published(made, written))
        return
    console.say(text.published_summary(made, written, plan.ca.folder.path))
