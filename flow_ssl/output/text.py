"""
What a person reads: aligned, short, no dumps, and safe for a terminal. Pure (returns text).

Every value that comes from a file, a server or the operator goes through
``shown``, so an escape sequence in a certificate can neither clear the screen
nor rewrite a FAIL line. JSON (json_data.py) carries the exact values.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from flow_ssl.ca.crl import Published
    from flow_ssl.ca.index import Entry
    from flow_ssl.ca.inventory import Inventory
    from flow_ssl.ca.trust import Instructions
    from flow_ssl.core.models import Finding, NameAttribute, ParsedCertificate
    from flow_ssl.doctor import Diagnosis
    from flow_ssl.make.batch import Job, Outcome
    from flow_ssl.make.run import Made
    from flow_ssl.openssl.commands.base import Prompt

EXPIRY_HIGHLIGHT_DAYS = 30
# A part worth a colour on a terminal (red); plain text marks it " (!)" instead.
ALERT = "alert"
_MARKS = {"pass": "ok  ", "warn": "WARN", "fail": "FAIL"}
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _is_control(char: str) -> bool:
    """C0/C1 controls, DEL, and the invisible format characters (bidi overrides)."""
    return unicodedata.category(char) in {"Cc", "Cf"} and char != "\u00ad"


def shown(value: object) -> str:
    """A value made safe for a terminal: its control characters written as escapes."""
    text = str(value)
    if text.isprintable():  # the common case, decided in C: no control character at all
        return text
    return "".join(_escape(char) if _is_control(char) else char for char in text)


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def terminal_safe(text: str) -> str:
    """A whole block for a terminal: every control character but the line breaks escaped."""
    return "\n".join(map(shown, text.split("\n")))


@dataclass(frozen=True)
class Styled:
    """
    Text for a person, with the parts a terminal may colour marked by a style.

    Every part's values went through ``shown`` already. The console colours it (rich,
    on a terminal) or prints ``plain``: the style decides nothing else.
    """

    parts: tuple[tuple[str, str], ...]

    def plain(self) -> str:
        """The text without colour: an ALERT part followed by " (!)"."""
        return "".join(text + (" (!)" if style == ALERT else "") for text, style in self.parts)


def findings_table(findings: Iterable[Finding]) -> str:
    """One line a finding: status, check ID, message."""
    rows = list(findings)
    width = max((len(f.check) for f in rows), default=0)
    return "\n".join(f"  {_MARKS[f.status]}  {f.check:<{width}}  {shown(f.message)}" for f in rows)


def verdict(findings: Sequence[Finding], *, served: bool) -> str:
    """The last line of check/probe: never says clients accept what they will not."""
    statuses = {f.check: f.status for f in findings}
    if any(f.status == "fail" for f in findings):
        return "NOT ready: fix the FAIL lines above."
    if statuses.get("chain-verifies") != "pass":
        what = "Served as configured" if served else "Ready to install"
        return f"{what}, but clients refuse it until they trust its root (see the WARN lines)."
    warned = sorted({f.check for f in findings if f.status == "warn"})
    if warned:
        what = "Served" if served else "Ready to install"
        return f"{what}, with warnings: read the WARN lines ({', '.join(warned)}) first."
    return (
        "Ready: clients that trust its root accept what it sends."
        if served
        else "Ready to install."
    )


def name_text(attributes: Iterable[NameAttribute] | None) -> str:
    """``CN=flow.mycompany.com, O=My Company`` (display only; JSON has the exact values)."""
    return ", ".join(f"{shown(a.type)}={shown(a.value)}" for a in attributes or ()) or "(empty)"


def answers_text(prompts: Sequence[Prompt]) -> str:
    """The answers as a person would type them ('.' leaves a field blank), as comments."""
    width = max((len(p.display) for p in prompts), default=0)
    return "\n".join(f"#   {p.display + ':':<{width + 1}} {shown(p.answer)}" for p in prompts)


def days_left(moment: datetime, now: datetime | None = None) -> int:
    """Whole days from now until ``moment`` (negative once past)."""
    now = now or datetime.now(timezone.utc)
    return int((moment - now).total_seconds() // 86400)


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def certificate_summaries(found: Sequence[Sequence[ParsedCertificate]]) -> Styled:
    """``inspect``: a block for each certificate or CSR of each file, a blank line between."""
    parts: list[tuple[str, str]] = []
    for certs in found:
        for cert in certs:
            if parts:
                parts.append(("\n\n", ""))
            parts += certificate_summary(cert, total=len(certs)).parts
    return Styled(tuple(parts))


def certificate_summary(cert: ParsedCertificate, *, total: int = 1) -> Styled:
    """A short aligned block for one certificate or CSR (``total``: how many in its file)."""
    rows: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    title = "Certificate request" if cert.kind == "csr" else "Certificate"
    tags = []
    if cert.basic_constraints and cert.basic_constraints.ca:
        tags.append("CA")
    if cert.self_signed:
        tags.append("self-signed")
    number = f" {cert.index + 1} of {total}" if total > 1 else ""
    header = f"{title}{number}: {shown(cert.source)}"
    if tags:
        header += f"  [{', '.join(tags)}]"

    def row(label: str, value: str) -> None:
        rows.append((label, ((value, ""),)))

    row("Subject", name_text(cert.subject))
    if cert.issuer is not None and not cert.self_signed:
        row("Issuer", name_text(cert.issuer))
    san = cert.subject_alt_names
    names = san.dns + san.ip + san.email + san.uri
    is_ca = bool(cert.basic_constraints and cert.basic_constraints.ca)
    no_names = "none" if is_ca else "none (modern clients will refuse it)"
    row("Names (SAN)", ", ".join(map(shown, names)) if names else no_names)
    if cert.name_constraints is not None:
        from flow_ssl.core.name_constraints import describe

        critical = (
            "" if cert.name_constraints.critical else " (not critical: clients may ignore it)"
        )
        row("Constraints", shown(describe(cert.name_constraints)) + critical)
    if cert.not_before and cert.not_after:
        rows.append(("Valid", _validity(cert.not_before, cert.not_after)))
    key = cert.public_key
    key_text = key.algorithm.upper()
    if key.curve:
        key_text += f" {key.curve}"
    elif key.bits:
        key_text += f" {key.bits} bits"
    row("Key", shown(key_text))
    if cert.extended_key_usage:
        row("Usage", shown(", ".join(cert.extended_key_usage)))
    if cert.signature_algorithm:
        row("Signature", shown(cert.signature_algorithm))
    if cert.serial:
        row("Serial", cert.serial)
    if cert.sha256_fingerprint:
        row("SHA-256", cert.sha256_fingerprint)
    width = max(len(label) for label, _ in rows)
    parts = [(header, "")]
    for label, value in rows:
        parts += [(f"\n  {label:<{width}}  ", ""), *value]
    return Styled(tuple(parts))


def _validity(not_before: datetime, not_after: datetime) -> tuple[tuple[str, str], ...]:
    """The dates, then how long is left: an ALERT within EXPIRY_HIGHLIGHT_DAYS or past."""
    now = datetime.now(timezone.utc)
    left = days_left(not_after, now)
    if not_after <= now:
        ago = days_left(now, not_after)  # whole days since it ended
        status = f"EXPIRED {_days(ago)} ago" if ago else "EXPIRED less than a day ago"
    elif not_before > now:  # even by a minute: clients refuse it until then
        status = "NOT YET VALID"
    else:
        status = f"{_days(left)} left" if left else "less than a day left"
    dates = f"{not_before:%Y-%m-%d %H:%M} to {not_after:%Y-%m-%d %H:%M} UTC, "
    return (dates, ""), (status, ALERT if left < EXPIRY_HIGHLIGHT_DAYS else "")


def certificate_list(certificates: Sequence[ParsedCertificate]) -> str:
    """``  1. CN=...`` a line, in order."""
    return "\n".join(
        f"  {number}. {name_text(cert.subject)}" for number, cert in enumerate(certificates, 1)
    )


def made_summary(key: Path, out: Path, *, x509: bool, kept: bool = False) -> str:
    """What selfsigned / csr / renew wrote (``kept``: the key was kept), and what is next."""
    made = "certificate" if x509 else "certificate request"
    lines = (
        [f"Wrote {shown(out)} ({made}) for the key {shown(key)}, kept as it was."]
        if kept
        else [f"Wrote {shown(key)} (private key, mode 0600) and {shown(out)} ({made})."]
    )
    if not x509:
        lines.append(f"Send {shown(out)} to your CA; keep {shown(key)} on the server only.")
    return "\n".join(lines)


def backups_text(backups: Iterable[tuple[Path, Path]]) -> str:
    """Where each replaced file was kept."""
    return "\n".join(f"Kept the old {shown(old)} as {shown(kept)}." for old, kept in backups)


def ca_made_summary(
    folder: Path, name: str, cert: ParsedCertificate, *, root: bool, crl_url: str | None = None
) -> str:
    """What ``ca init`` made, and what to do with it next."""
    from flow_ssl.core.name_constraints import describe

    what = "root CA" if root else "issuing CA"
    lines = [
        f"Made the {what} {name!r} in {shown(folder)} (key {shown(folder / 'ca.key')}, mode 0600).",
        f"  valid until {cert.not_after:%Y-%m-%d}; SHA-256 {cert.sha256_fingerprint}",
    ]
    if cert.name_constraints is not None:
        lines.append(f"  may sign only for: {shown(describe(cert.name_constraints))}")
    if crl_url:
        lines.append(
            f"  what it signs names {shown(crl_url)} for its CRL: publish it there, as DER "
            f"(flow-ssl ca crl --dir {shown(folder)} --out FILE --der)"
        )
    if root:
        lines.append(f"Trust it on your clients: flow-ssl ca trust --dir {shown(folder)}")
    lines.append(f"Sign a CSR: flow-ssl ca sign SERVER.csr --dir {shown(folder)}")
    return "\n".join(lines)


def issued_summary(issued: Made, written: dict[str, str], root: Path, folder: Path) -> str:
    """What ``ca sign`` / ``ca issue`` wrote, and what clients must trust."""
    san = issued.cert.subject_alt_names
    lines = []
    if "key" in written:
        lines.append(f"Wrote {shown(written['key'])} (private key, mode 0600).")
    names = ", ".join(map(shown, san.dns + san.ip))
    chain = shown(written["fullchain"])
    lines += [
        f"Wrote {shown(written['certificate'])} (serial {issued.serial}, for {names}) and {chain}.",
        findings_table(issued.findings),
    ]
    if issued.backups:
        lines.append(backups_text(issued.backups))
    lines.append(
        f"Install {shown(written['fullchain'])} with its key; clients must trust "
        f"{shown(root)} (flow-ssl ca trust --dir {shown(folder)})."
    )
    return "\n".join(lines)


def published_summary(published: Published, written: dict[str, str], folder: Path) -> str:
    """What ``ca revoke`` / ``ca crl`` did: the revocation, the CRL, when to make the next."""
    crl = published.crl
    lines = []
    entry = published.revoked
    if entry is not None:
        when = f"{entry.revoked_at:%Y-%m-%d %H:%M} UTC" if entry.revoked_at else "now"
        why = entry.reason or "no reason given"
        lines.append(
            f"Revoked serial {entry.serial} ({shown(entry.subject)}) in "
            f"{shown(folder / 'index.txt')}: {why}, {when}."
        )
    next_update = f"{crl.next_update:%Y-%m-%d %H:%M} UTC" if crl.next_update else "never"
    also = f" (and {shown(written['out'])})" if "out" in written else ""
    made = (
        f"Wrote {shown(written['crl'])}{also}: CRL number {crl.number}, "
        f"{len(crl.revoked)} revoked, next update {next_update}."
    )
    lines += [made, findings_table(published.findings)]
    if published.backups:
        lines.append(backups_text(published.backups))
    lines.append(
        f"Publish it where clients fetch it, and make a new one before {next_update} "
        f"(clients that check revocation refuse every certificate of the CA after it): "
        f"flow-ssl ca crl --dir {shown(folder)}"
    )
    return "\n".join(lines)


def inventory_text(found: Inventory, name: str, folder: Path) -> str:
    """``ca list``: a count, one aligned line per certificate, the CRL."""
    counts = {state: sum(i.state == state for i in found.listed) for state in _STATES}
    lines = [
        f"{shown(name)} ({shown(folder)}): {len(found.listed)} certificate(s), "
        + ", ".join(f"{count} {state}" for state, count in counts.items())
    ]
    rows = [
        (
            item.entry.serial,
            item.state,
            f"{item.entry.expires:%Y-%m-%d}",
            ", ".join(map(shown, item.names)) or shown(item.entry.subject),
            _revocation_text(item.entry) if item.state == "revoked" else "",
        )
        for item in found.listed
    ]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(3)]
    head = ("SERIAL", "STATUS", "EXPIRES")
    widths = [max(width, len(label)) for width, label in zip(widths, head, strict=True)]
    if rows:
        lines.append(
            "  " + "  ".join(f"{h:<{w}}" for h, w in zip(head, widths, strict=True)) + "  NAMES"
        )
    for row in rows:
        fields = "  ".join(f"{v:<{w}}" for v, w in zip(row[:3], widths, strict=True))
        lines.append(f"  {fields}  {row[3]}{row[4]}".rstrip())
    crl = found.crl
    if crl is None:
        lines.append("CRL: none made yet")
    else:
        until = f"{crl.next_update:%Y-%m-%d %H:%M} UTC" if crl.next_update else "no nextUpdate"
        lines.append(f"CRL: number {crl.number}, {len(crl.revoked)} revoked, next update {until}")
    return "\n".join(lines)


_STATES = ("valid", "revoked", "expired")


def _revocation_text(entry: Entry) -> str:
    when = f"{entry.revoked_at:%Y-%m-%d}" if entry.revoked_at else ""
    return f"  (revoked {when}{', ' + shown(entry.reason) if entry.reason else ''})"


def trust_text(root: Path, name: str, fingerprint: str, systems: Iterable[Instructions]) -> str:
    """``ca trust``: copy, check the fingerprint, then each system's commands."""
    from flow_ssl.ca.trust import file_name
    from flow_ssl.openssl.commands.base import posix_quote

    local = file_name(name)
    lines = [
        f"# Trust {name!r} on each client: copy {shown(root)} there as {local},",
        "# check its fingerprint, then run the lines for that system in its folder.",
        f"#   SHA-256 {fingerprint}",
        f"openssl x509 -in {posix_quote(local)} -noout -fingerprint -sha256",
    ]
    for instruction in systems:
        lines.append(f"\n# {instruction.system}")
        if instruction.note:
            lines.append(f"#   ({instruction.note})")
        lines += instruction.commands
    return "\n".join(lines)


def diagnosis_text(found: Diagnosis) -> str:
    """``doctor``: one aligned line a fact, the problems last."""
    store = found.trust_store
    rows = [
        ("flow-ssl", found.flow_ssl),
        ("Python", f"{found.python} on {found.platform}"),
        ("openssl", f"{found.openssl_path or 'not found'} (from {found.chosen_by})"),
    ]
    if found.openssl:
        rows.append(("version", found.openssl))
        has = [name for name, ok in found.capabilities.items() if ok]
        lacks = [name for name, ok in found.capabilities.items() if not ok]
        rows.append(("features", ", ".join(has) or "none"))
        if lacks:
            rows.append(("missing", ", ".join(lacks)))
        rows += [("fallback", fallback) for fallback in found.fallbacks]
    if store:
        where = " and ".join(str(store[k]) for k in ("file", "folder") if store[k])
        rows.append(
            (
                "trust store",
                f"{where} ({store['source']}; {'found' if store['exists'] else 'MISSING'})",
            )
        )
    cache = found.probe_cache
    if "binaries" in cache:
        dropped = f"{cache['dropped']} dropped and asked again; " if "dropped" in cache else ""
        known = f"{cache['binaries']} openssl binar{'y' if cache['binaries'] == 1 else 'ies'}"
        if "unusable" in cache:
            known = f"cannot be used: {cache['unusable']}; every run asks openssl again"
        else:
            known += " remembered"
        if cache.get("script"):
            known += (
                f"; {found.openssl_path} is a script: what it runs is not watched, so run "
                "doctor --refresh after changing that"
            )
        rows.append(("probe cache", f"{cache['folder']} ({dropped}{known})"))
    rows.append(("locale", f"{found.encoding} ({'UTF-8' if found.utf8 else 'not UTF-8'})"))
    rows.append(("self-test", found.self_test))
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {shown(value)}" for label, value in rows]
    if found.problems:
        lines += ["", "Problems:", *(f"  - {shown(problem)}" for problem in found.problems)]
    else:
        lines += ["", "All good."]
    return "\n".join(lines)


def batch_summary(outcomes: Sequence[Outcome], seconds: float) -> str:
    """One line per manifest entry (number, result, mode, name, detail), then the counts."""
    name_width = max((len(shown(o.job.name)) for o in outcomes), default=0)
    marks = {"made": "made", "skipped": "skip", "failed": "FAIL"}
    lines = [
        f"  #{o.job.number:<3} {marks[o.status]}  {o.job.mode:<10} "
        f"{shown(o.job.name):<{name_width}}  {shown(o.message)}"
        for o in outcomes
    ]
    counts = {status: sum(o.status == status for o in outcomes) for status in marks}
    tail = " (--force redoes skipped entries)" if counts["skipped"] else ""
    lines.append(
        f"{counts['made']} made, {counts['skipped']} skipped, {counts['failed']} failed "
        f"in {seconds:.1f}s{tail}"
    )
    return "\n".join(lines)


def batch_failure(failed: Sequence[Outcome], total: int) -> str:
    """The one line a batch with failed entries ends with (each failed entry named)."""
    named = ", ".join(f"#{o.job.number} {shown(o.job.name)}" for o in failed)
    return f"{len(failed)} of {total} entries failed: {named}"


def batch_heading(manifest: Path, jobs: Sequence[Job]) -> str:
    """``batch --print``'s first line: the manifest and how many entries it makes."""
    return f"flow-ssl batch {manifest}: {len(jobs)} entries, each made as flow-ssl makes it"
