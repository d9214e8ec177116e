"""
Does a private key belong to a certificate? openssl proves it: it signs, the certificate checks.

A key file's public half is only what it says of itself: a damaged key (a bit flipped in
a backup, a hand-merged portal download) may carry the certificate's public key beside a
private part that is not its own, and openssl's servers load it (they compare the public
halves too), then fail every handshake. So for every key an operator gives, openssl
signs a fresh random challenge with the private half (``dgst -sign``, the key in a
private scratch folder, an encrypted key's passphrase only as a source), and a second
``dgst -verify`` checks that signature with the certificate's public key: the same two
commands on every build. The other way round, a key whose private part is right but whose
stored public half is another key's fails too: openssl's servers refuse to start with it
("key values mismatch") and ``req -key`` would certify that other key. So the stored public
half must be the certificate's as well (read from the key's own encoding, or, for an
encrypted key, as ``pkey -pubout`` prints it: one more process). An Ed25519 or Ed448 key,
which ``dgst`` cannot sign with on every build, has no public half but the one openssl
derives from its private seed (``pkey -pubout``; measured on every build that reads it: a
public key written beside the seed is ignored).

Where flow-ssl itself just had openssl make the key in this run (the read-back of
selfsigned, csr, ca init), the key file is openssl's own output, not something handed
in: its stored public half is compared with the certificate's, without a process.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl.core.errors import InvalidInputError, OpenSSLFailedError
from flow_ssl.core.findings import finding
from flow_ssl.openssl import runner
from flow_ssl.openssl.commands import read as commands
from flow_ssl.openssl.pass_source import crlf_hint
from flow_ssl.openssl.read import asn1, kdf, keys, oids, pem, x509
from flow_ssl.openssl.read.asn1 import ASN1Error

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
        raise _unreadable(key, where, passin, exc) from None
    return printed.stdout.strip()


# Keys whose public half openssl derives from the private seed (``dgst`` signs with
# none of them on 1.1.1, 3.0 or LibreSSL).
DERIVED_KEYS = frozenset({"ed25519", "ed448"})
# The size of the random challenge openssl signs.
_CHALLENGE_BYTES = 32


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
    ``key-matches-cert``: openssl proves the key's private half is the certificate's key
    (``made_with``: what the right key was made with, for the advice: its CSR, or the
    certificate itself). For every key an operator gives.

    Raises:
        InvalidInputError: openssl cannot read or sign with the key, or ``passin`` does
            not decrypt it.
    """
    certified = x509.public_key_info(leaf_der)
    stored = (
        None
        if _algorithm(certified) in DERIVED_KEYS
        else public_key_info(key, key_name, passin=passin)
    )
    damaged = stored is not None and not same_public_key(stored, certified)
    proven = _proves_possession(key, certified, key_name, passin=passin)
    if proven and damaged:
        return finding(
            "key-matches-cert",
            "fail",
            f"the key in {key_name} is damaged: its private half is the key of {cert_name}, "
            "but the public half stored beside it is another key's (servers refuse it: key "
            "values mismatch, and a CSR or renewal would certify that other key); use a good "
            "copy of the key",
        )
    return _finding(
        proven and not damaged, key_name=key_name, cert_name=cert_name, made_with=made_with
    )


def same_public_key(stored: bytes, certified: bytes) -> bool:
    """
    Whether two SubjectPublicKeyInfos hold one key: the same bytes, or one EC point written
    compressed (``02``/``03`` and X) where the other is whole (``04``, X and Y), as openssl's
    servers compare them.
    """
    if stored == certified:
        return True
    try:
        stored_parts, certified_parts = (
            asn1.parse_whole(spki, "public key").children() for spki in (stored, certified)
        )
        if stored_parts[0].encoded != certified_parts[0].encoded:
            return False
        points = [parts[1].bits() for parts in (stored_parts, certified_parts)]
    except (ASN1Error, IndexError):
        return False
    return _compressed(points[0]) == _compressed(points[1])


def _compressed(point: bytes) -> bytes:
    """An EC point in its compressed form (``04 X Y`` becomes ``02 X`` or ``03 X``)."""
    if point[:1] != b"\x04" or len(point) % 2 == 0:
        return point
    half = (len(point) - 1) // 2
    return bytes([2 + (point[-1] & 1)]) + point[1 : 1 + half]


def made_key_matches(
    key: KeyBlock,
    leaf_der: bytes,
    *,
    passin: str | None,
    key_name: str,
    cert_name: str,
    made_with: str,
) -> Finding:
    """
    ``key-matches-cert`` for a key openssl made in this run (the read-back): its stored
    public half is openssl's own output, so comparing it is enough (no process for an
    unencrypted RSA or EC key). Never for a key an operator gives: see ``key_matches``.
    """
    from_key = public_key_info(key, key_name, passin=passin)
    return _finding(
        from_key is not None and same_public_key(from_key, x509.public_key_info(leaf_der)),
        key_name=key_name,
        cert_name=cert_name,
        made_with=made_with,
    )


def _finding(matched: bool, *, key_name: str, cert_name: str, made_with: str) -> Finding:
    """The ``key-matches-cert`` finding, in words."""
    return finding(
        "key-matches-cert",
        matched,
        "the key belongs to the certificate",
        f"the key in {key_name} is not the key of {cert_name}: give the key that was made "
        f"with {made_with}",
    )


def _proves_possession(key: KeyBlock, certified: bytes, where: str, *, passin: str | None) -> bool:
    """
    Whether the private half of ``key`` is the key whose SubjectPublicKeyInfo is
    ``certified``: a fresh challenge signed with it verifies with that public key (two
    processes), or, for an Ed25519 or Ed448 key, the public key openssl derives from the
    private seed is that one (one).

    Raises:
        InvalidInputError: openssl cannot read or sign with the key, or ``passin`` does
            not decrypt it, or its key derivation asks more than openssl may spend.
    """
    if _algorithm(certified) in DERIVED_KEYS:
        derived = pem.public_keys(public_key(key, where, passin=passin).encode("ascii", "replace"))
        return bool(derived) and derived[0] == certified
    if not key.encrypted and keys.key_algorithm(key.text) in DERIVED_KEYS:
        return False  # an Ed25519 key for an RSA or EC certificate
    kdf.refuse_costly_key(key.text, where)
    challenge = secrets.token_bytes(_CHALLENGE_BYTES)
    with tempfile.TemporaryDirectory(prefix="flow-ssl-possession-") as folder:
        key_file = Path(folder) / "key.pem"
        with os.fdopen(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            out.write(key.text)
        signature = _sign(challenge, key, str(key_file), where, passin=passin)
        key_file.unlink()
        public_file = Path(folder) / "certificate.pem"
        public_file.write_text(pem.to_pem(certified, "PUBLIC KEY"), encoding="ascii")
        signature_file = Path(folder) / "signature"
        signature_file.write_bytes(signature)
        command = commands.build_signature_verify(
            "sha256", key=str(public_file), signature=str(signature_file)
        )
        result = runner.run(command, stdin=challenge, check=False)
    said = {line.strip().lower() for line in (result.stdout + result.stderr).splitlines()}
    return "verified ok" in said


def _algorithm(spki: bytes) -> str | None:
    """The key algorithm of a SubjectPublicKeyInfo, by the name a key gets (``ed25519``)."""
    try:
        parts = asn1.parse_whole(spki, "public key").children()
        oid = parts[0].children()[0].oid()
    except (ASN1Error, IndexError):
        return None
    return oids.KEY_ALGORITHMS.get(oid, oid)


def _sign(
    challenge: bytes, key: KeyBlock, key_file: str, where: str, *, passin: str | None
) -> bytes:
    """
    openssl's signature of ``challenge`` with the key in ``key_file``.

    Raises:
        InvalidInputError: openssl cannot read or sign with the key, or ``passin`` does
            not decrypt it (about the field ``pass``; the source is named, never its value).
    """
    try:
        return runner.run(
            commands.build_sign_challenge(key=key_file, passin=passin), stdin=challenge
        ).data
    except OpenSSLFailedError as exc:
        raise _unreadable(key, where, passin, exc) from None


def _unreadable(
    key: KeyBlock, where: str, passin: str | None, exc: OpenSSLFailedError
) -> InvalidInputError:
    """The error for a key openssl could not use: a wrong passphrase, or an unreadable key."""
    if key.encrypted and passin:
        return InvalidInputError(
            f"{passin} does not decrypt the key in {where}: the passphrase is wrong "
            f"(openssl: {exc.reason})",
            field="pass",
            joiner=": ",
            hint=crlf_hint(passin),
        )
    return InvalidInputError(f"openssl cannot read the private key in {where}: {exc.reason}")


def no_key(key_name: str) -> Finding:
    """``key-matches-cert`` failed: the file holds no private key to compare."""
    return finding("key-matches-cert", "fail", f"{key_name} holds no private key")
