"""
``openssl req`` for a server: the subject (prompts or ``-subj``), the key, the extensions.

Pure builders: a request becomes a Command (argv plus the prompts it will ask).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flow_ssl.openssl.commands.base import OPENSSL, Arg, Command, command
from flow_ssl.openssl.commands.ca import named_curve_arg, signer_args
from flow_ssl.openssl.commands.subject import (
    subject_args,
    subject_needs,
    subject_prompts,
    utf8_arg,
)

if TYPE_CHECKING:
    from flow_ssl.core.models import CertRequest, KeySpec, SanEntry
    from flow_ssl.openssl.commands.ca import Signer


def _newkey(key: KeySpec) -> tuple[Arg, ...]:
    if key.algorithm == "rsa":
        return (Arg(("-newkey", key.name), f"make a new {key.bits}-bit RSA private key"),)
    return (
        Arg(("-newkey", "ec"), "make a new elliptic-curve (EC) private key"),
        Arg(
            ("-pkeyopt", f"ec_paramgen_curve:{key.curve}"),
            f"on the NIST curve {key.curve}",
        ),
        named_curve_arg(),
    )


def server_extension_values(
    names: tuple[SanEntry, ...], *, key_algorithm: str
) -> list[tuple[str, str]]:
    """
    The extensions of a modern end-entity server certificate, as (name, value).

    One list for every way flow-ssl writes them (-addext, or an -extfile for
    x509 -req), so every server certificate carries the same ones.
    """
    usage = "digitalSignature,keyEncipherment" if key_algorithm == "rsa" else "digitalSignature"
    return [
        ("subjectAltName", ",".join(entry.openssl() for entry in names)),
        ("basicConstraints", "critical,CA:FALSE"),
        ("keyUsage", f"critical,{usage}"),
        ("extendedKeyUsage", "serverAuth"),
    ]


_WHY = {
    "subjectAltName": "the names clients check: every name, the Common Name included "
    "(Chrome, Apple and Go ignore the Common Name)",
    "basicConstraints": "a server certificate, not a certificate authority",
    "keyUsage": "what the key may be used for",
    "extendedKeyUsage": "for TLS servers (Apple platforms require this)",
    "nameConstraints": "the only names this CA (and any CA under it) may sign for",
    "crlDistributionPoints": "where clients find the CA's list of revoked certificates",
}


def addext(name: str, value: str) -> Arg:
    """``-addext name=value``: one extension, with what it is for."""
    return Arg(("-addext", f"{name}={value}"), _WHY.get(name, f"the {name} extension"))


def server_extensions(
    names: tuple[SanEntry, ...], *, key_algorithm: str, csr: bool = False
) -> tuple[Arg, ...]:
    """
    The -addext options that make a modern end-entity server certificate.

    Shared by selfsigned, csr, ca sign and ca issue; a CSR carries the names only.
    """
    values = server_extension_values(names, key_algorithm=key_algorithm)
    return tuple(addext(name, value) for name, value in (values[:1] if csr else values))


def build_req(
    request: CertRequest,
    *,
    keyout: str,
    out: str,
    x509: bool,
    use_subj: bool,
    config: str | None = None,
    signer: Signer | None = None,
    extensions: bool = True,
    key_file: str | None = None,
    extra: tuple[Arg, ...] = (),
) -> Command:
    """
    ``openssl req`` for a self-signed certificate (``x509``), a CSR, or with ``signer``
    a certificate signed by a company CA.

    Without ``request.literal`` this is the vendor's command followed by the
    extensions modern clients need; with it, the vendor's command verbatim.
    ``config`` is flow-ssl's own ``-config`` (where -addext adds to the system
    config's extensions instead of replacing them); a CSR made only to be signed
    by ``x509 -req`` needs no ``extensions`` (it takes them from its -extfile).
    ``key_file``: an existing key to certify again (``-key``), instead of a new one.
    ``extra``: more extensions for this certificate (a CA's CRL Distribution Point).
    """
    args: list[Arg] = [Arg((OPENSSL, "req"), "make a certificate request (or certificate)")]
    if x509:
        args.append(Arg(("-x509",), "make a self-signed certificate instead of a request"))
        if key_file is not None:
            # LibreSSL's -x509 -key reads a request from stdin unless told -new.
            args.append(Arg(("-new",), "from a new request for that key"))
    else:
        args.append(Arg(("-new",), "make a new certificate signing request (CSR)"))
    args.append(
        Arg(("-nodes",), "do not encrypt the private key: the server must read it unattended")
    )
    if x509 and signer is None:
        args.append(Arg(("-days", str(request.days)), f"valid for {request.days} days from now"))
    if key_file is None:
        args += _newkey(request.key)
        args.append(Arg(("-keyout", keyout), "write the private key here", (("keyout", keyout),)))
    else:
        args.append(Arg(("-key", key_file), "keep this private key", (("key", key_file),)))
    if signer is not None:
        args += signer_args(signer, section="server", days=request.days)
    out_what = "certificate" if x509 else "request (CSR) to send to the CA"
    args.append(Arg(("-out", out), f"write the {out_what} here", (("out", out),)))
    if config is not None:
        args.append(
            Arg(
                ("-config", config),
                "flow-ssl's settings, so the system's openssl.cnf adds nothing",
            )
        )
    if use_subj:
        args += subject_args(request.subject)
    elif not request.subject.is_ascii():
        args.append(utf8_arg())
    added: tuple[Arg, ...] = ()
    if extensions and not request.literal:
        added = server_extensions(request.names, key_algorithm=request.key.algorithm, csr=not x509)
        args += (*added, *extra)
    needs: tuple[str, ...] = ("-addext",) if added else ()
    if use_subj:
        needs += subject_needs(request.subject)
    asks_extras = not x509 and config is None and signer is None
    return command(
        *args,
        prompts=() if use_subj else subject_prompts(request.subject, csr=asks_extras),
        needs=(*needs, "-CA") if signer else needs,
    )
