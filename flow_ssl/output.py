"""
Human-readable rendering of results: aligned, short, no dumps. Pure (returns text).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from flow_ssl.commands import Command, Shell
    from flow_ssl.models import Finding, NameAttribute, ParsedCertificate

EXPIRY_HIGHLIGHT_DAYS = 30
_MARKS = {"pass": "ok  ", "warn": "WARN", "fail": "FAIL"}


def findings_table(findings: Iterable[Finding]) -> str:
    """One line a finding: status, check ID, message."""
    rows = list(findings)
    width = max((len(f.check) for f in rows), default=0)
    return "\n".join(f"  {_MARKS[f.status]}  {f.check:<{width}}  {f.message}" for f in rows)


def name_text(attributes: Iterable[NameAttribute] | None) -> str:
    """``CN=flow.mycompany.com, O=My Company`` (display only; JSON has the exact values)."""
    return ", ".join(f"{a.type}={a.value}" for a in attributes or ()) or "(empty)"


def command_text(command: Command, shell: Shell, *, explain: bool) -> str:
    """The command line; with --explain, first each option with its meaning as comments."""
    line = command.render(shell)
    if not explain:
        return line
    parts = command.explain(shell)
    width = max(len(text) for text, _ in parts)
    notes = [f"#  {text:<{width}}  {why}" for text, why in parts]
    return "\n".join([*notes, line])


def days_left(moment: datetime, now: datetime | None = None) -> int:
    """Whole days from now until ``moment`` (negative once past)."""
    now = now or datetime.now(timezone.utc)
    return int((moment - now).total_seconds() // 86400)


def certificate_summary(cert: ParsedCertificate, *, color: bool = False) -> str:
    """A short aligned block for one certificate or CSR."""
    rows: list[tuple[str, str]] = []
    title = "Certificate request" if cert.kind == "csr" else "Certificate"
    tags = []
    if cert.basic_constraints and cert.basic_constraints.ca:
        tags.append("CA")
    if cert.self_signed:
        tags.append("self-signed")
    header = f"{title} {cert.index + 1}: {cert.source}" if cert.index else f"{title}: {cert.source}"
    if tags:
        header += f"  [{', '.join(tags)}]"
    rows.append(("Subject", name_text(cert.subject)))
    if cert.issuer is not None and not cert.self_signed:
        rows.append(("Issuer", name_text(cert.issuer)))
    san = cert.subject_alt_names
    names = san.dns + san.ip + san.email + san.uri
    rows.append(
        ("Names (SAN)", ", ".join(names) if names else "none (modern clients will refuse it)")
    )
    if cert.not_before and cert.not_after:
        left = days_left(cert.not_after)
        if left < 0:
            status = f"EXPIRED {-left} days ago"
        elif days_left(cert.not_before) > 0:
            status = "NOT YET VALID"
        else:
            status = f"{left} days left"
        if color and left < EXPIRY_HIGHLIGHT_DAYS:
            status = f"\033[1;31m{status}\033[0m"
        elif left < EXPIRY_HIGHLIGHT_DAYS:
            status = f"{status} (!)"
        span = f"{cert.not_before:%Y-%m-%d %H:%M} to {cert.not_after:%Y-%m-%d %H:%M} UTC"
        rows.append(("Valid", f"{span}, {status}"))
    key = cert.public_key
    key_text = key.algorithm.upper()
    if key.curve:
        key_text += f" {key.curve}"
    elif key.bits:
        key_text += f" {key.bits} bits"
    rows.append(("Key", key_text))
    if cert.extended_key_usage:
        rows.append(("Usage", ", ".join(cert.extended_key_usage)))
    if cert.signature_algorithm:
        rows.append(("Signature", cert.signature_algorithm))
    if cert.serial:
        rows.append(("Serial", cert.serial))
    if cert.sha256_fingerprint:
        rows.append(("SHA-256", cert.sha256_fingerprint))
    width = max(len(label) for label, _ in rows)
    return header + "\n" + "\n".join(f"  {label:<{width}}  {value}" for label, value in rows)


_BAR_WIDTH = 24


def progress_bar(done: int, total: int, label: str) -> str:
    """``[#######.....]  7/24  flow.mycompany.com`` (one terminal line, redrawn)."""
    filled = _BAR_WIDTH * done // max(total, 1)
    return (
        f"[{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {done:>{len(str(total))}}/{total}  {label}"
    )


def batch_table(rows: Iterable[tuple[int, str, str, str, str]]) -> str:
    """One line per manifest entry: number, result, mode, name, detail."""
    lines = list(rows)
    name_width = max((len(row[3]) for row in lines), default=0)
    marks = {"made": "made", "skipped": "skip", "failed": "FAIL"}
    return "\n".join(
        f"  #{number:<3} {marks.get(status, status)}  {mode:<10} {name:<{name_width}}  {detail}"
        for number, status, mode, name, detail in lines
    )
