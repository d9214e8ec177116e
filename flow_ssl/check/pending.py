"""
The renewal layout: a renewal a CA must sign waits beside the live pair until it answers.

``renew`` of a certificate a CA issued (or ``renew --csr``) writes its new key and CSR
as ``NAME.next.key`` and ``NAME.next.csr``, never over ``NAME.key``: the installed
``NAME.key`` and ``NAME.crt`` stay a matching pair until the operator installs the new
certificate. The CA's answer saved as ``NAME.next.crt`` has its key by name
(``NAME.next.key``); under any other name, ``check`` and ``bundle`` find the waiting key
that is its key, among the ``*.next.key`` beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl import files
from flow_ssl.core.errors import InvalidInputError
from flow_ssl.openssl import keymatch
from flow_ssl.openssl.read import pem

if TYPE_CHECKING:
    from flow_ssl.core.models import ParsedCertificate

# What the new key and CSR of a renewal a CA signs are called: NAME.next.key, NAME.next.csr.
NEXT = ".next"


def stem_of(path: Path) -> Path:
    """``flow.crt`` -> ``flow`` (a file with no suffix is its own stem)."""
    return path.with_suffix("") if path.suffix else path


def next_files(cert: Path) -> tuple[Path, Path]:
    """Where a renewal of ``cert`` a CA must sign puts its new key and CSR."""
    stem = stem_of(cert)
    return Path(f"{stem}{NEXT}.key"), Path(f"{stem}{NEXT}.csr")


def waiting_keys(cert: Path) -> list[Path]:
    """The renewal keys beside ``cert`` (``*.next.key``), its own name's first."""
    own = Path(f"{stem_of(cert)}.key")
    found = sorted(cert.parent.glob(f"*{NEXT}.key"))
    return [own] + [key for key in found if key != own] if own in found else found


def waiting_key(cert: Path, leaf: ParsedCertificate) -> Path | None:
    """
    The renewal key beside ``cert`` that is the key of ``leaf`` (the certificate the CA
    sent back), or None. A key that cannot be read or is encrypted is passed over.
    """
    for candidate in waiting_keys(cert):
        if not candidate.is_file() or candidate.is_symlink():
            continue
        try:
            keys = pem.private_keys(files.read_input(candidate, "a key file"))
        except InvalidInputError:
            continue
        if not keys or keys[0].encrypted:
            continue
        matched = keymatch.key_matches(
            keys[0], leaf.der, passin=None, key_name=str(candidate), cert_name=str(cert)
        )
        if matched.status == "pass":
            return candidate
    return None
