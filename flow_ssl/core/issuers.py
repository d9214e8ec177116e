"""
Who issued whom among a set of certificates, by name and key id, in linear time. Pure.

A certificate issued another when its subject is the other's issuer and, where both
name one, its subject key id is the other's authority key id (``ParsedCertificate.issued``).
The set is indexed once, so ordering or chaining n certificates costs O(n): a .p7b
of thousands (an attacker's, or a whole store) is not read in quadratic time.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Iterable

    from flow_ssl.core.models import NameAttribute, ParsedCertificate


def _name(attributes: Iterable[NameAttribute]) -> tuple[tuple[str, str], ...]:
    return tuple((attribute.type, attribute.value) for attribute in attributes)


def _identity(cert: ParsedCertificate) -> tuple[str, int, str | None]:
    """What makes two readings one certificate (equal models: same file, place and DER)."""
    return cert.source, cert.index, cert.sha256_fingerprint


class Issuers:
    """
    Certificates by the name (and key id) they issue under, in the order given; each
    can be taken once. ``preferred`` ones are found first (a usable issuer before one
    that is not), then the others.
    """

    def __init__(
        self,
        certs: Iterable[ParsedCertificate],
        *,
        preferred: Callable[[ParsedCertificate], bool] | None = None,
    ) -> None:
        self._certs: list[ParsedCertificate] = []
        self._lists: defaultdict[Hashable, list[int]] = defaultdict(list)
        self._next: defaultdict[Hashable, int] = defaultdict(int)
        self._taken: set[tuple[str, int, str | None]] = set()
        for at, cert in enumerate(certs):
            self._certs.append(cert)
            tier = preferred(cert) if preferred else True
            subject = _name(cert.subject)
            self._lists[tier, subject].append(at)
            self._lists[tier, subject, cert.subject_key_id or None].append(at)

    def take(self, cert: ParsedCertificate) -> None:
        """Mark ``cert`` (or an equal reading of it) as used: it is found no more."""
        self._taken.add(_identity(cert))

    def first(self, child: ParsedCertificate) -> ParsedCertificate | None:
        """The first certificate not taken that issued ``child``, preferred ones first."""
        if child.issuer is None:
            return None
        issuer = _name(child.issuer)
        key_id = child.authority_key_id
        for tier in (True, False):
            # With a key id, the issuer's must match it, or be absent.
            keys = [(tier, issuer, key_id), (tier, issuer, None)] if key_id else [(tier, issuer)]
            found = [at for at in map(self._first_free, keys) if at is not None]
            if found:
                return self._certs[min(found)]
        return None

    def chain_from(self, cert: ParsedCertificate) -> list[ParsedCertificate]:
        """
        ``cert``, then each first free issuer up to a self-signed one or none, each taken
        (``cert`` too): the path a client builds from these certificates.
        """
        chain = [cert]
        self.take(cert)
        while not chain[-1].self_signed:
            parent = self.first(chain[-1])
            if parent is None:
                break
            self.take(parent)
            chain.append(parent)
        return chain

    def _first_free(self, key: Hashable) -> int | None:
        """The first index not taken in one list; the ones passed are never free again."""
        indexes = self._lists.get(key, [])
        at = self._next[key]
        while at < len(indexes) and _identity(self._certs[indexes[at]]) in self._taken:
            at += 1
        self._next[key] = at
        return indexes[at] if at < len(indexes) else None


def issuing(certs: list[ParsedCertificate]) -> list[bool]:
    """For each certificate, whether it issued another one of ``certs``."""
    children: defaultdict[tuple[tuple[str, str], ...], Counter[str | None]] = defaultdict(Counter)
    for cert in certs:
        if cert.issuer is not None:
            children[_name(cert.issuer)][cert.authority_key_id or None] += 1
    found = []
    for cert in certs:
        subject = _name(cert.subject)
        group = children.get(subject, Counter())
        ski = cert.subject_key_id
        matching = group[None] + group[ski] if ski else group.total()
        itself = cert.issuer is not None and _name(cert.issuer) == subject
        if itself and (not ski or not cert.authority_key_id or cert.authority_key_id == ski):
            matching -= 1  # it names itself as its issuer: not another
        found.append(matching > 0)
    return found
