"""
Findings: how every check reports, and how a set of them refuses a result.

One helper builds a Finding, so each check reads as its rule and its words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flow_ssl.core.errors import CheckFailedError
from flow_ssl.core.models import Finding

if TYPE_CHECKING:
    from collections.abc import Iterable

    from flow_ssl.core.models import FindingStatus


def finding(check: str, status: FindingStatus | bool, message: str, failure: str = "") -> Finding:
    """
    One finding; a bool status is pass/fail, and ``failure`` is then the message on fail.

    ``finding("expired", not_after > now, "valid until ...", "expired ...")`` reads
    as the rule it checks.
    """
    if isinstance(status, bool):
        status, message = ("pass", message) if status else ("fail", failure or message)
    return Finding(check=check, status=status, message=message)


def failed(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that fail."""
    return [f for f in findings if f.status == "fail"]


def refuse_failures(findings: Iterable[Finding], what: str) -> None:
    """
    Stop, writing nothing, when any finding fails.

    Raises:
        CheckFailedError: naming ``what`` and listing each failing finding.
    """
    problems = failed(findings)
    if problems:
        raise CheckFailedError(
            f"{what} does not match what was asked; nothing was written",
            problems=tuple(f"{f.check}: {f.message}" for f in problems),
        )
