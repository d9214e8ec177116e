"""
What kind of file this is, told from its first bytes: a PKCS#12 (.pfx/.p12) or a PKCS#7 (.p7b).

Only the outer headers are looked at, with BER's indefinite lengths allowed (Java,
Bouncy Castle and some CAs write them); what is inside is read by openssl (a
PKCS#12, which needs its passphrase) or by ``der`` (a PKCS#7's certificates). Pure.
"""

from __future__ import annotations

from flow_ssl.openssl.read.der import DATA_OID, SIGNED_DATA_OID

_VERSION_3 = b"\x02\x01\x03"


def _content_start(data: bytes, at: int) -> int:
    """Where the content of the element at ``at`` starts, whatever its length form (BER too)."""
    if at + 2 > len(data):
        return -1
    first = data[at + 1]
    if first <= 0x80:  # a short length, or BER's indefinite one
        return at + 2
    count = first & 0x7F
    return at + 2 + count if count <= 4 else -1


def looks_like_pkcs12(data: bytes) -> bool:
    """
    Whether a file is a PKCS#12 (PFX): SEQUENCE { INTEGER 3, ContentInfo of data, ... }.

    Told from its first bytes only; BER lengths allowed (Java and some CAs write them).
    """
    if data[:1] != b"\x30":
        return False
    at = _content_start(data, 0)
    if at < 0 or data[at : at + 3] != _VERSION_3 or data[at + 3 : at + 4] != b"\x30":
        return False
    inner = _content_start(data, at + 3)
    return inner >= 0 and data[inner : inner + 11] in {DATA_OID, SIGNED_DATA_OID}


def looks_like_pkcs7(data: bytes) -> bool:
    """Whether DER (or BER) is a PKCS#7/CMS ContentInfo of signedData, as a .p7b is."""
    at = _content_start(data, 0) if data[:1] == b"\x30" else -1
    return at >= 0 and data[at : at + 11] == SIGNED_DATA_OID
