"""
Is a certificate signed by its issuer's key? Asked of ``openssl dgst -verify``, link by link.

openssl verify checks no signature before a trusted root anchors the chain (OpenSSL
stops at the missing root), except LibreSSL 4.3, which checks them first: so a forged
leaf under a root not trusted yet was "ready once you trust the root" on six builds and
refused on the seventh. flow-ssl asks each link itself, the same way on every build.
Only what every build checks alike is asked (RSA, RSASSA-PSS, ECDSA and DSA with SHA-1
or SHA-2, RSA with MD5); an Ed25519 signature, say, is left to openssl verify.
"""

from __future__ import annotations

import tempfile
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl.openssl import runner
from flow_ssl.openssl.commands.read import build_signature_verify
from flow_ssl.openssl.read import pem, x509
from flow_ssl.openssl.read.asn1 import ASN1Error

if TYPE_CHECKING:
    from flow_ssl.core.models import ParsedCertificate

# The digest each signature algorithm signs with, by the reader's name for it.
_DIGESTS = {
    "md5WithRSAEncryption": "md5",
    **{f"sha{bits}WithRSAEncryption": f"sha{bits}" for bits in (1, 224, 256, 384, 512)},
    **{f"ecdsa-with-SHA{bits}": f"sha{bits}" for bits in (1, 224, 256, 384, 512)},
    "dsaWithSHA1": "sha1",
    "dsa_with_SHA224": "sha224",
    "dsa_with_SHA256": "sha256",
}
_PSS = "rsassaPss"
_PSS_DIGESTS = {"sha1", "sha224", "sha256", "sha384", "sha512"}


def _how(cert: ParsedCertificate) -> tuple[str, tuple[str, ...]] | None:
    """The digest and ``-sigopt`` options ``cert`` was signed with, or None: not asked."""
    algorithm = cert.signature_algorithm or ""
    if algorithm in _DIGESTS:
        return _DIGESTS[algorithm], ()
    digest, mask = cert.signature_hash, cert.signature_mask_hash
    if algorithm != _PSS or digest not in _PSS_DIGESTS or mask not in _PSS_DIGESTS:
        return None
    options = (
        "rsa_padding_mode:pss",
        f"rsa_pss_saltlen:{cert.signature_salt_length}",
        f"rsa_mgf1_md:{mask}",
    )
    return f"{digest}", options


def signed_by(child: ParsedCertificate, issuer: ParsedCertificate) -> bool | None:
    """
    Whether ``child``'s signature is one by ``issuer``'s key; None where it is not asked
    (an algorithm not every build checks alike) or openssl said neither yes nor no.
    """
    how = _how(child)
    if how is None:
        return None
    digest, options = how
    try:
        signed, signature = x509.signed_parts(child.der)
        key = pem.to_pem(x509.public_key_info(issuer.der), "PUBLIC KEY")
    except ASN1Error:
        return None
    with tempfile.TemporaryDirectory(prefix="flow-ssl-signature-") as folder:
        key_file, signature_file = Path(folder) / "issuer.pem", Path(folder) / "signature"
        key_file.write_text(key, encoding="ascii")
        signature_file.write_bytes(signature)
        command = build_signature_verify(
            digest, key=str(key_file), signature=str(signature_file), options=options
        )
        result = runner.run(command, stdin=signed, check=False)
    said = {line.strip().lower() for line in (result.stdout + result.stderr).splitlines()}
    if "verified ok" in said:
        return True
    return False if "verification failure" in said else None


def forged_link(chain: list[ParsedCertificate]) -> str | None:
    """
    The first certificate of ``chain`` (leaf first, each issued by the next) whose
    signature is not its issuer's, in words; None when every link asked holds.
    """
    for child, issuer in pairwise(chain):
        if signed_by(child, issuer) is False:
            which = "the certificate" if child is chain[0] else child.names_text()
            return (
                f"{which} is not signed by the key of {issuer.names_text()} (openssl dgst "
                "-verify: Verification failure): it was altered, or another key signed it"
            )
    return None
