"""
``index.txt``: a CA's record of every certificate it issued, in ``openssl ca``'s format.

One line per certificate, six TAB-separated fields, as every supported build writes
them: status (``V`` valid, ``R`` revoked, ``E`` expired), expiry, revocation date and
reason, serial (upper-case hex, even length), ``unknown``, and the subject in
``/``-form. openssl reads it for ``ca -status``, ``-revoke`` and ``-gencrl``; flow-ssl
adds the line of each certificate it issues and marks the expired ones ``E`` (openssl
``-status`` reads the letter only, and LibreSSL's ``-updatedb`` marks a 2050 expiry
expired). Pure: the folder (folder.py) reads and writes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Iterable

    from flow_ssl.core.models import NameAttribute

Status = Literal["V", "R", "E"]
_LINE = re.compile(
    r"^(?P<status>[VRE])\t(?P<expires>\d{12}Z|\d{14}Z)\t(?P<revoked>[^\t]*)\t"
    r"(?P<serial>[0-9A-Fa-f]+)\t(?P<file>[^\t]*)\t(?P<subject>[^\t]*)$"
)
# The reasons openssl ca -revoke takes (-crl_reason) that end a certificate for good;
# certificateHold (undone later) and removeFromCRL (delta CRLs) are left out.
REASONS = (
    "unspecified",
    "keyCompromise",
    "CACompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
)
# Every reason openssl ca reads back from an index line (any case), and the three that
# need an argument after them: a hold instruction's OID, or when the key was compromised.
_READ_REASONS = {
    name.lower(): name
    for name in (*REASONS, "certificateHold", "removeFromCRL", "holdInstruction", "keyTime")
}
_READ_REASONS["cakeytime"] = "CAkeyTime"
_REASON_ARGUMENTS = {
    "holdInstruction": re.compile(r"^(\d+(\.\d+)+|holdInstruction(None|CallIssuer|Reject))$"),
    "keyTime": re.compile(r"^\d{14}Z$"),
    "CAkeyTime": re.compile(r"^\d{14}Z$"),
}
# openssl reads unique_subject as "no" only when its value starts with one of these.
_NO = "nNfF0"


class IndexLineError(ValueError):
    """A line of the index is not in openssl ca's format."""


@dataclass(frozen=True)
class Entry:
    """One certificate the CA issued, as its index line says."""

    status: Status
    expires: datetime
    revoked: str  # field 3 as written: "" or "YYMMDDHHMMSSZ[,reason...]"
    serial: str  # upper-case hex, even length (openssl's own form)
    subject: str  # "/C=US/O=Acme/CN=flow.mycompany.com"

    @property
    def revoked_at(self) -> datetime | None:
        """When it was revoked (a revoked line only)."""
        if not self.revoked:
            return None
        return parse_time(self.revoked.split(",")[0])

    @property
    def reason(self) -> str | None:
        """Why it was revoked, as openssl wrote it (None: no reason given)."""
        parts = self.revoked.split(",")
        return parts[1] if len(parts) > 1 else None

    def state(self, now: datetime) -> Literal["valid", "revoked", "expired"]:
        """What the certificate is now: revoked, expired (whatever its letter), or valid."""
        if self.status == "R":
            return "revoked"
        return "expired" if self.status == "E" or self.expires <= now else "valid"

    def line(self) -> str:
        """The entry as openssl writes it (no newline)."""
        fields = (self.status, format_time(self.expires), self.revoked, self.serial)
        return "\t".join((*fields, "unknown", self.subject))


def serial_text(number: int) -> str:
    """Upper-case hex with an even number of digits, as openssl writes a serial."""
    text = f"{number:X}"
    return text if len(text) % 2 == 0 else f"0{text}"


def format_time(moment: datetime) -> str:
    """
    openssl's index time: ``YYMMDDHHMMSSZ`` up to 2049, ``YYYYMMDDHHMMSSZ`` from 2050
    (UTCTime and GeneralizedTime, as RFC 5280 has certificates carry them).
    """
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%y%m%d%H%M%SZ" if moment.year < 2050 else "%Y%m%d%H%M%SZ")


def parse_time(text: str) -> datetime:
    """
    An index time back to a UTC datetime (RFC 5280: a two-digit year 50-99 is 19YY).

    Raises:
        IndexLineError: not one of openssl's two forms.
    """
    try:
        if len(text) == 13:
            moment = datetime.strptime(text, "%y%m%d%H%M%S%z")
        else:
            moment = datetime.strptime(text, "%Y%m%d%H%M%S%z")
    except ValueError:
        raise IndexLineError(f"{text!r} is not a time in openssl's index form") from None
    if len(text) == 13 and moment.year >= 2050:
        moment = moment.replace(year=moment.year - 100)
    return moment


def unique_subject(attributes: str | None) -> bool:
    """
    Whether ``index.txt.attr`` has openssl ca refuse two valid certificates of one
    subject: its ``unique_subject`` (the last, before any section) read as openssl reads
    it, "no" only when it starts with n, f or 0; no such line (or no file) leaves the
    config's ``unique_subject = no``.
    """
    said = None
    for line in (attributes or "").splitlines():
        if line.lstrip().startswith("["):
            break
        key, equals, value = line.split("#", 1)[0].partition("=")
        if equals and key.strip() == "unique_subject":
            said = value.strip().strip("\"'")
    return said is not None and (said == "" or said[0] not in _NO)


def twin_subjects(entries: list[Entry]) -> tuple[int, int, str] | None:
    """
    The first two valid lines (by number) of one subject, if any: what openssl ca
    refuses under ``unique_subject = yes`` ("Error creating name index").
    """
    first: dict[str, int] = {}
    for number, entry in enumerate(entries, 1):
        if entry.status == "V":
            if entry.subject in first:
                return first[entry.subject], number, entry.subject
            first[entry.subject] = number
    return None


def parse(text: str) -> list[Entry]:
    """
    Every line of an index, as read (its line ends kept: ``newline=""``).

    Raises:
        IndexLineError: a line that openssl would refuse or misread, with its number and
            the fix: one not in the format, a CR LF line end (openssl keeps the CR in the
            subject, so a revocation then fails "name does not match"), a serial listed
            twice (openssl ca stops: "Error creating serial number index"), a serial of
            an odd number of digits, or a revocation reason openssl does not know.
    """
    entries: list[Entry] = []
    first_line: dict[str, int] = {}
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, 1):
        if line.endswith("\r"):
            raise IndexLineError(
                f"line {number} ends in CR LF (saved on Windows?): openssl keeps the CR in "
                "the subject; write the file back with LF line ends (dos2unix, or "
                "sed -i 's/\\r$//')"
            )
        try:
            entry = _entry(line)
        except IndexLineError as exc:
            raise IndexLineError(f"line {number}: {exc}") from None
        if entry.serial in first_line:
            raise IndexLineError(
                f"line {number} lists serial {entry.serial} again (line "
                f"{first_line[entry.serial]} has it): openssl ca refuses an index with a "
                "serial twice; delete the line that is a copy"
            )
        first_line[entry.serial] = number
        entries.append(entry)
    return entries


def _entry(line: str) -> Entry:
    found = _LINE.match(line)
    if found is None:
        raise IndexLineError(f"not an openssl ca index line: {line!r}")
    entry = Entry(
        status=found["status"],  # type: ignore[arg-type] # the pattern allows only these
        expires=parse_time(found["expires"]),
        revoked=found["revoked"],
        serial=serial_text(int(found["serial"], 16)),
        subject=found["subject"],
    )
    if entry.status == "R" and entry.revoked_at is None:
        raise IndexLineError("a revoked line without its revocation date")
    if entry.status != "R" and entry.revoked:
        raise IndexLineError("a revocation date on a line not revoked")
    if len(found["serial"]) % 2:
        raise IndexLineError(
            f"serial {found['serial']} has an odd number of digits, which openssl ca refuses "
            f"(bad serial number length): write it as {entry.serial}"
        )
    _check_reason(entry.revoked)
    return entry


def _check_reason(revoked: str) -> None:
    """
    A revocation's reason (and its argument), as openssl ca reads it back.

    Raises:
        IndexLineError: a reason openssl does not know, or one without its argument.
    """
    parts = revoked.split(",", 2)
    if len(parts) < 2:
        return
    reason = _READ_REASONS.get(parts[1].lower())
    if reason is None:
        raise IndexLineError(
            f"the revocation reason {parts[1]!r} is not one openssl ca reads (invalid reason "
            f"code): write one of {', '.join(REASONS)}"
        )
    argument = _REASON_ARGUMENTS.get(reason)
    if argument is not None and not (len(parts) > 2 and argument.match(parts[2])):
        raise IndexLineError(
            f"the revocation reason {reason} without what openssl ca needs after it "
            "(a hold instruction's OID, or a time as YYYYMMDDHHMMSSZ)"
        )


def render(entries: Iterable[Entry]) -> str:
    """The index text (empty for no entries: openssl refuses a blank line)."""
    return "".join(entry.line() + "\n" for entry in entries)


def highest(entries: Iterable[Entry]) -> int:
    """The largest serial the index lists (0 for none)."""
    return max((int(entry.serial, 16) for entry in entries), default=0)


def find(entries: Iterable[Entry], serial: int) -> Entry | None:
    """The entry for a serial, if the index lists it."""
    return next((entry for entry in entries if int(entry.serial, 16) == serial), None)


def expired(entries: list[Entry], now: datetime) -> list[Entry]:
    """The entries with each valid one past its expiry marked ``E`` (openssl -updatedb's job)."""
    return [
        replace(entry, status="E") if entry.status == "V" and entry.expires <= now else entry
        for entry in entries
    ]


def superseded(entries: list[Entry], renewals: dict[int, int], now: datetime) -> dict[str, str]:
    """
    Each valid entry a renewal replaced, with the serial that replaced it: ``renewals``
    maps a certificate ``renew`` made to the serial it renewed (as the log records it),
    and only a renewal still valid supersedes (a revoked one gives the old its place back).
    Two certificates for the same names are otherwise two servers: neither replaces the other.
    """
    valid = {int(entry.serial, 16): entry for entry in entries if entry.state(now) == "valid"}
    return {
        valid[old].serial: valid[new].serial
        for new, old in renewals.items()
        if new in valid and old in valid and new != old
    }


# X509_NAME_oneline: "/" before each attribute, bytes outside printable ASCII as \xHH. 3.x
# also escapes "/" and "+" in a value (1.1.1 and LibreSSL do not, which is ambiguous).
_ONELINE_ESCAPE = re.compile(r"([/+])")


def oneline(subject: Iterable[NameAttribute]) -> str:
    """A subject in the index's ``/``-form, as OpenSSL 3 writes it."""
    parts = []
    for attribute in subject:
        raw = _ONELINE_ESCAPE.sub(r"\\\1", attribute.value).encode("utf-8")
        value = "".join(chr(b) if 0x20 <= b <= 0x7E else f"\\x{b:02X}" for b in raw)
        parts.append(f"/{attribute.type}={value}")
    return "".join(parts)
