"""
Pure checks over parsed certificates: does the result match the request, and is
a set ready to install. Each returns Findings; deciding exit codes is the CLI's job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flow_ssl.models import CertRequest, Finding, ParsedCertificate

if TYPE_CHECKING:
    from collections.abc import Iterable


def _finding(check: str, ok: bool, good: str, bad: str) -> Finding:
    return Finding(check=check, status="pass" if ok else "fail", message=good if ok else bad)


def compare_request(request: CertRequest, result: ParsedCertificate) -> list[Finding]:
    """
    Compare what openssl made with what was asked for, field by field.

    The subject must hold exactly the requested attributes, in order; the SAN
    exactly the requested names (unless --literal); the key and validity as asked.
    """
    findings: list[Finding] = []
    wanted_subject = request.subject.attributes()
    got_subject = [(a.type, a.value) for a in result.subject]
    findings.append(
        _finding(
            "subject",
            wanted_subject == got_subject,
            "subject is " + _show(got_subject),
            f"subject is {_show(got_subject)}, asked for {_show(wanted_subject)}",
        )
    )
    if not request.literal:
        wanted_dns = [n.value for n in request.names if n.kind == "dns"]
        wanted_ip = [n.value for n in request.names if n.kind == "ip"]
        got = result.subject_alt_names
        findings.append(
            _finding(
                "names",
                got.dns == wanted_dns and got.ip == wanted_ip,
                "names (SAN): " + ", ".join(got.dns + got.ip),
                f"names (SAN) are {', '.join(got.dns + got.ip) or 'missing'}, "
                f"asked for {', '.join(wanted_dns + wanted_ip)}",
            )
        )
    key = result.public_key
    want = request.key
    findings.append(
        _finding(
            "key",
            key.algorithm == want.algorithm
            and key.bits == want.bits
            and (want.curve is None or key.curve == want.curve),
            f"key is {want.name}",
            f"key is {key.algorithm} {key.bits or ''} {key.curve or ''}".rstrip()
            + f", asked for {want.name}",
        )
    )
    if result.kind == "certificate" and result.not_before and result.not_after:
        seconds = (result.not_after - result.not_before).total_seconds()
        days = seconds / 86400
        findings.append(
            _finding(
                "validity",
                seconds == request.days * 86400,
                f"valid {request.days} days, until {result.not_after:%Y-%m-%d %H:%M} UTC",
                f"valid {days:g} days, asked for {request.days}",
            )
        )
        if not request.literal:
            bc = result.basic_constraints
            findings.append(
                _finding(
                    "extensions",
                    bc is not None
                    and not bc.ca
                    and "serverAuth" in result.extended_key_usage
                    and "digitalSignature" in result.key_usage,
                    "a server certificate (CA:FALSE, serverAuth)",
                    "extensions are not those of a server certificate "
                    f"(CA: {bc.ca if bc else 'unset'}, EKU: "
                    f"{', '.join(result.extended_key_usage) or 'none'})",
                )
            )
    if result.kind == "csr":
        findings.append(
            _finding(
                "no-challenge-password",
                "challengePassword" not in result.attributes,
                "no challenge password",
                "the CSR carries a challenge password",
            )
        )
    return findings


def _show(pairs: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{kind}={value}" for kind, value in pairs) or "(empty)"


def failed(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that fail."""
    return [f for f in findings if f.status == "fail"]
