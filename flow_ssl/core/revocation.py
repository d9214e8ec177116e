"""
Revocation: a CRL as read from its DER, and what to say about it. Pure.

The failure CRL users meet most is the silent one: a CRL past its nextUpdate makes
every client that checks revocation refuse every certificate of that CA at once.
So a CRL is judged by its nextUpdate before anything else: past it is a warning to
act on now, and so is one near it (within a week, or half its lifetime when shorter).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flow_ssl.core.findings import finding

if TYPE_CHECKING:
    from flow_ssl.core.models import Finding, NameAttribute, ParsedCertificate

NEAR = timedelta(days=7)
# A URL an openssl config and -addext carry as one name: no blank, comma or quote.
_URL = re.compile(r"^(https?|ldap)://[!#-&(-+\--~]+$")
# RFC 5280 5.3.1 CRLReason, by code.
REASON_NAMES = {
    0: "unspecified",
    1: "keyCompromise",
    2: "CACompromise",
    3: "affiliationChanged",
    4: "superseded",
    5: "cessationOfOperation",
    6: "certificateHold",
    8: "removeFromCRL",
    9: "privilegeWithdrawn",
    10: "aACompromise",
}


@dataclass(frozen=True)
class Revoked:
    """One entry of a CRL."""

    serial: int
    when: datetime
    reason: str | None = None


@dataclass
class RevocationList:
    """What a CRL says: who issued it, when, its number, and what it revokes."""

    issuer: list[NameAttribute]
    this_update: datetime
    next_update: datetime | None
    number: int | None = None
    authority_key_id: str | None = None
    revoked: list[Revoked] = field(default_factory=list)
    der: bytes = b""

    def lists(self, serial: int) -> Revoked | None:
        """The entry revoking this serial, if there is one."""
        return next((entry for entry in self.revoked if entry.serial == serial), None)


def check_url(url: str) -> str:
    """
    A CRL Distribution Point URL, as given.

    Raises:
        ValueError: not an http(s) or ldap URL openssl can carry as one name.
    """
    if not _URL.match(url):
        raise ValueError(
            f"{url!r} is not a URL a certificate can carry: give http://, https:// or "
            "ldap:// with no blank, comma or quote (clients fetch CRLs over plain http)"
        )
    return url


def freshness(crl: RevocationList, now: datetime, *, who: str) -> Finding:
    """
    ``crl``: whether clients that check revocation still accept ``who``'s CRL, and for
    how long: a warning past its nextUpdate, or near it.
    """
    if crl.next_update is None:
        return finding("crl", "warn", f"{who}'s CRL has no nextUpdate: clients may refuse it")
    left = crl.next_update - now
    when = f"{crl.next_update:%Y-%m-%d %H:%M} UTC"
    number = f" (number {crl.number})" if crl.number is not None else ""
    if left <= timedelta(0):
        return finding(
            "crl",
            "warn",
            f"{who}'s CRL{number} expired {when}: clients that check revocation now refuse "
            "every certificate it issued; make a new one now",
        )
    lifetime = crl.next_update - crl.this_update
    if left < min(NEAR, lifetime / 2):
        return finding(
            "crl",
            "warn",
            f"{who}'s CRL{number} expires {when}, in {_left(left)}: make a new one before then "
            "(or clients that check revocation refuse every certificate it issued)",
        )
    return finding("crl", "pass", f"{who}'s CRL{number} is current until {when}")


def _left(left: timedelta) -> str:
    if left >= timedelta(days=2):
        return f"{left.days} days"
    hours = int(left.total_seconds() // 3600)
    return f"{hours} hours" if hours != 1 else "1 hour"


@dataclass(frozen=True)
class GivenCrl:
    """A CRL given to ``check``: where from, what it says, and which CA of the chain signed it."""

    source: str
    crl: RevocationList
    signer: ParsedCertificate | None  # None: no certificate of the chain signed it


def chain_findings(
    chain: list[ParsedCertificate], given: list[GivenCrl], now: datetime
) -> list[Finding]:
    """
    ``check --crl``: each CRL's freshness (``crl``), and whether the CRLs revoke a
    certificate of the chain (``revocation``), leaf first, each judged by its issuer's CRL.
    "Not revoked" is said only when the leaf's own issuer signed a CRL given that is
    current: a CRL of another CA cannot list the leaf, and an expired one says nothing
    clients accept; without it, a warning names the CRL that is missing.
    """
    findings = []
    revoked = []
    for item in given:
        signer = item.signer
        if signer is None:
            who = ", ".join(f"{a.type}={a.value}" for a in item.crl.issuer) or "(no issuer)"
            findings.append(
                finding(
                    "crl",
                    "fail",
                    f"{item.source}: a CRL of {who} that no CA of this chain signed (a "
                    "forged CRL, or another CA's): it proves nothing",
                )
            )
            continue
        findings.append(freshness(item.crl, now, who=_name(signer)))
        for cert in chain:
            entry = item.crl.lists(int(cert.serial or "0", 16)) if signer.issued(cert) else None
            if entry is not None and cert is not signer:
                why = f", {entry.reason}" if entry.reason else ""
                serial = (cert.serial or "").upper()  # as ca list and index.txt write it
                revoked.append(
                    f"{_name(cert)} (serial {serial}) is revoked by {_name(signer)}'s CRL "
                    f"since {entry.when:%Y-%m-%d}{why}: clients that check revocation refuse it"
                )
    if revoked:
        return findings + [finding("revocation", "fail", message) for message in revoked]
    if any(item.signer is not None for item in given):
        findings.append(_not_revoked(chain, given, now))
    return findings


def _not_revoked(chain: list[ParsedCertificate], given: list[GivenCrl], now: datetime) -> Finding:
    """
    No CRL given lists a certificate of the chain: "not revoked" if the leaf's issuer's
    current CRL was among them (naming the CAs whose certificates are not judged), else a
    warning naming the CRL that is missing or expired.
    """

    def issuer_of(cert: ParsedCertificate) -> ParsedCertificate | None:
        return next((c for c in chain if c is not cert and c.issued(cert)), None)

    def current(issuer: ParsedCertificate) -> bool:
        return any(
            item.signer is issuer and (item.crl.next_update is None or item.crl.next_update > now)
            for item in given
        )

    leaf_issuer = issuer_of(chain[0]) if chain else None
    if leaf_issuer is None or not current(leaf_issuer):
        expired = leaf_issuer is not None and any(item.signer is leaf_issuer for item in given)
        which = f"the CRL of {_name(leaf_issuer)}" if leaf_issuer else "the CRL of its issuer"
        return finding(
            "revocation",
            "warn",
            f"not known whether the leaf is revoked: {which}, the CA that issued it, "
            f"{'has expired' if expired else 'was not given'} (only the issuer's CRL can "
            "list the leaf: give that CRL too)",
        )
    judged, unjudged = [_name(leaf_issuer)], []
    for cert in chain[1:]:
        issuer = issuer_of(cert)
        if issuer is None:
            continue  # a root: no CRL speaks for the anchor itself
        if current(issuer):
            judged.append(_name(issuer))
        else:
            unjudged.append(f"{_name(cert)} (no current CRL of {_name(issuer)} given)")
    message = f"not revoked (the CRL of {', '.join(dict.fromkeys(judged))})"
    if unjudged:
        message += f"; not checked: {', '.join(unjudged)}"
    return finding("revocation", "pass", message)


def _name(cert: ParsedCertificate) -> str:
    return cert.subject_value("CN") or cert.names_text() or "(unnamed)"
