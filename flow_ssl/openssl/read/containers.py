"""
PKCS#7 (.p7b) and PKCS#12 (.pfx) from the outside: what a file is, and a .p7b's certificates.

Told from the first elements only, BER allowed (Java, Bouncy Castle and some CAs
write indefinite lengths): what a PKCS#12 holds is read by openssl, which holds its
passphrase; a PKCS#7's certificates are read here, DER or BER alike. Pure.
"""

from __future__ import annotations

from flow_ssl.openssl.read import asn1, oids
from flow_ssl.openssl.read.asn1 import (
    INTEGER,
    OID,
    SEQUENCE,
    SET,
    ASN1Error,
    context,
    encode,
    encode_oid,
)


def looks_like_pkcs12(data: bytes) -> bool:
    """
    Whether a file is a PKCS#12 (PFX): SEQUENCE { INTEGER 3, ContentInfo of data or
    signedData, ... }, told from its first elements (what follows may be damaged:
    openssl says how).
    """
    try:
        parts = iter(asn1.parse(data, ber=True).expect(SEQUENCE, "PFX"))
        version, content = next(parts), next(parts)
        if version.tag != INTEGER or version.content != b"\x03" or content.tag != SEQUENCE:
            return False
        return next(iter(content)).oid() in {oids.DATA, oids.SIGNED_DATA}
    except (ASN1Error, StopIteration):
        return False


def looks_like_pkcs7(data: bytes) -> bool:
    """Whether DER (or BER) is a PKCS#7/CMS ContentInfo of signedData, as a .p7b is."""
    try:
        return next(iter(asn1.parse(data, ber=True).expect(SEQUENCE, "PKCS#7"))).oid() == (
            oids.SIGNED_DATA
        )
    except (ASN1Error, StopIteration):
        return False


def pkcs7_certificates(data: bytes) -> list[bytes]:
    """
    The certificates of a PKCS#7 (or CMS) signedData, DER or BER, each as stored, in order.

    Other certificate choices (attribute certificates) are not X.509 and are skipped.

    Raises:
        ASN1Error: not signedData.
    """
    info = asn1.parse(data, ber=True).expect(SEQUENCE, "PKCS#7").children()
    if len(info) != 2 or info[0].tag != OID or info[0].oid() != oids.SIGNED_DATA:
        raise ASN1Error("not PKCS#7 signed data")
    inside = info[1].expect(context(0), "PKCS#7 content").children()
    if len(inside) != 1:
        raise ASN1Error("the PKCS#7 content holds no single SignedData")
    fields = inside[0].expect(SEQUENCE, "SignedData").children()
    if len(fields) < 4:
        raise ASN1Error("SignedData is too short")
    held = next((f for f in fields[3:-1] if f.tag == context(0)), None)  # [0] IMPLICIT
    return [cert.encoded for cert in held or () if cert.tag == SEQUENCE]


def pkcs7_of(certificates: list[bytes]) -> bytes:
    """
    Certificates in a degenerate PKCS#7 SignedData (what crl2pkcs7 -nocrl makes), as
    given and in order, for ``openssl pkcs7 -print_certs`` (``inspect --raw``).
    """
    signed = encode(
        SEQUENCE,
        encode(INTEGER, b"\x01")
        + encode(SET, b"")
        + encode(SEQUENCE, encode_oid(oids.DATA))
        + encode(context(0), b"".join(certificates))
        + encode(SET, b""),
    )
    return encode(SEQUENCE, encode_oid(oids.SIGNED_DATA) + encode(context(0), signed))
