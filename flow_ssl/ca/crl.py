"""
``ca revoke`` and ``ca crl``: a certificate marked revoked in the index, and a new CRL.

openssl keeps the records: ``openssl ca -revoke`` marks the certificate in
``index.txt`` (it refuses one revoked already), and ``openssl ca -gencrl`` signs a CRL
of every revoked entry, numbered from ``crlnumber``. flow-ssl vets the request first
(a serial the index lists, a certificate this CA signed), runs both under the
folder's lock with a config naming the folder's files, reads the CRL back (its
signature, number, nextUpdate and entries against the index), and only then puts it
in place: the folder's ``crl.pem``, and ``--out`` (PEM, or DER).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl import files
from flow_ssl.ca import config, index
from flow_ssl.ca.authority import unlock
from flow_ssl.ca.folder import logged, read_index, renewals
from flow_ssl.ca.records import mark_revoked
from flow_ssl.check.crls import read_crl
from flow_ssl.core.errors import FlowSSLError, InvalidInputError
from flow_ssl.core.findings import finding, refuse_failures
from flow_ssl.make.perform import perform
from flow_ssl.make.run import PRINTED, Where, check_outputs
from flow_ssl.openssl import runner, verify
from flow_ssl.openssl.commands import ca as commands
from flow_ssl.openssl.commands.base import scratch
from flow_ssl.openssl.read import reader
from flow_ssl.openssl.read.pem import to_pem
from flow_ssl.openssl.script.render import require_all
from flow_ssl.openssl.script.steps import Concat, Note, WriteFile

if TYPE_CHECKING:
    from flow_ssl.ca.authority import CA
    from flow_ssl.core.models import Finding, ParsedCertificate
    from flow_ssl.core.revocation import RevocationList
    from flow_ssl.make.run import Announce
    from flow_ssl.openssl.features import OpenSSL
    from flow_ssl.openssl.script.steps import Step

RUN_CONFIG = "openssl-ca.cnf"
REVOKED_COPY = "revoked.pem"
MAX_CRL_DAYS = 3650
_HEX = re.compile(r"^(0[xX])?[0-9A-Fa-f]+(:[0-9A-Fa-f]+)*$")
# openssl verify's codes that say the certificate is not this CA's (its signature, its
# issuer); any other (expired, say) leaves it this CA's to revoke.
_NOT_SIGNED_HERE = {2, 4, 7, 20, 21, 30, 31}


@dataclass(frozen=True)
class Revocation:
    """The certificate ``openssl ca -revoke`` marks: its serial, its file, why."""

    serial: str  # upper-case hex, even length
    # The copy in certs/, or the file given; None: its file is gone (a serial known from
    # issued.log alone), so flow-ssl marks the index line itself and openssl makes the CRL.
    cert: Path | None
    reason: str | None
    listed: bool  # the index lists it (else openssl adds it, revoked)
    pem: str | None = None  # the certificate as PEM, when its file is not one PEM certificate


@dataclass(frozen=True)
class CrlPlan:
    """A new CRL of ``ca`` (after one revocation, for ``ca revoke``), and where it goes."""

    ca: CA
    days: int = config.DEFAULT_CRL_DAYS
    out: Path | None = None
    der: bool = False
    revoke: Revocation | None = None

    def __post_init__(self) -> None:
        """
        Refuse a CRL lifetime openssl takes but no client should.

        Raises:
            InvalidInputError: about ``days``.
        """
        if not 1 <= self.days <= MAX_CRL_DAYS:
            raise InvalidInputError(
                f"{self.days}: give a number of days from 1 to {MAX_CRL_DAYS}", field="days"
            )

    def outputs(self) -> list[files.Output]:
        """``--out`` (kept as a backup when replaced), then the folder's own crl.pem."""
        own = files.Output(self.ca.folder.crl, field="dir", backup=False)
        return [files.Output(self.out, field="out"), own] if self.out else [own]

    def steps(self, openssl: OpenSSL, where: Where = PRINTED) -> list[Step]:
        """The revocation (if any), then the CRL, then its copy at ``--out``."""
        del openssl  # every build has openssl ca and crl, the same way
        return [*self.revoke_steps(where), *self.crl_steps(where)]

    def _config(self, where: Where) -> str:
        return scratch(RUN_CONFIG, where.work)

    def revoke_steps(self, where: Where = PRINTED) -> list[Step]:
        """openssl ca's config for this folder, and ``openssl ca -revoke``."""
        folder = self.ca.folder
        settings = config.run_config(str(folder.path.resolve()), self.ca.digest)
        steps: list[Step] = [WriteFile(self._config(where), settings, field="dir")]
        revoke = self.revoke
        if revoke is None:
            return steps
        if revoke.cert is None:
            steps.append(
                Note(
                    f"flow-ssl marks serial {revoke.serial} revoked in index.txt itself: its "
                    "certificate file is gone, and openssl ca -revoke needs it"
                )
            )
            return steps
        cert = str(revoke.cert)
        if revoke.pem is not None:
            cert = scratch(REVOKED_COPY, where.work)
            steps.append(WriteFile(cert, revoke.pem, field="cert"))
        if not revoke.listed:
            steps.append(Note(f"the index does not list {revoke.serial}: openssl adds it, revoked"))
        steps.append(
            commands.build_revoke(
                config=self._config(where),
                cert=cert,
                reason=revoke.reason,
                passin=self.ca.passin,
            )
        )
        return steps

    def crl_steps(self, where: Where = PRINTED) -> list[Step]:
        """``openssl ca -gencrl`` into the folder's crl.pem, and its copy at ``--out``."""
        crl = str(where.at(self.ca.folder.crl))
        steps: list[Step] = [
            commands.build_gencrl(
                config=self._config(where), days=self.days, out=crl, passin=self.ca.passin
            )
        ]
        if self.out is not None:
            out = str(where.at(self.out))
            if self.der:
                steps.append(commands.build_crl_der(crl, out=out))
            else:
                steps.append(Concat(out, (crl,), "out"))
        return steps

    def read_back(self, where: Where, number: int) -> tuple[RevocationList, list[Finding]]:
        """
        The new CRL and what it is checked against: the CA's signature, the number it was
        due, nextUpdate ``days`` after thisUpdate, exactly the index's revoked entries.
        """
        staged = where.at(self.ca.folder.crl)
        read = read_crl(staged)
        revoked = {
            int(entry.serial, 16): entry
            for entry in read_index(self.ca.folder)
            if entry.status == "R"
        }
        listed = {entry.serial for entry in read.revoked}
        lifetime = (read.next_update - read.this_update) if read.next_update else None
        findings = [
            verify.crl_signature(staged, self.ca.folder.cert),
            finding(
                "crl-issuer",
                read.issuer == self.ca.cert.subject,
                f"issued by {self.ca.name}",
                f"issued by {read.issuer}, not by {self.ca.name}",
            ),
            finding(
                "crl-number",
                read.number == number,
                f"number {number}",
                f"number {read.number}, expected {number}",
            ),
            finding(
                "crl-next-update",
                lifetime == timedelta(days=self.days),
                f"next update {self.days} days after this one",
                f"next update {lifetime} after this one, asked {self.days} days",
            ),
            finding(
                "crl-entries",
                listed == set(revoked),
                f"{len(listed)} revoked, as the index says",
                f"lists {len(listed)} serials, the index {len(revoked)} revoked ones",
            ),
        ]
        if self.out is not None and self.der:
            findings.append(
                finding(
                    "crl-der",
                    where.at(self.out).read_bytes() == read.der,
                    f"{self.out}: the same CRL, as DER",
                    f"{self.out} does not hold the same CRL",
                )
            )
        return read, findings


@dataclass
class Published:
    """What a run put in place: the CRL, the findings that accepted it, the revocation."""

    crl: RevocationList
    findings: list[Finding]
    revoked: index.Entry | None = None
    backups: list[tuple[Path, Path]] = field(default_factory=list)


def parse_serial(text: str) -> int:
    """
    A serial as people copy it: hex, with or without ``0x`` or colons.

    Raises:
        InvalidInputError: about the field ``serial``.
    """
    if not _HEX.match(text):
        raise InvalidInputError(
            f"{text!r} is not a serial number in hex (like 5F3A or 5f:3a)",
            field="serial",
            joiner=": ",
        )
    return int(text.replace(":", "").removeprefix("0x").removeprefix("0X"), 16)


def plan_revoke(
    ca: CA,
    *,
    cert: Path | None,
    serial: str | None,
    reason: str | None,
    days: int = config.DEFAULT_CRL_DAYS,
) -> CrlPlan:
    """
    Vet a revocation against the index: a serial it lists and has not revoked, or a
    certificate file this CA signed.

    Raises:
        InvalidInputError: an unknown serial, one revoked already, a certificate of
            another CA, or a reason openssl does not take.
    """
    if reason is not None and reason not in index.REASONS:
        raise InvalidInputError(
            f"{reason}: give one of {', '.join(index.REASONS)}", field="reason", joiner=": "
        )
    entries = read_index(ca.folder)
    if cert is not None:
        revocation = _of_certificate(ca, cert, entries, reason)
    else:
        assert serial is not None  # noqa: S101 - the CLI asks for one of the two
        revocation = _of_serial(ca, parse_serial(serial), entries, reason)
    return CrlPlan(ca=ca, days=days, revoke=revocation)


def _refuse_revoked(ca: CA, entry: index.Entry | None) -> None:
    if entry is not None and entry.status == "R":
        when = f"{entry.revoked_at:%Y-%m-%d %H:%M} UTC" if entry.revoked_at else "earlier"
        why = f" ({entry.reason})" if entry.reason else ""
        raise InvalidInputError(
            f"serial {entry.serial} ({entry.subject}) was revoked already, {when}{why}; "
            f"{ca.folder.index} is unchanged",
            hint=f"make a new CRL with it: flow-ssl ca crl --dir {ca.folder.path}",
        )


def _of_serial(ca: CA, serial: int, entries: list[index.Entry], reason: str | None) -> Revocation:
    entry = index.find(entries, serial)
    text = index.serial_text(serial)
    if entry is None:
        raise InvalidInputError(
            f"serial {text} is not in {ca.folder.index}: {ca.name} did not issue it (or a "
            "printed script did, which records nothing)",
            field="serial",
            joiner=": ",
            hint=f"flow-ssl ca list --dir {ca.folder.path} lists what it issued; give the "
            "certificate file to revoke one a script issued",
        )
    _refuse_revoked(ca, entry)
    copy = ca.folder.copy_of(text)
    # A certificate known from issued.log alone (its file gone) is revoked all the same:
    # flow-ssl marks its index line, as openssl would, and -gencrl lists it.
    return Revocation(
        serial=text, cert=copy if copy.is_file() else None, reason=reason, listed=True
    )


def _of_certificate(
    ca: CA, path: Path, entries: list[index.Entry], reason: str | None
) -> Revocation:
    items = reader.read_file(path)
    cert = items[0]
    if cert.kind != "certificate" or len(items) != 1:
        raise InvalidInputError(
            f"{path} holds {len(items)} item(s) ({', '.join(i.kind for i in items)}); "
            "give the one certificate to revoke",
            field="cert",
            joiner=": ",
        )
    assert cert.serial is not None  # noqa: S101 - a parsed certificate has one
    serial = int(cert.serial, 16)
    if cert.sha256_fingerprint == ca.cert.sha256_fingerprint:
        raise InvalidInputError(
            f"{path} is the CA's own certificate; a CA is revoked by the CA above it "
            "(ca revoke --dir ROOT), or, for a root, by taking it out of every trust store"
        )
    _refuse_not_ours(ca, path, cert)
    entry = index.find(entries, serial)
    _refuse_revoked(ca, entry)
    _refuse_retiring_the_renewal(ca, index.serial_text(serial), entries, reason, path)
    framed, is_pem = reader.split_file(path)
    pem = None if is_pem and len(framed) == 1 else to_pem(cert.der, "CERTIFICATE")
    return Revocation(
        serial=index.serial_text(serial),
        cert=path,
        reason=reason,
        listed=entry is not None,
        pem=pem,
    )


def _refuse_retiring_the_renewal(
    ca: CA, serial: str, entries: list[index.Entry], reason: str | None, path: Path
) -> None:
    """
    Refuse ``--reason superseded`` for the certificate that superseded others: after
    ``renew``, NAME.crt holds the new certificate, so revoking "the old one" by that
    name would take down the one just installed. The older serial is the one to give.

    Raises:
        InvalidInputError: naming the older serial(s) to give with ``--serial``.
    """
    if reason != "superseded":
        return
    replaced = index.superseded(entries, renewals(logged(ca.folder)), datetime.now(timezone.utc))
    older = [old for old, newer in replaced.items() if newer == serial]
    if older:
        raise InvalidInputError(
            f"{path} is serial {serial}, the newest certificate for its names, which "
            f"superseded {', '.join(older)}: --reason superseded would revoke the renewal "
            "itself (after renew, the old file name holds the new certificate)",
            field="cert",
            joiner=": ",
            hint=f"retire the one it replaced: flow-ssl ca revoke --dir {ca.folder.path} "
            f"--serial {older[0]} --reason superseded",
        )


def _refuse_not_ours(ca: CA, path: Path, cert: ParsedCertificate) -> None:
    """Refuse a certificate this CA did not sign (by its issuer, then by openssl verify)."""
    if ca.cert.issued(cert):
        root = ca.folder.root_cert()
        with tempfile.TemporaryDirectory(prefix="flow-ssl-") as work:
            copy = Path(work) / "cert.pem"
            files.write_staged(copy, to_pem(cert.der, "CERTIFICATE").encode("ascii"))
            untrusted = () if ca.is_root else (ca.folder.cert,)
            verdict = verify.verify_chain(copy, untrusted=untrusted, ca_file=root, purpose=None)
        if verdict.ok or not {code for code, _, _ in verdict.errors} & _NOT_SIGNED_HERE:
            return
    raise InvalidInputError(
        f"{path} was issued by {cert.names_text(issuer=True) or '(no issuer)'}, not by "
        f"{ca.name} in {ca.folder.path}: nothing was revoked",
        field="cert",
        joiner=": ",
        hint="revoke it with the CA that issued it",
    )


def publish(plan: CrlPlan, *, force: bool, announce: Announce | None = None) -> Published:
    """
    Revoke (if asked) and make the CRL under the folder's lock; put it in place once it
    checks out.

    Raises:
        InvalidInputError: ``--out`` exists (without force) or cannot be written; the
            revocation no longer holds under the lock; the CA is busy or damaged.
        OpenSSLError: openssl failed (a revocation already recorded is said so).
        CheckFailedError: the CRL is not what was asked (nothing put in place).
        WriteFailedError: the CRL could not be put in place.
    """
    outputs = plan.outputs()
    check_outputs([output for output in outputs if output.backup], force=force)
    openssl = runner.find_openssl()
    require_all(openssl, plan.steps(openssl))
    unlock(plan.ca)
    with plan.ca.locked():
        plan = _still_so(plan)
        number = _crl_number(plan.ca)
        if announce is not None:
            announce(plan.steps(openssl, Where(scripted=False)))
        with tempfile.TemporaryDirectory(prefix="flow-ssl-") as work:
            perform(plan.revoke_steps(Where(work=work, scripted=False)))
            if plan.revoke is not None and plan.revoke.cert is None:
                mark_revoked(
                    plan.ca.folder,
                    plan.revoke.serial,
                    plan.revoke.reason,
                    datetime.now(timezone.utc),
                )
            revoked = _recorded(plan)
            kept: list[tuple[Path, Path]] = []
            try:
                with files.staged(outputs, kept) as staged:
                    finals = [output.path for output in outputs]
                    where = Where(dict(zip(finals, staged, strict=True)), work, scripted=False)
                    perform(plan.crl_steps(where), shown=where.shown)
                    files.require_written(list(zip(staged, finals, strict=True)))
                    crl, findings = plan.read_back(where, number)
                    refuse_failures(findings, "the new CRL")
            except FlowSSLError as exc:
                if revoked is not None:
                    exc.message = (
                        f"serial {revoked.serial} is revoked in {plan.ca.folder.index}, but no "
                        f"new CRL was made: {exc.message}; make one with flow-ssl ca crl "
                        f"--dir {plan.ca.folder.path}"
                    )
                raise
    return Published(crl, findings, revoked, kept)


def _still_so(plan: CrlPlan) -> CrlPlan:
    """Under the lock: the revocation vetted before still holds (no one revoked it since)."""
    revoke = plan.revoke
    if revoke is None:
        return plan
    entry = index.find(read_index(plan.ca.folder), int(revoke.serial, 16))
    _refuse_revoked(plan.ca, entry)
    return replace(plan, revoke=replace(revoke, listed=entry is not None))


def _recorded(plan: CrlPlan) -> index.Entry | None:
    """The revoked entry openssl wrote (none without a revocation)."""
    if plan.revoke is None:
        return None
    entry = index.find(read_index(plan.ca.folder), int(plan.revoke.serial, 16))
    if entry is None or entry.status != "R":
        raise InvalidInputError(
            f"openssl ca -revoke said nothing wrong, but {plan.ca.folder.index} does not "
            f"list {plan.revoke.serial} as revoked"
        )
    return entry


def _crl_number(ca: CA) -> int:
    """The number the next CRL carries (the crlnumber file, hex)."""
    path = ca.folder.crl_number
    try:
        text = path.read_text(encoding="ascii").strip()
        return int(text, 16)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInputError(
            f"{path} does not hold a CRL number in hex ({exc})",
            hint=f"restore it from a backup of {ca.folder.path}",
        ) from None


def last_crl(ca: CA) -> RevocationList | None:
    """
    The CA's last CRL (its folder's crl.pem), if it has made one.

    Raises:
        InvalidInputError: the file is there but holds no CRL.
    """
    return read_crl(ca.folder.crl) if ca.folder.crl.is_file() else None
