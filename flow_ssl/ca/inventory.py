"""
``ca list``: what a CA issued, what expires when, what is revoked, and whether its CRL
still holds.

Read from the index (brought up to date under the lock first, so ``openssl ca -status``
says the same), with each certificate's names from the issuance log. The warnings are
the ones an operator must act on: a CRL past or near its nextUpdate, revocations no
CRL carries yet, a serial file behind the index (moved on here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Literal

from flow_ssl.ca import index
from flow_ssl.ca.crl import last_crl
from flow_ssl.ca.folder import Logged, logged, read_index, renewals, repair_serial
from flow_ssl.core import revocation
from flow_ssl.core.errors import InvalidInputError

if TYPE_CHECKING:
    from flow_ssl.ca.authority import CA
    from flow_ssl.core.revocation import RevocationList


@dataclass(frozen=True)
class Listed:
    """One certificate the CA issued: its index entry, what it is now, its names."""

    entry: index.Entry
    state: Literal["valid", "revoked", "expired"]
    names: tuple[str, ...] = ()
    ca: bool = False
    # The valid certificate `renew` replaced it with (as the log records it): its serial.
    superseded_by: str | None = None


@dataclass
class Inventory:
    """Everything ``ca list`` says about one CA."""

    listed: list[Listed]
    crl: RevocationList | None
    warnings: list[str] = field(default_factory=list)
    expiring: list[Listed] = field(default_factory=list)


def take(ca: CA, *, expiring: int | None = None, now: datetime | None = None) -> Inventory:
    """
    The CA's certificates, oldest first, and what to act on; ``expiring``: the valid ones
    that end within that many days.

    Raises:
        InvalidInputError: the folder is busy or damaged, or ``expiring`` is out of range.
    """
    if expiring is not None and not 0 <= expiring <= 36500:
        raise InvalidInputError("must be from 0 to 36500 days", field="expiring")
    now = now or datetime.now(timezone.utc)
    warnings: list[str] = []
    with ca.locked():
        repaired = repair_serial(ca.folder)
        entries = read_index(ca.folder)
    if repaired is not None:
        warnings.append(repaired)
    log = logged(ca.folder)
    newer = index.superseded(entries, renewals(log), now)
    listed = []
    for entry in entries:
        said = log.get(int(entry.serial, 16), Logged())
        listed.append(
            Listed(
                entry, entry.state(now), said.names, said.ca, superseded_by=newer.get(entry.serial)
            )
        )
    crl = last_crl(ca)
    warnings += _crl_warnings(ca, crl, listed, now)
    due = [] if expiring is None else _expiring(listed, now + timedelta(days=expiring))
    return Inventory(listed, crl, warnings, due)


def _expiring(listed: list[Listed], before: datetime) -> list[Listed]:
    """The valid ones ending before ``before``, but for those a renewal superseded."""
    return [
        item
        for item in listed
        if item.state == "valid" and item.superseded_by is None and item.entry.expires <= before
    ]


def _crl_warnings(
    ca: CA, crl: RevocationList | None, listed: list[Listed], now: datetime
) -> list[str]:
    revoked = {int(item.entry.serial, 16) for item in listed if item.state == "revoked"}
    make = f"flow-ssl ca crl --dir {ca.folder.path}"
    if crl is None:
        if not revoked:
            return []
        return [f"{len(revoked)} certificate(s) revoked, but {ca.name} has no CRL yet: {make}"]
    warnings = []
    fresh = revocation.freshness(crl, now, who=ca.name)
    if fresh.status != "pass":
        warnings.append(f"{fresh.message} ({make})")
    missing = revoked - {entry.serial for entry in crl.revoked}
    if missing:
        warnings.append(
            f"{len(missing)} revoked certificate(s) are not in the last CRL (number "
            f"{crl.number}) yet: clients still accept them; {make}"
        )
    return warnings
