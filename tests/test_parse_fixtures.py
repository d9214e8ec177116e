"""
The parser on every openssl version's captured text, without the binaries.

tests/data/<version>/ holds what each build printed for the fixture inputs
(scripts/capture_fixtures.py); cryptography reads the same inputs as the oracle.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from cryptography import x509

from flow_ssl.openssl.read import der, parse, pem, reader
from tests.oracle import differences, extension_fields, name_pairs, request_differences

# One fixture has a negative serial, on purpose: cryptography warns but reads it (so do we).
pytestmark = pytest.mark.filterwarnings(
    "ignore:Parsed a serial number:cryptography.utils.CryptographyDeprecationWarning"
)
DATA = Path(__file__).parent / "data"
VERSIONS = sorted(p for p in DATA.iterdir() if p.is_dir() and p.name != "requests")
REQUESTS = sorted((DATA / "requests").glob("*.pem"))
ITEMS, _ = pem.split((DATA / "certificates.pem").read_bytes(), "certificates.pem")
with warnings.catch_warnings():  # one fixture has a negative serial, on purpose
    warnings.simplefilter("ignore")
    CERTIFICATES = [x509.load_der_x509_certificate(item.der) for item in ITEMS]
HOSTILE = next(
    i for i, c in enumerate(CERTIFICATES) if "hostile" in str(c.subject.rfc4514_string())
)
# The OID of a prime field: only explicit curve parameters hold it.
PRIME_FIELD = bytes.fromhex("06072a8648ce3d0101")
# Explicit curve parameters: openssl names no curve (clients refuse such keys, RFC 5480);
# cryptography matches the parameters to P-256.
EXPLICIT_CURVE = ["key curve: None != 'P-256'"]


def _expected(index: int) -> list[str]:
    """Where flow-ssl must read one fixture differently from cryptography (see above)."""
    return EXPLICIT_CURVE if PRIME_FIELD in ITEMS[index].der else []


def _text(version: Path, name: str) -> str:
    return (version / name).read_text(encoding="utf-8", errors="replace")


@pytest.mark.parametrize("version", VERSIONS, ids=lambda p: p.name)
def test_every_version_reads_like_cryptography(version: Path) -> None:
    """Each version's pkcs7 -print_certs text, cut by PEM and read with the DER, is exact."""
    parsed = reader.parse_printed(ITEMS, _text(version, "certificates.txt"), [], "fixtures")
    assert len(parsed) == len(CERTIFICATES) > 15
    found = {
        index: differences(p, c)
        for index, (p, c) in enumerate(zip(parsed, CERTIFICATES, strict=True))
    }
    expected = {index: _expected(index) for index in found}
    assert found == expected


@pytest.mark.parametrize("version", VERSIONS, ids=lambda p: p.name)
def test_text_head_reads_like_cryptography(version: Path) -> None:
    """The text alone gives version, serial, algorithms, validity and key on every version."""
    segments = reader.split_printed(
        _text(version, "certificates.txt"), [i.der for i in ITEMS], "fixtures"
    )
    for index, (segment, cert) in enumerate(zip(segments, CERTIFICATES, strict=True)):
        parsed = parse.parse_text(segment, kind="certificate", names=([], []))
        parsed.sha256_fingerprint = reader.fingerprint(ITEMS[index].der)
        found = [
            d
            for d in differences(parsed, cert, extensions=False)
            if not d.startswith(("subject", "issuer"))
        ]
        assert found == _expected(index), f"certificate {index}"


@pytest.mark.parametrize("version", VERSIONS, ids=lambda p: p.name)
def test_text_extensions_agree_except_where_ambiguous(version: Path) -> None:
    """Extensions read from text match the DER's, bigoid's included; the hostile one does not."""
    # The forged SAN reads as three names and a basicConstraints that is not there:
    # why names and extensions are read from the DER.
    segments = reader.split_printed(
        _text(version, "certificates.txt"), [i.der for i in ITEMS], "fixtures"
    )
    for index, (segment, cert) in enumerate(zip(segments, CERTIFICATES, strict=True)):
        parsed = parse.parse_text(segment, kind="certificate", names=([], []))
        theirs = extension_fields(cert.extensions)
        bc = parsed.basic_constraints
        ours = {
            "dns": parsed.subject_alt_names.dns,
            "ip": parsed.subject_alt_names.ip,
            "email": parsed.subject_alt_names.email,
            "uri": parsed.subject_alt_names.uri,
            "basic_constraints": (bc.ca, bc.path_length, bc.critical) if bc else None,
            "key_usage": parsed.key_usage,
            "extended_key_usage": parsed.extended_key_usage,
            "subject_key_id": parsed.subject_key_id,
            "authority_key_id": parsed.authority_key_id,
        }
        if index == HOSTILE:
            assert ours["dns"] == ["good.example.com", "evil.example.com", "good.example.com"]
            assert ours["basic_constraints"] == (True, None, True)
            assert theirs["basic_constraints"] is None
            assert len(theirs["dns"]) == 2  # type: ignore[arg-type]
        else:
            assert ours == theirs, f"certificate {index}"


@pytest.mark.parametrize("version", VERSIONS, ids=lambda p: p.name)
def test_rfc2253_names_read_exactly(version: Path) -> None:
    """Names printed with -nameopt RFC2253,-esc_msb decode to the stored values, blanks kept."""
    parsed = parse.parse_text(_text(version, "rfc2253.txt"), kind="certificate")
    subject = [(a.type, a.value) for a in parsed.subject]
    assert subject == name_pairs(CERTIFICATES[0].subject)
    assert ("O", " Acme, Inc. ") in subject


@pytest.mark.parametrize("request_file", REQUESTS, ids=lambda p: p.stem)
@pytest.mark.parametrize("version", VERSIONS, ids=lambda p: p.name)
def test_requests_read_like_cryptography(version: Path, request_file: Path) -> None:
    """Each version's req -text of each CSR, read with the DER, is exact."""
    csr = x509.load_pem_x509_csr(request_file.read_bytes())
    items, _ = pem.split(request_file.read_bytes(), request_file.name)
    (parsed,) = reader.parse_printed(items, "", [_text(version, f"{request_file.stem}.txt")], "r")
    assert request_differences(parsed, csr) == []
    assert parsed.version == 1  # LibreSSL 3.3 prints "0 (0x0)", the others "1 (0x0)"
    has_password = any(a.oid.dotted_string == "1.2.840.113549.1.9.7" for a in csr.attributes)
    assert ("challengePassword" in parsed.attributes) == has_password


def test_the_key_lines_of_every_version() -> None:
    """4.0's EC size line, 1.1.1's and LibreSSL's DSA without one, and RSA-PSS, all give bits."""
    sizes = {
        "id-ecPublicKey": "                Public-Key: (256 bit field, 128 bit security level)",
        "rsassaPss": "                RSA-PSS Public-Key: (2048 bit)",
    }
    for name, line in sizes.items():
        algorithm = "ec" if name == "id-ecPublicKey" else "rsa"
        head = ["Certificate Request:", "    Data:", "        Subject: ",
                "        Subject Public Key Info:", f"            Public Key Algorithm: {name}",
                line]  # fmt: skip
        parsed = parse.parse_text("\n".join(head), kind="csr")
        assert parsed.public_key.algorithm == algorithm
        assert parsed.public_key.bits == (256 if algorithm == "ec" else 2048)
    dsa = ["Certificate Request:", "    Data:", "        Subject: ",
           "        Subject Public Key Info:", "            Public Key Algorithm: dsaEncryption",
           "                pub: ", "                    01:02", "                P:",
           "                    00:80:00:", "                    01", "                Q:",
           "                    05"]  # fmt: skip
    assert parse.parse_text("\n".join(dsa), kind="csr").public_key.bits == 24  # 0x800001


def test_der_reader_refuses_what_is_not_der() -> None:
    """Truncated, indefinite-length or wrongly shaped DER is a DERError, not a crash."""
    good = ITEMS[1].der
    seq = b"\x30\x00"
    tbs = der.encode(0x30, b"\x02\x01\x01" + seq * 5 + b"\xa3\x00")
    empty_extensions = der.encode(0x30, tbs + seq + b"\x03\x01\x00")
    for bad in (good[:40], b"\x30\x80" + good[2:], b"\x31" + good[1:], b"\x30\x00",
                empty_extensions):  # fmt: skip
        with pytest.raises(der.DERError):
            der.certificate(bad)
