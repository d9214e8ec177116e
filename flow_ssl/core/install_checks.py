"""
Is a certificate ready to install? The rules clients apply (Go, browsers, Apple). Pure.
"""

from __future__ import annotations

from datetime import datetime, timezone
from itertools import pairwise
from typing import TYPE_CHECKING

from flow_ssl.core import names
from flow_ssl.core.findings import finding
from flow_ssl.core.models import APPLE_MAX_DAYS

if TYPE_CHECKING:
    from collections.abc import Iterable

    from flow_ssl.core.models import Finding, ParsedCertificate

# Public CAs may issue at most this many days (CA/Browser Forum): 398, then 200 for
# certificates issued from 15 March 2026 on (ballot SC-081).
PUBLIC_MAX_DAYS = 398
PUBLIC_MAX_DAYS_2026 = 200
PUBLIC_2026_START = datetime(2026, 3, 15, tzinfo=timezone.utc)
# Signature algorithms clients refuse, by the reader's name for them, and their hash.
WEAK_SIGNATURES = {
    "md2WithRSAEncryption": "MD2",
    "md4WithRSAEncryption": "MD4",
    "md5WithRSAEncryption": "MD5",
    "md5WithRSA": "MD5",
    "md5": "MD5",
    "mdc2WithRSA": "MDC-2",
    "shaWithRSAEncryption": "SHA-0",
    "dsaWithSHA": "SHA-0",
    "sha1WithRSAEncryption": "SHA-1",
    "sha1WithRSA": "SHA-1",
    "dsaWithSHA1": "SHA-1",
    "dsaWithSHA1-old": "SHA-1",
    "ecdsa-with-SHA1": "SHA-1",
}
# The hashes RSASSA-PSS parameters may name that clients refuse, by the reader's name.
WEAK_HASHES = {"md2": "MD2", "md4": "MD4", "md5": "MD5", "sha1": "SHA-1"}
# RSASSA-PSS as Go (the admin console) and pyca take it: one of these hashes, an MGF1 mask
# of the same hash, and a salt as long as its digest (openssl takes any of them).
PSS_SALTS = {"sha256": 32, "sha384": 48, "sha512": 64}


def validity(
    leaf: ParsedCertificate, *, now: datetime, min_days: int, renew_within: int | None = None
) -> list[Finding]:
    """
    not-yet-valid, expired, expires-soon.

    ``renew_within``: expiring within that many days fails (for a cron job's exit code);
    otherwise fewer than ``min_days`` left only warns.
    """
    if leaf.not_before is None or leaf.not_after is None:
        return []
    left = (leaf.not_after - now).total_seconds() / 86400
    due = renew_within is not None and left < renew_within
    return [
        finding(
            "not-yet-valid",
            leaf.not_before <= now,
            f"valid since {leaf.not_before:%Y-%m-%d %H:%M} UTC",
            f"not valid until {leaf.not_before:%Y-%m-%d %H:%M} UTC (check the clock or wait)",
        ),
        finding(
            "expired",
            leaf.not_after > now,
            f"valid until {leaf.not_after:%Y-%m-%d %H:%M} UTC",
            f"expired {leaf.not_after:%Y-%m-%d %H:%M} UTC: get a new certificate",
        ),
        finding(
            "expires-soon",
            "fail" if due else "pass" if left >= min_days or left <= 0 else "warn",
            _time_left(left)
            + (
                f" (under {renew_within}: renew now)"
                if due
                else f" (under {min_days}: renew soon)"
                if 0 < left < min_days
                else ""
            ),
        ),
    ]


def _time_left(days: float) -> str:
    """Whole days left, said as an operator reads it (the expired finding covers the past)."""
    if days <= 0:
        return "no time left: it has expired"
    whole = int(days)
    return (
        "less than a day left"
        if whole == 0
        else "1 day left"
        if whole == 1
        else f"{whole} days left"
    )


def names_and_usage(leaf: ParsedCertificate, hosts: Iterable[str]) -> list[Finding]:
    """san-present, one hostname finding per host (SAN only, as Go), server-auth-eku."""
    san = leaf.subject_alt_names
    entries = [(v, "dns") for v in san.dns] + [(v, "ip") for v in san.ip]
    findings = [
        finding(
            "san-present",
            bool(entries),
            f"{len(entries)} name(s) in the SAN",
            "no Subject Alternative Name: Chrome, Apple and Go (the admin console) refuse it; "
            "reissue with every name in the SAN",
        )
    ]
    covering = names.Coverage(entries)
    for host in hosts:
        covered = covering.covers(host)
        findings.append(
            finding(
                "hostname",
                bool(covered),
                f"{host} is covered by {covered[0] if covered else ''}",
                f"{host} is not in the SAN ({', '.join(v for v, _ in entries) or 'empty'}); "
                "a wildcard covers exactly one label and the CN does not count"
                + (
                    "; a name ending in a dot matches only that dotted name (Go, OpenSSL)"
                    if any(v.endswith(".") for v in san.dns)
                    else ""
                )
                + "".join(
                    f"; {v} covers no name: {names.TOO_BROAD} (flow-ssl's own rule, and "
                    "OpenSSL's, Python's and GnuTLS's)"
                    for v in san.dns
                    if names.too_broad(v.lower())
                ),
            )
        )
    findings.append(server_use(leaf))
    return findings


def server_use(leaf: ParsedCertificate) -> Finding:
    """server-auth-eku: a TLS server's certificate: serverAuth, not a CA, a usable keyUsage."""
    eku, usage = leaf.extended_key_usage, set(leaf.key_usage)
    if leaf.basic_constraints and leaf.basic_constraints.ca:
        return finding(
            "server-auth-eku",
            "fail",
            "it is a CA certificate (CA:TRUE): Firefox refuses one as a server's; reissue it "
            "as a server certificate",
        )
    if eku and not {"serverAuth", "anyExtendedKeyUsage"} & set(eku):
        return finding(
            "server-auth-eku",
            "fail",
            f"Extended Key Usage is {', '.join(eku)} without serverAuth: clients refuse it",
        )
    if key_usage_refused(leaf):
        return finding(
            "server-auth-eku",
            "fail",
            f"keyUsage is {', '.join(sorted(usage))}: a TLS handshake needs "
            f"{' or '.join(sorted(_handshake_usages(leaf)))}, so clients refuse it",
        )
    if not eku:
        return finding(
            "server-auth-eku",
            "warn",
            "no Extended Key Usage: Apple platforms refuse it for TLS servers",
        )
    return finding("server-auth-eku", "pass", "for TLS servers (serverAuth)")


def _handshake_usages(leaf: ParsedCertificate) -> set[str]:
    """The key usages a TLS handshake can use the key for: signing, or RSA key transport."""
    if leaf.public_key.algorithm == "rsa":
        return {"digitalSignature", "keyEncipherment"}
    return {"digitalSignature"}


def key_usage_refused(leaf: ParsedCertificate) -> bool:
    """
    Whether the leaf's keyUsage allows no TLS handshake (an EC key for keyAgreement
    alone): clients refuse it; LibreSSL's verify says so ("unsupported certificate
    purpose"), OpenSSL's does not.
    """
    usage = set(leaf.key_usage)
    return bool(usage) and not _handshake_usages(leaf) & usage


# Server keys browsers and Go all accept; P-521 only some (Chrome refuses it).
ACCEPTED_CURVES = ("P-256", "P-384")
# An RSA key marked for PSS signatures alone (its algorithm id-RSASSA-PSS, not
# rsaEncryption): openssl serves it, but Go cannot load it and Chrome's BoringSSL reads
# no such key. An RSA-PSS *signature* by an rsaEncryption key is another matter.
RSA_PSS = "rsassapss"


def key_strength(leaf: ParsedCertificate) -> Finding:
    """key-strength: a key every client accepts (RSA >= 2048 bits, EC on P-256 or P-384)."""
    key = leaf.public_key
    size = key.curve or (f"{key.bits} bits" if key.bits else "")
    described = f"{key.algorithm.upper()} {size}".strip()  # Ed25519 has neither
    advice = "make a new key (RSA 2048+ or EC P-256/P-384) and have it certified"
    if key.algorithm == "rsa":
        if (key.bits or 0) < 2048:
            return finding("key-strength", "fail", f"key is {described}: too weak; {advice}")
        return finding("key-strength", "pass", f"key is {described}")
    if key.algorithm == "ec" and key.curve in ACCEPTED_CURVES:
        return finding("key-strength", "pass", f"key is {described}")
    if key.algorithm == "ec" and key.curve == "P-521":
        return finding("key-strength", "warn", f"key is {described}: Chrome refuses P-521 keys")
    if key.algorithm == RSA_PSS:
        return finding(
            "key-strength",
            "fail",
            f"key is RSA-PSS {size} (id-RSASSA-PSS, not rsaEncryption): Go (the admin console) "
            "cannot load it and browsers do not accept it; make a new key, RSA "
            "(rsaEncryption) or EC P-256/P-384, and have it certified",
        )
    return finding(
        "key-strength", "fail", f"key is {described}: browsers do not accept it; {advice}"
    )


def strength(leaf: ParsedCertificate, chain: Iterable[ParsedCertificate]) -> list[Finding]:
    """
    key-strength (the leaf's key, and each issuer's, its root's too) and signature-hash
    (the leaf's and each issuer's below the root: no client checks a root's own signature).
    """
    issuers = list(chain)
    weak = [(c, what) for c in issuers if (what := _weak_issuer_key(c))]
    findings = [key_strength(leaf)]
    if weak and findings[0].status != "fail":
        names = "; ".join(f"{_which(c, leaf)} has {what}" for c, what in weak)
        message = (
            f"{names}: clients refuse the chain (Python: 'CA certificate key too weak'); "
            "the CA must reissue with a new key"
        )
        findings = [finding("key-strength", "fail", message)]
    issuers = [c for c in issuers if not c.self_signed]
    faults = [f"{_which(c, leaf)} {fault}" for c in [leaf, *issuers] if (fault := _refused(c))]
    findings.append(
        finding(
            "signature-hash",
            not faults,
            f"signed with {leaf.signature_algorithm}",
            "; ".join(faults) + "; ask the CA to reissue",
        )
    )
    return findings


# An issuer's EC key below this many bits (P-192) is refused: Python (OpenSSL's security
# level 2) says "CA certificate key too weak", and Go cannot read the curve.
MIN_EC_ISSUER_BITS = 224


def _weak_issuer_key(cert: ParsedCertificate) -> str | None:
    """
    What is weak about an issuer's key, if it is: RSA under 2048 bits (OpenSSL 1.1.1 refuses
    2047 too, 3.x at security level 2 refuses 1024), or EC under 224 bits.
    """
    key = cert.public_key
    if key.algorithm in {"rsa", RSA_PSS} and (key.bits or 0) < 2048:
        return f"an RSA key of {key.bits or 'unknown'} bits (under 2048)"
    if key.algorithm == "ec" and (key.bits or 0) < MIN_EC_ISSUER_BITS:
        curve = key.curve or f"a {key.bits or 'unknown'}-bit curve"
        return f"an EC key on {curve} (under {MIN_EC_ISSUER_BITS} bits)"
    return None


def _refused(cert: ParsedCertificate) -> str | None:
    """
    Why clients refuse a certificate's signature, if they do: a weak hash named in the
    algorithm (md2WithRSAEncryption), or RSASSA-PSS parameters that name one (SHA-1 when
    they name none, RFC 4055) or that Go and pyca do not take ("algorithm unimplemented").
    """
    algorithm = f"{cert.signature_algorithm}"
    if algorithm in WEAK_SIGNATURES:
        weak = WEAK_SIGNATURES[algorithm]
        return f"is signed with {algorithm}: clients refuse {weak} signatures"
    hashed = cert.signature_hash
    if hashed is None:
        return None
    signed = f"is signed with {algorithm} using {hashed.upper()}"
    if hashed in WEAK_HASHES:
        return f"{signed}: clients refuse {WEAK_HASHES[hashed]} signatures"
    mask, salt = cert.signature_mask_hash, cert.signature_salt_length
    differs = []
    if hashed in PSS_SALTS and mask != hashed:
        differs.append(f" and MGF1 with {str(mask).upper()}")
    if hashed in PSS_SALTS and salt != PSS_SALTS[hashed]:
        differs.append(f" and a salt of {salt} bytes")
    if hashed in PSS_SALTS and not differs:
        return None
    return (
        f"{signed}{''.join(differs)}: Go (the admin console) and pyca take RSASSA-PSS only "
        "with SHA-256, -384 or -512, an MGF1 mask of that hash and a salt of its length "
        "(openssl takes it)"
    )


def _which(cert: ParsedCertificate, leaf: ParsedCertificate) -> str:
    """The certificate in words: the leaf, or the issuer by its subject."""
    if cert is leaf:
        return "the certificate"
    return "the issuer " + cert.names_text()


def period(leaf: ParsedCertificate, *, public: bool) -> Finding:
    """validity-period: Apple's 825 days, and the public CAs' limit."""
    if leaf.not_before is None or leaf.not_after is None:
        return finding("validity-period", "pass", "no validity dates")
    days = (leaf.not_after - leaf.not_before).total_seconds() / 86400
    limit = PUBLIC_MAX_DAYS_2026 if leaf.not_before >= PUBLIC_2026_START else PUBLIC_MAX_DAYS
    if days > APPLE_MAX_DAYS:
        return finding(
            "validity-period",
            "warn",
            f"valid {days:.0f} days: Apple platforms refuse over {APPLE_MAX_DAYS}",
        )
    if public and days > limit + 1:
        return finding(
            "validity-period",
            "warn",
            f"valid {days:.0f} days: a publicly trusted certificate may last at most {limit}",
        )
    return finding("validity-period", "pass", f"valid {days:.0f} days in all")


def chain_order(items: list[ParsedCertificate]) -> Finding:
    """chain-order: what is sent is leaf first, each certificate issued by the next, none twice."""
    if len(items) < 2:
        return finding("chain-order", "pass", "a single certificate")
    seen: dict[str, int] = {}
    for number, cert in enumerate(items, 1):
        first = seen.setdefault(cert.sha256_fingerprint or str(number), number)
        if first != number:
            again = "the leaf" if first == 1 else f"certificate {first}"
            return finding(
                "chain-order",
                "fail",
                f"certificate {number} is {again} again (sent twice): remove the copy",
            )
    if items[0].basic_constraints and items[0].basic_constraints.ca:
        leaves = [
            i for i, c in enumerate(items) if not (c.basic_constraints and c.basic_constraints.ca)
        ]
        where = f" (the leaf is number {leaves[0] + 1})" if leaves else ""
        return finding(
            "chain-order",
            "fail",
            f"it starts with a CA certificate{where}: the server certificate goes first",
        )
    for number, (child, parent) in enumerate(pairwise(items), 1):
        if not parent.issued(child) and parent.subject == child.subject:
            name = child.names_text()
            return finding(
                "chain-order",
                "fail",
                f"certificates {number} and {number + 1} are two versions of {name}: "
                "send only the one in date",
            )
        if not parent.issued(child):
            if any(other.issued(child) for other in items if other is not child):
                return finding(
                    "chain-order",
                    "fail",
                    f"certificate {number + 1} did not issue certificate {number}: "
                    "order them leaf, intermediate(s), (root)",
                )
            # No order fixes it: the certificate's issuer is not among those sent at all.
            return finding(
                "chain-order",
                "fail",
                f"certificate {number + 1} ({parent.names_text() or '(empty subject)'}) did "
                f"not issue certificate {number}, and no certificate sent did: it is the wrong "
                f"intermediate; send {child.names_text(issuer=True) or 'its issuer'} instead",
            )
    return finding("chain-order", "pass", f"{len(items)} certificates, each issued by the next")


# The extensions every client handles when they are critical: keyUsage, subjectAltName,
# basicConstraints, nameConstraints, certificatePolicies, extendedKeyUsage (measured: OpenSSL
# 1.1.1 to 4.0, LibreSSL 3.3 and 4.3, Go 1.19). A client refuses a certificate holding any
# other critical extension it does not handle, whatever roots it trusts.
HANDLED_CRITICAL = frozenset(
    {"2.5.29.15", "2.5.29.17", "2.5.29.19", "2.5.29.30", "2.5.29.32", "2.5.29.37"}
)
# Critical extensions some clients handle: their name, who refuses them and who takes them
# (measured). Any other is refused by OpenSSL, LibreSSL and Go alike.
_GO_ONLY = ("Go (the admin console's)", "openssl takes it")
REFUSED_CRITICAL = {
    "2.5.29.14": ("subjectKeyIdentifier", "OpenSSL and LibreSSL", "Go takes it"),
    "2.5.29.35": ("authorityKeyIdentifier", "OpenSSL and LibreSSL", "Go takes it"),
    "1.3.6.1.5.5.7.1.1": ("authorityInfoAccess", "OpenSSL and LibreSSL", "Go takes it"),
    "2.5.29.31": ("crlDistributionPoints", "LibreSSL", "OpenSSL and Go take it"),
    "1.3.6.1.5.5.7.48.1.5": ("OCSP noCheck", "OpenSSL 1.1.1, LibreSSL and Go", "3.x takes it"),
    "2.16.840.1.113730.1.1": ("nsCertType", *_GO_ONLY),
    "2.5.29.33": ("policyMappings", *_GO_ONLY),
    "2.5.29.36": ("policyConstraints", *_GO_ONLY),
    "2.5.29.54": ("inhibitAnyPolicy", *_GO_ONLY),
}
_SUBJECT_ALT_NAME = "2.5.29.17"


def unhandled_critical(cert: ParsedCertificate) -> str | None:
    """A critical extension some client does not handle, in words, if the certificate has one."""
    san = cert.subject_alt_names
    for oid, critical in cert.extensions:
        if not critical:
            continue
        if oid == _SUBJECT_ALT_NAME and not (san.dns or san.ip or san.email or san.uri):
            return (
                "a critical subjectAltName with no DNS name, IP, e-mail or URI in it, which "
                "Go (the admin console's) does not handle"
            )
        if oid in HANDLED_CRITICAL:
            continue
        if oid not in REFUSED_CRITICAL:
            return f"a critical extension {oid}, which OpenSSL, LibreSSL and Go do not know"
        name, refused_by, taken_by = REFUSED_CRITICAL[oid]
        return f"a critical {name} extension ({oid}), which {refused_by} refuse ({taken_by})"
    return None


def refused_name(cert: ParsedCertificate) -> str | None:
    """A SAN entry LibreSSL refuses the whole certificate for (``names.san_syntax_refused``)."""
    san = cert.subject_alt_names
    for kind, values in (("dns", san.dns), ("uri", san.uri)):
        for value in values:
            if names.san_syntax_refused(value, kind):
                return (
                    f"a SAN {'URI' if kind == 'uri' else 'name'} {value!r} LibreSSL refuses as "
                    "invalid name syntax (it then refuses the whole certificate)"
                )
    return None


def refused_time(cert: ParsedCertificate) -> str | None:
    """
    A validity time written as GeneralizedTime before 2050, where RFC 5280 wants UTCTime:
    LibreSSL refuses the certificate ("format error"), as pyca/cryptography's verifier
    does; OpenSSL, Go 1.19 and Python's ssl take it (measured).
    """
    if not cert.early_generalized_times:
        return None
    times = " and ".join(cert.early_generalized_times)
    return (
        f"a {times} written as GeneralizedTime before 2050 (RFC 5280: UTCTime through 2049), "
        "which LibreSSL and pyca/cryptography refuse (OpenSSL and Go take it)"
    )


def refused_anyway(chain: list[ParsedCertificate]) -> str | None:
    """
    Why a client refuses the chain (the leaf first, then the issuers on its path) whatever
    roots it trusts, for what a certificate holds: a critical extension it does not handle,
    a SAN or a validity time LibreSSL refuses. Judged here, the same on every build: openssl
    says nothing of it before a trusted root anchors the chain, and the builds do not agree.
    """
    for cert in chain:
        fault = unhandled_critical(cert) or refused_name(cert) or refused_time(cert)
        if fault:
            which = "the certificate" if cert is chain[0] else cert.names_text() or "an issuer"
            return f"{which} holds {fault}"
    return None


def unusable_issuer(issuers: Iterable[ParsedCertificate], now: datetime) -> str | None:
    """
    Why an issuer of the leaf cannot issue, if one cannot: ``issuers`` in order up from
    the leaf's, its root last where it is known.

    Judged from the certificates themselves, as every client does, so the verdict does
    not depend on how far openssl got: it stops at an untrusted root before it looks at
    the intermediates, and LibreSSL says only "unable to get local issuer certificate".
    """
    for below, cert in enumerate(issuers):
        name = cert.names_text() or "(empty subject)"
        constraints = cert.basic_constraints
        limit = constraints.path_length if constraints else None
        if limit is not None and below > limit:
            return f"{name} allows {limit} CA(s) below it (pathlen:{limit}), the chain has {below}"
        if cert.self_signed:
            continue  # a root: trusted or not, openssl says so
        if constraints is None or not constraints.ca:
            return f"{name} issued a certificate of the chain but is not a CA (no CA:TRUE)"
        if cert.key_usage and "keyCertSign" not in cert.key_usage:
            return f"{name} has a key usage without keyCertSign: it may not issue certificates"
        usages = cert.extended_key_usage
        if usages and not {"serverAuth", "anyExtendedKeyUsage"} & set(usages):
            return f"{name} limits its use to {', '.join(usages)}, not serverAuth"
        if cert.not_after is not None and cert.not_after <= now:
            return f"{name} expired {cert.not_after:%Y-%m-%d %H:%M} UTC"
        if cert.not_before is not None and cert.not_before > now:
            return f"{name} is not valid until {cert.not_before:%Y-%m-%d %H:%M} UTC"
    return None
