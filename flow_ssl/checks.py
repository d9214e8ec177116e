"""
Pure checks over parsed certificates: does the result match the request, and is
a set ready to install. Each returns Findings; deciding exit codes is the CLI's job.
"""

from __future__ import annotations

from datetime import datetime, timezone
from itertools import pairwise
from typing import TYPE_CHECKING

from flow_ssl import names
from flow_ssl.models import APPLE_MAX_DAYS, Finding, ParsedCertificate

if TYPE_CHECKING:
    from collections.abc import Iterable

    from flow_ssl.models import CertRequest, KeySpec, SanEntry


def _finding(check: str, ok: bool, good: str, bad: str) -> Finding:
    return Finding(check=check, status="pass" if ok else "fail", message=good if ok else bad)


def compare_request(request: CertRequest, result: ParsedCertificate) -> list[Finding]:
    """
    Compare what openssl made with what was asked for, field by field.

    The subject must hold exactly the requested attributes, in order; the SAN
    exactly the requested names (unless --literal); the key and validity as asked.
    """
    findings = [subject_matches(request.subject.attributes(), result)]
    if not request.literal:
        findings.append(names_match(request.names, result))
    findings.append(key_matches_spec(request.key, result))
    if result.kind == "certificate":
        findings.append(validity_matches(request.days, result))
        if not request.literal:
            findings.append(server_extensions(result))
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


def subject_matches(wanted: list[tuple[str, str]], result: ParsedCertificate) -> Finding:
    """The subject holds exactly these attributes, in this order."""
    got = [(a.type, a.value) for a in result.subject]
    return _finding(
        "subject",
        wanted == got,
        "subject is " + _show(got),
        f"subject is {_show(got)}, asked for {_show(wanted)}",
    )


def names_match(wanted: Iterable[SanEntry], result: ParsedCertificate) -> Finding:
    """The SAN holds exactly these names (DNS then IP, each in order)."""
    entries = list(wanted)
    wanted_dns = [n.value for n in entries if n.kind == "dns"]
    wanted_ip = [n.value for n in entries if n.kind == "ip"]
    got = result.subject_alt_names
    return _finding(
        "names",
        got.dns == wanted_dns and got.ip == wanted_ip and not got.email and not got.uri,
        "names (SAN): " + ", ".join(got.dns + got.ip),
        f"names (SAN) are {', '.join(got.dns + got.ip + got.email + got.uri) or 'missing'}, "
        f"asked for {', '.join(wanted_dns + wanted_ip)}",
    )


def key_matches_spec(want: KeySpec, result: ParsedCertificate) -> Finding:
    """The public key is of the kind and size asked for."""
    key = result.public_key
    return _finding(
        "key",
        key.algorithm == want.algorithm
        and key.bits == want.bits
        and (want.curve is None or key.curve == want.curve),
        f"key is {want.name}",
        f"key is {key.algorithm} {key.bits or ''} {key.curve or ''}".rstrip()
        + f", asked for {want.name}",
    )


def validity_matches(days: int, result: ParsedCertificate) -> Finding:
    """Valid for exactly ``days`` days."""
    if result.not_before is None or result.not_after is None:
        return Finding(check="validity", status="fail", message="no validity period")
    seconds = (result.not_after - result.not_before).total_seconds()
    return _finding(
        "validity",
        seconds == days * 86400,
        f"valid {days} days, until {result.not_after:%Y-%m-%d %H:%M} UTC",
        f"valid {seconds / 86400:g} days, asked for {days}",
    )


def server_extensions(result: ParsedCertificate) -> Finding:
    """Not a CA, and usable by a TLS server."""
    bc = result.basic_constraints
    return _finding(
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


def ca_extensions(result: ParsedCertificate, *, path_length: int | None) -> Finding:
    """A CA that may sign certificates (and CRLs), with the path length asked for."""
    bc = result.basic_constraints
    ok = (
        bc is not None
        and bc.ca
        and bc.critical
        and bc.path_length == path_length
        and {"keyCertSign", "cRLSign"} <= set(result.key_usage)
    )
    limit = "no path length limit" if path_length is None else f"pathlen {path_length}"
    return _finding(
        "extensions",
        ok,
        f"a certificate authority (critical CA:TRUE, {limit}, keyCertSign, cRLSign)",
        f"not the CA extensions asked for ({limit}): basicConstraints "
        f"{bc.model_dump() if bc else 'missing'}, keyUsage {', '.join(result.key_usage)}",
    )


def _show(pairs: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{kind}={value}" for kind, value in pairs) or "(empty)"


def failed(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that fail."""
    return [f for f in findings if f.status == "fail"]


# Public CAs may issue at most this many days (CA/Browser Forum): 398, then 200 for
# certificates issued from 15 March 2026 on (ballot SC-081).
PUBLIC_MAX_DAYS = 398
PUBLIC_MAX_DAYS_2026 = 200
PUBLIC_2026_START = datetime(2026, 3, 15, tzinfo=timezone.utc)
WEAK_HASHES = ("md5", "sha1")


def _status(check: str, status: str, message: str) -> Finding:
    return Finding.model_validate({"check": check, "status": status, "message": message})


def validity(leaf: ParsedCertificate, *, now: datetime, min_days: int) -> list[Finding]:
    """not-yet-valid, expired, expires-soon."""
    if leaf.not_before is None or leaf.not_after is None:
        return []
    left = (leaf.not_after - now).total_seconds() / 86400
    return [
        _finding(
            "not-yet-valid",
            leaf.not_before <= now,
            f"valid since {leaf.not_before:%Y-%m-%d %H:%M} UTC",
            f"not valid until {leaf.not_before:%Y-%m-%d %H:%M} UTC (check the clock or wait)",
        ),
        _finding(
            "expired",
            leaf.not_after > now,
            f"valid until {leaf.not_after:%Y-%m-%d %H:%M} UTC",
            f"expired {leaf.not_after:%Y-%m-%d %H:%M} UTC: get a new certificate",
        ),
        _status(
            "expires-soon",
            "pass" if left >= min_days or left <= 0 else "warn",
            f"{int(left)} days left"
            + (f" (under {min_days}: renew soon)" if 0 < left < min_days else ""),
        ),
    ]


def names_and_usage(leaf: ParsedCertificate, hosts: Iterable[str]) -> list[Finding]:
    """san-present, one hostname finding per host (SAN only, as Go), server-auth-eku."""
    san = leaf.subject_alt_names
    entries = [(v, "dns") for v in san.dns] + [(v, "ip") for v in san.ip]
    findings = [
        _finding(
            "san-present",
            bool(entries),
            f"{len(entries)} name(s) in the SAN",
            "no Subject Alternative Name: Chrome, Apple and Go (the admin console) refuse it; "
            "reissue with every name in the SAN",
        )
    ]
    for host in hosts:
        covered = [v for v, kind in entries if names.matches(v, kind, host)]  # type: ignore[arg-type]
        findings.append(
            _finding(
                "hostname",
                bool(covered),
                f"{host} is covered by {covered[0] if covered else ''}",
                f"{host} is not in the SAN ({', '.join(v for v, _ in entries) or 'empty'}); "
                "a wildcard covers exactly one label and the CN does not count",
            )
        )
    eku = leaf.extended_key_usage
    ok = not eku or "serverAuth" in eku or "anyExtendedKeyUsage" in eku
    findings.append(
        _status(
            "server-auth-eku",
            "pass" if eku and ok else "warn",
            "for TLS servers (serverAuth)"
            if eku and ok
            else "no Extended Key Usage: Apple platforms refuse it for TLS servers"
            if not eku
            else f"Extended Key Usage is {', '.join(eku)} without serverAuth: clients refuse it",
        )
    )
    return findings


def strength(leaf: ParsedCertificate, chain: Iterable[ParsedCertificate]) -> list[Finding]:
    """key-strength (RSA >= 2048, EC >= 256) and signature-hash (no SHA-1 or MD5 below roots)."""
    key = leaf.public_key
    weak = (key.algorithm in {"rsa", "dsa"} and (key.bits or 0) < 2048) or (
        key.algorithm == "ec" and (key.bits or 0) < 256
    )
    described = f"{key.algorithm.upper()} {key.curve or f'{key.bits} bits'}"
    findings = [
        _finding(
            "key-strength",
            not weak,
            f"key is {described}",
            f"key is {described}: too weak (RSA needs 2048 bits, EC 256); make a new key",
        )
    ]
    signed = [leaf, *[c for c in chain if not c.self_signed]]
    bad = [
        c for c in signed if any(h in (c.signature_algorithm or "").lower() for h in WEAK_HASHES)
    ]
    findings.append(
        _finding(
            "signature-hash",
            not bad,
            f"signed with {leaf.signature_algorithm}",
            "signed with "
            + ", ".join(sorted({c.signature_algorithm or "" for c in bad}))
            + ": clients refuse SHA-1 and MD5; ask the CA to reissue",
        )
    )
    return findings


def period(leaf: ParsedCertificate, *, public: bool) -> Finding:
    """validity-period: Apple's 825 days, and the public CAs' limit."""
    if leaf.not_before is None or leaf.not_after is None:
        return _status("validity-period", "pass", "no validity dates")
    days = (leaf.not_after - leaf.not_before).total_seconds() / 86400
    limit = PUBLIC_MAX_DAYS_2026 if leaf.not_before >= PUBLIC_2026_START else PUBLIC_MAX_DAYS
    if days > APPLE_MAX_DAYS:
        return _status(
            "validity-period", "warn",
            f"valid {days:.0f} days: Apple platforms refuse over {APPLE_MAX_DAYS}",
        )  # fmt: skip
    if public and days > limit + 1:
        return _status(
            "validity-period", "warn",
            f"valid {days:.0f} days: a publicly trusted certificate may last at most {limit}",
        )  # fmt: skip
    return _status("validity-period", "pass", f"valid {days:.0f} days in all")


def chain_order(items: list[ParsedCertificate]) -> Finding:
    """chain-order: a combined file is leaf first, each certificate signed by the next."""
    if len(items) < 2:
        return _status("chain-order", "pass", "a single certificate")
    if items[0].basic_constraints and items[0].basic_constraints.ca:
        leaves = [
            i for i, c in enumerate(items) if not (c.basic_constraints and c.basic_constraints.ca)
        ]
        where = f" (the leaf is number {leaves[0] + 1})" if leaves else ""
        return _status(
            "chain-order", "fail",
            f"the file starts with a CA certificate{where}: put the server certificate first",
        )  # fmt: skip
    for number, (child, parent) in enumerate(pairwise(items), 1):
        if not parent.issued(child):
            return _status(
                "chain-order", "fail",
                f"certificate {number + 1} did not issue certificate {number}: "
                "order them leaf, intermediate(s), (root)",
            )  # fmt: skip
    return _status("chain-order", "pass", f"{len(items)} certificates, each issued by the next")
