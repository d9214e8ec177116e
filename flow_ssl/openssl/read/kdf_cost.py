"""
How much work a PKCS#12 asks of openssl before it can say anything. Pure.

A .pfx names the iteration counts of its MAC and of its encryption in the clear
(``macData``, PBKDF2 and PKCS#12 PBE parameters: a salt OCTET STRING, then an
INTEGER). A hostile file asking 2^31 keeps openssl busy for hours, on each attempt
(the empty passphrase, the one given, ``-legacy``): flow-ssl reads the counts first.
BER's indefinite lengths and chunked OCTET STRINGs (Java, Bouncy Castle) are walked too.
"""

from __future__ import annotations

import contextlib
import itertools

# Far above what exporters write (OpenSSL 2048, Windows 2000, Java 10000 to 100000,
# OWASP's PBKDF2 advice 600000), and a few seconds of openssl's time per attempt.
MAX_ITERATIONS = 2_000_000

_OCTET_STRING, _INTEGER, _CHUNKED_OCTETS = 0x04, 0x02, 0x24
_MAX_DEPTH = 24


class _MalformedError(ValueError):
    """Not DER or BER this walk can follow (openssl then says what is wrong)."""


def largest_iteration_count(data: bytes) -> int:
    """The largest iteration count anywhere in the file (0: none found, or not walkable)."""
    found = [0]
    with contextlib.suppress(_MalformedError, IndexError):  # openssl says what is wrong
        _walk(data, 0, len(data), 0, found)
    return found[0]


def _walk(data: bytes, at: int, end: int, depth: int, found: list[int]) -> tuple[int, bytes]:
    """
    One element at ``at``: note the iteration counts in it; return where it ends and its
    content (a chunked OCTET STRING's chunks joined).
    """
    if depth > _MAX_DEPTH:
        raise _MalformedError("nested too deep")
    tag, pos = data[at], at + 1
    if tag & 0x1F == 0x1F:
        raise _MalformedError("a multi-byte tag")
    first = data[pos]
    pos += 1
    constructed = bool(tag & 0x20)
    if first == 0x80:  # BER: indefinite length, up to an end-of-contents 00 00
        if not constructed:
            raise _MalformedError("an indefinite primitive")
        children, pos = _children(data, pos, end, depth, found, indefinite=True)
        return pos + 2, _after(tag, children, depth, found)
    if first & 0x80:
        count = first & 0x7F
        if not 0 < count <= 4:
            raise _MalformedError("a length of more than four bytes")
        length, pos = int.from_bytes(data[pos : pos + count], "big"), pos + count
    else:
        length = first
    stop = pos + length
    if stop > end:
        raise _MalformedError("longer than what holds it")
    if not constructed:
        content = data[pos:stop]
        if tag == _OCTET_STRING:
            _inside(content, depth, found)
        return stop, content
    children, _ = _children(data, pos, stop, depth, found, indefinite=False)
    return stop, _after(tag, children, depth, found)


def _children(
    data: bytes, at: int, end: int, depth: int, found: list[int], *, indefinite: bool
) -> tuple[list[tuple[int, bytes]], int]:
    """The (tag, content) of each element inside, and where they stop."""
    children = []
    while (data[at : at + 2] != b"\0\0") if indefinite else (at < end):
        tag = data[at]
        at, content = _walk(data, at, end, depth + 1, found)
        children.append((tag, content))
    return children, at


def _after(tag: int, children: list[tuple[int, bytes]], depth: int, found: list[int]) -> bytes:
    """A salt followed by an iteration count, noted; a chunked OCTET STRING joined and read."""
    for (kind, _), (next_kind, value) in itertools.pairwise(children):
        if kind == _OCTET_STRING and next_kind == _INTEGER:
            count = int.from_bytes(value, "big") if len(value) <= 8 else 1 << 64
            found[0] = max(found[0], count)
    if tag != _CHUNKED_OCTETS:
        return b""
    joined = b"".join(content for _, content in children)
    _inside(joined, depth, found)
    return joined


def _inside(content: bytes, depth: int, found: list[int]) -> None:
    """An OCTET STRING may hold more of the structure (a ContentInfo's data): read it."""
    if len(content) >= 2 and content[0] == 0x30:
        with contextlib.suppress(_MalformedError, IndexError):  # ciphertext, or a key
            _walk(content, 0, len(content), depth + 1, found)
