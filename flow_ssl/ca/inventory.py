"""
``ca list``: what a CA issued, what expires when, what is revoked, and whether its CRL
still holds.

Read from the index (brought up to date under the lock first, so ``openssl ca -status``
says the same), with each certificate's names from the issuance log. The warnings are
the ones an operator must act on: a CRL past or near its nextUpdate, revocations no
CRL carries yet, a serial file behind the index (moved on here).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Literal

from flow_ssl.ca.crl import last_crl
from flow_ssl.ca.folder import read_index, repair_serial
from flow_ssl.core import revocation
from flow_ssl.core.errors import InvalidInputError

if TYPE_CHECKING:
    from flow_ssl.ca import index
    from flow_ssl.ca.authority import CA
    from flow_ssl.ca.folder import Folder
    from flow_ssl.core.revocation import RevocationList


@dataclass(frozen=True)
class Listed:
    """One certificate the CA issued: its index entry, what it is now, its names."""

    entry: index.Entry
    state: Literal["valid", "revoked", "expired"]
    names: tuple[str, ...] = ()
    ca: bool = False


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
    logged = _logged(ca.folder)
    listed = [
        Listed(entry, entry.state(now), *logged.get(int(entry.serial, 16), ((), False)))
        for entry in entries
    ]
    crl = last_crl(ca)
    warnings += _crl_warnings(ca, crl, listed, now)
    due = [] if expiring is None else _expiring(listed, now + timedelta(days=expiring))
    return Inventory(listed, crl, warnings, due)


def _expiring(listed: list[Listed], before: datetime) -> list[Listed]:
    return [item for item in listed if item.state == "valid" and item.entry.expires <= before]


def _logged(folder: Folder) -> dict[int, tuple[tuple[str, ...], bool]]:
    """Each serial's names and CA flag, from the log's last line for it (best effort)."""
    found: dict[int, tuple[tuple[str, ...], bool]] = {}
    try:
        lines = folder.log.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return found
    for line in lines:
        try:
            logged = json.loads(line)
            serial = int(str(logged["serial"]), 16)
        except (ValueError, KeyError, TypeError, RecursionError):  # Recursion: nested too deep
            continue
        names = logged.get("names")
        names = tuple(str(n) for n in names) if isinstance(names, list) else ()
        found[serial] = (names, bool(logged.get("ca")))
    return found


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
