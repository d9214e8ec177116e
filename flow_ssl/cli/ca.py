"""
``ca init``, ``ca sign``, ``ca issue`` and ``ca trust``: a company CA in a folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

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
from flow_ssl.cli.running import Asked, announcer, run_issued
from flow_ssl.core.errors import InvalidInputError, refuse_all
from flow_ssl.core.keys import KEY_NAMES

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
        help="Certificate + issuing CA file [default: NAME.fullchain.pem].",
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
    as_json: JsonFlag = False,
) -> None:
    """
    Make a root CA, or with --parent an issuing CA under a root.

    The folder must be new or empty: an existing CA is never replaced.
    """
    from pydantic import ValidationError

    from flow_ssl.ca import init as ca_init
    from flow_ssl.ca.authority import DEFAULT_CA_KEY, ISSUING_DAYS, ROOT_DAYS, open_ca
    from flow_ssl.ca.folder import Folder, read_serial
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
    )
    asked = Asked.of(printing, force=False, as_json=as_json)
    if asked.form is not None:
        from flow_ssl.make.run import check_outputs
        from flow_ssl.openssl.commands.read import build_readback
        from flow_ssl.openssl.script.render import for_print, openssl_for_print

        check_outputs(plan.outputs(), force=False)  # a folder that holds files: never
        openssl = openssl_for_print()
        serial = read_serial(parent_ca.folder) if parent_ca else ""
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
    cert = run(plan, force=False, announce=announcer(asked)).cert
    made = Folder(folder)
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
    console.say(text.ca_made_summary(folder, name, cert, root=parent_ca is None))


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
    force: ForceFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """
    Sign a CSR as a server certificate: its names, never its requested extensions.

    The CSR's self-signature, names and key are checked before anything is signed.
    """
    from flow_ssl.ca import sign as ca_sign
    from flow_ssl.ca.authority import LEAF_DAYS, default_outputs, open_ca
    from flow_ssl.core.models import APPLE_MAX_DAYS, days_notice

    authority = open_ca(folder, passin=ca_pass)
    stem = str(csr_file.with_suffix("")) if csr_file.suffix else str(csr_file)
    default_out, default_chain = default_outputs(stem)
    days = days if days is not None else LEAF_DAYS
    plan = ca_sign.plan_sign(
        authority, csr_file, days=days, out=out or default_out, fullchain=fullchain or default_chain
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
    force: ForceFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """
    Make a key and a server certificate signed by the CA, in one step (like mkcert).

    Takes the same name and subject options as selfsigned.
    """
    from flow_ssl.ca import issue as ca_issue
    from flow_ssl.ca.authority import LEAF_DAYS, default_outputs, open_ca
    from flow_ssl.make import generate

    leaf = request_from_flags(request, days=days if days is not None else LEAF_DAYS)
    authority = open_ca(folder, passin=ca_pass)
    default_key, default_out = generate.default_paths(leaf, x509=True)
    _, default_chain = default_outputs(str(default_out.with_suffix("")))
    plan = ca_issue.IssuePlan(
        ca=authority,
        request=leaf,
        key_path=keyout or default_key,
        out=out or default_out,
        fullchain=fullchain or default_chain,
        use_subj=subj,
    )
    run_issued(
        plan,
        Asked.of(printing, force=force, as_json=as_json),
        notices=leaf.warnings(),
        heading=f"a key and certificate from the CA in {folder}",
    )


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
