"""
Does a private key belong to a certificate? openssl answers, given both on stdin.

The key (a PEM block found in a file, or printed by openssl from a PKCS#12) goes
to ``openssl pkey -pubout`` on stdin, the certificate's DER to ``openssl x509
-pubkey``: the same bytes flow-ssl read, never a path openssl might read
differently. Nothing is written; an encrypted key's passphrase reaches openssl
only as a source (``env:VAR``, ``file:PATH``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flow_ssl.core.errors import InvalidInputError, OpenSSLFailedError
from flow_ssl.core.findings import finding
from flow_ssl.openssl import runner
from flow_ssl.openssl.commands import read as commands
from flow_ssl.openssl.pass_source import crlf_hint
from flow_ssl.openssl.read import kdf

if TYPE_CHECKING:
    from flow_ssl.core.models import Finding
    from flow_ssl.openssl.read.pem import KeyBlock

_PUBLIC_KEY = "-----BEGIN PUBLIC KEY-----"


def public_key(key: KeyBlock, where: str, *, passin: str | None) -> str:
    """
    The public half of a private key, as openssl prints it.

    Raises:
        InvalidInputError: openssl cannot read the key, or ``passin`` does not decrypt it
            (about the field ``pass``; the source is named, never its value), or its
            key derivation asks more than openssl may spend (``kdf``).
    """
    kdf.refuse_costly_key(key.text, where)
    try:
        printed = runner.run(commands.build_pubkey_of_key_stdin(passin=passin), stdin=key.text)
    except OpenSSLFailedError as exc:
        if key.encrypted and passin:
            raise InvalidInputError(
                f"{passin} does not decrypt the key in {where}: the passphrase is wrong "
                f"(openssl: {exc.reason})",
                field="pass",
                joiner=": ",
                hint=crlf_hint(passin),
            ) from None
        raise InvalidInputError(
            f"openssl cannot read the private key in {where}: {exc.reason}"
        ) from None
    return printed.stdout.strip()


def key_matches(
    key: KeyBlock,
    leaf_der: bytes,
    *,
    passin: str | None,
    key_name: str,
    cert_name: str,
    made_with: str = "its CSR",
) -> Finding:
    """
    ``key-matches-cert``: the key's public half is the certificate's (``made_with``: what
    the right key was made with, for the advice: its CSR, or the certificate itself).
    """
    from_key = public_key(key, key_name, passin=passin)
    from_cert = runner.run(commands.build_pubkey_of_cert_stdin(), stdin=leaf_der).stdout.strip()
    return finding(
        "key-matches-cert",
        _PUBLIC_KEY in from_key and from_key == from_cert,
        "the key belongs to the certificate",
        f"the key in {key_name} is not the key of {cert_name}: give the key that was made "
        f"with {made_with}",
    )
