"""
The one ASN.1 reader: DER and BER as openssl writes them, malformed input refused, linear cost.

Encodings come from cryptography (DER), from openssl (BER via ``-stream``) and by
hand where a shape no tool writes on demand is needed (deep nesting, chunks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from flow_ssl.openssl.read import asn1, containers
from flow_ssl.openssl.read.asn1 import ASN1Error
from tests.helpers import growth, openssl, requires_openssl
from tests.pki import make_ca, make_leaf, write

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def _der(tag: int, content: bytes) -> bytes:
    return asn1.encode(tag, content)


def _indefinite(tag: int, *children: bytes) -> bytes:
    return bytes([tag, 0x80]) + b"".join(children) + b"\0\0"


def test_der_reads_tag_length_and_value() -> None:
    """Short and long lengths, nested elements, integers, OIDs, bits and the bytes after."""
    long_octets = _der(0x04, b"x" * 300)
    data = _der(0x30, _der(0x02, b"\xff\x7f") + _der(0x06, bytes.fromhex("551d11")) + long_octets)
    top = asn1.parse_whole(data, "test")
    number, oid, octets = top.children()
    assert (number.integer(), oid.oid(), octets.content) == (-129, "2.5.29.17", b"x" * 300)
    assert octets.encoded == long_octets
    assert top.stop == len(data)
    assert asn1.parse(_der(0x03, b"\x00\xa5")).bits() == b"\xa5"
    with pytest.raises(ASN1Error, match="2 bytes after"):
        asn1.parse_whole(data + b"\0\0", "test")


def test_ber_indefinite_lengths_and_chunked_strings() -> None:
    """Nested indefinite lengths end where their end-of-contents is; chunks join in order."""
    chunked = _indefinite(0x24, _der(0x04, b"ab"), _indefinite(0x24, _der(0x04, b"cd")))
    data = _indefinite(0x30, _indefinite(0x30, _der(0x02, b"\x05")), chunked, _der(0x05, b""))
    top = asn1.parse(data, ber=True)
    inner, strings, null = top.children()
    assert inner.children()[0].integer() == 5
    assert strings.octets() == b"abcd"
    assert null.tag == asn1.NULL
    assert top.stop == len(data)
    with pytest.raises(ASN1Error, match="indefinite length"):
        asn1.parse(data).children()  # DER: refused


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\x30", "length is missing"),
        (b"\x30\x05\x02\x01", "longer than what holds it"),
        (b"\x30\x85\x01\x00\x00\x00\x00", "oversized length"),
        (b"\x30\x80\x02\x01\x01", "missing"),
        (b"\x02\x80\x00\x00", "primitive"),
        (b"\x00\x00", "end-of-contents"),
        (b"\x1f\xff\xff\xff\xff\x01\x00", "oversized tag"),
        (b"\x30\x03\x02\x01", "longer than"),
    ],
    ids=[
        "no-length",
        "too-long",
        "5-byte-length",
        "no-end-of-contents",
        "indefinite-primitive",
        "bare-end-of-contents",
        "long-tag",
        "short-child",
    ],
)
def test_malformed_input_is_an_asn1_error(data: bytes, words: str) -> None:
    """Every malformation is an ASN1Error (a ValueError) naming it, never a crash."""
    with pytest.raises(ASN1Error, match=words):
        for _ in asn1.walk(asn1.parse(data, ber=True)):
            pass
    assert issubclass(ASN1Error, ValueError)


def test_nesting_is_bounded_without_recursion() -> None:
    """Nesting past MAX_DEPTH is refused, walked or scanned for its end; within it, read."""
    deep = b"\x30\x80" * (asn1.MAX_DEPTH + 5) + b"\0\0" * (asn1.MAX_DEPTH + 5)
    with pytest.raises(ASN1Error, match="nested too deeply"):
        _ = asn1.parse(deep, ber=True).stop
    with pytest.raises(ASN1Error, match="nested too deeply"):
        for _ in asn1.walk(asn1.parse(deep, ber=True)):
            pass
    shallow = b"\x30\x80" * (asn1.MAX_DEPTH - 1) + b"\0\0" * (asn1.MAX_DEPTH - 1)
    assert asn1.parse(shallow, ber=True).stop == len(shallow)
    assert max(depth for _, depth in asn1.walk(asn1.parse(shallow, ber=True))) == 30


def test_oids_encode_and_read_back() -> None:
    """Dotted OIDs, large arcs included, encode as DER and read back the same."""
    for dotted in ("2.5.29.17", "1.2.840.113549.1.7.2", "2.999.1", "1.3.6.1.4.1.11591.4.11"):
        assert asn1.parse(asn1.encode_oid(dotted)).oid() == dotted
    assert asn1.encode_oid("1.2.840.113549") == bytes.fromhex("06062a864886f70d")


@requires_openssl
@pytest.mark.filterwarnings("ignore:PKCS#7 certificates could not be parsed as DER:UserWarning")
def test_a_ber_pkcs7_openssl_streams_reads_like_cryptography(tmp_path: Path) -> None:
    """openssl's streamed (BER) PKCS#7 gives the certificates cryptography finds in it."""
    root = make_ca("Asn1 Root")
    leaf = make_leaf(root, ["asn1.example.com"])
    write(tmp_path, "leaf.pem", leaf.pem())
    write(tmp_path, "root.pem", root.pem())
    write(tmp_path, "leaf.key", leaf.key_pem())
    sign = ["cms", "-sign", "-stream", "-nodetach", "-in", "root.pem", "-outform", "DER"]
    signer = ["-signer", "leaf.pem", "-inkey", "leaf.key", "-certfile", "root.pem"]
    signed = openssl(*sign, *signer, cwd=tmp_path)
    assert signed[:2] == b"\x30\x80"  # indefinite: BER
    theirs = pkcs7.load_der_pkcs7_certificates(signed)
    ours = containers.pkcs7_certificates(signed)
    assert sorted(ours) == sorted(c.public_bytes(serialization.Encoding.DER) for c in theirs)


def _wide_ber(count: int) -> bytes:
    """``count`` indefinite elements, each holding a nested one, all inside an indefinite one."""
    item = _indefinite(0x30, _indefinite(0x31, _der(0x02, b"\x01"), _der(0x04, b"ab")))
    return _indefinite(0x30, item * count)


@pytest.mark.slow
def test_reading_ber_is_linear() -> None:
    """Four times the elements (indefinite ones in indefinite ones) cost about four times."""

    def walk(data: bytes) -> Callable[[], object]:
        return lambda: sum(1 for _ in asn1.walk(asn1.parse(data, ber=True)))

    small, large = _wide_ber(10_000), _wide_ber(40_000)
    ratio = growth(walk(small), walk(large))
    assert ratio < 8, f"four times the input cost {ratio:.1f} times as much (quadratic: 16)"
