"""
The one ASN.1 reader: tag, length and value over bytes, DER and BER. Pure.

Everything flow-ssl reads of a certificate, a CSR, a PKCS#7, a PKCS#12 or a key
goes through here. An element is read lazily: its header when it is reached, its
children when they are asked for. BER (Java, Bouncy Castle and some CAs write it
in PKCS#7 and PKCS#12) is read where a caller allows it: indefinite lengths
closed by an end-of-contents, and strings sent in constructed chunks. Where an
indefinite length must be found, one iterative scan finds it and remembers the
end of every indefinite element inside, so no byte is scanned twice: the cost is
linear in the input, and nesting is bounded (``MAX_DEPTH``), never a recursion.

A certificate, a CSR and a CRL are read as strict DER (``parse_der`` and
``check_der``): the shortest length, the fewest integer bytes, a BOOLEAN 00 or FF,
strings holding only their type's characters. Go (the admin console) and Chrome
refuse anything else, though openssl loads it (and re-encodes it: its fingerprint
would not be the file's).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

# Universal tags (the whole identifier byte: class, constructed bit, number).
BOOLEAN, INTEGER, BIT_STRING, OCTET_STRING, NULL, OID = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
ENUMERATED, UTF8_STRING = 0x0A, 0x0C
UTC_TIME, GENERALIZED_TIME = 0x17, 0x18
SEQUENCE, SET = 0x30, 0x31
# The string types whose characters DER restricts, and what each may hold (as Go
# checks them: a PrintableString may also hold '*' and '&', as CAs wrote wildcards).
_PRINTABLE = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?*&"
)
_STRING_CHARACTERS = {
    0x12: ("a NumericString", frozenset(b"0123456789 ")),
    0x13: ("a PrintableString", _PRINTABLE),
    0x16: ("an IA5String", frozenset(range(0x80))),
    0x1A: ("a VisibleString", frozenset(range(0x20, 0x7F))),
}
_WIDTHS = {0x1E: ("a BMPString", 2), 0x1C: ("a UniversalString", 4)}
# Deeper than any certificate (about 10), PKCS#7 or PKCS#12 (about 20) nests.
MAX_DEPTH = 32
_CONSTRUCTED = 0x20
_CLASS = 0xC0
_LENGTH_BYTES = 4  # lengths up to 4 GiB: more than any file flow-ssl reads
_TAG_BYTES = 4  # a tag number in at most three more bytes


class ASN1Error(ValueError):
    """The bytes are not the ASN.1 structure expected (malformed, truncated, too deep)."""


def context(number: int, *, constructed: bool = True) -> int:
    """The tag ``[number]`` (context-specific), constructed (EXPLICIT or a structure) or not."""
    return 0x80 | (_CONSTRUCTED if constructed else 0) | number


class _Buffer:
    """The bytes being read, whether BER is allowed, and the ends of indefinite elements."""

    __slots__ = ("ber", "data", "ends", "strict")

    def __init__(self, data: bytes, *, ber: bool, strict: bool = False) -> None:
        self.data = data
        self.ber = ber
        self.strict = strict  # DER's shortest lengths too
        self.ends: dict[int, int] = {}  # content start -> its end-of-contents

    def header(self, at: int, limit: int) -> Element:
        """The element whose identifier is at ``at``, inside ``limit``."""
        data = self.data
        if at >= limit:
            raise ASN1Error("truncated: an element is missing")
        first = data[at]
        if first == 0:
            raise ASN1Error("tag 0 (an end-of-contents marker) where an element was expected")
        pos = at + 1
        if first & 0x1F == 0x1F:  # the tag number follows in base 128
            while True:
                if pos >= limit or pos - at >= _TAG_BYTES:
                    raise ASN1Error("truncated or oversized tag")
                pos += 1
                if not data[pos - 1] & 0x80:
                    break
        tag = first if pos == at + 1 else int.from_bytes(data[at:pos], "big")
        if pos >= limit:
            raise ASN1Error("truncated: a length is missing")
        length = data[pos]
        pos += 1
        end: int | None
        if length < 0x80:
            end = pos + length
        elif length == 0x80:
            if not self.ber:
                raise ASN1Error("an indefinite length (BER) where DER is required")
            if not first & _CONSTRUCTED:
                raise ASN1Error("an indefinite length on a primitive element")
            end = None
        else:
            count = length & 0x7F
            if count > _LENGTH_BYTES or pos + count > limit:
                raise ASN1Error("truncated or oversized length")
            size = int.from_bytes(data[pos : pos + count], "big")
            if self.strict and (size < 0x80 or not data[pos]):
                raise ASN1Error(f"not DER: the length at byte {at} is not in its shortest form")
            end = pos + count + size
            pos += count
        if end is not None and end > limit:
            raise ASN1Error("an element longer than what holds it")
        return Element(self, tag, at, pos, end, limit)

    def indefinite_end(self, begin: int, limit: int) -> int:
        """
        Where the end-of-contents of the indefinite element whose content starts at
        ``begin`` lies: one scan, remembering every indefinite element it passes.
        """
        known = self.ends.get(begin)
        if known is not None:
            return known
        data = self.data
        open_at = [begin]
        at = begin
        while open_at:
            if at + 1 < limit and data[at] == 0 and data[at + 1] == 0:
                self.ends[open_at.pop()] = at
                at += 2
                continue
            child = self.header(at, limit)
            if not child.indefinite:
                at = child.end
            elif child.begin in self.ends:
                at = self.ends[child.begin] + 2
            elif len(open_at) >= MAX_DEPTH:
                raise ASN1Error("nested too deeply")
            else:
                open_at.append(child.begin)
                at = child.begin
        return self.ends[begin]


class Element:
    """
    One element: its tag, where it starts (``start``), where its content starts
    (``begin``) and ends (``end``), and where the next element starts (``stop``).
    """

    __slots__ = ("_buffer", "_end", "begin", "indefinite", "limit", "start", "tag")

    def __init__(
        self, buffer: _Buffer, tag: int, start: int, begin: int, end: int | None, limit: int
    ) -> None:
        self._buffer = buffer
        self.tag = tag
        self.start = start
        self.begin = begin
        self.indefinite = end is None  # BER's indefinite length, closed by 00 00
        self._end = end  # None: not yet scanned for
        self.limit = limit

    @property
    def constructed(self) -> bool:
        """Whether it holds elements (a SEQUENCE, SET, EXPLICIT tag or BER chunks)."""
        return bool(self._buffer.data[self.start] & _CONSTRUCTED)

    @property
    def universal(self) -> bool:
        """Whether its tag is of the universal class (a string, a time, a SEQUENCE...)."""
        return not self._buffer.data[self.start] & _CLASS

    @property
    def end(self) -> int:
        """One past the last byte of the content (the end-of-contents, for BER's indefinite)."""
        if self._end is None:
            self._end = self._buffer.indefinite_end(self.begin, self.limit)
        return self._end

    @property
    def stop(self) -> int:
        """One past the element: where the next one starts."""
        return self.end + 2 if self.indefinite else self.end

    @property
    def content(self) -> bytes:
        """The content bytes as stored (for a constructed element, its children's encoding)."""
        return self._buffer.data[self.begin : self.end]

    @property
    def encoded(self) -> bytes:
        """The whole element as stored: tag, length and content."""
        return self._buffer.data[self.start : self.stop]

    def __iter__(self) -> Iterator[Element]:
        """The elements inside, one at a time, in order."""
        if not self.constructed:
            raise ASN1Error(f"tag {self.tag:#04x} holds no elements")
        buffer = self._buffer
        data = buffer.data
        at = self.begin
        if self._end is not None:
            end = self._end
            while at < end:
                child = buffer.header(at, end)
                yield child
                at = child.stop
            return
        while not (at + 1 < self.limit and data[at] == 0 and data[at + 1] == 0):
            child = buffer.header(at, self.limit)
            yield child
            at = child.stop
        self._end = buffer.ends[self.begin] = at

    def children(self) -> list[Element]:
        """Every element inside, in order."""
        return list(self)

    def expect(self, tag: int, what: str) -> Element:
        """
        This element, if its tag is ``tag``.

        Raises:
            ASN1Error: naming ``what`` was expected.
        """
        if self.tag != tag:
            raise ASN1Error(f"{what}: tag {self.tag:#04x}, expected {tag:#04x}")
        return self

    def integer(self) -> int:
        """An INTEGER's value (two's complement)."""
        content = self.content
        if not content:
            raise ASN1Error("an INTEGER with no content")
        return int.from_bytes(content, "big", signed=True)

    def oid(self) -> str:
        """An OBJECT IDENTIFIER in dotted form."""
        return dotted(self.expect(OID, "object identifier").content)

    def bits(self) -> bytes:
        """A BIT STRING's bytes (the count of unused bits dropped)."""
        content = self.expect(BIT_STRING, "bit string").content
        if not content or content[0] > 7:
            raise ASN1Error("a malformed BIT STRING")
        return content[1:]

    def octets(self) -> bytes:
        """
        A string's bytes, BER's constructed chunks joined in order (each chunk may be
        chunked again, to ``MAX_DEPTH``).
        """
        if not self.constructed:
            return self.content
        pieces: list[bytes] = []
        pending: list[Iterator[Element]] = [iter(self)]
        while pending:
            chunk = next(pending[-1], None)
            if chunk is None:
                pending.pop()
            elif chunk.constructed:
                if len(pending) >= MAX_DEPTH:
                    raise ASN1Error("nested too deeply")
                pending.append(iter(chunk))
            else:
                pieces.append(chunk.content)
        return b"".join(pieces)


def parse(data: bytes, *, ber: bool = False) -> Element:
    """
    The one element ``data`` starts with (what follows it is the caller's to judge).

    ``ber``: allow BER's indefinite lengths (PKCS#7, PKCS#12); certificates, CSRs
    and keys are DER.

    Raises:
        ASN1Error: no element can be read there.
    """
    return _Buffer(data, ber=ber).header(0, len(data))


def parse_der(data: bytes, what: str) -> Element:
    """
    The one element ``data`` holds, read as strict DER to its last byte (``check_der``).

    Raises:
        ASN1Error: not one element, or not DER (naming what and where).
    """
    element = _Buffer(data, ber=False, strict=True).header(0, len(data))
    if element.stop != len(data):
        raise ASN1Error(f"{len(data) - element.stop} bytes after the {what}")
    check_der(element)
    return element


def check_der(top: Element) -> None:
    """
    Every element from ``top`` down is DER: primitive strings, and values in their one
    DER form (lengths are checked as ``top``'s buffer reads them: ``parse_der``).

    Raises:
        ASN1Error: "not DER", naming the first element that is not, by its byte offset.
    """
    for element, _ in walk(top):
        problem = _der_problem(element)
        if problem:
            raise ASN1Error(f"not DER: {problem} at byte {element.start}")


def _der_problem(element: Element) -> str | None:
    """What is not DER in one element's own encoding (its children are walked apart)."""
    if not element.universal:
        return None
    number = element.tag & 0x1F
    if element.constructed:
        return None if number in {SEQUENCE & 0x1F, SET & 0x1F} else "a string sent in chunks"
    content = element.content
    tag = element.tag
    if tag == BOOLEAN:
        return None if content in {b"\x00", b"\xff"} else "a BOOLEAN that is not 00 or FF"
    if tag in {INTEGER, ENUMERATED}:
        if not content:
            return "an INTEGER with no content"
        padded = len(content) > 1 and (content[0], content[1] & 0x80) in {(0, 0), (0xFF, 0x80)}
        return "an INTEGER with a needless leading byte" if padded else None
    if tag == NULL:
        return "a NULL with content" if content else None
    if tag == BIT_STRING:
        unused = content[0] if content else 8
        if unused > 7 or (len(content) == 1 and unused) or content[-1] & ((1 << unused) - 1):
            return "a BIT STRING with unused bits set or miscounted"
        return None
    if tag == OID:
        if not content:
            return "an empty OBJECT IDENTIFIER"
        starts = (0, *(at + 1 for at, byte in enumerate(content[:-1]) if not byte & 0x80))
        return (
            "an OBJECT IDENTIFIER padded with 0x80"
            if any(content[at] == 0x80 for at in starts)
            else None
        )
    return _string_problem(tag, content)


def _string_problem(tag: int, content: bytes) -> str | None:
    """A string of a restricted type holding a character its type does not allow."""
    if tag in _STRING_CHARACTERS:
        name, allowed = _STRING_CHARACTERS[tag]
        return (
            None
            if allowed.issuperset(content)
            else f"{name} holding {_first_outside(content, allowed)}"
        )
    if tag in _WIDTHS:
        name, width = _WIDTHS[tag]
        return None if len(content) % width == 0 else f"{name} that is not whole characters"
    if tag == UTF8_STRING:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return "a UTF8String that is not UTF-8"
    return None


def _first_outside(content: bytes, allowed: frozenset[int]) -> str:
    """The first byte not in ``allowed``, as text a message can show."""
    byte = next(b for b in content if b not in allowed)
    return repr(chr(byte)) if 0x20 <= byte < 0x7F else f"byte {byte:#04x}"


def parse_at(data: bytes, at: int) -> Element:
    """
    The DER element starting at ``at`` in ``data`` (several may lie end to end).

    Raises:
        ASN1Error: no element can be read there.
    """
    return _Buffer(data, ber=False).header(at, len(data))


def parse_whole(data: bytes, what: str, *, ber: bool = False) -> Element:
    """
    The one element ``data`` holds, with nothing after it.

    Raises:
        ASN1Error: no element, or bytes after it.
    """
    element = parse(data, ber=ber)
    if element.stop != len(data):
        raise ASN1Error(f"{len(data) - element.stop} bytes after the {what}")
    return element


def walk(top: Element, depth: int = 0) -> Iterator[tuple[Element, int]]:
    """
    Every element from ``top`` down, depth first, with its depth (``top``'s is ``depth``).

    Raises:
        ASN1Error: malformed, or nested deeper than ``MAX_DEPTH``.
    """
    yield top, depth
    if not top.constructed:
        return
    pending: list[Iterator[Element]] = [iter(top)]
    while pending:
        element = next(pending[-1], None)
        if element is None:
            pending.pop()
            continue
        yield element, depth + len(pending)
        if element.constructed:
            if depth + len(pending) >= MAX_DEPTH:
                raise ASN1Error("nested too deeply")
            pending.append(iter(element))


@lru_cache(maxsize=1024)
def dotted(body: bytes) -> str:
    """An OID's content bytes -> dotted text (the same few OIDs recur in every certificate)."""
    if not body or body[-1] & 0x80:
        raise ASN1Error("malformed object identifier")
    arcs: list[int] = []
    value = 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(arc) for arc in (first, arcs[0] - 40 * first, *arcs[1:]))


def encode(tag: int, content: bytes) -> bytes:
    """One DER element: ``tag`` (one byte), the definite length of ``content``, then it."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def encode_integer(value: int) -> bytes:
    """A DER INTEGER: the fewest two's complement bytes that hold ``value``."""
    size = (value if value >= 0 else ~value).bit_length() // 8 + 1
    return encode(INTEGER, value.to_bytes(size, "big", signed=True))


def encode_oid(oid: str) -> bytes:
    """A DER OBJECT IDENTIFIER from its dotted form."""
    arcs = [int(arc) for arc in oid.split(".")]
    body = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        groups = [arc & 0x7F]  # base 128, the last group first; all but the last flagged
        rest = arc >> 7
        while rest:
            groups.append(0x80 | (rest & 0x7F))
            rest >>= 7
        body += bytes(reversed(groups))
    return encode(OID, bytes(body))
