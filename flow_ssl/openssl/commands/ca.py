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


def _ca_args(signer: Signer) -> list[Arg]:
    args = [
        Arg(("-CA", signer.cert), "sign with this CA certificate", (("dir", signer.cert),)),
        Arg(
            ("-CAkey", signer.key),
            "and the CA's private key (it stays in the CA folder)",
            (("dir", signer.key),),
        ),
    ]
    if signer.passin:
        args.append(Arg(("-passin", signer.passin), "the CA key's passphrase, from this source"))
    return args


def _serial_days_digest(signer: Signer, days: int) -> list[Arg]:
    # -set_serial always: LibreSSL's x509 -req fails without a serial option, and a
    # serial flow-ssl reserved is the only one it may use. The digest always too:
    # LibreSSL's x509 -req signs with SHA-1 when an EC CA key is given none.
    return [
        Arg(("-set_serial", f"0x{signer.serial}"), "a serial number this CA has not used"),
        Arg(("-days", str(days)), f"valid for {days} days from now"),
        Arg((f"-{signer.digest}",), f"sign with {signer.digest.upper()}"),
    ]


def signer_args(signer: Signer, *, section: str, days: int) -> list[Arg]:
    """The options that make ``signer`` sign (``req -CA``) with the extensions of ``section``."""
    return [
        *_ca_args(signer),
        Arg(("-config", signer.config), "the CA's own settings, not the system's openssl.cnf"),
        Arg(("-extensions", section), f"the extensions of its [{section}] section"),
        *_serial_days_digest(signer, days),
    ]


def named_curve_arg() -> Arg:
    """
    ``-pkeyopt ec_param_enc:named_curve``: the curve by name, never by its parameters.

    LibreSSL 3.3.6 (macOS) otherwise writes explicit curve parameters, which Go and
    RFC 5480 refuse; every other version takes the option and names the curve anyway.
    """
    return Arg(
        ("-pkeyopt", "ec_param_enc:named_curve"),
        "the curve by its name (clients refuse a key with explicit curve parameters)",
    )


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
            named_curve_arg(),
        ]
    if passout:
        args += [
            Arg(("-aes-256-cbc",), "encrypt the key with AES-256"),
            Arg(("-pass", passout), "with the passphrase from this source"),
        ]
    args.append(Arg(("-out", out), "write the private key here", (("dir", out),)))
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
        Arg(("-key", key), "for this private key", (("dir", key),)),
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
        Arg(("-out", out), "write the certificate here", (("dir", out),)),
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
    args.append(Arg(("-out", out), "write the request here", (("dir", out),)))
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
        Arg(("-in", csr), "this one", (("csr", csr),)),
        *signer_args(signer, section=section, days=days),
        Arg(("-copy_extensions", "none"), "copy none of the extensions the request asks for"),
        *extra,
        Arg(("-out", out), "write the certificate here", (("out", out),)),
    ]
    return command(*args, needs=("-CA",))


def build_x509_sign(
    csr: str, *, out: str, signer: Signer, extfile: str, section: str, days: int
) -> Command:
    """
    ``openssl x509 -req -in CSR -CA ... -CAkey ...``: the CA signs a request where
    ``req -CA`` is missing (OpenSSL 1.1.1, LibreSSL).

    x509 -req copies none of the request's extensions on any version: they are
    exactly those of ``section`` in ``extfile``.
    """
    args = [
        Arg((OPENSSL, "x509"), "sign a certificate"),
        Arg(("-req",), "for a certificate request"),
        Arg(("-in", csr), "this one", (("csr", csr),)),
        *_ca_args(signer),
        Arg(("-extfile", extfile), "with the extensions in this file"),
        Arg(("-extensions", section), f"those of its [{section}] section, and no others"),
        *_serial_days_digest(signer, days),
        Arg(("-out", out), "write the certificate here", (("out", out),)),
    ]
    return command(*args)


def build_key_check(key: str, *, passin: str) -> Command:
    """``openssl pkey -noout``: does the passphrase from ``passin`` open this key?"""
    return command(
        Arg((OPENSSL, "pkey"), "read a private key"),
        Arg(("-in", key), "this one"),
        Arg(("-passin", passin), "with the passphrase from this source"),
        Arg(("-noout",), "and print nothing"),
    )


def _ca_config(config: str, passin: str | None) -> list[Arg]:
    args = [
        Arg((OPENSSL, "ca"), "the CA's own records (index.txt, CRL number)"),
        Arg(("-config", config), "where they are, and the CA's key and certificate"),
    ]
    if passin:
        args.append(Arg(("-passin", passin), "the CA key's passphrase, from this source"))
    return args


def build_revoke(*, config: str, cert: str, reason: str | None, passin: str | None) -> Command:
    """
    ``openssl ca -revoke CERT``: mark the certificate revoked in the index.

    openssl refuses one revoked already; one the index does not list, it adds as revoked.
    """
    args = [
        *_ca_config(config, passin),
        Arg(("-revoke", cert), "mark this certificate revoked in the index", (("cert", cert),)),
    ]
    if reason:
        args.append(Arg(("-crl_reason", reason), "and say why, in the CRL"))
    return command(*args)


def build_gencrl(*, config: str, days: int, out: str, passin: str | None) -> Command:
    """``openssl ca -gencrl``: a CRL of every certificate the index lists revoked, signed."""
    return command(
        *_ca_config(config, passin),
        Arg(("-gencrl",), "make a CRL: every certificate the index lists revoked"),
        Arg(("-crldays", str(days)), f"clients trust it for {days} days (its nextUpdate)"),
        Arg(("-out", out), "write it here (PEM)", (("out", out),)),
    )


def build_crl_der(crl: str, *, out: str) -> Command:
    """``openssl crl -outform DER``: the same CRL, binary (what most clients fetch)."""
    return command(
        Arg((OPENSSL, "crl"), "read a CRL"),
        Arg(("-in", crl), "this one"),
        Arg(("-outform", "DER"), "write it as binary DER"),
        Arg(("-out", out), "here", (("out", out),)),
    )


def build_crl_check(crl: str, *, ca_cert: str) -> Command:
    """``openssl crl -CAfile CA -noout``: is the CRL signed by this CA? (``verify OK``)."""
    return command(
        Arg((OPENSSL, "crl"), "read a CRL"),
        Arg(("-in", crl), "this one"),
        Arg(("-CAfile", ca_cert), "check its signature with this CA's certificate"),
        Arg(("-noout",), "and print nothing else"),
    )
