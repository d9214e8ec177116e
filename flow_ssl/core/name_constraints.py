"""
Name constraints: the names a CA may sign for, written by ``ca init --permit`` and judged
by flow-ssl itself, the same way on every openssl build. Pure.

The rule is RFC 5280's, as Go's crypto/x509, Python (OpenSSL) and pyca/cryptography
apply it: a DNS subtree ``mycompany.com`` permits that name and every name below it,
on label boundaries (``evilmycompany.com`` is outside); a leading dot
(``.mycompany.com``) permits only the names below. An IP subtree is a network. Each
kind is constrained only when a subtree of that kind is permitted; an excluded
subtree always wins. LibreSSL 3.3.6 matches DNS subtrees as a plain string suffix,
so it accepts ``evilmycompany.com``: flow-ssl does not ask it.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Literal

from flow_ssl.core import names

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from flow_ssl.core.models import NameConstraints, NameSubtrees, ParsedCertificate

Kind = Literal["dns", "ip"]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_permit(text: str) -> tuple[Kind, str]:
    """
    One ``--permit`` value: a DNS domain (``mycompany.com``) or an IP network
    (``10.0.0.0/8``, ``fd00::/8``; a single address is a network of one).

    Returns the kind and the canonical form (lower case; the network's own address).

    Raises:
        ValueError: a wildcard, a leading dot, host bits set, or not a name at all.
    """
    if text.startswith("."):
        raise ValueError(
            f"{text!r}: give {text[1:]!r}, which permits the domain and every name below "
            "it (a leading dot means only the names below, and pyca/cryptography then "
            "refuses every certificate under the CA)"
        )
    if "/" in text:
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError as exc:
            loose = _loose_network(text)
            if loose is not None:
                raise ValueError(
                    f"{text!r} has bits set past its prefix: did you mean {loose}?"
                ) from None
            raise ValueError(f"{text!r} is not an IP network ({exc})") from None
        return "ip", str(network)
    kind, canonical = names.classify(text)
    if kind == "ip":
        return "ip", str(ipaddress.ip_network(canonical))
    if names.is_wildcard(canonical):
        raise ValueError(
            f"{text!r}: give the domain without '*.' ({canonical[2:]!r} permits it and "
            "every name below it)"
        )
    return "dns", canonical


def _loose_network(text: str) -> Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def openssl_value(permits: Sequence[tuple[Kind, str]]) -> str:
    """
    The ``nameConstraints`` value openssl's config and ``-addext`` take: critical (Chrome
    and RFC 5280 want it so), each subtree ``permitted;DNS:`` or ``permitted;IP:addr/mask``
    (no build takes ``IP:fd00::/8``).
    """
    parts = ["critical"]
    for kind, value in permits:
        if kind == "dns":
            parts.append(f"permitted;DNS:{value}")
        else:
            network = ipaddress.ip_network(value)
            parts.append(f"permitted;IP:{network.network_address}/{network.netmask}")
    return ",".join(parts)


def describe(constraints: NameConstraints) -> str:
    """``permitted DNS mycompany.com, IP 10.0.0.0/8; excluded DNS x.mycompany.com``."""
    lists = [
        f"{label} {_subtrees_text(subtrees)}"
        for label, subtrees in (
            ("permitted", constraints.permitted),
            ("excluded", constraints.excluded),
        )
        if not subtrees.empty()
    ]
    return "; ".join(lists) or "none"


def _subtrees_text(subtrees: NameSubtrees) -> str:
    kinds = (
        ("DNS", subtrees.dns),
        ("IP", subtrees.ip),
        ("email", subtrees.email),
        ("URI", subtrees.uri),
        ("other", subtrees.other),
    )
    return ", ".join(f"{label} {value}" for label, values in kinds for value in values)


def dns_within(name: str, subtree: str) -> bool:
    """
    Whether a DNS name (a wildcard's ``*`` is a label like any other) lies in a subtree.

    ``mycompany.com`` holds itself and the names below it; ``.mycompany.com`` only those
    below; an empty subtree every name. Case is ignored; a trailing dot is part of the name.
    """
    name, subtree = name.lower(), subtree.lower()
    if not subtree:
        return True
    if subtree.startswith("."):
        return len(name) > len(subtree) and name.endswith(subtree)
    return name == subtree or name.endswith("." + subtree)


def network_of(subtree: str) -> tuple[int, int, int] | None:
    """An IP subtree (``10.0.0.0/8`` or ``10.0.0.0/255.0.0.0``) as (version, address, mask)."""
    address, _, mask = subtree.partition("/")
    try:
        base = ipaddress.ip_address(address)
        if mask.isdigit():
            prefix = int(mask)
            bits = base.max_prefixlen
            if prefix > bits:
                return None
            mask_number = ((1 << prefix) - 1) << (bits - prefix)
        else:
            mask_address = ipaddress.ip_address(mask)
            if mask_address.version != base.version:
                return None
            mask_number = int(mask_address)
    except ValueError:
        return None
    return base.version, int(base), mask_number


def ip_within(address: str, subtree: str) -> bool:
    """Whether an IP address lies in an IP subtree of its own version."""
    network = network_of(subtree)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if network is None or network[0] != ip.version:
        return False
    _, base, mask = network
    return int(ip) & mask == base & mask


def _within(kind: Kind, value: str, subtree: str) -> bool:
    return dns_within(value, subtree) if kind == "dns" else ip_within(value, subtree)


def _of_kind(subtrees: NameSubtrees, kind: Kind) -> list[str]:
    return subtrees.dns if kind == "dns" else subtrees.ip


def allows(constraints: NameConstraints, kind: Kind, value: str) -> bool:
    """Whether one name is inside a CA's constraints: permitted (if its kind is), not excluded."""
    if any(_within(kind, value, s) for s in _of_kind(constraints.excluded, kind)):
        return False
    permitted = _of_kind(constraints.permitted, kind)
    return not permitted or any(_within(kind, value, s) for s in permitted)


def names_judged(cert: ParsedCertificate) -> list[tuple[Kind, str]]:
    """
    A certificate's names as constraints see them: its DNS and IP SAN entries, and its
    Common Name when it is a host name and the SAN has no DNS name (as OpenSSL and Python
    do; Go never looks at the CN, LibreSSL 4 always does).
    """
    san = cert.subject_alt_names
    found: list[tuple[Kind, str]] = [("dns", name) for name in san.dns]
    found += [("ip", address) for address in san.ip]
    common_name = cert.subject_value("CN")
    if not san.dns and common_name:
        try:
            kind, canonical = names.classify(common_name)
        except ValueError:
            return found  # a label such as "Flow Server": not a name clients check
        if kind == "dns":
            found.append(("dns", canonical))
    return found


def outside(
    wanted: Iterable[tuple[Kind, str]], issuers: Iterable[ParsedCertificate]
) -> tuple[str, ParsedCertificate] | None:
    """The first name some issuer's constraints do not allow, and that issuer; else None."""
    constrained = [cert for cert in issuers if cert.name_constraints is not None]
    for kind, value in wanted:
        for issuer in constrained:
            assert issuer.name_constraints is not None  # noqa: S101 - filtered just above
            if not allows(issuer.name_constraints, kind, value):
                return value, issuer
    return None


def violation(leaf: ParsedCertificate, issuers: Iterable[ParsedCertificate]) -> str | None:
    """
    Why a leaf is outside the name constraints of an issuer on its path, if it is: the
    words ``check`` fails it with, whichever openssl build verified the chain.
    """
    found = outside(names_judged(leaf), issuers)
    if found is None:
        return None
    name, issuer = found
    return f"{name} is outside the names {_who(issuer)} may sign for ({_permits(issuer)})"


def refusal(wanted: Iterable[tuple[Kind, str]], issuers: Iterable[ParsedCertificate]) -> str | None:
    """Why a CA must not sign for these names (``ca sign``, ``ca issue``), if it must not."""
    found = outside(wanted, issuers)
    if found is None:
        return None
    name, issuer = found
    return (
        f"{name} is outside the names {_who(issuer)} may sign for ({_permits(issuer)}); "
        "nothing was signed"
    )


def _who(cert: ParsedCertificate) -> str:
    return cert.subject_value("CN") or cert.names_text() or "(unnamed CA)"


def _permits(cert: ParsedCertificate) -> str:
    assert cert.name_constraints is not None  # noqa: S101 - only constrained issuers are named
    return describe(cert.name_constraints)


def beyond_parent(permits: Sequence[tuple[Kind, str]], parent: ParsedCertificate) -> list[str]:
    """
    The subtrees an issuing CA asks for that its parent's constraints do not hold (a
    certificate for them would fail under the parent anyway).
    """
    constraints = parent.name_constraints
    if constraints is None:
        return []
    return [
        value
        for kind, value in permits
        if _of_kind(constraints.permitted, kind)
        and not any(_holds(kind, s, value) for s in _of_kind(constraints.permitted, kind))
    ]


def _holds(kind: Kind, outer: str, inner: str) -> bool:
    """Whether subtree ``outer`` holds all of subtree ``inner``."""
    if kind == "dns":
        return dns_within(inner, outer)
    big, small = network_of(outer), network_of(inner)
    if big is None or small is None or big[0] != small[0]:
        return False
    _, base, mask = big
    return small[2] & mask == mask and small[1] & mask == base & mask
