"""
CRLs read by the one ASN.1 walker (``x509.read_crl``): every field flow-ssl judges, as
cryptography reads it, and malformed ones refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from flow_ssl.openssl.read import x509 as reader_x509
from flow_ssl.openssl.read.asn1 import ASN1Error
from tests.pki import make_ca

_THIS_UPDATE = datetime(2026, 3, 5, 1, 2, 3, tzinfo=timezone.utc)
# Past 2049: RFC 5280 wants a GeneralizedTime there, where earlier dates are UTCTime.
_FAR = datetime(2051, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _crl(
    entries: list[tuple[int, datetime, x509.ReasonFlags | None]],
    *,
    next_update: datetime,
    number: int | None = 7,
) -> tuple[bytes, x509.CertificateRevocationList]:
    """A CRL signed by a new CA, with these entries (serial, date, reason), as DER."""
    ca = make_ca("CRL Reader CA")
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(_THIS_UPDATE)
        .next_update(next_update)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    if number is not None:
        builder = builder.add_extension(x509.CRLNumber(number), critical=False)
    for serial, when, reason in entries:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
        if reason is not None:
            entry = entry.add_extension(x509.CRLReason(reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    crl = builder.sign(ca.key, hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.DER), crl


def test_every_field_is_read_as_cryptography_reads_it() -> None:
    """Issuer, both updates, number, AKI, and each entry's serial, date and reason."""
    when = _THIS_UPDATE - timedelta(days=2)
    der, crl = _crl(
        [
            (0x5F3A09C2D1E4B7A8, when, x509.ReasonFlags.key_compromise),
            (2**158 + 1, when, None),
            (3, _FAR, x509.ReasonFlags.cessation_of_operation),
        ],
        next_update=_FAR,
    )
    read = reader_x509.read_crl(der)
    assert [(a.type, a.value) for a in read.issuer] == [("CN", "CRL Reader CA")]
    assert read.this_update == crl.last_update_utc
    assert read.next_update == crl.next_update_utc == _FAR
    assert read.number == 7
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert read.authority_key_id == (aki.key_identifier or b"").hex()
    assert [(r.serial, r.when, r.reason) for r in read.revoked] == [
        (0x5F3A09C2D1E4B7A8, when, "keyCompromise"),
        (2**158 + 1, when, None),
        (3, _FAR, "cessationOfOperation"),
    ]
    assert read.der == der


def test_a_crl_with_no_entries_and_no_number() -> None:
    """Nothing revoked and no CRL number: an empty list and no number, not an error."""
    der, _ = _crl([], next_update=_THIS_UPDATE + timedelta(days=30), number=None)
    read = reader_x509.read_crl(der)
    assert (read.revoked, read.number) == ([], None)
    assert read.next_update == _THIS_UPDATE + timedelta(days=30)


@pytest.mark.parametrize("cut", ["truncated", "trailing", "a certificate"])
def test_what_is_not_a_crl_is_refused(cut: str) -> None:
    """Truncated, with bytes after it, or a certificate: ASN1Error, never a half-read CRL."""
    der, _ = _crl([(1, _THIS_UPDATE, None)], next_update=_FAR)
    given = {
        "truncated": der[:-10],
        "trailing": der + b"\0",
        "a certificate": make_ca("Not A CRL").cert.public_bytes(serialization.Encoding.DER),
    }[cut]
    with pytest.raises(ASN1Error):
        reader_x509.read_crl(given)
