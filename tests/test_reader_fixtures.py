"""
The DER reader on the fixture certificates and CSRs, field by field against cryptography.

tests/data/certificates.pem holds every key type openssl makes, odd names, forged
values and a few of the cryptography project's vectors; tests/data/requests/ the CSRs.
No openssl runs: what flow-ssl reports is read from the DER alone.
"""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path
from ssl import _ssl  # type: ignore[attr-defined]

import pytest
from cryptography import x509

from flow_ssl.openssl.read import asn1, oids, pem, reader
from flow_ssl.openssl.read import x509 as der_x509
from flow_ssl.openssl.read.asn1 import ASN1Error
from tests.oracle import differences, request_differences

DATA = Path(__file__).parent / "data"
REQUESTS = sorted((DATA / "requests").glob("*.pem"))
ITEMS = pem.frame((DATA / "certificates.pem").read_bytes(), "certificates.pem").items
with warnings.catch_warnings():  # one fixture has a negative serial, on purpose
    warnings.simplefilter("ignore")
    CERTIFICATES = [x509.load_der_x509_certificate(item.der) for item in ITEMS]
# The OID of a prime field: only explicit curve parameters hold it.
PRIME_FIELD = bytes.fromhex("06072a8648ce3d0101")
# Explicit curve parameters: openssl names no curve (clients refuse such keys, RFC 5480);
# cryptography matches the parameters to P-256.
EXPLICIT_CURVE = ["key curve: None != 'P-256'"]


@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")
def test_fixtures_read_like_cryptography() -> None:
    """Every fixture certificate reads as cryptography reads it, field by field."""
    parsed = reader.read_items(ITEMS, "fixtures")
    assert len(parsed) == len(CERTIFICATES) > 15
    found = {
        index: differences(p, c)
        for index, (p, c) in enumerate(zip(parsed, CERTIFICATES, strict=True))
    }
    expected = {
        index: EXPLICIT_CURVE if PRIME_FIELD in item.der else [] for index, item in enumerate(ITEMS)
    }
    assert found == expected


def test_a_forged_value_stays_one_value() -> None:
    """The hostile fixture's dNSName imitating openssl's lines is one name; nothing is forged."""
    hostile = next(p for p in reader.read_items(ITEMS, "fixtures") if "hostile" in p.names_text())
    assert len(hostile.subject_alt_names.dns) == 2
    assert any("Basic Constraints" in name for name in hostile.subject_alt_names.dns)
    assert hostile.basic_constraints is None


@pytest.mark.parametrize("request_file", REQUESTS, ids=lambda p: p.stem)
def test_requests_read_like_cryptography(request_file: Path) -> None:
    """Each CSR (challenge password, DSA, RSA-PSS, forged values) reads as cryptography's."""
    csr = x509.load_pem_x509_csr(request_file.read_bytes())
    items = pem.frame(request_file.read_bytes(), request_file.name).items
    (parsed,) = reader.read_items(items, "r")
    assert request_differences(parsed, csr) == []
    assert parsed.version == 1
    has_password = any(a.oid.dotted_string == "1.2.840.113549.1.9.7" for a in csr.attributes)
    assert ("challengePassword" in parsed.attributes) == has_password


def test_not_der_is_refused() -> None:
    """Truncated, BER, wrongly shaped or trailing bytes: an ASN1Error naming it, not a crash."""
    good = ITEMS[1].der
    empty = asn1.encode(0x30, b"")
    tbs = asn1.encode(0x30, b"\x02\x01\x01" + empty * 5 + b"\xa3\x00")
    empty_extensions = asn1.encode(0x30, tbs + empty + b"\x03\x01\x00")
    for bad in (
        good[:40],
        b"\x30\x80" + good[2:],
        b"\x31" + good[1:],
        empty,
        empty_extensions,
        good + b"\x00",
    ):
        with pytest.raises(ASN1Error):
            der_x509.read_certificate(bad)


@pytest.mark.parametrize(
    ("tag", "stored", "expected"),
    [
        (0x17, b"260305010203Z", "2026-03-05T01:02:03+00:00"),
        (0x17, b"491231235959Z", "2049-12-31T23:59:59+00:00"),
        (0x17, b"500101000000Z", "1950-01-01T00:00:00+00:00"),
        (0x18, b"20491231235959Z", "2049-12-31T23:59:59+00:00"),  # read; check fails it
        (0x18, b"20240229120000Z", "2024-02-29T12:00:00+00:00"),
        (0x18, b"21000101000000Z", "2100-01-01T00:00:00+00:00"),
    ],
)
def test_times_read_in_their_der_form(tag: int, stored: bytes, expected: str) -> None:
    """UTCTime (YYMMDDHHMMSSZ, 50 to 99 the 1900s) and GeneralizedTime (YYYYMMDDHHMMSSZ)."""
    assert _validity_of(asn1.encode(tag, stored)).isoformat() == expected


@pytest.mark.parametrize(
    ("tag", "stored"),
    [
        (0x17, b"19020701025736Z"),  # cryptography's badasn1time.pem: 15 characters
        (0x17, b"260230010203Z"),  # 30 February
        (0x17, b"261305010203Z"),
        (0x17, b"260305246003Z"),
        (0x17, b"260305010203"),  # no zone
        (0x18, b"20260305010203.Z"),
        (0x17, b"260305010203+1300"),
        (0x04, b"260305010203Z"),  # not a time
    ],
)
def test_bad_times_are_refused(tag: int, stored: bytes) -> None:
    """A time OpenSSL 3 prints as "Bad time value" is refused as malformed."""
    with pytest.raises(ASN1Error, match="time"):
        _validity_of(asn1.encode(tag, stored))


@pytest.mark.parametrize(
    ("tag", "stored"),
    [
        (0x17, b"2603050102Z"),  # no seconds
        (0x17, b"260305010203+0100"),
        (0x17, b"260305010203z"),
        (0x18, b"20491231235959.25Z"),  # a fraction
        (0x18, b"20240229120000-0230"),
        (0x18, b"202402291200Z"),
    ],
)
def test_times_not_in_their_der_form_are_refused(tag: int, stored: bytes) -> None:
    """An offset, no seconds or a fraction: openssl loads it, its verify, Go and Chrome do not."""
    with pytest.raises(ASN1Error, match=r"^not DER: its validity holds a time not written as Y"):
        _validity_of(asn1.encode(tag, stored))


def _validity_of(stored: bytes) -> datetime:
    """notBefore of a fixture certificate whose validity is ``stored`` (a time's DER) twice."""
    certificate = asn1.parse(ITEMS[1].der).children()
    fields = certificate[0].children()
    validity = fields[4]
    assert validity.tag == asn1.SEQUENCE
    tbs = b"".join(
        asn1.encode(0x30, stored + stored) if field is validity else field.encoded
        for field in fields
    )
    rest = b"".join(part.encoded for part in certificate[1:])
    der = asn1.encode(0x30, asn1.encode(0x30, tbs) + rest)
    moment = der_x509.read_certificate(der).not_before
    assert moment is not None
    return moment


def _libcrypto(oid: str) -> tuple[str, str] | None:
    """(short, long) name the libcrypto Python links gives an OID; None where it has none."""
    try:
        _, short, long, _ = _ssl.txt2obj(oid, name=False)
    except ValueError:
        return None
    return str(short), str(long)


NIST_CURVES = {"P-192", "P-224", "P-256", "P-384", "P-521"} | {
    f"{kind}-{size}" for kind in "KB" for size in (163, 233, 283, 409, 571)
}


def test_every_oid_is_named_as_openssl_names_it() -> None:
    """flow-ssl's one table agrees with libcrypto's names wherever libcrypto knows the OID."""
    every = {*oids.SIGNATURES, *oids.NAME_TYPES, *oids.EKU_NAMES, *oids.HASHES}
    every |= {*oids.KEY_ALGORITHMS, *oids.CURVES}
    named = {oid: names for oid in every if (names := _libcrypto(oid))}
    assert len(named) > 150
    wrong = [
        oid
        for oid, (short, long) in named.items()
        if oids.SIGNATURES.get(oid, long) != long
        or oids.NAME_TYPES.get(oid, short) != short
        or oids.EKU_NAMES.get(oid, short) != short
        or oids.HASHES.get(oid, short.lower()) != short.lower()
        or oids.KEY_ALGORITHMS.get(oid, long.lower()) not in {long.lower(), "rsa", "ec", "dsa"}
        or oids.CURVES.get(oid, (short, 0))[0] not in {short} | NIST_CURVES
    ]
    assert wrong == []
