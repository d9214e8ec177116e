"""
How much work a passphrase-protected file asks of openssl before it can say anything. Pure.

A PKCS#12 (.pfx) and an encrypted PKCS#8 key (``ENCRYPTED PRIVATE KEY``) name the
cost of their key derivation in the clear: PBKDF2, PKCS#5 and PKCS#12 PBE parameters
and a PKCS#12 ``macData`` hold a salt OCTET STRING, then the iteration count; scrypt
names N, r and p (its work grows as their product). A hostile file asking 2^31
iterations keeps openssl busy for hours on each attempt: flow-ssl reads the cost
first and refuses more than ``MAX_ITERATIONS``. OCTET STRINGs holding more of the
structure (a ContentInfo's data, a key bag) are read too, BER's chunks joined.
"""

from __future__ import annotations

from itertools import pairwise

from flow_ssl.core.errors import InvalidInputError
from flow_ssl.openssl.read import asn1, pem
from flow_ssl.openssl.read.asn1 import INTEGER, OCTET_STRING, OID, SEQUENCE, ASN1Error, Element

# Far above what exporters write (OpenSSL 2048, Windows 2000, Java 10000 to 100000,
# OWASP's PBKDF2 advice 600000), and a few seconds of openssl's time per attempt.
# scrypt's N x r x p costs about as much per unit (measured: 2,097,152 took 0.53 s,
# 2,000,000 PBKDF2 iterations 0.46 s).
MAX_ITERATIONS = 2_000_000
_SCRYPT = "1.3.6.1.4.1.11591.4.11"
_CHUNKED_OCTETS = 0x24
_HUGE = 1 << 64


def largest_cost(data: bytes) -> int:
    """
    The most work any key derivation in ``data`` asks: its iteration count, or scrypt's
    N x r x p (0: none found). What cannot be walked is skipped: openssl then says
    what is wrong with it.
    """
    found = 0
    pending = [(data, 0)]  # structures to read, and how deep they lie
    while pending:
        blob, depth = pending.pop()
        try:
            for element, level in asn1.walk(asn1.parse(blob, ber=True), depth):
                if element.tag in {OCTET_STRING, _CHUNKED_OCTETS}:
                    inside = element.octets()
                    if inside[:1] == b"\x30":  # may hold more of the structure
                        pending.append((inside, level + 1))
                elif element.tag == SEQUENCE:
                    found = max(found, _cost(element.children()))
        except ASN1Error:
            continue
    return found


def _cost(parts: list[Element]) -> int:
    """A salt followed by an iteration count; or scrypt's parameters after its OID."""
    cost = 0
    for salt, count in pairwise(parts):
        if salt.tag in {OCTET_STRING, _CHUNKED_OCTETS} and count.tag == INTEGER:
            cost = max(cost, _unsigned(count))
    if len(parts) == 2 and parts[0].tag == OID and parts[0].oid() == _SCRYPT:
        values = parts[1].expect(SEQUENCE, "scrypt parameters").children()
        if len(values) >= 4 and all(value.tag == INTEGER for value in values[1:4]):
            n, r, p = (_unsigned(value) for value in values[1:4])
            cost = max(cost, min(n * r * p, _HUGE))
    return cost


def _unsigned(count: Element) -> int:
    content = count.content
    return int.from_bytes(content, "big") if len(content) <= 8 else _HUGE


def refuse_costly(data: bytes, source: str) -> None:
    """
    Refuse a file whose key derivation asks more than ``MAX_ITERATIONS``.

    Raises:
        InvalidInputError: naming how much it asks.
    """
    asked = largest_cost(data)
    if asked > MAX_ITERATIONS:
        raise InvalidInputError(
            f"{source} asks for {asked:,} iterations of its key derivation, more than the "
            f"{MAX_ITERATIONS:,} flow-ssl lets openssl spend on each attempt (exporters "
            "write 2,000 to 600,000): export it again"
        )


def refuse_costly_key(text: bytes, source: str) -> None:
    """
    Refuse a PEM private key (``ENCRYPTED PRIVATE KEY``) whose key derivation asks more
    than ``MAX_ITERATIONS``, before openssl is given its passphrase; any other key passes.

    Raises:
        InvalidInputError: naming how much it asks.
    """
    key = pem.private_key_der(text)
    if key is not None and key[0] == "ENCRYPTED PRIVATE KEY":
        refuse_costly(key[1], source)
