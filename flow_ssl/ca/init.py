"""
``ca init``: a new CA in a new folder, a root or an issuing CA signed by a root.

Made in a staging folder beside the target and renamed into place once its
certificate is checked; an existing folder with files is never touched.
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl import files
from flow_ssl.ca.authority import (
    CA,
    check_days,
    digest_for,
    no_req_ca_note,
    reserved_note,
    signing_steps,
)
from flow_ssl.ca.authority import unlock as unlock_ca
from flow_ssl.ca.folder import (
    CA_CONFIG,
    Folder,
    locked,
    log_issued,
    random_serial,
    read_serial,
    reserve_serial,
    serial_claim,
)
from flow_ssl.core import request_checks
from flow_ssl.core.errors import InvalidInputError, WriteFailedError
from flow_ssl.core.findings import finding, refuse_failures
from flow_ssl.openssl import runner, verify
from flow_ssl.openssl.commands import ca as commands
from flow_ssl.openssl.commands.base import Command
from flow_ssl.openssl.read import reader
from flow_ssl.openssl.read.keys import KEY_ATTEMPTS, short_key_error, short_key_file
from flow_ssl.openssl.script.render import perform, require_all
from flow_ssl.openssl.script.steps import Chmod, Concat, MakeDir, Step, WriteFile

if TYPE_CHECKING:
    from flow_ssl.ca.authority import Announce
    from flow_ssl.core.models import CASubject, Finding, KeySpec, ParsedCertificate
    from flow_ssl.openssl.features import OpenSSL


@dataclass(frozen=True)
class InitPlan:
    """A new CA folder: a root, or an issuing CA signed by a root (``parent``)."""

    target: Path
    subject: CASubject
    key: KeySpec
    days: int
    passout: str | None = None
    parent: CA | None = None
    own_serial: str = field(default_factory=random_serial)
    first_serial: str = field(default_factory=random_serial)

    def steps(
        self,
        openssl: OpenSSL,
        folder: Folder | None = None,
        *,
        parent_serial: str = "",
        reserved: bool = False,
    ) -> list[Step]:
        """
        The sequence; ``folder`` defaults to the target (a staged copy when run).

        An issuing CA is signed by its parent with ``req -CA`` where this openssl has
        it, else with ``x509 -req``. The script takes the parent's serial just before
        it signs (checked, then moved on), unless flow-ssl ``reserved`` it before.
        """
        folder = folder or Folder(self.target)
        digest = digest_for(self.key.algorithm, self.key.bits)
        steps: list[Step] = [
            MakeDir(str(folder.path), field="dir", result=True),
            WriteFile(str(folder.config), CA_CONFIG, field="dir"),
            commands.build_genpkey(self.key, str(folder.key), passout=self.passout),
        ]
        if not openssl.supports("private-keyout"):
            steps.append(Chmod(str(folder.key), field="dir"))
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
                )
            )
        else:
            if not openssl.supports("-CA"):
                steps.append(no_req_ca_note(openssl))
            steps.append(
                commands.build_ca_csr(
                    self.subject,
                    key=str(folder.key),
                    out=str(folder.request),
                    config=str(folder.config),
                    passin=self.passout,
                )
            )
            if not reserved:
                steps.append(serial_claim(self.parent.folder, parent_serial))
            steps += signing_steps(
                openssl,
                self.parent.signer(parent_serial),
                csr=str(folder.request),
                out=str(folder.cert),
                days=self.days,
                section="issuing_ca",
            )
            steps.append(Concat(str(folder.root), (str(self.parent.folder.cert),), "dir"))
        steps.append(WriteFile(str(folder.serial), self.first_serial + "\n", field="dir"))
        return steps


def check_new_folder(target: Path) -> None:
    """
    A new CA goes into a new (or empty) folder whose parent exists.

    Raises:
        InvalidInputError: the folder holds files (a CA, perhaps), or its parent is missing.
    """
    if target.exists():
        if not target.is_dir():
            raise InvalidInputError(f"{target} is a file; give a folder for the CA", field="dir")
        if any(target.iterdir()):
            raise InvalidInputError(
                f"{target} is not empty (an existing CA?); nothing was changed",
                field="dir",
                hint="give a new folder; an existing CA is never replaced",
            )
    elif not target.parent.is_dir():
        raise InvalidInputError(
            f"folder {target.parent} does not exist", hint=f"create it: mkdir -p {target.parent}"
        )


def init(plan: InitPlan, *, announce: Announce | None = None) -> ParsedCertificate:
    """
    Make the CA in a staging folder beside the target; rename it into place once checked.

    A target that is a symlink to an empty folder gets the CA in that folder. An
    issuing CA takes its parent's serial (reserved under the parent's lock) only
    once everything that can be checked first was checked.

    Raises:
        InvalidInputError: the folder is in use, or the parent's validity is too short.
        OpenSSLError: openssl failed, or the parent key's passphrase is wrong.
        CheckFailedError: the certificate is not the CA asked for.
        WriteFailedError: the new CA could not be put in place (the parent's log is
            left as it was).
    """
    target = _real_target(plan.target)
    check_new_folder(target)
    check_days(plan.days, plan.parent)
    openssl = runner.find_openssl()
    require_all(openssl, plan.steps(openssl, parent_serial="01"))
    parent = plan.parent
    if parent:
        read_serial(parent.folder)  # a damaged serial file stops us before the lock
        unlock_ca(parent, field="parent_pass")
    staging = Path(tempfile.mkdtemp(prefix=files.STAGING_PREFIX, dir=target.parent))
    folder = Folder(staging / target.name)
    try:
        folder.path.mkdir(mode=0o700)
        with locked(parent.folder) if parent else nullcontext():
            parent_serial = reserve_serial(parent.folder) if parent else ""
            if announce:
                shown = plan.steps(openssl, parent_serial=parent_serial, reserved=True)
                announce([reserved_note(parent, parent_serial), *shown] if parent else shown)
            steps = plan.steps(openssl, folder, parent_serial=parent_serial, reserved=True)
            _make_key(openssl, folder, steps)
            folder.key.chmod(files.KEY_MODE)
            cert = reader.read_file(folder.cert)[0]
            cert.source = str(Folder(plan.target).cert)
            refuse_failures(_ca_findings(plan, folder, cert), "the new CA certificate")
            with files.uninterrupted():
                _put_in_place(folder.path, target)
                if parent:
                    log_issued(parent.folder, cert, Folder(target).cert)
    finally:
        with files.uninterrupted():
            shutil.rmtree(staging, ignore_errors=True)
    return cert


def _make_key(openssl: OpenSSL, folder: Folder, steps: list[Step]) -> None:
    """
    Perform the steps (the staging folder is made already), making the key again
    until it is well formed (LibreSSL 3.3.6 writes one EC key in 256 a byte short).
    """
    keygen = next(i for i, step in enumerate(steps) if isinstance(step, Command))
    perform(steps[1 : keygen + 1])
    for _ in range(KEY_ATTEMPTS):
        if not short_key_file(folder.key):
            break
        perform([steps[keygen]])
    else:
        raise short_key_error(openssl)
    perform(steps[keygen + 1 :])


def _real_target(target: Path) -> Path:
    """The folder the CA goes in: a symlink's target (the link stays as it is)."""
    return target.resolve() if target.is_symlink() else target


def _put_in_place(made: Path, target: Path) -> None:
    try:
        if target.exists():
            target.rmdir()
        made.replace(target)
    except OSError as exc:
        raise WriteFailedError(
            f"cannot put the new CA in {target}: {exc.strerror or exc}; nothing was left there"
        ) from None


def _ca_findings(plan: InitPlan, folder: Folder, cert: ParsedCertificate) -> list[Finding]:
    findings = [
        request_checks.subject_matches(plan.subject.attributes(), cert),
        request_checks.key_matches_spec(plan.key, cert),
        request_checks.validity_matches(plan.days, cert),
        request_checks.ca_extensions(cert, path_length=None if plan.parent is None else 0),
        verify.key_matches_cert(folder.key, folder.cert, passin=plan.passout),
    ]
    if plan.parent is not None:
        trusted = plan.parent.folder.cert
        verdict = verify.verify_chain(folder.cert, untrusted=(), ca_file=trusted, purpose=None)
        findings.append(
            finding(
                "signature",
                verdict.ok,
                f"signed by {trusted}",
                f"openssl verify against {trusted}: {verdict.last_words}",
            )
        )
    return findings
