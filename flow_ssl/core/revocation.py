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
_KEY_USAGE = "2.5.29.15"  # a certificate's keyUsage extension
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
    unhandled: tuple[str, ...] = ()  # its critical extensions openssl does not handle


@dataclass(frozen=True)
class CrlScope:
    """What an issuingDistributionPoint narrows a CRL to (RFC 5280 5.2.5)."""

    points: tuple[bytes, ...] = ()  # the distribution point's names, each as its DER
    shown: tuple[str, ...] = ()  # and as text
    only_user: bool = False
    only_ca: bool = False
    some_reasons: bool = False
    indirect: bool = False
    only_attribute: bool = False


@dataclass
class RevocationList:
    """
    What a CRL says: who issued it, when, its number, and what it revokes; and what
    decides whether clients use it: its critical extensions they do not handle (in
    it or an entry), the base CRL a delta CRL builds on, and its scope.
    """

    issuer: list[NameAttribute]
    this_update: datetime
    next_update: datetime | None
    number: int | None = None
    authority_key_id: str | None = None
    revoked: list[Revoked] = field(default_factory=list)
    der: bytes = b""
    unhandled: list[str] = field(default_factory=list)
    delta_base: int | None = None
    scope: CrlScope | None = None

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
    # Where in the chain the certificates are whose crlDistributionPoints name one of
    # the names of the CRL's issuingDistributionPoint (the only ones it can cover).
    naming: frozenset[int] = frozenset()


def refused(item: GivenCrl, now: datetime) -> tuple[str, str] | None:
    """
    Why clients that check revocation refuse a CRL its issuer signed, and so every
    certificate of that CA, as they refuse an expired one (openssl's verify error
    quoted), and what to do; None when they use it.
    """
    crl, signer = item.crl, item.signer
    if crl.unhandled:
        held = ", ".join(crl.unhandled)
        why = f'holds a critical extension clients do not handle ({held}; "unhandled critical '
        return why + 'CRL extension"), so they use none of it', "make a new one without it"
    if crl.this_update > now:
        return (
            f'is not valid until {crl.this_update:%Y-%m-%d %H:%M} UTC ("CRL is not yet valid")',
            "check the CA's clock, and make a new one",
        )
    usage_given = signer is not None and any(oid == _KEY_USAGE for oid, _ in signer.extensions)
    if signer is not None and usage_given and "cRLSign" not in signer.key_usage:
        why = 'is signed by a CA certificate whose keyUsage lacks cRLSign ("key usage does not '
        return why + 'include CRL signing")', "issue that CA certificate again with cRLSign"
    return None


def _outside(item: GivenCrl, cert: ParsedCertificate, at: int) -> str | None:
    """
    Why a CRL clients use still cannot say whether ``cert`` (``at`` in the chain) is
    revoked: a delta CRL given without its base, or a scope that leaves it out.
    """
    crl, scope = item.crl, item.crl.scope
    if crl.delta_base is not None:
        return (
            f"is a delta CRL, which lists only what changed since CRL number {crl.delta_base} "
            "(give that base CRL)"
        )
    if scope is None:
        return None
    is_ca = cert.basic_constraints is not None and cert.basic_constraints.ca
    said = "its issuingDistributionPoint says"
    narrowed = [
        (scope.only_attribute, f"covers attribute certificates only ({said} so)"),
        (scope.only_ca and not is_ca, f"covers CA certificates only ({said} so)"),
        (scope.only_user and is_ca, f"covers end-entity certificates only ({said} so)"),
        (
            scope.some_reasons,
            f"covers some revocation reasons only ({said} onlySomeReasons: a partitioned CRL)",
        ),
        (scope.indirect, f"is an indirect CRL ({said} so), which openssl does not read"),
        (
            bool(scope.points) and at not in item.naming,
            (
                f"covers only the distribution point {', '.join(scope.shown)} ({said} so), "
                f"which {_name(cert)}'s crlDistributionPoints do not name"
            ),
        ),
    ]
    return next((why for hit, why in narrowed if hit), None)


def chain_findings(
    chain: list[ParsedCertificate], given: list[GivenCrl], now: datetime
) -> list[Finding]:
    """
    ``check --crl``: each CRL's freshness (``crl``), and whether the CRLs revoke a
    certificate of the chain (``revocation``), leaf first, each judged by its issuer's CRL.
    "Not revoked" is said only when the leaf's own issuer signed a CRL given that clients
    use and that covers the leaf: a CRL of another CA cannot list the leaf, and clients
    refuse an expired one, one not yet valid, one with a critical extension they do not
    handle, and one its CA may not sign; without it, a warning names why.
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
        findings.append(_crl_finding(item, signer, now))
        if item.crl.unhandled:
            continue  # clients read none of it: its entries may not mean what they seem
        for cert in chain:
            entry = item.crl.lists(int(cert.serial or "0", 16)) if signer.issued(cert) else None
            if entry is not None and cert is not signer and entry.reason != "removeFromCRL":
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


def _crl_finding(item: GivenCrl, signer: ParsedCertificate, now: datetime) -> Finding:
    """``crl``: a CRL clients refuse is the expired CRL's warning; else its freshness."""
    refusal = refused(item, now)
    if refusal is None:
        return freshness(item.crl, now, who=_name(signer))
    why, fix = refusal
    number = f" (number {item.crl.number})" if item.crl.number is not None else ""
    return finding(
        "crl",
        "warn",
        f"{_name(signer)}'s CRL{number} {why}: clients that check revocation refuse it, and so "
        f"every certificate it issued; {fix}",
    )


def _not_revoked(chain: list[ParsedCertificate], given: list[GivenCrl], now: datetime) -> Finding:
    """
    No CRL given lists a certificate of the chain: "not revoked" if a CRL of the leaf's
    issuer that clients use covers it (naming the CAs whose certificates are not
    judged), else a warning naming why not.
    """

    def issuer_of(cert: ParsedCertificate) -> ParsedCertificate | None:
        return next((c for c in chain if c is not cert and c.issued(cert)), None)

    def problems(issuer: ParsedCertificate, at: int) -> list[str] | None:
        """Why none of ``issuer``'s CRLs judges ``chain[at]`` (None: one does)."""
        found = []
        for item in given:
            if item.signer is issuer:
                expired = item.crl.next_update is not None and item.crl.next_update <= now
                refusal = refused(item, now)
                why = "has expired" if expired else refusal[0] if refusal else None
                why = why or _outside(item, chain[at], at)
                if why is None:
                    return None
                found.append(why)
        return list(dict.fromkeys(found)) or ["was not given"]

    leaf_issuer = issuer_of(chain[0]) if chain else None
    missing = problems(leaf_issuer, 0) if leaf_issuer else ["was not given"]
    if leaf_issuer is None or missing is not None:
        which = f"the CRL of {_name(leaf_issuer)}" if leaf_issuer else "the CRL of its issuer"
        message = (
            f"not known whether the leaf is revoked: {which}, the CA that issued it, "
            f"{'; and it '.join(missing or [])}"
        )
        if missing in (["was not given"], ["has expired"]):
            message += " (only the issuer's CRL can list the leaf: give that CRL too)"
        listed = [
            item
            for item in given
            if item.signer is leaf_issuer and item.crl.unhandled and _lists(item, chain[0])
        ]
        if listed:
            message += "; it lists the leaf, but clients cannot read that as revoked either"
        return finding("revocation", "warn", message)
    judged, unjudged = [_name(leaf_issuer)], []
    for at, cert in enumerate(chain[1:], start=1):
        issuer = issuer_of(cert)
        if issuer is None:
            continue  # a root: no CRL speaks for the anchor itself
        why = problems(issuer, at)
        if why is None:
            judged.append(_name(issuer))
        elif why in (["was not given"], ["has expired"]):
            unjudged.append(f"{_name(cert)} (no current CRL of {_name(issuer)} given)")
        else:
            unjudged.append(f"{_name(cert)} ({_name(issuer)}'s CRL {'; and it '.join(why)})")
    message = f"not revoked (the CRL of {', '.join(dict.fromkeys(judged))})"
    if unjudged:
        message += f"; not checked: {', '.join(unjudged)}"
    return finding("revocation", "pass", message)


def _lists(item: GivenCrl, cert: ParsedCertificate) -> bool:
    return item.crl.lists(int(cert.serial or "0", 16)) is not None


def _name(cert: ParsedCertificate) -> str:
    return cert.subject_value("CN") or cert.names_text() or "(unnamed)"
