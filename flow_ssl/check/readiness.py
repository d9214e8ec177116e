"""
Is a key + certificate + chain ready to install, the one combined file it needs, and the
openssl commands that check it (for ``--print``).

Every form a CA sends is read (``reader.load``): PEM with text or the key between
blocks, DER, PKCS#7 and PKCS#12, whose certificates (a set) are put in chain
order; the key may come from the certificate's own file. openssl does the
cryptography (pkey -pubout, x509 -pubkey, verify); flow-ssl decides, with the
rules the admin console (Go) and browsers apply.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl.check import crls as crl_files
from flow_ssl.check import keyfindings
from flow_ssl.core import install_checks as checks
from flow_ssl.core import name_constraints, revocation
from flow_ssl.core.errors import InvalidInputError
from flow_ssl.core.findings import failed, finding
from flow_ssl.core.issuers import Issuers, issuing
from flow_ssl.openssl import keymatch, runner, signatures, verify
from flow_ssl.openssl.commands import pkcs12 as p12_commands
from flow_ssl.openssl.commands import read as commands
from flow_ssl.openssl.commands.base import scratch
from flow_ssl.openssl.read import p12, reader, x509
from flow_ssl.openssl.script.render import openssl_for_print
from flow_ssl.openssl.script.steps import Note, Step, WriteFile

if TYPE_CHECKING:
    from flow_ssl.core.models import Finding, ParsedCertificate
    from flow_ssl.openssl.read.pem import Framed

# What cert-readable says of each form (a PKCS#7 or PKCS#12 holds a set, not a chain).
_FORMS = {
    "pem": "",
    "der": " (DER)",
    "pkcs7": " (a PKCS#7: taken in chain order)",
    "pkcs12": " (a PKCS#12: taken in chain order)",
}
# openssl verify errors (x509_vfy.h) that mean only "no trusted root": an issuer not found
# (2, 20, 21), a self-signed certificate or root that is not trusted (18, 19).
_UNTRUSTED = {2, 18, 19, 20, 21}
# openssl verify's name-constraint errors (x509_vfy.h: permitted or excluded violation,
# subtree min/max, unsupported constraint type): flow-ssl judges the constraints itself.
_NAME_CONSTRAINTS = {47, 48, 49, 51}
_MISSING = {2, 20, 21}
_ROOT_NOT_TRUSTED = 19
_UNREADABLE_KEY = 6  # unable to decode issuer public key: this openssl lacks its algorithm
_PURPOSE = 26  # unsupported certificate purpose


@dataclass
class Report:
    """The findings of one check (and the certificates checked); ready when none fails."""

    findings: list[Finding]
    certificates: list[ParsedCertificate] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """No failing finding."""
        return not failed(self.findings)


@dataclass(frozen=True)
class Read:
    """One input file: what was loaded, and its certificates (a set's in chain order)."""

    loaded: reader.Loaded
    certificates: list[ParsedCertificate]


def read_certificates(path: Path, *, passin: str | None = None) -> Read:
    """
    The certificates of a file in any form; a PKCS#7's or PKCS#12's leaf first.

    Raises:
        InvalidInputError: unreadable, a CSR, or a PKCS#12 passphrase missing or wrong.
        OpenSSLTooOldError: this openssl cannot decrypt the PKCS#12.
    """
    loaded = reader.load(path, passin=passin)
    items = reader.read_loaded(loaded)
    if any(item.kind != "certificate" for item in items):
        raise InvalidInputError(f"{path} holds a certificate request, not a certificate")
    return Read(loaded, items if loaded.ordered else in_chain_order(items))


def certificates(path: Path, *, passin: str | None = None) -> list[ParsedCertificate]:
    """The certificates of a file in any form (see ``read_certificates``)."""
    return read_certificates(path, passin=passin).certificates


def in_chain_order(certs: list[ParsedCertificate]) -> list[ParsedCertificate]:
    """
    A set of certificates as a chain: the leaf, each issuer in turn, then the rest as found.

    The leaf is the first that issued none of the others and is no CA (else the first
    that issued none): what a PKCS#7 or a PKCS#12 holds has no order of its own.
    """
    if not certs:
        return certs

    def is_ca(cert: ParsedCertificate) -> bool:
        return bool(cert.basic_constraints and cert.basic_constraints.ca)

    ends = [cert for cert, issued in zip(certs, issuing(certs), strict=True) if not issued] or certs
    ordered = Issuers(certs).chain_from(next((cert for cert in ends if not is_ca(cert)), ends[0]))
    chained = {id(cert) for cert in ordered}
    return ordered + [c for c in certs if id(c) not in chained]


class _PemFiles:
    """
    The files openssl verify reads: the certificates flow-ssl framed, written out as PEM.

    Never the operator's file itself, even a PEM one: openssl must judge the bytes
    flow-ssl read (a block openssl would read differently cannot change the verdict).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def of(self, read: Read) -> Path:
        return self.listing(read.loaded.path.name, read.certificates)

    def listing(self, name: str, certificates: list[ParsedCertificate]) -> Path:
        target = self.folder / f"{len(list(self.folder.iterdir()))}-{name}.pem"
        target.write_text("".join(reader.to_pem(c.der) for c in certificates), "ascii")
        return target


def check(
    cert: Path,
    *,
    key: Path | None = None,
    passin: str | None = None,
    chain: tuple[Path, ...] = (),
    ca_file: Path | None = None,
    hosts: tuple[str, ...] = (),
    min_days: int = 30,
    renew_within: int | None = None,
    now: datetime | None = None,
    label: str | None = None,
    served: bool = False,
    crls: tuple[Path, ...] = (),
) -> Report:
    """
    Run every readiness check over the set.

    ``served``: the certificates came from a live server (probe), so advice is about the
    server's configuration, not about files to add. The key is ``key``, else the one in
    ``cert`` (a combined PEM, a PKCS#12); ``passin`` opens a PKCS#12 or an encrypted key.

    Raises:
        InvalidInputError: a file is missing, unreadable or of the wrong kind, or a
            passphrase is missing or wrong (about the field ``pass``).
        OpenSSLTooOldError: this openssl cannot decrypt a PKCS#12 given.
    """
    now = now or datetime.now(timezone.utc)
    main = read_certificates(cert, passin=passin)
    in_cert_file = main.certificates
    leaf = in_cert_file[0]
    chains = [read_certificates(path, passin=passin) for path in chain]
    extra = [c for read in chains for c in read.certificates]
    trusted = read_certificates(ca_file, passin=passin) if ca_file is not None else None
    roots = trusted.certificates if trusted else []
    sent = [*in_cert_file, *extra]
    readable = f"{label or cert}: {len(in_cert_file)} certificate(s){_FORMS[main.loaded.form]}"
    findings = [finding("cert-readable", "pass", readable)]
    findings += checks.validity(leaf, now=now, min_days=min_days, renew_within=renew_within)
    if not served:  # a live server proved it holds the key in the handshake
        findings += keyfindings.key_findings(main.loaded, leaf, key=key, passin=passin)
    findings.append(checks.chain_order(sent))
    with tempfile.TemporaryDirectory(prefix="flow-ssl-check-") as folder:
        pems = _PemFiles(Path(folder))
        findings += _trust_findings(
            sent,
            pems.of(main),
            tuple(pems.of(read) for read in chains),
            (ca_file, pems.of(trusted)) if ca_file is not None and trusted else None,
            roots,
            served=served,
            now=now,
            pems=pems,
        )
    if crls:  # the chain's CAs' CRLs: each one's freshness, and whether one revokes it
        chained = _issuer_chain(sent, now)
        path = [*chained, *_anchor(chained[-1], [r for r in roots if r not in chained])]
        findings += revocation.chain_findings(path, crl_files.given(crls, path), now)
    findings += checks.names_and_usage(leaf, hosts)
    if not hosts:
        findings.append(
            finding("hostname", "warn", "not checked: give each name clients use with --host")
        )
    findings += checks.strength(leaf, _issuers_and_anchors(sent, roots))
    findings.append(checks.period(leaf, public=ca_file is None and not leaf.self_signed))
    findings.append(
        finding(
            "self-signed",
            "warn" if leaf.self_signed else "pass",
            "self-signed: every client must be told to trust this certificate"
            if leaf.self_signed
            else "issued by " + leaf.names_text(issuer=True),
        )
    )
    return Report(findings=findings, certificates=in_cert_file)


def _issuers_and_anchors(
    sent: list[ParsedCertificate], roots: list[ParsedCertificate]
) -> list[ParsedCertificate]:
    """Every certificate sent after the leaf, and each root given that issued one, once."""
    index = Issuers(roots)
    anchors = [found for cert in sent if (found := index.first(cert)) is not None]
    return list({cert.sha256_fingerprint: cert for cert in [*sent[1:], *anchors]}.values())


def _anchor(top: ParsedCertificate, roots: list[ParsedCertificate]) -> list[ParsedCertificate]:
    """
    The root of ``roots`` that issued ``top``, for judging CRLs: of two roots of one name
    (a twin with another key), the one whose key signed it; else the first by name.
    """
    named = [root for root in roots if root.issued(top)]
    if len(named) > 1:
        named.sort(key=lambda root: signatures.signed_by(top, root) is False)
    return named[:1]


def _issuer_chain(sent: list[ParsedCertificate], now: datetime) -> list[ParsedCertificate]:
    """
    The leaf, then each issuer found among the certificates sent, in issuing order. Where
    two could have issued one (an old copy of an intermediate sent too), a usable one
    is taken, as clients do.
    """
    usable = Issuers(sent, preferred=lambda cert: checks.unusable_issuer([cert], now) is None)
    return usable.chain_from(sent[0])


def _trust_findings(
    sent: list[ParsedCertificate],
    cert: Path,
    chain: tuple[Path, ...],
    ca: tuple[Path, Path] | None,
    roots: list[ParsedCertificate],
    *,
    served: bool,
    now: datetime,
    pems: _PemFiles,
) -> list[Finding]:
    """
    chain-complete and chain-verifies, honestly.

    chain-verifies passes only when openssl verified the chain against the roots given
    (``ca``: the file named, and the PEM file openssl reads) or the system's. A
    self-signed or private-CA certificate that neither trusts is a warning with what
    to do, never a pass: clients refuse it until told to trust it.
    """
    leaf = sent[0]
    ca_file = ca[1] if ca else None
    where = f"the roots in {ca[0]}" if ca else "the system's roots"
    if leaf.self_signed and any(r.sha256_fingerprint == leaf.sha256_fingerprint for r in roots):
        faulty = checks.refused_anyway([leaf])  # trusted or not, what it holds is refused
        return [
            finding("chain-complete", "pass", "self-signed: complete by itself"),
            _refused(faulty)
            if faulty
            else finding("chain-verifies", "pass", f"trusted directly: it is among {where}"),
        ]
    verdict = verify.verify_chain(
        cert, untrusted=(cert, *chain), ca_file=ca_file, purpose="sslserver"
    )
    chained = _issuer_chain(sent, now)
    verdict = _as_judged(verdict, chained, roots)
    top = chained[-1]
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
    # Judged by flow-ssl too: LibreSSL ignores a root's pathlen, and says only error 20
    # where OpenSSL names an intermediate's fault; no openssl looks past an unknown root.
    path, anchored = _issuers_on_every_path(chained, roots, verified=verdict.ok)
    broken = checks.unusable_issuer(path, now) or name_constraints.violation(leaf, path)
    on_path = {c.sha256_fingerprint for c in path}
    unused = [c for c in sent[1:] if c.sha256_fingerprint not in on_path] if anchored else []
    if not verdict.ok and broken is None and unused:
        # Some openssl builds (LibreSSL) take the first issuer they meet, an expired cross-sign
        # too, and never try another: openssl is asked about the path clients build.
        shorter = pems.listing("path", [leaf, *(c for c in sent[1:] if c not in unused)])
        verdict = verify.verify_chain(
            shorter, untrusted=(shorter,), ca_file=ca_file, purpose="sslserver"
        )
        verdict = _as_judged(verdict, chained, roots)
    # What no trust cures, on the path clients build (all sent when openssl found the root).
    broken = broken or checks.refused_anyway([leaf, *(path or chained[1:])])
    if broken is None and not anchored and not verdict.ok:  # openssl checked no signature
        sent_root = chained[-1].self_signed and len(chained) > 1  # clients hold their own
        broken = signatures.forged_link(chained[:-1] if sent_root else chained)
    along = (
        f", along the path clients build ({_name(unused[0])} sent too is on none)" if unused else ""
    )
    if verdict.ok and broken is None:
        verified = f"openssl verify -purpose sslserver: OK with {where}{along}"
        if checks.key_usage_refused(leaf):  # server-auth-eku fails it on every build
            verified = (
                f"the chain verifies with {where}{along} (openssl verify -purpose sslserver; "
                "the certificate's own use is server-auth-eku's to judge)"
            )
        return [
            finding("chain-complete", "pass", complete),
            finding("chain-verifies", "pass", verified),
        ]
    untrusted_only = all(code in _UNTRUSTED for code, _, _ in verdict.errors)
    anchor = path[-1] if anchored and path else None
    if broken is None and anchor is not None and not anchor.self_signed and untrusted_only:
        # An intermediate given as the trust anchor: Go, curl and Python 3.13 take it,
        # openssl's verify (and older clients) want the root above it.
        message = (
            "trusted only by clients that take an intermediate as the anchor (Go, curl, "
            f"Python 3.13+): {_name(anchor)} among {where} is not a root; openssl verify "
            f"and older clients want its root too ({_issuer(anchor)}): add it"
        )
        return [
            finding("chain-complete", "pass", complete),
            finding("chain-verifies", "warn", message),
        ]
    if broken is None and anchor is not None and untrusted_only:
        # The root is there, yet openssl found no way up.
        broken = f"openssl finds no valid path to {_issuer(top)}, though it is among {where}"
    if broken or not untrusted_only or not verdict.errors:
        return [finding("chain-complete", "pass", complete), _verify_failed(verdict, broken)]
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


def _issuers_on_every_path(
    chained: list[ParsedCertificate], roots: list[ParsedCertificate], *, verified: bool
) -> tuple[list[ParsedCertificate], bool]:
    """
    The issuers any client's path to a trusted root goes through, up from the leaf's, and
    whether a root given ends it. A client stops at the first certificate its store
    anchors, so what the server sends above it (an expired cross-sign, an old copy of
    an intermediate) is never judged. With no root given to anchor it, openssl's OK
    stands; an unverified chain is judged without its top (a client may hold that one).
    """
    known = {root.sha256_fingerprint for root in roots}
    anchors = Issuers(roots)
    for at, cert in enumerate(chained):
        if at and cert.sha256_fingerprint in known:  # a given root, sent along too
            return chained[1 : at + 1], True
        anchor = anchors.first(cert)
        if anchor is not None:
            return [*chained[1 : at + 1], anchor], True
    if verified:
        return [], False
    return (chained[1:-1] if len(chained) > 2 else chained[1:]), False


def _as_judged(
    verdict: verify.ChainVerdict, chained: list[ParsedCertificate], roots: list[ParsedCertificate]
) -> verify.ChainVerdict:
    """
    openssl's verdict cut to what every build says alike; the rest flow-ssl judges itself.

    A build that finds no trusted root says so, but what it checked before differs
    (LibreSSL 4.3 judges dates and name constraints first, OpenSSL nothing): only the
    trust error is kept. An error about the self-signed root the server sends, where no
    root given is that one, is about a copy clients do not use (they hold their own): it
    counts as that root not being trusted. Name constraints are flow-ssl's to judge
    (``name_constraints.violation``): LibreSSL 4.3 also holds a CN to them where the SAN
    carries the names, which Go, Python and OpenSSL do not. And a leaf's key usage no
    handshake can use is server-auth-eku's to fail: LibreSSL's verify refuses keyAgreement
    alone, OpenSSL's not.

    Raises:
        OpenSSLTooOldError: this openssl cannot read an issuer's key (LibreSSL 3.3.6 has
            no Ed25519, 4.3 no P-192): a limit of the build, not a fault of the chain.
    """
    if verdict.ok or not verdict.errors:
        return verdict
    for code, depth, _ in verdict.errors:
        if code == _UNREADABLE_KEY:
            full = [*chained, *(root for root in roots if root.issued(chained[-1]))]
            issuer = full[min(depth, len(full) - 1)]
            raise runner.find_openssl().cannot(
                f"read the {_key_words(issuer)} key of {_name(issuer)}, so it cannot verify "
                "this chain (openssl verify: unable to decode issuer public key)"
            )
    known = {root.sha256_fingerprint for root in roots}
    top = chained[-1]
    sent_root = len(chained) - 1 if top.self_signed and top.sha256_fingerprint not in known else -1
    errors = [
        (_ROOT_NOT_TRUSTED if depth == sent_root else code, depth, reason)
        for code, depth, reason in verdict.errors
    ]
    errors = [error for error in errors if error[0] not in _NAME_CONSTRAINTS]
    if any(code in _UNTRUSTED for code, _, _ in errors):
        errors = [error for error in errors if error[0] in _UNTRUSTED]
    elif checks.key_usage_refused(chained[0]):
        errors = [error for error in errors if error[:2] != (_PURPOSE, 0)]
    return verify.ChainVerdict(ok=not errors, errors=tuple(errors), last_words=verdict.last_words)


def _key_words(cert: ParsedCertificate) -> str:
    """A certificate's key in words: ``EC P-192``, ``RSA 2048 bits``, ``ED25519``."""
    key = cert.public_key
    size = key.curve or (f"{key.bits} bits" if key.bits else "")
    return f"{key.algorithm.upper()} {size}".strip()


def _issuer_missing(
    verdict: verify.ChainVerdict, leaf: ParsedCertificate, roots: list[ParsedCertificate]
) -> bool:
    """openssl could not find the leaf's issuer, and no given root issued it."""
    if any(root.issued(leaf) for root in roots):
        return False
    return any(code in _MISSING for code, _, _ in verdict.errors)


def _refused(broken: str) -> Finding:
    """chain-verifies fails for what flow-ssl found that no trusted root cures."""
    return finding(
        "chain-verifies", "fail", f"{broken}: clients refuse the chain, whatever roots they trust"
    )


def _verify_failed(verdict: verify.ChainVerdict, broken: str | None = None) -> Finding:
    """openssl's own reason, or (where it only says the root is missing) what flow-ssl found."""
    if broken:  # the same words on every openssl, however far it got
        return _refused(broken)
    errors = [e for e in verdict.errors if e[0] not in _UNTRUSTED] or list(verdict.errors)
    if errors:
        # No depth: the builds disagree on it (LibreSSL 4.3 names the issuer of a leaf
        # whose signature or name fails).
        code, _, reason = errors[0]
        message = f"openssl verify: {reason} (error {code})"
    else:
        message = f"openssl verify failed: {verdict.last_words}"
    return finding("chain-verifies", "fail", message)


def _name(cert: ParsedCertificate) -> str:
    return cert.names_text() or "(empty subject)"


def _issuer(cert: ParsedCertificate) -> str:
    return cert.names_text(issuer=True) or "(empty issuer)"


# The openssl commands check (and bundle) run, for --print: each file read the way flow-ssl
# reads it, then the key and chain verifications. Nothing is run to make them, except opening
# a PKCS#12 to learn which pass source and options work.
def planned_reads(
    paths: tuple[Path, ...],
    *,
    passin: str | None = None,
    opened: dict[Path, p12.Opened] | None = None,
) -> list[Step]:
    """
    How each file is read: the vendor page's command, or what shows every certificate. A
    PKCS#12 is opened (kept in ``opened``) so the script opens it as flow-ssl does.
    """
    known = {} if opened is None else opened
    steps: list[Step] = [Note("read each file (flow-ssl reads every field itself, from its DER)")]
    for path in paths:
        framed = reader.frame_file(path)
        if framed.form == "pem" and len(framed.items) > 1:
            steps.append(commands.build_storeutl_text(str(path)))
        else:
            steps.extend(
                reader.show_steps(path, framed, opened=_opened(path, framed, passin, known))
            )
    return steps


def _opened(
    path: Path, framed: Framed, passin: str | None, known: dict[Path, p12.Opened]
) -> p12.Opened | None:
    """A PKCS#12 as ``p12.for_print`` opens it, once per file; None for other forms."""
    if framed.pkcs12 is None:
        return None
    if path not in known:
        known[path] = p12.for_print(framed.pkcs12, str(path), passin=passin)
    return known[path]


def _as_pem(path: Path, framed: Framed, opened: p12.Opened | None, steps: list[Step]) -> str:
    """
    The file as PEM for openssl verify: itself, or a copy in the script's scratch folder.
    A PEM file with a byte-order mark is copied as flow-ssl read it: OpenSSL 1.1.1 and
    LibreSSL skip the block after the mark, so verify would take the intermediate as the leaf.
    """
    if framed.form == "pem" and not framed.byte_order_mark:
        return str(path)
    out = scratch(f"{len(steps)}.pem")
    if framed.form == "pem":
        certificates = [item for item in framed.items if item.kind == "certificate"]
        steps.append(WriteFile(out, "".join(reader.to_pem(item.der) for item in certificates)))
    elif opened is not None:
        show = p12_commands.build_p12_show
        steps.append(show(str(path), passin=opened.passin, legacy=opened.legacy, out=out))
    elif framed.form == "pkcs7":
        steps.append(commands.build_pkcs7_text(str(path), der=not framed.armored, out=out))
    else:
        steps.append(commands.build_x509_pem(str(path), out=out))
    return out


def planned_check(
    cert: Path,
    *,
    key: Path | None,
    chain: tuple[Path, ...],
    ca_file: Path | None,
    passin: str | None = None,
) -> list[Step]:
    """The openssl commands ``check`` runs, for --print (only a PKCS#12 is opened to know)."""
    files_read = (cert, *chain, *((ca_file,) if ca_file else ()))
    known: dict[Path, p12.Opened] = {}
    steps = planned_reads(files_read, passin=passin, opened=known)

    def as_pem(path: Path) -> str:
        framed = reader.frame_file(path)
        return _as_pem(path, framed, _opened(path, framed, passin, known), steps)

    framed = reader.frame_file(cert)
    first = framed.items[0] if framed.items else None  # none yet in a PKCS#12
    first_cert = (
        x509.read_certificate(first.der)
        if first is not None and first.kind == "certificate"
        else None
    )
    self_signed = first_cert is not None and first_cert.self_signed
    # Neither dgst nor pkeyutl (without -rawin, which 1.1.1 and LibreSSL lack) signs with these
    # keys: the public key openssl derives from the seed is compared, as a run does.
    derived = first_cert is not None and first_cert.public_key.algorithm in keymatch.DERIVED_KEYS
    leaf = as_pem(cert)
    if not framed.ordered:
        steps.append(Note(f"{cert} holds a set: flow-ssl takes its leaf first, then each issuer"))
    inside = known.get(cert)
    if (key is not None or framed.keys) and derived:
        steps += [
            Note(
                "does the key belong to the certificate? the public key openssl derives from "
                "the key must be the certificate's: the two commands print the same"
            ),
            commands.build_public_key_of_key(str(key or cert), passin=passin),
            commands.build_public_key_of_certificate(leaf),
        ]
    elif key is not None or framed.keys:
        # Not the two public halves compared: a damaged key file may carry the
        # certificate's beside a private part that is not its own.
        challenge, signature = scratch("challenge"), scratch("challenge.sig")
        steps += [
            Note(
                "does the key belong to the certificate? it signs random bytes, and the "
                "certificate's key must verify them: look for 'Signature Verified Successfully'"
            ),
            commands.build_random(challenge, 32),
            commands.build_sign_file(
                str(key or cert), data=challenge, out=signature, passin=passin
            ),
            commands.build_verify_with_certificate(leaf, data=challenge, signature=signature),
        ]
    elif inside is not None:
        export, public = p12_commands.build_p12_public_key(
            str(cert), passin=inside.passin, legacy=inside.legacy
        )
        steps.append(Note(f"the key inside, through a pipe: {export.render()} | {public.render()}"))
    chain_files = tuple(as_pem(path) for path in chain)
    roots = as_pem(ca_file) if ca_file else None
    steps += [
        Note("does the chain reach a trusted root, for a TLS server?"),
        commands.build_verify(
            leaf,
            untrusted=(leaf, *chain_files),
            ca_file=roots,
            shut=verify.roots_shut(openssl_for_print()),
        ),
        Note(
            "where no root given anchors the chain, openssl verify checks no signature: "
            "flow-ssl asks openssl dgst -verify for each one sent"
        ),
    ]
    if ca_file is None and self_signed:
        shown = leaf if framed.form == "pem" and not framed.byte_order_mark else "its PEM copy"
        steps.append(
            Note(
                f"{cert} is self-signed: openssl verify fails it (error 18, self-signed "
                "certificate) until it is trusted; to verify it against itself, add "
                f"-CAfile {shown}"
            )
        )
    elif ca_file is None:
        steps.append(Note("no --ca-file: openssl verify trusts the roots of its default store"))
    return steps
