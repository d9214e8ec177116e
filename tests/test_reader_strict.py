"""
Certificates, CSRs and CRLs are read as strict DER, with RFC 5280's version rules, and
as Go (the admin console) reads them.

openssl loads a certificate with a needless long length, a BOOLEAN 01, a PrintableString
holding '@' or extensions in a v1 certificate; Go (the admin console) and Chrome refuse
it. Go also refuses well-formed DER: a compressed EC point, a name string of a type it
does not read, an iPAddress of the wrong length. Each variant below is a good leaf with
one field changed and a valid signature (signed by hand with the CA's key), so only that
field can be the reason it is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from flow_ssl.core.errors import InvalidInputError
from flow_ssl.openssl.read import asn1, containers, reader
from flow_ssl.openssl.read import x509 as der_x509
from flow_ssl.openssl.read.asn1 import ASN1Error
from tests.helpers import requires_openssl
from tests.pki import make_ca, make_leaf

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.helpers import Run

HOST = "flow.mycompany.com"
ECDSA_SHA256 = "1.2.840.10045.4.3.2"
COMMON_NAME = "2.5.4.3"
ORGANIZATION = "2.5.4.10"
SUBJECT_ALT_NAME = "2.5.29.17"
NAME_CONSTRAINTS = "2.5.29.30"
# Name string types Go does not read (openssl does), by the variant that holds one.
GO_UNREAD_STRINGS = {
    "o-universal": (0x1C, "a UniversalString", "Acme".encode("utf-32-be")),
    "o-visible": (0x1A, "a VisibleString", b"Acme"),
    "o-graphic": (0x19, "a GraphicString", b"Acme"),
    "o-general": (0x1B, "a GeneralString", b"Acme"),
    "o-videotex": (0x15, "a VideotexString", b"Acme"),
    "o-bit-string": (0x03, "a BIT STRING", b"\x00\x01"),
}


def _long_form(tag: int, content: bytes) -> bytes:
    """An element whose length is written in three bytes, the first zero (not DER)."""
    return bytes((tag, 0x83)) + len(content).to_bytes(3, "big") + content


def _subject(tag: int, value: bytes) -> bytes:
    """A Name of one common name, its value of string type ``tag``."""
    pair = asn1.encode(0x30, asn1.encode_oid(COMMON_NAME) + asn1.encode(tag, value))
    return asn1.encode(0x30, asn1.encode(0x31, pair))


def _with_organization(subject: bytes, tag: int, value: bytes) -> bytes:
    """``subject`` with an O of string type ``tag`` before its RDNs."""
    pair = asn1.encode(0x30, asn1.encode_oid(ORGANIZATION) + asn1.encode(tag, value))
    return asn1.encode(0x30, asn1.encode(0x31, pair) + asn1.parse(subject).content)


def _with_extension(extensions: bytes, oid: str, value: bytes) -> bytes:
    """The ``[3]`` extensions with the one of ``oid`` (non-critical) set to ``value``."""
    kept = [e.encoded for e in asn1.parse(extensions).children()[0] if e.children()[0].oid() != oid]
    added = asn1.encode(0x30, asn1.encode_oid(oid) + asn1.encode(0x04, value))
    return asn1.encode(0xA3, asn1.encode(0x30, b"".join([*kept, added])))


def _compressed(key: bytes) -> bytes:
    """An EC SubjectPublicKeyInfo with its point compressed (02/03, X): the same key."""
    algorithm, point = asn1.parse(key).children()
    x, y = point.bits()[1:33], point.bits()[33:]
    form = bytes((2 + (y[-1] & 1),))
    return asn1.encode(0x30, algorithm.encoded + asn1.encode(0x03, b"\x00" + form + x))


def _variants(fields: list[bytes]) -> dict[str, tuple[list[bytes], bool]]:
    """Each variant's tbsCertificate fields, and whether its TBS length is the long form."""
    version, serial, algorithm, issuer, validity, subject, key, extensions = fields
    rest = [algorithm, issuer, validity]
    printable = _subject(0x13, b"a_example@com*")
    dns = asn1.encode(0x82, HOST.encode())
    san_ip = asn1.encode(0x30, dns + asn1.encode(0x87, bytes((10, 0, 0, 1, 5))))
    nc_ip = asn1.encode(0x30, asn1.encode(0xA0, asn1.encode(0x30, asn1.encode(0x87, bytes(5)))))
    go_unread = {
        name: ([*fields[:5], _with_organization(subject, tag, value), *fields[6:]], False)
        for name, (tag, _, value) in GO_UNREAD_STRINGS.items()
    }
    return {
        **go_unread,
        "san-ip-5": ([*fields[:7], _with_extension(extensions, SUBJECT_ALT_NAME, san_ip)], False),
        "nc-ip-5": ([*fields[:7], _with_extension(extensions, NAME_CONSTRAINTS, nc_ip)], False),
        "spki-compressed": ([*fields[:6], _compressed(key), extensions], False),
        "good": (fields, False),
        "tbs-length": (fields, True),
        "critical-01": (
            [*fields[:7], extensions.replace(b"\x01\x01\xff", b"\x01\x01\x01", 1)],
            False,
        ),
        "printable-string": ([version, serial, *rest, printable, key, extensions], False),
        "v1-extensions": (fields[1:], False),
        "v2-extensions": ([bytes.fromhex("a003020101"), *fields[1:]], False),
        "v4": ([bytes.fromhex("a003020103"), *fields[1:]], False),
        "v1-written-out": ([bytes.fromhex("a003020100"), *fields[1:7]], False),
        "serial-padded": ([version, bytes.fromhex("0203001234"), *fields[2:]], False),
        "time-no-seconds": (
            [version, serial, algorithm, issuer, _no_seconds(validity), *fields[5:]],
            False,
        ),
        "generalized-time": (
            [version, serial, algorithm, issuer, _generalized(validity), *fields[5:]],
            False,
        ),
    }


def _no_seconds(validity: bytes) -> bytes:
    """notBefore as UTCTime without its seconds (openssl loads it; its verify does not)."""
    not_before, not_after = asn1.parse(validity).children()
    return asn1.encode(0x30, asn1.encode(0x17, not_before.content[:10] + b"Z") + not_after.encoded)


def _generalized(validity: bytes) -> bytes:
    """notBefore as GeneralizedTime (the same moment), notAfter GeneralizedTime in 2051."""
    not_before = asn1.parse(validity).children()[0].content.decode()
    assert not_before.endswith("Z")
    century = b"20" if int(not_before[:2]) < 50 else b"19"
    return asn1.encode(
        0x30,
        asn1.encode(0x18, century + not_before.encode()) + asn1.encode(0x18, b"20510101000000Z"),
    )


REFUSALS = {
    "tbs-length": "the length at byte 4 is not in its shortest form",
    "outer-length": "the length at byte 0 is not in its shortest form",
    "critical-01": "a BOOLEAN that is not 00 or FF",
    "printable-string": "a PrintableString holding '_'",
    "v1-extensions": "a v1 certificate holding extensions (only v3 may)",
    "v2-extensions": "a v2 certificate holding extensions (only v3 may)",
    "v4": "version 4 (X.509 has v1 to v3)",
    "v1-written-out": "version v1 written out",
    "serial-padded": "an INTEGER with a needless leading byte",
    "time-no-seconds": "its validity holds a time not written as YYMMDDHHMMSSZ",
    **{name: f"a name holds {what} at byte " for name, (_, what, _) in GO_UNREAD_STRINGS.items()},
    "san-ip-5": "subjectAltName holds an iPAddress of 5 octets, not 4 or 16",
    "nc-ip-5": "nameConstraints holds an iPAddress of 5 octets, not 8 or 32",
    "spki-compressed": "is compressed: Go (the admin console) reads only an uncompressed point",
}


@pytest.fixture(scope="module", name="forged")
def forged_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, and the good leaf and each variant signed with the CA's key, as PEM files."""
    folder = tmp_path_factory.mktemp("forged")
    ca = make_ca("Strict Root")
    leaf = make_leaf(ca, [HOST])
    assert isinstance(ca.key, ec.EllipticCurvePrivateKey)
    (folder / "ca.pem").write_bytes(ca.pem())
    (folder / "leaf.key").write_bytes(leaf.key_pem())
    tbs = asn1.parse(leaf.cert.tbs_certificate_bytes)
    fields = [field.encoded for field in tbs]
    signature_algorithm = asn1.encode(0x30, asn1.encode_oid(ECDSA_SHA256))
    for name, (parts, long_tbs) in _variants(fields).items():
        content = b"".join(parts)
        signed = _long_form(0x30, content) if long_tbs else asn1.encode(0x30, content)
        signature = ca.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        body = signed + signature_algorithm + asn1.encode(0x03, b"\x00" + signature)
        der = asn1.encode(0x30, body)
        (folder / f"{name}.der").write_bytes(der)
        if name == "good":
            (folder / "outer-length.der").write_bytes(_long_form(0x30, body))
    return folder


def _check(cli: Callable[..., Run], folder: Path, cert: Path) -> Run:
    """flow-ssl check of ``cert`` with the leaf's key, against the CA, for HOST."""
    key, ca = str(folder / "leaf.key"), str(folder / "ca.pem")
    return cli("check", "--cert", str(cert), "--key", key, "--ca-file", ca, "--host", HOST)


@requires_openssl
def test_the_good_leaf_the_variants_come_from_is_ready(
    cli: Callable[..., Run], forged: Path
) -> None:
    """The leaf each variant changes one field of, signed the same way, is ready."""
    cert = x509.load_der_x509_certificate((forged / "good.der").read_bytes())
    assert cert.public_bytes(serialization.Encoding.DER) == (forged / "good.der").read_bytes()
    result = _check(cli, forged, forged / "good.der")
    assert result.code == 0, result.out + result.err


@requires_openssl
@pytest.mark.parametrize("variant", REFUSALS)
def test_a_certificate_that_is_not_der_is_refused(
    cli: Callable[..., Run], forged: Path, variant: str
) -> None:
    """check and inspect refuse it (exit 2), naming what is not DER, against RFC 5280 or Go."""
    path = str(forged / f"{variant}.der")
    result = _check(cli, forged, forged / f"{variant}.der")
    assert result.code == 2, result.out + result.err
    assert f"{path}: item 1 (certificate) is not a valid certificate (" in result.err
    assert REFUSALS[variant] in result.err
    shown = cli("inspect", path)
    assert shown.code == 2
    assert REFUSALS[variant] in shown.err


@pytest.mark.parametrize(
    ("element", "problem"),
    [
        (b"\x01\x01\x01", "a BOOLEAN that is not 00 or FF"),
        (b"\x01\x02\x00\x00", "a BOOLEAN that is not 00 or FF"),
        (b"\x02\x02\xff\x80", "an INTEGER with a needless leading byte"),
        (b"\x02\x00", "an INTEGER with no content"),
        (b"\x05\x01\x00", "a NULL with content"),
        (b"\x03\x02\x01\x01", "a BIT STRING with unused bits set"),
        (b"\x06\x02\x80\x01", "an OBJECT IDENTIFIER padded with 0x80"),
        (b"\x16\x01\xe9", "an IA5String holding byte 0xe9"),
        (b"\x12\x01a", "a NumericString holding 'a'"),
        (b"\x1e\x03\x00a\x00", "a BMPString that is not whole characters"),
        (b"\x0c\x01\xff", "a UTF8String that is not UTF-8"),
        (b"\x24\x03\x04\x01a", "a string sent in chunks"),
        (b"\x04\x81\x01a", "the length at byte 4 is not in its shortest form"),
    ],
)
def test_each_rule_of_der_is_held(element: bytes, problem: str) -> None:
    """Each encoding DER forbids, inside a SEQUENCE, is refused naming it and its offset."""
    data = b"\x30" + bytes((len(element) + 2,)) + b"\x05\x00" + element
    with pytest.raises(ASN1Error, match=f"^not DER: {problem}"):
        asn1.parse_der(data, "test")
    assert asn1.parse_whole(data, "test").children()[0].tag == asn1.NULL  # BER-tolerant: read


def test_the_one_der_form_of_each_value_is_read() -> None:
    """The DER forms next to those: 00/FF, minimal integers, '*' in a PrintableString."""
    values = [
        *(b"\x01\x01\x00", b"\x01\x01\xff", b"\x02\x02\x00\x80", b"\x02\x01\xff"),
        *(b"\x03\x02\x01\x02", b"\x13\x03*.a", b"\x04\x81\x80" + b"a" * 128),
    ]
    data = asn1.encode(0x30, b"".join(values))
    assert [e.encoded for e in asn1.parse_der(data, "test")] == values


def test_a_request_and_a_crl_are_read_as_der() -> None:
    """A CSR or a CRL with a long-form length is refused as not DER, as a certificate is."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, HOST)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    der = csr.public_bytes(serialization.Encoding.DER)
    der_x509.read_request(der)
    top = asn1.parse(der)
    with pytest.raises(ASN1Error, match="not DER: the length at byte 0"):
        der_x509.read_request(_long_form(0x30, top.content))
    ca = make_ca("CRL Root")
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(ca.cert.not_valid_before_utc)
        .next_update(ca.cert.not_valid_after_utc)
        .sign(ca.key, hashes.SHA256())
    )
    der = crl.public_bytes(serialization.Encoding.DER)
    assert der_x509.read_crl(der).issuer
    with pytest.raises(ASN1Error, match="not DER: the length at byte 0"):
        der_x509.read_crl(_long_form(0x30, asn1.parse(der).content))


@requires_openssl
def test_generalized_time_before_2050_fails_on_every_build(
    cli: Callable[..., Run], forged: Path
) -> None:
    """notBefore as GeneralizedTime in 2026: read, and chain-verifies fails with one text."""
    path = forged / "generalized-time.der"
    shown = cli("inspect", str(path), "--json")
    assert shown.code == 0, shown.err
    assert json.loads(shown.out)[0]["not_after"].startswith("2051-01-01")
    result = _check(cli, forged, path)
    assert result.code == 1, result.out + result.err
    verdict = next(line for line in result.out.splitlines() if "chain-verifies" in line)
    assert verdict.split()[:2] == ["FAIL", "chain-verifies"]
    assert "the certificate holds a notBefore written as GeneralizedTime before 2050" in verdict
    assert "notAfter" not in verdict  # 2051: GeneralizedTime is right


@pytest.mark.parametrize("variant", ["tbs-length", "critical-01"])
def test_a_pkcs7_envelope_does_not_let_a_certificate_be_ber(forged: Path, variant: str) -> None:
    """BER is the envelope's only: a non-DER certificate inside a .p7b is refused as not DER."""
    good = (forged / "good.der").read_bytes()
    bad = (forged / f"{variant}.der").read_bytes()
    (forged / "good.p7b").write_bytes(containers.pkcs7_of([good]))
    (forged / "bad.p7b").write_bytes(containers.pkcs7_of([good, bad]))
    assert [c.der for c in reader.read_file(forged / "good.p7b")] == [good]
    with pytest.raises(
        InvalidInputError, match=r"item 2 \(certificate\) is not a valid certificate \(not DER"
    ):
        reader.read_file(forged / "bad.p7b")
