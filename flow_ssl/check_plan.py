"""
The openssl commands ``check`` (and ``bundle``) run, for ``--print``: each file read
the way flow-ssl reads it, then the key and chain verifications. Nothing is run to
make them, except opening a PKCS#12 to learn which pass source and options work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flow_ssl.openssl import p12, reader, verify
from flow_ssl.openssl.commands import pkcs12 as p12_commands
from flow_ssl.openssl.commands import read as commands
from flow_ssl.openssl.commands.base import scratch
from flow_ssl.openssl.script import openssl_for_print
from flow_ssl.openssl.steps import Note, Step

if TYPE_CHECKING:
    from pathlib import Path

    from flow_ssl.openssl.pem import Framed


def planned_reads(
    paths: tuple[Path, ...],
    *,
    passin: str | None = None,
    opened: dict[Path, p12.Opened] | None = None,
) -> list[Step]:
    """
    How each file is read: the vendor page's command, or what shows every certificate. A
    PKCS#12 is opened (kept in ``opened``) so the script opens it as flow-ssl does.
    """
    known = {} if opened is None else opened
    steps: list[Step] = [Note("read each file (flow-ssl reads names and extensions from its DER)")]
    for path in paths:
        framed = reader.frame_file(path)
        if framed.form == "pem" and len(framed.items) > 1:
            steps.append(commands.build_storeutl_text(str(path)))
        else:
            steps.extend(
                reader.show_steps(path, framed, opened=_opened(path, framed, passin, known))
            )
    return steps


def _opened(
    path: Path, framed: Framed, passin: str | None, known: dict[Path, p12.Opened]
) -> p12.Opened | None:
    """A PKCS#12 as ``p12.for_print`` opens it, once per file; None for other forms."""
    if framed.pkcs12 is None:
        return None
    if path not in known:
        known[path] = p12.for_print(framed.pkcs12, str(path), passin=passin)
    return known[path]


def _as_pem(path: Path, framed: Framed, opened: p12.Opened | None, steps: list[Step]) -> str:
    """The file as PEM for openssl verify: itself, or a copy in the script's scratch folder."""
    if framed.form == "pem":
        return str(path)
    out = scratch(f"{len(steps)}.pem")
    if opened is not None:
        show = p12_commands.build_p12_show
        steps.append(show(str(path), passin=opened.passin, legacy=opened.legacy, out=out))
    elif framed.form == "pkcs7":
        steps.append(commands.build_pkcs7_text(str(path), der=not framed.armored, out=out))
    else:
        steps.append(commands.build_x509_pem(str(path), out=out))
    return out


def planned_check(
    cert: Path,
    *,
    key: Path | None,
    chain: tuple[Path, ...],
    ca_file: Path | None,
    passin: str | None = None,
) -> list[Step]:
    """The openssl commands ``check`` runs, for --print (only a PKCS#12 is opened to know)."""
    files_read = (cert, *chain, *((ca_file,) if ca_file else ()))
    known: dict[Path, p12.Opened] = {}
    steps = planned_reads(files_read, passin=passin, opened=known)

    def as_pem(path: Path) -> str:
        framed = reader.frame_file(path)
        return _as_pem(path, framed, _opened(path, framed, passin, known), steps)

    framed = reader.frame_file(cert)
    leaf = as_pem(cert)
    if not framed.ordered:
        steps.append(Note(f"{cert} holds a set: flow-ssl takes its leaf first, then each issuer"))
    inside = known.get(cert)
    if key is not None or framed.keys:
        steps += [
            Note("does the key belong to the certificate? (the two must print the same)"),
            commands.build_pubkey_from_key(str(key or cert), passin=passin),
            commands.build_pubkey_from_cert(leaf),
        ]
    elif inside is not None:
        export, public = p12_commands.build_p12_public_key(
            str(cert), passin=inside.passin, legacy=inside.legacy
        )
        steps.append(Note(f"the key inside, through a pipe: {export.render()} | {public.render()}"))
    chain_files = tuple(as_pem(path) for path in chain)
    roots = as_pem(ca_file) if ca_file else None
    steps += [
        Note("does the chain reach a trusted root, for a TLS server?"),
        commands.build_verify(
            leaf,
            untrusted=(leaf, *chain_files),
            ca_file=roots,
            shut=verify.roots_shut(openssl_for_print()),
        ),
    ]
    if ca_file is None:
        shown = cert if framed.form == "pem" else "its PEM copy"
        steps.append(
            Note(f"a self-signed {cert} is verified against itself instead: -CAfile {shown}")
        )
    return steps
