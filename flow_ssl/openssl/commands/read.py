"""
Commands that read: certificates, requests, keys, bundles, chains and live servers.

Pure builders. The line the vendor page shows (``x509 -noout -text``) is the
one shown; the parser's pinned ``-nameopt`` is added only to what flow-ssl runs.
"""

from __future__ import annotations

from flow_ssl.openssl.commands.base import OPENSSL, Arg, Command, command


def build_x509_text(path: str, *, der: bool = False) -> Command:
    """The vendor page's check: ``openssl x509 -noout -text -in FILE``."""
    args = [
        Arg((OPENSSL, "x509"), "read a certificate"),
        Arg(("-noout",), "do not print it back as PEM"),
        Arg(("-text",), "print every field in words"),
        Arg(("-in", path), "the certificate file"),
    ]
    if der:
        args.append(Arg(("-inform", "DER"), "the file is binary DER, not PEM"))
    return command(*args)


def build_req_text(path: str, *, der: bool = False) -> Command:
    """``openssl req -noout -text -in FILE`` for a CSR."""
    args = [
        Arg((OPENSSL, "req"), "read a certificate signing request"),
        Arg(("-noout",), "do not print it back as PEM"),
        Arg(("-text",), "print every field in words"),
        Arg(("-in", path), "the request file"),
    ]
    if der:
        args.append(Arg(("-inform", "DER"), "the file is binary DER, not PEM"))
    return command(*args)


# Added to the commands flow-ssl runs for parsing (never to the one shown): a pinned
# name format, since the default changed in 3.2 (oneline -> unescaped utf8). RFC2253
# escapes ',' '+' and friends with '\', and -esc_msb keeps UTF-8 raw; it lists the
# name in reverse order, which the parser undoes.
PARSE_NAMEOPT = ("-nameopt", "RFC2253,-esc_msb")


def for_parsing(shown: Command) -> Command:
    """The same command with a pinned, unambiguous name format."""
    pinned = Arg(PARSE_NAMEOPT, "print names in one fixed, escaped format (for flow-ssl's parser)")
    return Command(args=(*shown.args, pinned), prompts=shown.prompts, needs=shown.needs)


def build_pubkey_from_key(path: str, *, passin: str | None = None) -> Command:
    """``openssl pkey -pubout``: the public half of a private key, as PEM."""
    source = (
        Arg(("-passin", passin), "the key's passphrase, from this source")
        if passin
        else Arg(("-passin", "pass:"), "never wait for a passphrase (an encrypted key fails)")
    )
    return command(
        Arg((OPENSSL, "pkey"), "read a private key"),
        Arg(("-in", path), "the key file"),
        Arg(("-pubout",), "print its public key"),
        source,
    )


def build_pubkey_from_cert(path: str) -> Command:
    """``openssl x509 -pubkey -noout``: a certificate's public key, as PEM."""
    return command(
        Arg((OPENSSL, "x509"), "read a certificate"),
        Arg(("-in", path), "the certificate file"),
        Arg(("-pubkey",), "print its public key"),
        Arg(("-noout",), "and nothing else"),
    )


def build_req_verify(path: str) -> Command:
    """``openssl req -verify``: check a CSR's self-signature."""
    return command(
        Arg((OPENSSL, "req"), "read a certificate signing request"),
        Arg(("-in", path), "the request file"),
        Arg(("-verify",), "check that it is signed by its own key"),
        Arg(("-noout",), "print nothing else"),
    )


def build_storeutl_text(path: str) -> Command:
    """``openssl storeutl -noout -text -certs FILE``: every certificate of a bundle at once."""
    return command(
        Arg((OPENSSL, "storeutl"), "read every object in a file"),
        Arg(("-noout",), "do not print them back as PEM"),
        Arg(("-text",), "print every field in words"),
        Arg(("-certs",), "certificates only"),
        Arg((path,), "the bundle file"),
    )


def build_crl2pkcs7(path: str) -> Command:
    """``openssl crl2pkcs7 -nocrl -certfile FILE -outform DER``: a bundle as one PKCS#7."""
    return command(
        Arg((OPENSSL, "crl2pkcs7"), "wrap certificates in one PKCS#7 structure"),
        Arg(("-nocrl",), "no revocation list"),
        Arg(("-certfile", path), "every certificate of this file, in file order"),
        Arg(("-outform", "DER"), "as binary DER"),
    )


def build_cms_print() -> Command:
    """
    ``openssl cms -cmsout -print -noout -inform DER -nameopt ...`` reading stdin.

    The one printer of many certificates that honours -nameopt: storeutl and
    pkcs7 -print_certs always print names in the legacy, ambiguous form.
    """
    return command(
        Arg((OPENSSL, "cms"), "read a CMS/PKCS#7 structure"),
        Arg(("-cmsout", "-print", "-noout"), "print its fields, not its encoding"),
        Arg(("-inform", "DER"), "binary DER on stdin"),
        Arg(PARSE_NAMEOPT, "names in one fixed, escaped format"),
    )


def build_verify(
    leaf: str,
    *,
    untrusted: tuple[str, ...],
    ca_file: str | None,
    purpose: str | None = "sslserver",
) -> Command:
    """``openssl verify -purpose sslserver``: does the chain reach a trusted root?"""
    args = [Arg((OPENSSL, "verify"), "check a certificate's chain of signatures")]
    if purpose:
        args.append(Arg(("-purpose", purpose), "as a TLS server certificate"))
    if ca_file:
        args.append(Arg(("-CAfile", ca_file), "trusting only these roots"))
    args += [
        Arg(("-untrusted", path), "intermediates to build the chain from") for path in untrusted
    ]
    args.append(Arg((leaf,), "the server certificate"))
    return command(*args)


def build_pubkey_from_csr(path: str) -> Command:
    """``openssl req -pubkey -noout``: a CSR's public key, as PEM."""
    return command(
        Arg((OPENSSL, "req"), "read a certificate signing request"),
        Arg(("-in", path), "the request file"),
        Arg(("-pubkey",), "print its public key"),
        Arg(("-noout",), "and nothing else"),
    )


def build_s_client(connect: str, *, servername: str | None) -> Command:
    """``openssl s_client -connect ADDR:PORT -servername HOST -showcerts``: what a server sends."""
    args = [
        Arg((OPENSSL, "s_client"), "connect as a TLS client"),
        Arg(("-connect", connect), "to this address and port"),
    ]
    if servername:
        args.append(Arg(("-servername", servername), "asking for this name (SNI)"))
    args.append(Arg(("-showcerts",), "print every certificate the server sends, in order"))
    return command(*args)
