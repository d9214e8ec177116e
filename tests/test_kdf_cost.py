"""The iteration counts a PKCS#12 asks for, read before openssl spends them (pure)."""

from __future__ import annotations

from flow_ssl.openssl.read.kdf import largest_cost


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    length = bytes([size]) if size < 0x80 else b"\x82" + size.to_bytes(2, "big")
    return bytes([tag]) + length + content


def _params(count: int) -> bytes:
    """A salt and an iteration count, as PBKDF2, PKCS#12 PBE and macData hold them."""
    return _der(0x30, _der(0x04, b"salt5678") + _der(0x02, count.to_bytes(4, "big")))


def test_counts_are_found_in_nested_der_and_inside_octet_strings() -> None:
    """A count in a SEQUENCE, or in DER held by an OCTET STRING (a ContentInfo's data)."""
    plain = _der(0x30, _der(0x02, b"\x03") + _params(2048))
    assert largest_cost(plain) == 2048
    wrapped = _der(0x30, _der(0x04, _der(0x30, _params(99_999))) + _params(2048))
    assert largest_cost(wrapped) == 99_999


def test_ber_indefinite_lengths_and_chunked_octet_strings_are_walked() -> None:
    """Java and Bouncy Castle write BER: indefinite lengths, OCTET STRINGs in chunks."""
    inner = _der(0x30, _params(3_000_000))
    chunked = b"\x24\x80" + _der(0x04, inner[:5]) + _der(0x04, inner[5:]) + b"\x00\x00"
    ber = b"\x30\x80" + _der(0x02, b"\x03") + chunked + b"\x00\x00"
    assert largest_cost(ber) == 3_000_000


def test_anything_unwalkable_finds_nothing_and_never_raises() -> None:
    """Garbage, truncation, absurd nesting: 0 (openssl then says what is wrong)."""
    deep = b"\x30\x80" * 200 + b"\x00\x00" * 200
    for data in (b"", b"\x30", b"\x30\x84\xff\xff\xff\xff", b"\xff" * 40, deep):
        assert largest_cost(data) == 0
