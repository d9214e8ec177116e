"""
``ca init``: a new CA in a new folder, a root or an issuing CA signed by a root.

Made in a staging folder beside the target and renamed into place once its
certificate is checked (the run loop, make/run.py, with the parent's hooks for an
issuing CA); an existing folder with files is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl import files
from flow_ssl.ca.authority import CA, check_days, digest_for, no_req_ca_note, signing_steps
from flow_ssl.ca.folder import CA_CONFIG, Folder, random_serial, serial_claim
from flow_ssl.core import request_checks
from flow_ssl.core.findings import finding
from flow_ssl.make.run import PRINTED, Checked, Where
from flow_ssl.openssl import verify
from flow_ssl.openssl.commands import ca as commands
from flow_ssl.openssl.read import reader
from flow_ssl.openssl.script.steps import Chmod, Concat, MakeDir, Step, WriteFile

if TYPE_CHECKING:
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

    def __post_init__(self) -> None:
        """
        Refuse a validity openssl cannot give, or one outliving the parent, up front.

        Raises:
            InvalidInputError: about ``days``.
        """
        check_days(self.days, self.parent)

    @property
    def issuer(self) -> CA | None:
        """The root that signs an issuing CA; none for a root (it signs itself)."""
        return self.parent

    @property
    def folder(self) -> Path:
        """The folder the CA goes in: a symlink's target (the link stays as it is)."""
        return self.target.resolve() if self.target.is_symlink() else self.target

    def steps(self, openssl: OpenSSL, where: Where = PRINTED) -> list[Step]:
        """
        The sequence, in the target folder (a staged one when run).

        An issuing CA is signed by its parent with ``req -CA`` where this openssl has
        it, else with ``x509 -req``. A script takes the parent's serial just before it
        signs (checked, then moved on); a run has reserved it already.
        """
        folder = Folder(where.at(self.folder))
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
            if where.scripted:
                steps.append(serial_claim(self.parent.folder, where.serial))
            steps += signing_steps(
                openssl,
                self.parent.signer(where.serial),
                csr=str(folder.request),
                out=str(folder.cert),
                days=self.days,
                section="issuing_ca",
            )
            steps.append(Concat(str(folder.root), (str(self.parent.folder.cert),), "dir"))
        steps.append(WriteFile(str(folder.serial), self.first_serial + "\n", field="dir"))
        return steps

    def outputs(self) -> list[files.Output]:
        """The new CA folder, made whole in staging and renamed into place."""
        return [files.Output(self.folder, field="dir", folder=True)]

    def new_key(self, where: Where) -> Path:
        """The CA's key (checked when unencrypted: an encrypted one cannot be looked into)."""
        return Folder(where.at(self.folder)).key

    def read_back(self, where: Where) -> Checked:
        """The CA certificate: its subject, key, validity and CA extensions; its parent's."""
        staged = Folder(where.at(self.folder))
        cert = reader.read_file(staged.cert)[0]
        cert.source = str(Folder(self.target).cert)
        return Checked(cert, _ca_findings(self, staged, cert), "the new CA certificate")


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
