"""
Is a key + certificate + chain ready to install, and the one combined file it needs.

openssl does the cryptography (pkey -pubout, x509 -pubkey, verify); flow-ssl
decides, with the rules the admin console (Go) and browsers apply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from flow_ssl.core import install_checks as checks
from flow_ssl.core.errors import InvalidInputError
from flow_ssl.core.findings import failed, finding
from flow_ssl.openssl import reader, verify
from flow_ssl.openssl.commands import read as commands
from flow_ssl.openssl.script import Note, Step

if TYPE_CHECKING:
    from pathlib import Path

    from flow_ssl.core.models import Finding, ParsedCertificate

_KEY_BLOCK = re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")
# openssl verify errors (x509_vfy.h) that mean only "no trusted root": an issuer not found
# (2, 20, 21), a self-signed certificate or root that is not trusted (18, 19).
_UNTRUSTED = {2, 18, 19, 20, 21}
_MISSING = {2, 20, 21}


@dataclass
class Report:
    """The findings of one check (and the certificates checked); ready when none fails."""

    findings: list[Finding]
    certificates: list[ParsedCertificate] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """No failing finding."""
        return not failed(self.findings)


def certificates(path: Path) -> list[ParsedCertificate]:
    items = reader.read_file(path)
    if any(item.kind != "certificate" for item in items):
        raise InvalidInputError(f"{path} holds a certificate request, not a certificate")
    return items


def check(
    cert: Path,
    *,
    key: Path | None = None,
    chain: tuple[Path, ...] = (),
    ca_file: Path | None = None,
    hosts: tuple[str, ...] = (),
    min_days: int = 30,
    renew_within: int | None = None,
    now: datetime | None = None,
    label: str | None = None,
    served: bool = False,
) -> Report:
    """
    Run every readiness check over the set.

    ``served``: the certificates came from a live server (probe), so advice is about the
    server's configuration, not about files to add.

    Raises:
        InvalidInputError: a file is missing, unreadable or of the wrong kind.
    """
    now = now or datetime.now(timezone.utc)
    in_cert_file = certificates(cert)
    leaf = in_cert_file[0]
    extra = [c for path in chain for c in certificates(path)]
    roots = certificates(ca_file) if ca_file is not None else []
    sent = [*in_cert_file, *extra]
    findings = [
        finding("cert-readable", "pass", f"{label or cert}: {len(in_cert_file)} certificate(s)")
    ]
    findings += checks.validity(leaf, now=now, min_days=min_days, renew_within=renew_within)
    if key is not None:
        findings += _key_findings(key, cert)
    findings.append(checks.chain_order(sent))
    findings += _trust_findings(sent, cert, chain, ca_file, roots, served=served)
    findings += checks.names_and_usage(leaf, hosts)
    if not hosts:
        findings.append(
            finding("hostname", "warn", "not checked: give each name clients use with --host")
        )
    findings += checks.strength(leaf, sent[1:])
    findings.append(checks.period(leaf, public=ca_file is None and not leaf.self_signed))
    findings.append(
        finding(
            "self-signed",
            "warn" if leaf.self_signed else "pass",
            "self-signed: every client must be told to trust this certificate"
            if leaf.self_signed
            else "issued by " + ", ".join(f"{a.type}={a.value}" for a in leaf.issuer or []),
        )
    )
    return Report(findings=findings, certificates=in_cert_file)


def _key_findings(key: Path, cert: Path) -> list[Finding]:
    try:
        text = key.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise InvalidInputError(f"cannot read key {key}: {exc.strerror}") from None
    if reader.is_encrypted_key(text):
        return [
            finding(
                "key-unencrypted", "fail",
                f"{key} is passphrase-protected; the console cannot use it. Decrypt it: "
                f"openssl pkey -in {key} -out decrypted.key",
            ),
        ]  # fmt: skip
    if not _KEY_BLOCK.search(text):
        raise InvalidInputError(f"{key} is not a PEM private key")
    return [
        finding("key-unencrypted", "pass", "the key has no passphrase"),
        verify.key_matches_cert(key, cert),
    ]


def _issuer_chain(sent: list[ParsedCertificate]) -> list[ParsedCertificate]:
    """The leaf, then each issuer found among the certificates sent, in issuing order."""
    chain = [sent[0]]
    while not chain[-1].self_signed:
        parent = next((c for c in sent if c.issued(chain[-1]) and c not in chain), None)
        if parent is None:
            break
        chain.append(parent)
    return chain


def _trust_findings(
    sent: list[ParsedCertificate],
    cert: Path,
    chain: tuple[Path, ...],
    ca_file: Path | None,
    roots: list[ParsedCertificate],
    *,
    served: bool,
) -> list[Finding]:
    """
    chain-complete and chain-verifies, honestly.

    chain-verifies passes only when openssl verified the chain against ``ca_file`` or
    the system's roots. A self-signed or private-CA certificate that neither trusts is a
    warning with what to do, never a pass: clients refuse it until told to trust it.
    """
    leaf = sent[0]
    where = f"the roots in {ca_file}" if ca_file else "the system's roots"
    if leaf.self_signed and any(r.sha256_fingerprint == leaf.sha256_fingerprint for r in roots):
        return [
            finding("chain-complete", "pass", "self-signed: complete by itself"),
            finding("chain-verifies", "pass", f"trusted directly: it is among {where}"),
        ]
    verdict = verify.verify_chain(
        cert, untrusted=(cert, *chain), ca_file=ca_file, purpose="sslserver"
    )
    top = _issuer_chain(sent)[-1]
    if top.self_signed:
        complete = (
            "self-signed: complete by itself" if top is leaf else f"complete up to {_name(top)}"
        )
    elif top is not leaf or verdict.ok or not _issuer_missing(verdict, leaf, roots):
        complete = f"complete up to {_name(top)}, issued by {_issuer(top)}"
    else:
        advice = (
            "the server does not send it: configure the full chain (flow-ssl bundle writes it)"
            if served
            else "add the CA's chain file with --chain (or, for a company root, --ca-file)"
        )
        missing = f"the issuer of the leaf ({_issuer(leaf)}) is missing: {advice}"
        return [finding("chain-complete", "fail", missing), _verify_failed(verdict)]
    if verdict.ok:
        verified = f"openssl verify -purpose sslserver: OK with {where}"
        return [
            finding("chain-complete", "pass", complete),
            finding("chain-verifies", "pass", verified),
        ]
    if any(code not in _UNTRUSTED for code, _, _ in verdict.errors) or not verdict.errors:
        return [finding("chain-complete", "pass", complete), _verify_failed(verdict)]
    what = "this self-signed certificate" if top is leaf else f"its root ({_issuer(top)})"
    return [
        finding("chain-complete", "pass", complete),
        finding(
            "chain-verifies",
            "warn",
            f"not trusted: {what} is not among {where}; clients refuse it until they trust "
            "that root (flow-ssl ca trust prints how; --ca-file ROOT checks against it)",
        ),
    ]


def _issuer_missing(
    verdict: verify.ChainVerdict, leaf: ParsedCertificate, roots: list[ParsedCertificate]
) -> bool:
    """openssl could not find the leaf's issuer, and no given root issued it."""
    if any(root.issued(leaf) for root in roots):
        return False
    return any(code in _MISSING for code, _, _ in verdict.errors)


def _verify_failed(verdict: verify.ChainVerdict) -> Finding:
    errors = [e for e in verdict.errors if e[0] not in _UNTRUSTED] or list(verdict.errors)
    if errors:
        code, depth, reason = errors[0]
        message = f"openssl verify: {reason} (error {code} at depth {depth})"
    else:
        message = f"openssl verify failed: {verdict.last_words}"
    return finding("chain-verifies", "fail", message)


def _name(cert: ParsedCertificate) -> str:
    return ", ".join(f"{a.type}={a.value}" for a in cert.subject) or "(empty subject)"


def _issuer(cert: ParsedCertificate) -> str:
    return ", ".join(f"{a.type}={a.value}" for a in cert.issuer or []) or "(empty issuer)"


def planned_reads(paths: tuple[Path, ...]) -> list[Step]:
    """How each file is read (one certificate: the vendor page's command; a bundle: storeutl)."""
    steps: list[Step] = [Note("read each file (flow-ssl adds -nameopt RFC2253,-esc_msb to parse)")]
    for path in paths:
        items, is_pem = reader.split_file(path)
        if len(items) > 1:
            steps.append(commands.build_storeutl_text(str(path)))
        else:
            steps.append(reader.display_command(path, items[0].kind, der=not is_pem))
    return steps


def planned_check(
    cert: Path, *, key: Path | None, chain: tuple[Path, ...], ca_file: Path | None
) -> list[Step]:
    """The openssl commands ``check`` runs, for --print (nothing is run to make them)."""
    files_read = (cert, *chain, *((ca_file,) if ca_file else ()))
    steps = planned_reads(files_read)
    if key is not None:
        steps += [
            Note("does the key belong to the certificate? (the two must print the same)"),
            commands.build_pubkey_from_key(str(key)),
            commands.build_pubkey_from_cert(str(cert)),
        ]
    steps += [
        Note("does the chain reach a trusted root, for a TLS server?"),
        commands.build_verify(
            str(cert),
            untrusted=(str(cert), *(str(p) for p in chain)),
            ca_file=str(ca_file) if ca_file else None,
        ),
    ]
    if ca_file is None:
        steps.append(
            Note(f"a self-signed {cert} is verified against itself instead: -CAfile {cert}")
        )
    return steps
