"""
Commands that read: certificates, requests, keys, bundles, chains and live servers.

Pure builders. The line the vendor page shows (``x509 -noout -text -in FILE``) is
the one shown; flow-ssl reads certificates itself (``reader``) and gives openssl the
DER it framed, on stdin, where openssl must print or check one.
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


def build_readback(path: str, kind: str, *, der: bool) -> Command:
    """The command the vendor page tells operators to run for a certificate or a CSR."""
    return build_req_text(path, der=der) if kind == "csr" else build_x509_text(path, der=der)


def build_print_certificates() -> Command:
    """
    ``openssl pkcs7 -inform DER -print_certs -text -noout``: every certificate of a PKCS#7
    on stdin, in words (``inspect --raw`` of a bundle: one process, on every version).
    """
    return command(
        Arg((OPENSSL, "pkcs7"), "read a PKCS#7 bundle of certificates"),
        Arg(("-inform", "DER"), "binary DER, on stdin"),
        Arg(("-print_certs",), "print each certificate, in order"),
        Arg(("-text",), "every field in words"),
        Arg(("-noout",), "without its PEM"),
    )


def build_x509_text_stdin() -> Command:
    """``openssl x509 -noout -text -inform DER``: one certificate's DER on stdin, in words."""
    return command(
        Arg((OPENSSL, "x509"), "read a certificate"),
        Arg(("-noout",), "do not print it back as PEM"),
        Arg(("-text",), "print every field in words"),
        Arg(("-inform", "DER"), "binary DER, on stdin"),
    )


def build_req_text_stdin() -> Command:
    """``openssl req -noout -text -inform DER``: one CSR's DER on stdin, in words."""
    return command(
        Arg((OPENSSL, "req"), "read a certificate signing request"),
        Arg(("-noout",), "do not print it back as PEM"),
        Arg(("-text",), "print every field in words"),
        Arg(("-inform", "DER"), "binary DER, on stdin"),
    )


def build_random(out: str, count: int) -> Command:
    """``openssl rand -out FILE N``: N random bytes (a challenge for a key to sign)."""
    return command(
        Arg((OPENSSL, "rand"), "make random bytes"),
        Arg(("-out", out), "into this file"),
        Arg((str(count),), "this many"),
    )


def _key_passphrase(passin: str | None) -> Arg:
    """A key's passphrase source, or an empty one so openssl never waits at a prompt."""
    if passin:
        return Arg(("-passin", passin), "the key's passphrase, from this source")
    return Arg(("-passin", "pass:"), "never wait for a passphrase (an encrypted key fails)")


def build_sign_file(key: str, *, data: str, out: str, passin: str | None = None) -> Command:
    """``openssl pkeyutl -sign``: a signature of a short file with the private key in KEY."""
    return command(
        Arg((OPENSSL, "pkeyutl"), "use a private key"),
        Arg(("-sign",), "to sign"),
        Arg(("-inkey", key), "the key file"),
        _key_passphrase(passin),
        Arg(("-in", data), "these bytes"),
        Arg(("-out", out), "the signature goes here"),
    )


def build_verify_with_certificate(cert: str, *, data: str, signature: str) -> Command:
    """
    ``openssl pkeyutl -verify -certin``: is SIGNATURE one of DATA by the key the
    certificate CERT holds? (``Signature Verified Successfully``; every build.)
    """
    return command(
        Arg((OPENSSL, "pkeyutl"), "use a public key"),
        Arg(("-verify",), "to check a signature"),
        Arg(("-certin",), "the key a certificate holds"),
        Arg(("-inkey", cert), "the certificate file"),
        Arg(("-in", data), "of these bytes"),
        Arg(("-sigfile", signature), "this signature"),
    )


def build_public_key_of_key(key: str, *, passin: str | None = None) -> Command:
    """``openssl pkey -in KEY -pubout``: the public key openssl derives from a private key."""
    return command(
        Arg((OPENSSL, "pkey"), "read a private key"),
        Arg(("-in", key), "the key file"),
        _key_passphrase(passin),
        Arg(("-pubout",), "print the public key it derives from it"),
    )


def build_public_key_of_certificate(cert: str) -> Command:
    """``openssl x509 -in CERT -pubkey -noout``: the public key a certificate holds."""
    return command(
        Arg((OPENSSL, "x509"), "read a certificate"),
        Arg(("-in", cert), "the certificate file"),
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


def build_file_digest(path: str) -> Command:
    """
    ``openssl dgst -sha256 -r FILE``: the file's SHA-256, as ``HEX *FILE`` (the same line
    on every build, and on macOS's LibreSSL).
    """
    return command(
        Arg((OPENSSL, "dgst"), "hash a file"),
        Arg(("-sha256",), "with SHA-256"),
        Arg(("-r",), "printed as HEX *FILE"),
        Arg((path,), "the file"),
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


def build_verify(
    leaf: str,
    *,
    untrusted: tuple[str, ...],
    ca_file: str | None,
    purpose: str | None = "sslserver",
    shut: tuple[str, ...] = (),
) -> Command:
    """
    ``openssl verify -purpose sslserver``: does the chain reach a trusted root?
    ``shut``: the options that keep the system's roots out (``-no-CApath``, ``-no-CAstore``).
    """
    args = [Arg((OPENSSL, "verify"), "check a certificate's chain of signatures")]
    if purpose:
        args.append(Arg(("-purpose", purpose), "as a TLS server certificate"))
    if ca_file:
        args.append(Arg(("-CAfile", ca_file), "trusting only these roots"))
        args += [Arg((option,), "and not the system's roots") for option in shut]
    args += [
        Arg(("-untrusted", path), "intermediates to build the chain from") for path in untrusted
    ]
    args.append(Arg((leaf,), "the server certificate"))
    return command(*args)


def build_signature_verify(
    digest: str, *, key: str, signature: str, options: tuple[str, ...] = ()
) -> Command:
    """
    ``openssl dgst -SHA -verify KEY -signature SIG``: is SIG a signature, by KEY's private
    half, of what comes on stdin (a certificate's signed part)? ``options``: ``-sigopt``
    pairs (RSASSA-PSS).
    """
    return command(
        Arg((OPENSSL, "dgst"), "hash what comes on stdin"),
        Arg((f"-{digest}",), "with this digest"),
        Arg(("-verify", key), "and check a signature against this public key"),
        Arg(("-signature", signature), "the signature"),
        *(Arg(("-sigopt", option), "signed so") for option in options),
    )


def build_sign_challenge(*, key: str, passin: str | None) -> Command:
    """
    ``openssl dgst -sha256 -sign KEY``: a signature of what comes on stdin, made with the
    private half of KEY (a file in a private scratch folder), written to stdout.
    """
    return command(
        Arg((OPENSSL, "dgst"), "hash what comes on stdin"),
        Arg(("-sha256",), "with SHA-256"),
        Arg(("-sign", key), "and sign the hash with this private key"),
        _key_passphrase(passin),
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


def build_pkcs7_text(path: str, *, der: bool = False, out: str | None = None) -> Command:
    """``openssl pkcs7 -print_certs -text -noout -in FILE``: every certificate of a .p7b."""
    args = [
        Arg((OPENSSL, "pkcs7"), "read a PKCS#7 (.p7b) bundle of certificates"),
        Arg(("-in", path), "this one"),
    ]
    if der:
        args.append(Arg(("-inform", "DER"), "the file is binary DER, not PEM"))
    args.append(Arg(("-print_certs",), "print each certificate, in order"))
    if out:
        args.append(Arg(("-out", out), "as PEM, into this file"))
    else:
        args += [Arg(("-text",), "every field in words"), Arg(("-noout",), "without its PEM")]
    return command(*args)


def build_x509_pem(path: str, *, out: str) -> Command:
    """``openssl x509 -inform DER -in FILE -out PEM``: a DER certificate as PEM."""
    return command(
        Arg((OPENSSL, "x509"), "read a certificate"),
        Arg(("-inform", "DER"), "the file is binary DER"),
        Arg(("-in", path), "this one"),
        Arg(("-out", out), "as PEM, into this file"),
    )


def build_pubkey_of_key_stdin(*, passin: str | None) -> Command:
    """``openssl pkey -pubout``: the public half of a private key given on stdin."""
    return command(
        Arg((OPENSSL, "pkey"), "read a private key, from stdin"),
        Arg(("-pubout",), "print its public key"),
        _key_passphrase(passin),
    )


def build_key_decrypted(path: str, *, out: str, passin: str | None = None) -> Command:
    """
    ``openssl pkey -in KEY -out OUT``: the first key in a file, written unencrypted (asks
    an encrypted one's passphrase, or reads it from ``passin``).
    """
    args = [
        Arg((OPENSSL, "pkey"), "read a private key (openssl asks its passphrase)"),
        Arg(("-in", path), "the first key in this file"),
    ]
    if passin is not None:
        args.append(Arg(("-passin", passin), "its passphrase, from this source"))
    args.append(Arg(("-out", out), "written without a passphrase"))
    return command(*args)


def build_key_out_stdin(*, out: str, passin: str | None = None) -> Command:
    """``openssl pkey -out OUT``: a private key given on stdin, written alone, unencrypted."""
    args = [Arg((OPENSSL, "pkey"), "read a private key, from stdin")]
    if passin is not None:
        args.append(Arg(("-passin", passin), "its passphrase, from this source"))
    args.append(Arg(("-out", out), "written alone, without a passphrase"))
    return command(*args)
