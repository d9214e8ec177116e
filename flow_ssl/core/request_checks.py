"""
Does what openssl made match what was asked for? Pure comparisons, one Finding each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flow_ssl.core.findings import finding

if TYPE_CHECKING:
    from collections.abc import Iterable

    from flow_ssl.core.models import CertRequest, Finding, KeySpec, ParsedCertificate, SanEntry


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
            finding(
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
    return finding(
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
    return finding(
        "names",
        got.dns == wanted_dns and got.ip == wanted_ip and not got.email and not got.uri,
        "names (SAN): " + ", ".join(got.dns + got.ip),
        f"names (SAN) are {', '.join(got.dns + got.ip + got.email + got.uri) or 'missing'}, "
        f"asked for {', '.join(wanted_dns + wanted_ip)}",
    )


def key_matches_spec(want: KeySpec, result: ParsedCertificate) -> Finding:
    """The public key is of the kind and size asked for."""
    key = result.public_key
    return finding(
        "key",
        key.algorithm == want.algorithm
        and key.bits == want.bits
        and (want.curve is None or key.curve == want.curve),
        f"key is {want.name}",
        f"key is {key.algorithm} {key.bits or ''} {key.curve or ''}".rstrip()
        + f", asked for {want.name}",
    )


def validity_matches(days: int, result: ParsedCertificate) -> Finding:
    """
    Valid for exactly ``days`` days, give or take the second openssl's clock may tick
    between reading notBefore and notAfter (it reads the time twice; seen under load).
    """
    if result.not_before is None or result.not_after is None:
        return finding("validity", "fail", "no validity period")
    seconds = (result.not_after - result.not_before).total_seconds()
    return finding(
        "validity",
        abs(seconds - days * 86400) <= 1,
        f"valid {days} days, until {result.not_after:%Y-%m-%d %H:%M} UTC",
        f"valid {seconds / 86400:.6g} days ({seconds:.0f} s), asked for {days}",
    )


def server_extensions(result: ParsedCertificate) -> Finding:
    """Not a CA, and usable by a TLS server."""
    bc = result.basic_constraints
    return finding(
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
    return finding(
        "extensions",
        ok,
        f"a certificate authority (critical CA:TRUE, {limit}, keyCertSign, cRLSign)",
        f"not the CA extensions asked for ({limit}): basicConstraints "
        f"{bc.model_dump() if bc else 'missing'}, keyUsage {', '.join(result.key_usage)}",
    )


def _show(pairs: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{kind}={value}" for kind, value in pairs) or "(empty)"
