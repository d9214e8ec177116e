"""
A company CA's openssl commands: its key, its certificate, and signing with it.

Pure builders. ``Signer`` holds what every signing needs; a pass source
(``env:VAR``, ``file:PATH``) is all that ever reaches argv, never a passphrase.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flow_ssl.openssl.commands.base import OPENSSL, Arg, Command, command
from flow_ssl.openssl.commands.subject import subject_args

if TYPE_CHECKING:
    from flow_ssl.core.models import KeySpec, Subject


@dataclass(frozen=True)
class Signer:
    """
    The CA that signs: its files, the serial it gives next, and its digest.

    ``passin`` is an openssl pass source (``env:VAR`` or ``file:PATH``), never
    the passphrase itself.
    """

    cert: str
    key: str
    config: str
    serial: str
    digest: str = "sha256"
    passin: str | None = None


def signer_args(signer: Signer, *, section: str, days: int) -> list[Arg]:
    """The options that make ``signer`` sign with the extensions of ``section``."""
    args = [
        Arg(("-CA", signer.cert), "sign with this CA certificate"),
        Arg(("-CAkey", signer.key), "and the CA's private key (it stays in the CA folder)"),
    ]
    if signer.passin:
        args.append(Arg(("-passin", signer.passin), "the CA key's passphrase, from this source"))
    args += [
        Arg(("-config", signer.config), "the CA's own settings, not the system's openssl.cnf"),
        Arg(("-extensions", section), f"the extensions of its [{section}] section"),
        Arg(("-set_serial", f"0x{signer.serial}"), "a serial number this CA has not used"),
        Arg(("-days", str(days)), f"valid for {days} days from now"),
        Arg((f"-{signer.digest}",), f"sign with {signer.digest.upper()}"),
    ]
    return args


def build_genpkey(key: KeySpec, out: str, *, passout: str | None = None) -> Command:
    """``openssl genpkey``: a new private key, encrypted when a pass source is given."""
    if key.algorithm == "rsa":
        args = [
            Arg((OPENSSL, "genpkey"), "make a new private key"),
            Arg(("-algorithm", "RSA"), "an RSA key"),
            Arg(("-pkeyopt", f"rsa_keygen_bits:{key.bits}"), f"of {key.bits} bits"),
        ]
    else:
        args = [
            Arg((OPENSSL, "genpkey"), "make a new private key"),
            Arg(("-algorithm", "EC"), "an elliptic-curve (EC) key"),
            Arg(("-pkeyopt", f"ec_paramgen_curve:{key.curve}"), f"on the NIST curve {key.curve}"),
        ]
    if passout:
        args += [
            Arg(("-aes-256-cbc",), "encrypt the key with AES-256"),
            Arg(("-pass", passout), "with the passphrase from this source"),
        ]
    args.append(Arg(("-out", out), "write the private key here"))
    return command(*args)


def _ca_request_head(
    subject: Subject, *, key: str, config: str, passin: str | None, root: bool
) -> list[Arg]:
    """``openssl req`` for an existing key, the subject, and the CA's own config."""
    args = [Arg((OPENSSL, "req"), "make a certificate" if root else "make a certificate request")]
    if root:
        args.append(Arg(("-x509",), "self-signed: this is the root everyone will trust"))
    args += [
        Arg(("-new",), "from a new request"),
        Arg(("-key", key), "for this private key"),
    ]
    if passin:
        args.append(Arg(("-passin", passin), "the key's passphrase, from this source"))
    args += subject_args(subject)
    args.append(Arg(("-config", config), "the CA's own settings, not the system's openssl.cnf"))
    return args


def build_root_ca(
    subject: Subject,
    *,
    key: str,
    out: str,
    config: str,
    serial: str,
    days: int,
    digest: str,
    passin: str | None = None,
) -> Command:
    """``openssl req -x509 -new -key``: a self-signed root with the [root_ca] extensions."""
    args = _ca_request_head(subject, key=key, config=config, passin=passin, root=True)
    args += [
        Arg(("-extensions", "root_ca"), "the extensions of its [root_ca] section"),
        Arg(("-set_serial", f"0x{serial}"), "a random serial number"),
        Arg(("-days", str(days)), f"valid for {days} days from now"),
        Arg((f"-{digest}",), f"sign with {digest.upper()}"),
        Arg(("-out", out), "write the certificate here"),
    ]
    return command(*args)


def build_ca_csr(
    subject: Subject,
    *,
    key: str,
    out: str,
    config: str,
    passin: str | None = None,
) -> Command:
    """``openssl req -new -key``: the request an issuing CA sends to its root."""
    args = _ca_request_head(subject, key=key, config=config, passin=passin, root=False)
    args.append(Arg(("-out", out), "write the request here"))
    return command(*args)


def build_sign_csr(
    csr: str,
    *,
    out: str,
    signer: Signer,
    section: str,
    days: int,
    extra: tuple[Arg, ...] = (),
) -> Command:
    """
    ``openssl req -in CSR -CA ... -CAkey ...``: the CA signs a request.

    ``-copy_extensions none``: nothing the request asks for is copied (a CSR
    asking for CA:TRUE must not get it); the extensions are the section's
    plus ``extra``.
    """
    args = [
        Arg((OPENSSL, "req"), "read a certificate request"),
        Arg(("-in", csr), "this one"),
        *signer_args(signer, section=section, days=days),
        Arg(("-copy_extensions", "none"), "copy none of the extensions the request asks for"),
        *extra,
        Arg(("-out", out), "write the certificate here"),
    ]
    return command(*args, needs=("-CA",))
