"""
CRLs as ``check --crl`` and the CA commands read them: the file, and which CA signed it.

A CRL proves something only when its issuer's key signed it: openssl checks the
signature against each certificate of the chain with the CRL's issuer name.
"""

from __future__ import annotations

import base64
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl import files
from flow_ssl.core.errors import InvalidInputError
from flow_ssl.core.revocation import GivenCrl
from flow_ssl.openssl import verify
from flow_ssl.openssl.read import x509
from flow_ssl.openssl.read.pem import to_pem

if TYPE_CHECKING:
    from collections.abc import Iterable

    from flow_ssl.core.models import ParsedCertificate
    from flow_ssl.core.revocation import RevocationList

_BEGIN = b"-----BEGIN X509 CRL-----"
_CRL_PEM = re.compile(rb"-----BEGIN X509 CRL-----(.*?)-----END X509 CRL-----", re.DOTALL)
_BASE64 = re.compile(rb"[A-Za-z0-9+/=\s]*")


def read_crls(path: Path) -> list[RevocationList]:
    """
    Every CRL of a file: its PEM blocks in order (one file may hold the root's and the
    issuing CA's, as ``openssl verify -crl_check_all`` takes them), or one DER CRL.

    Raises:
        InvalidInputError: missing, not a regular file, too large, unreadable, or a block
            (or the whole file) that is no CRL.
    """
    data = files.read_input(path, "a CRL file")
    blocks = [found.group(1) for found in _CRL_PEM.finditer(data)]
    for number, block in enumerate(blocks, start=1):
        if not _BASE64.fullmatch(block):
            raise InvalidInputError(
                f"{path}: its CRL block {number} of {len(blocks)} is not plain base64 (a header "
                "line, or a stray character): openssl skips it, so a revocation it lists "
                "would go unseen; remove what is not base64, or get that CRL from its CA again"
            )
    if data.count(_BEGIN) != len(blocks):
        raise InvalidInputError(f"{path}: a CRL block begins and never ends (cut short?)")
    blocks = [b"".join(block.split()) for block in blocks]
    try:
        if not blocks:
            return [x509.read_crl(data)]
        return [x509.read_crl(base64.b64decode(block)) for block in blocks]
    except ValueError as exc:  # an ASN1Error, or base64 that does not decode
        raise InvalidInputError(f"{path} does not hold a CRL ({exc})") from None


def read_crl(path: Path) -> RevocationList:
    """
    A CA folder's CRL file, PEM (as openssl -gencrl writes it) or DER: its first CRL.

    Raises:
        InvalidInputError: missing, not a regular file, too large, unreadable, or no CRL.
    """
    return read_crls(path)[0]


def given(paths: Iterable[Path], chain: list[ParsedCertificate]) -> list[GivenCrl]:
    """
    Each CRL of each file, and the certificate of ``chain`` whose key signed it (if any).

    Raises:
        InvalidInputError: a file that holds no CRL.
    """
    found = []
    for path in paths:
        crls = read_crls(path)
        for number, crl in enumerate(crls, start=1):
            source = f"{path} (CRL {number} of {len(crls)})" if len(crls) > 1 else str(path)
            named = [cert for cert in chain if _may_have_signed(cert, crl)]
            signer = next((cert for cert in named if _signed(crl, cert)), None)
            found.append(GivenCrl(source, crl, signer, _naming(crl, chain)))
    return found


def _naming(crl: RevocationList, chain: list[ParsedCertificate]) -> frozenset[int]:
    """
    Where in the chain the certificates are whose crlDistributionPoints name a name of
    the CRL's issuingDistributionPoint (as openssl compares them: the same name whole).
    """
    points = set(crl.scope.points) if crl.scope else set()
    if not points:
        return frozenset()
    return frozenset(
        at for at, cert in enumerate(chain) if points & x509.distribution_points(cert.der)
    )


def _may_have_signed(cert: ParsedCertificate, crl: RevocationList) -> bool:
    """Its subject is the CRL's issuer, and its key id the CRL's (where both say)."""
    ids = (crl.authority_key_id, cert.subject_key_id)
    return cert.subject == crl.issuer and (None in ids or ids[0] == ids[1])


def _signed(crl: RevocationList, issuer: ParsedCertificate) -> bool:
    """``openssl crl -CAfile``: did ``issuer``'s key sign the CRL?"""
    with tempfile.TemporaryDirectory(prefix="flow-ssl-") as work:
        crl_file, ca_file = Path(work) / "crl.pem", Path(work) / "ca.pem"
        files.write_staged(crl_file, to_pem(crl.der, "X509 CRL").encode("ascii"))
        files.write_staged(ca_file, to_pem(issuer.der, "CERTIFICATE").encode("ascii"))
        return verify.crl_signature(crl_file, ca_file).status == "pass"
