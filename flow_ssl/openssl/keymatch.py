"""
Does a private key belong to a certificate? The two public keys, compared as stored.

The certificate's SubjectPublicKeyInfo is read from its DER. A key whose own encoding
carries its public half (an unencrypted RSA key, an EC key with its public point) gives
it without a process (``keys.public_key_info``); any other (an encrypted key, an Ed25519
key) goes to ``openssl pkey -pubout`` on stdin: the same bytes flow-ssl read, never a
path openssl might read differently. Nothing is written; an encrypted key's passphrase
reaches openssl only as a source (``env:VAR``, ``file:PATH``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flow_ssl.core.errors import InvalidInputError, OpenSSLFailedError
from flow_ssl.core.findings import finding
from flow_ssl.openssl import runner
from flow_ssl.openssl.commands import read as commands
from flow_ssl.openssl.pass_source import crlf_hint
from flow_ssl.openssl.read import kdf, keys, pem, x509

if TYPE_CHECKING:
    from flow_ssl.core.models import Finding
    from flow_ssl.openssl.read.pem import KeyBlock


def public_key_info(key: KeyBlock, where: str, *, passin: str | None) -> bytes | None:
    """
    The public half of a private key, as a certificate stores it (DER): from the key's own
    encoding where it carries it, else as openssl prints it; None if openssl prints none.

    Raises:
        InvalidInputError: openssl cannot read the key, or ``passin`` does not decrypt it,
            or its key derivation asks more than openssl may spend (see ``public_key``).
    """
    carried = None if key.encrypted else keys.public_key_info(key.text)
    if carried is not None:
        return carried
    printed = pem.public_keys(public_key(key, where, passin=passin).encode("ascii", "replace"))
    return printed[0] if printed else None


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
    from_key = public_key_info(key, key_name, passin=passin)
    return finding(
        "key-matches-cert",
        from_key is not None and from_key == x509.public_key_info(leaf_der),
        "the key belongs to the certificate",
        f"the key in {key_name} is not the key of {cert_name}: give the key that was made "
        f"with {made_with}",
    )


def no_key(key_name: str) -> Finding:
    """``key-matches-cert`` failed: the file holds no private key to compare."""
    return finding("key-matches-cert", "fail", f"{key_name} holds no private key")
