"""
Host names, wildcards and IP addresses: validation and RFC 6125 matching.

Pure functions. The rules are the ones Go's crypto/tls and browsers apply, which
are stricter than ``openssl x509 -checkhost`` (no partial wildcards, no CN).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

NameKind = Literal["dns", "ip"]

# openssl's library limit for the commonName attribute (ub-common-name).
MAX_CN_LENGTH = 64
MAX_DNS_NAME_LENGTH = 253
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def _ip_or_none(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def classify(text: str) -> tuple[NameKind, str]:
    """
    Validate one name and return its kind and canonical form.

    Canonical: DNS names lower-case without a trailing dot, IPs in standard text.

    Raises:
        ValueError: with a one-line reason when the name is not usable.
    """
    if not text.strip():
        raise ValueError("a name cannot be empty")
    if text != text.strip():
        raise ValueError(f"{text!r} has a blank at its start or end; give the name alone")
    name = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if "%" in name and _ip_or_none(name.partition("%")[0]) is not None:
        raise ValueError(
            f"{text!r} carries a zone (%...): a zone is local to one machine and cannot "
            "be in a certificate; give the address alone"
        )
    ip = _ip_or_none(name)
    if ip is not None:
        return "ip", str(ip)
    typo = _url_parts(text)
    if typo is not None:
        raise ValueError(typo)
    return "dns", _validate_dns_name(name)


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_PORT = re.compile(r"^(\[[^\]]*\]|[^:\[\]]*):(\d{1,5})$")


def _url_parts(text: str) -> str | None:
    """
    What to drop from a URL or a host:port given for a name (the hurried operator's paste
    from a browser), or None: a scheme, a path and a port are no part of a certificate's name.
    """
    drops = []
    rest = text
    scheme = _SCHEME.match(rest)
    if scheme:
        drops.append(f"drop {scheme.group(0)}")
        rest = rest[scheme.end() :]
    host, slash, path = rest.partition("/")
    port = _PORT.match(host)
    if port:
        drops.append(f"drop :{port.group(2)} (the port is not part of the name)")
        host = port.group(1).removeprefix("[").removesuffix("]")
    if slash:
        drops.append(f"drop /{path} (a path is not part of the name)")
    if not drops:
        return None
    return f"{text!r} is not a host name: {', '.join(drops)}" + (f"; give {host}" if host else "")


def _validate_dns_name(name: str) -> str:
    if not name.isascii():
        raise ValueError(
            f"{name!r} is not an ASCII host name; give an internationalised name "
            "in its xn-- (punycode) form"
        )
    canonical = name.lower().removesuffix(".")
    if len(canonical) > MAX_DNS_NAME_LENGTH:
        raise ValueError(f"{name!r} is longer than {MAX_DNS_NAME_LENGTH} characters")
    labels = canonical.split(".")
    if "*" in canonical:
        _validate_wildcard(name, labels)
        labels = labels[1:]
    for label in labels:
        if not _LABEL.match(label):
            raise ValueError(
                f"{name!r} is not a valid host name: label {label!r} must be 1-63 letters, "
                "digits or hyphens, not starting or ending with a hyphen"
            )
    if labels[-1].isdigit():
        raise ValueError(f"{name!r} looks like an IP address but is not a valid one")
    return canonical


def _validate_wildcard(name: str, labels: list[str]) -> None:
    if labels[0] != "*" or "*" in ".".join(labels[1:]):
        raise ValueError(
            f"{name!r} is not a valid wildcard: '*' must be the whole left-most label "
            "(like *.mycompany.com)"
        )
    if len(labels) < 3:
        raise ValueError(f"{name!r} is too broad: {TOO_BROAD} (like *.mycompany.com)")


# A wildcard over a single label (``*.com``) is refused as input, and covers no name: OpenSSL,
# Python and GnuTLS match none with it (Go and pyca would). No rule consults the public
# suffix list, so ``*.co.uk`` is taken everywhere, as it is here.
TOO_BROAD = "a wildcard needs at least two labels after '*.'"


def too_broad(pattern: str) -> bool:
    """Whether a DNS name is a wildcard over a single label (``*.com``): it covers nothing."""
    return is_wildcard(pattern) and "." not in pattern[2:].removesuffix(".")


# What LibreSSL takes in a dNSName of a SAN (x509_constraints.c; measured on 3.3.6 and 4.3.2):
# letters, digits, '-', '_' and '.', and '*' as a whole first label. Anything else is "invalid
# name syntax" and it refuses the whole certificate (OpenSSL and Go take it).
_SAN_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#\s]+")


def san_syntax_refused(value: str, kind: str) -> bool:
    """
    Whether LibreSSL refuses a certificate for this SAN entry (``kind`` ``dns`` or ``uri``):
    a DNS name with an empty label or one ending in a dot, a label starting or ending with
    '-' or over 63 characters, or a '*' anywhere but as the whole first label (3.3.6 refuses
    ``f*.example.com`` too); a URI without ``scheme://host`` (3.3.6).
    """
    if kind == "uri":
        return not _URI.match(value)
    labels = value.split(".")
    first = labels[1:] if labels[0] == "*" else labels
    return not first or not all(_SAN_LABEL.match(label) for label in first)


def is_wildcard(name: str) -> bool:
    """Whether a canonical DNS name is a wildcard pattern."""
    return name.startswith("*.")


def validate_common_name(text: str) -> str:
    """Validate a Common Name: a host name, wildcard or IP, within the CN length limit."""
    _kind, canonical = classify(text)
    if len(canonical) > MAX_CN_LENGTH:
        raise ValueError(
            f"{text!r} is {len(canonical)} characters; a Common Name holds at most "
            f"{MAX_CN_LENGTH}: give the long name as an extra name (SAN) and a shorter one here"
        )
    return canonical


def matches(pattern: str, kind: NameKind, host: str) -> bool:
    """
    Whether one SAN entry covers ``host`` (RFC 6125, as Go and browsers apply it).

    A wildcard covers exactly one whole left-most label: ``*.a.com`` covers
    ``x.a.com`` but not ``a.com`` or ``x.y.a.com``. IP entries match only the same IP.
    """
    return bool(Coverage([(pattern, kind)]).covers(host))


class Coverage:
    """
    Which of a certificate's SAN entries cover a host, found in one look-up per host.

    The same rules as ``matches``, indexed once: a certificate with thousands of
    names is checked against thousands of hosts in linear time.
    """

    def __init__(self, entries: list[tuple[str, str]]) -> None:
        self._exact: dict[tuple[NameKind, str], str] = {}
        self._wild: dict[str, str] = {}
        self._dotted: dict[str, str] = {}
        for value, kind in entries:
            if kind == "ip":
                ip = _ip_or_none(value)
                if ip is not None:
                    self._exact.setdefault(("ip", str(ip)), value)
                continue
            pattern = value.lower()
            if pattern.endswith("."):
                # No valid pattern to Go or OpenSSL: it matches only the same dotted name.
                self._dotted.setdefault(pattern, value)
                continue
            if too_broad(pattern):
                continue  # *.com: matches no name, as OpenSSL's hostname check
            if is_wildcard(pattern):
                self._wild.setdefault(pattern[2:], value)
            else:
                self._exact.setdefault(("dns", pattern), value)

    def covers(self, host: str) -> list[str]:
        """The SAN entries that cover ``host`` (exact first, then a wildcard)."""
        kind, canonical = classify(host)
        found = [self._exact[(kind, canonical)]] if (kind, canonical) in self._exact else []
        if host.lower() in self._dotted:
            found.append(self._dotted[host.lower()])
        first, _, rest = canonical.partition(".")
        if kind == "dns" and first and first != "*" and rest in self._wild:
            found.append(self._wild[rest])
        return found


def default_file_stem(common_name: str) -> str:
    """File stem for a name: ``*.mycompany.com`` becomes ``wildcard.mycompany.com``."""
    if is_wildcard(common_name):
        return "wildcard." + common_name[2:]
    return common_name.replace(":", "_")
