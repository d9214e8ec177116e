"""
A company CA: make one (root or issuing), sign a CSR with it, or issue key + certificate.

Each operation is a list of steps (openssl commands plus the small files
between them), so ``--print`` shows the very sequence that runs. Results are
read back and checked before anything is renamed into place. The CA's serial
advances as soon as openssl has signed (a serial is never given out twice,
even for a certificate then refused); issued.log lists the ones written.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl import cafolder, checks, commands, files, generate, reader, readiness, runner
from flow_ssl.cafolder import CA_CONFIG, Folder
from flow_ssl.errors import CheckFailedError, InvalidInputError, OpenSSLFailedError
from flow_ssl.script import Concat, MakeDir, Note, Step, WriteFile

if TYPE_CHECKING:
    from flow_ssl.models import (
        CASubject,
        CertRequest,
        Finding,
        KeySpec,
        ParsedCertificate,
        SanEntry,
    )

ROOT_DAYS = 3650
ISSUING_DAYS = 1825
LEAF_DAYS = 397
DEFAULT_CA_KEY = "ec:P-384"
# Smallest keys a CA signs for a server: what browsers and Go still accept.
MIN_RSA_BITS = 2048
SERVER_CURVES = ("P-256", "P-384", "P-521")
# What `check` adds to the comparison with the request (validity-period is left
# out: --days over Apple's limit is allowed, with a warning before the run).
_READINESS_KEPT = frozenset(
    {
        "key-unencrypted",
        "key-matches-cert",
        "chain-order",
        "chain-complete",
        "chain-verifies",
        "hostname",
        "key-strength",
        "signature-hash",
    }
)
# Called with the exact steps (final paths, the serial taken) before they run.
Announce = Callable[[list[Step]], None]


def digest_for(algorithm: str, size: int | None) -> str:
    """The signature hash that matches the CA key's strength."""
    if algorithm == "ec" and size and size > 256:
        return "sha384" if size <= 384 else "sha512"
    return "sha256"


@dataclass(frozen=True)
class CA:
    """An existing CA folder, its certificate, and how to unlock its key."""

    folder: Folder
    cert: ParsedCertificate
    passin: str | None = None

    @property
    def is_root(self) -> bool:
        """A self-signed CA (its leaves' full chain is the leaf alone)."""
        return bool(self.cert.self_signed)

    def signer(self, serial: str) -> commands.Signer:
        """The -CA/-CAkey/-config options for signing with this CA."""
        key = self.cert.public_key
        return commands.Signer(
            cert=str(self.folder.cert),
            key=str(self.folder.key),
            config=str(self.folder.config),
            serial=serial,
            digest=digest_for(key.algorithm, key.bits),
            passin=self.passin,
        )

    def chain(self) -> tuple[str, ...]:
        """What follows a leaf in its full chain: the issuing CA, never the root."""
        return () if self.is_root else (str(self.folder.cert),)

    def max_days(self, now: datetime) -> int:
        """The longest validity this CA can give: none may outlive it."""
        assert self.cert.not_after is not None  # noqa: S101 - a parsed certificate has one
        return (self.cert.not_after - now) // timedelta(days=1)


def open_ca(path: Path, *, passin: str | None, flag: str = "--dir") -> CA:
    """
    Load a CA folder made by ``ca init``.

    Raises:
        InvalidInputError: no CA there, a file missing, not a CA, or a locked key without
            ``--ca-pass``.
    """
    folder = Folder(path)
    if not path.is_dir():
        raise InvalidInputError(
            f"{flag} {path}: there is no CA folder there",
            hint=f"make one: flow-ssl ca init --dir {path} --name 'My Company Root CA'",
        )
    needed = (folder.key, folder.cert, folder.config, folder.serial)
    missing = [p.name for p in needed if not p.is_file()]
    if missing:
        raise InvalidInputError(
            f"{flag} {path} is not a flow-ssl CA folder: {', '.join(missing)} missing"
        )
    cafolder.check_pass_source(passin, "--ca-pass")
    key_text = folder.key.read_text(encoding="ascii", errors="replace")
    if passin is None and reader.is_encrypted_key(key_text):
        raise InvalidInputError(
            f"{folder.key} is passphrase-protected: give --ca-pass env:VARIABLE or file:PATH"
        )
    cert = reader.read_file(folder.cert)[0]
    if cert.kind != "certificate" or not (cert.basic_constraints and cert.basic_constraints.ca):
        raise InvalidInputError(f"{folder.cert} is not a CA certificate")
    return CA(folder=folder, cert=cert, passin=passin)


def _perform_all(steps: list[Step], openssl: runner.OpenSSL) -> None:
    """Do each step for real (the same steps --print shows), once all can run here."""
    for step in steps:
        if isinstance(step, commands.Command):
            openssl.require(step)
    for step in steps:
        _perform(step)


def _perform(step: Step) -> None:
    if isinstance(step, commands.Command):
        if step.prompts:
            runner.run_interactive(step)
        else:
            runner.run(step)
    elif isinstance(step, WriteFile):
        target = Path(step.path)
        staged = target.with_name(f".{target.name}.new")
        staged.write_text(step.text, encoding="ascii")
        staged.replace(target)  # atomic: a reader sees the old text or the new, never half
    elif isinstance(step, Concat):
        text = "".join(Path(p).read_text(encoding="ascii") for p in step.inputs)
        Path(step.out).write_text(text, encoding="ascii")


def _refuse(findings: list[Finding], what: str) -> None:
    problems = checks.failed(findings)
    if problems:
        raise CheckFailedError(
            f"{what} does not match what was asked; nothing was written",
            problems=tuple(f"{f.check}: {f.message}" for f in problems),
        )


def check_days(days: int, issuer: CA | None, flag: str = "--days") -> None:
    """
    Refuse a validity openssl cannot give, or one that outlives the issuing CA.

    Raises:
        InvalidInputError: naming ``flag``.
    """
    if not 1 <= days <= 36500:
        raise InvalidInputError(f"{flag} {days}: give a number of days from 1 to 36500")
    if issuer is None:
        return
    most = issuer.max_days(datetime.now(timezone.utc))
    if days > most:
        raise InvalidInputError(
            f"{flag} {days}: the CA {issuer.folder.path} expires in {most} days, and nothing "
            f"it signs may outlive it; give --days {most} or less"
        )


# --- ca init ------------------------------------------------------------------


@dataclass(frozen=True)
class InitPlan:
    """A new CA folder: a root, or an issuing CA signed by a root (``parent``)."""

    target: Path
    subject: CASubject
    key: KeySpec
    days: int
    passout: str | None = None
    parent: CA | None = None
    own_serial: str = field(default_factory=cafolder.random_serial)
    first_serial: str = field(default_factory=cafolder.random_serial)

    def steps(
        self, folder: Folder | None = None, *, parent_serial: str = "", openssl: str = "openssl"
    ) -> list[Step]:
        """The sequence; ``folder`` defaults to the target (a staged copy when run)."""
        folder = folder or Folder(self.target)
        digest = digest_for(self.key.algorithm, self.key.bits)
        steps: list[Step] = [
            MakeDir(str(folder.path)),
            WriteFile(str(folder.config), CA_CONFIG),
            commands.build_genpkey(
                self.key, str(folder.key), passout=self.passout, openssl=openssl
            ),
        ]
        if self.parent is None:
            steps.append(
                commands.build_root_ca(
                    self.subject,
                    key=str(folder.key),
                    out=str(folder.cert),
                    config=str(folder.config),
                    serial=self.own_serial,
                    days=self.days,
                    digest=digest,
                    passin=self.passout,
                    openssl=openssl,
                )
            )
        else:
            steps += [
                commands.build_ca_csr(
                    self.subject,
                    key=str(folder.key),
                    out=str(folder.request),
                    config=str(folder.config),
                    passin=self.passout,
                    openssl=openssl,
                ),
                commands.build_sign_csr(
                    str(folder.request),
                    out=str(folder.cert),
                    signer=self.parent.signer(parent_serial),
                    section="issuing_ca",
                    days=self.days,
                    openssl=openssl,
                ),
                cafolder.serial_after(self.parent.folder, parent_serial),
                Concat(str(folder.root), (str(self.parent.folder.cert),)),
            ]
        steps.append(WriteFile(str(folder.serial), self.first_serial + "\n"))
        return steps


def check_new_folder(target: Path) -> None:
    """
    A new CA goes into a new (or empty) folder whose parent exists.

    Raises:
        InvalidInputError: the folder holds files (a CA, perhaps), or its parent is missing.
    """
    if target.exists():
        if not target.is_dir():
            raise InvalidInputError(f"--dir {target} is a file; give a folder for the CA")
        if any(target.iterdir()):
            raise InvalidInputError(
                f"--dir {target} is not empty (an existing CA?); nothing was changed",
                hint="give a new folder; an existing CA is never replaced",
            )
    elif not target.parent.is_dir():
        raise InvalidInputError(
            f"folder {target.parent} does not exist", hint=f"create it: mkdir -p {target.parent}"
        )


def init(plan: InitPlan, *, announce: Announce | None = None) -> ParsedCertificate:
    """
    Make the CA in a staging folder beside the target; rename it into place once checked.

    Raises:
        InvalidInputError: the folder is in use, or the parent's validity is too short.
        OpenSSLError: openssl failed.
        CheckFailedError: the certificate is not the CA asked for.
    """
    check_new_folder(plan.target)
    check_days(plan.days, plan.parent)
    openssl = runner.find_openssl()
    staging = Path(tempfile.mkdtemp(prefix=files.STAGING_PREFIX, dir=plan.target.parent))
    folder = Folder(staging / plan.target.name)
    parent = plan.parent
    try:
        folder.path.mkdir(mode=0o700)
        with cafolder.locked(parent.folder) if parent else nullcontext():
            parent_serial = cafolder.read_serial(parent.folder) if parent else ""
            if announce:
                announce(plan.steps(parent_serial=parent_serial))
            steps = plan.steps(folder, parent_serial=parent_serial, openssl=openssl.path)
            _perform_all(steps[1:], openssl)  # the staging folder is made already
            folder.key.chmod(files.KEY_MODE)
            cert = reader.read_file(folder.cert)[0]
            cert.source = str(Folder(plan.target).cert)
            _refuse(_ca_findings(plan, folder, cert, openssl.path), "the new CA certificate")
            if parent:
                cafolder.log_issued(parent.folder, cert, Folder(plan.target).cert)
        if plan.target.exists():
            plan.target.rmdir()
        folder.path.replace(plan.target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return cert


def _ca_findings(
    plan: InitPlan, folder: Folder, cert: ParsedCertificate, openssl: str
) -> list[Finding]:
    findings = [
        checks.subject_matches(plan.subject.attributes(), cert),
        checks.key_matches_spec(plan.key, cert),
        checks.validity_matches(plan.days, cert),
        checks.ca_extensions(cert, path_length=None if plan.parent is None else 0),
        generate.verify_key_matches(openssl, folder.key, folder.cert, passin=plan.passout),
    ]
    if plan.parent is not None:
        findings.append(_signature_finding(openssl, folder.cert, plan.parent.folder.cert))
    return findings


def _signature_finding(openssl: str, cert: Path, trusted: Path) -> Finding:
    from flow_ssl.models import Finding

    command = commands.build_verify(
        str(cert), untrusted=(), ca_file=str(trusted), purpose=None, openssl=openssl
    )
    try:
        runner.run(command)
    except OpenSSLFailedError as exc:
        return Finding(check="signature", status="fail", message=exc.message)
    return Finding(check="signature", status="pass", message=f"signed by {trusted}")


# --- ca sign ------------------------------------------------------------------


@dataclass(frozen=True)
class SignPlan:
    """A server certificate for an operator's CSR, signed by ``ca``."""

    ca: CA
    csr: Path
    request: ParsedCertificate
    names: tuple[SanEntry, ...]
    days: int
    out: Path
    fullchain: Path

    def steps(
        self,
        *,
        serial: str,
        out: Path | None = None,
        fullchain: Path | None = None,
        openssl: str = "openssl",
        check_signature: bool = True,
    ) -> list[Step]:
        """Check the CSR's signature (unless done already), sign it, join the full chain."""
        out = out or self.out
        extensions = commands.server_extensions(
            self.names, key_algorithm=self.request.public_key.algorithm
        )
        steps: list[Step] = []
        if check_signature:
            steps += [
                Note(
                    "the request must be signed by its own key: look for 'verify OK' "
                    "(openssl before 3.4 exits 0 even on 'verify failure')"
                ),
                commands.build_req_verify(str(self.csr), openssl=openssl),
            ]
        return [
            *steps,
            Note(
                f"the CA in {self.ca.folder.path} signs it, with flow-ssl's extensions, not its own"
            ),
            commands.build_sign_csr(
                str(self.csr),
                out=str(out),
                signer=self.ca.signer(serial),
                section="server",
                days=self.days,
                extra=extensions,
                openssl=openssl,
            ),
            cafolder.serial_after(self.ca.folder, serial),
            Concat(str(fullchain or self.fullchain), (str(out), *self.ca.chain())),
        ]

    def outputs(self) -> list[files.Output]:
        """The certificate and the full chain."""
        return [files.Output(self.out), files.Output(self.fullchain)]


def plan_sign(ca: CA, csr: Path, *, days: int, out: Path, fullchain: Path) -> SignPlan:
    """
    Read and vet the CSR: signed by its own key, names valid, key strong enough.

    Raises:
        InvalidInputError: a tampered, unreadable or unsuitable CSR, or bad --days.
    """
    if not csr.is_file():
        raise InvalidInputError(f"{csr}: no such file")
    items = reader.read_file(csr)
    if items[0].kind != "csr":
        raise InvalidInputError(f"{csr} is a certificate, not a certificate request (CSR)")
    request = items[0]
    openssl = runner.find_openssl()
    if generate.verify_csr_signature(openssl.path, csr).status == "fail":
        raise InvalidInputError(
            f"{csr}: its signature does not verify; it was altered or damaged, so it is not signed",
            hint="ask for the CSR again, straight from the server that made it",
        )
    check_days(days, ca)
    _check_request_key(csr, request)
    return SignPlan(
        ca=ca,
        csr=csr,
        request=request,
        names=request_names(csr, request),
        days=days,
        out=out,
        fullchain=fullchain,
    )


def request_names(csr: Path, request: ParsedCertificate) -> tuple[SanEntry, ...]:
    """
    The CSR's names, validated like every name flow-ssl takes; its CN first if a host name.

    Raises:
        InvalidInputError: a name that is not a host name or IP, or no name at all.
    """
    from flow_ssl.models import SanEntry

    san = request.subject_alt_names
    if san.email or san.uri:
        raise InvalidInputError(
            f"{csr} asks for e-mail or URI names ({', '.join(san.email + san.uri)}); "
            "a server certificate carries host names and IPs only"
        )
    common_name = request.subject_value("CN")
    candidates = ([common_name] if common_name else []) + san.dns + san.ip
    entries: list[SanEntry] = []
    for index, text in enumerate(candidates):
        try:
            entry = SanEntry.parse(text)
        except ValueError as exc:
            if index == 0 and common_name and (san.dns or san.ip):
                continue  # a CN like "Flow Server" is a label; the SAN carries the names
            raise InvalidInputError(f"{csr}: name {text!r}: {exc}") from None
        if entry not in entries:
            entries.append(entry)
    if not entries:
        raise InvalidInputError(f"{csr} names no host: it has neither a CN nor a SAN")
    return tuple(entries)


def _check_request_key(csr: Path, request: ParsedCertificate) -> None:
    key = request.public_key
    if key.algorithm == "rsa" and (key.bits or 0) < MIN_RSA_BITS:
        raise InvalidInputError(
            f"{csr} has a {key.bits}-bit RSA key; clients refuse less than {MIN_RSA_BITS}",
            hint="make a new key and CSR: flow-ssl csr --cn ... --key rsa:2048",
        )
    if key.algorithm == "ec" and key.curve not in SERVER_CURVES:
        raise InvalidInputError(f"{csr} has an EC key on {key.curve}; use P-256 or P-384")
    if key.algorithm not in {"rsa", "ec"}:
        raise InvalidInputError(
            f"{csr} has a {key.algorithm} key, which browsers do not accept for TLS servers; "
            "use RSA or EC (P-256, P-384)"
        )


@dataclass
class Issued:
    """What a signing made, and the findings that accepted it."""

    cert: ParsedCertificate
    serial: str
    findings: list[Finding]


def sign(plan: SignPlan, *, force: bool, announce: Announce | None = None) -> Issued:
    """
    Sign under the CA's lock; write the certificate and chain once they check out.

    Raises:
        InvalidInputError: outputs exist (without force), or the CA is busy.
        OpenSSLError: openssl failed.
        CheckFailedError: the certificate is not what was asked (nothing written).
    """
    outputs = plan.outputs()
    files.check_outputs(outputs, force=force)
    openssl = runner.find_openssl()
    ca = plan.ca
    with cafolder.locked(ca.folder), files.staged(outputs) as (out, fullchain):
        serial = cafolder.read_serial(ca.folder)
        if announce:
            announce(plan.steps(serial=serial))
        # plan_sign has checked the CSR's signature (and refused a bad one) already.
        steps = plan.steps(
            serial=serial,
            out=out,
            fullchain=fullchain,
            openssl=openssl.path,
            check_signature=False,
        )
        _perform_all(steps, openssl)
        cert, ready = _read_back(fullchain, ca, plan.names, key=None, shown_as=plan.out)
        findings = [
            checks.subject_matches([(a.type, a.value) for a in plan.request.subject], cert),
            checks.names_match(plan.names, cert),
            checks.validity_matches(plan.days, cert),
            checks.server_extensions(cert),
            _same_key(openssl.path, plan.csr, out),
            _serial_finding(serial, cert),
            *ready,
        ]
        _refuse(findings, "the signed certificate")
        cafolder.log_issued(ca.folder, cert, plan.out)
    return Issued(cert=cert, serial=serial, findings=findings)


def _same_key(openssl: str, csr: Path, cert: Path) -> Finding:
    from flow_ssl.models import Finding

    csr_key, cert_key = runner.run_many(
        [
            commands.build_pubkey_from_csr(str(csr), openssl=openssl),
            commands.build_pubkey_from_cert(str(cert), openssl=openssl),
        ]
    )
    same = csr_key.stdout.strip() == cert_key.stdout.strip() and "PUBLIC KEY" in csr_key.stdout
    return Finding(
        check="key",
        status="pass" if same else "fail",
        message="the certificate carries the request's key"
        if same
        else "the certificate's key is not the request's",
    )


def _serial_finding(serial: str, cert: ParsedCertificate) -> Finding:
    from flow_ssl.models import Finding

    ok = int(serial, 16) == int(cert.serial or "0", 16)
    return Finding(
        check="serial",
        status="pass" if ok else "fail",
        message=f"serial {serial}" if ok else f"serial is {cert.serial}, expected {serial}",
    )


def _read_back(
    fullchain: Path, ca: CA, names: tuple[SanEntry, ...], *, key: Path | None, shown_as: Path
) -> tuple[ParsedCertificate, list[Finding]]:
    """
    The new leaf, and the same checks as ``flow-ssl check`` on its full chain.

    One read of the chain gives both (the leaf is its first certificate);
    only this CA's root is trusted.
    """
    report = readiness.check(
        fullchain,
        key=key,
        ca_file=ca.folder.root_cert(),
        hosts=tuple(entry.value.replace("*", "host", 1) for entry in names),
    )
    leaf = report.certificates[0]
    leaf.source = str(shown_as)
    return leaf, [f for f in report.findings if f.check in _READINESS_KEPT]


# --- ca issue -----------------------------------------------------------------


@dataclass(frozen=True)
class IssuePlan:
    """A new key and a server certificate signed by ``ca``, in one openssl run (like mkcert)."""

    ca: CA
    request: CertRequest
    key_path: Path
    out: Path
    fullchain: Path
    use_subj: bool

    def command(
        self,
        *,
        serial: str,
        keyout: Path | None = None,
        out: Path | None = None,
        openssl: str = "openssl",
    ) -> commands.Command:
        """``openssl req -x509 -newkey ... -CA ... -CAkey ...``."""
        made = commands.build_req(
            self.request,
            keyout=str(keyout or self.key_path),
            out=str(out or self.out),
            x509=True,
            use_subj=self.use_subj,
            openssl=openssl,
        )
        return commands.with_signer(made, self.ca.signer(serial), days=self.request.days)

    def steps(
        self,
        *,
        serial: str,
        keyout: Path | None = None,
        out: Path | None = None,
        fullchain: Path | None = None,
        openssl: str = "openssl",
    ) -> list[Step]:
        """Make and sign in one run, then join the full chain."""
        out = out or self.out
        return [
            self.command(serial=serial, keyout=keyout, out=out, openssl=openssl),
            cafolder.serial_after(self.ca.folder, serial),
            Concat(str(fullchain or self.fullchain), (str(out), *self.ca.chain())),
        ]

    def outputs(self) -> list[files.Output]:
        """The key (secret), the certificate and the full chain."""
        return [
            files.Output(self.key_path, secret=True),
            files.Output(self.out),
            files.Output(self.fullchain),
        ]


def issue(plan: IssuePlan, *, force: bool, announce: Announce | None = None) -> Issued:
    """
    Make key + certificate under the CA's lock; write them once they check out.

    Raises:
        InvalidInputError: outputs exist (without force), the CA is busy, or bad --days.
        OpenSSLError: openssl failed or asked what it was not expected to.
        CheckFailedError: the certificate is not what was asked (nothing written).
    """
    check_days(plan.request.days, plan.ca)
    outputs = plan.outputs()
    files.check_outputs(outputs, force=force)
    openssl = runner.find_openssl()
    ca = plan.ca
    with cafolder.locked(ca.folder), files.staged(outputs) as (key, out, fullchain):
        serial = cafolder.read_serial(ca.folder)
        if announce:
            announce(plan.steps(serial=serial))
        steps = plan.steps(
            serial=serial, keyout=key, out=out, fullchain=fullchain, openssl=openssl.path
        )
        _perform_all(steps, openssl)
        cert, ready = _read_back(fullchain, ca, plan.request.names, key=key, shown_as=plan.out)
        findings = [
            *checks.compare_request(plan.request, cert),
            _serial_finding(serial, cert),
            *ready,
        ]
        _refuse(findings, "the issued certificate")
        cafolder.log_issued(ca.folder, cert, plan.out)
    return Issued(cert=cert, serial=serial, findings=findings)


def default_outputs(stem_from: str) -> tuple[Path, Path]:
    """``<name>.crt`` and ``<name>.fullchain.pem`` for a CN or a CSR file's stem."""
    return Path(f"{stem_from}.crt"), Path(f"{stem_from}.fullchain.pem")
