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
from flow_ssl.ca import config
from flow_ssl.ca.authority import CA, check_days, digest_for, no_req_ca_note, signing_steps
from flow_ssl.ca.folder import Folder, random_serial, refuse_control_characters, serial_claim
from flow_ssl.core import name_constraints, request_checks
from flow_ssl.core.errors import InvalidInputError, refuse_all
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
    # The names it may sign for (nameConstraints), as parse_permit gives them.
    permits: tuple[tuple[name_constraints.Kind, str], ...] = ()
    crl_url: str | None = None  # where its CRL will be: in everything it signs
    own_serial: str = field(default_factory=random_serial)
    first_serial: str = field(default_factory=random_serial)

    def __post_init__(self) -> None:
        """
        Refuse, up front, a validity openssl cannot give or one outliving the parent, and
        names the parent's own constraints do not hold.

        Raises:
            InvalidInputError: about ``days`` or ``permit``, or a folder path holding a
                control character (about ``dir``).
        """
        refuse_control_characters(self.target)
        check_days(self.days, self.parent)
        if self.parent is None:
            return
        beyond = name_constraints.beyond_parent(self.permits, self.parent.cert)
        if beyond:
            constraints = self.parent.cert.name_constraints
            assert constraints is not None  # noqa: S101 - only a constrained parent refuses
            raise InvalidInputError(
                f"{', '.join(beyond)}: outside what the parent {self.parent.name} may sign "
                f"for ({name_constraints.describe(constraints)})",
                field="permit",
                joiner=": ",
            )

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
        settings = config.render(
            digest=digest,
            permits=self.permits if self.parent is None else (),
            crl_url=self.crl_url,
        )
        steps: list[Step] = [
            MakeDir(str(folder.path), field="dir", result=True),
            WriteFile(str(folder.config), settings, field="dir"),
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
            parent_point = self.parent.crl_url
            limits = [("nameConstraints", name_constraints.openssl_value(self.permits))]
            steps += signing_steps(
                openssl,
                self.parent.signer(where.serial),
                csr=str(folder.request),
                out=str(folder.cert),
                days=self.days,
                section="issuing_ca",
                base=[
                    *config.ISSUING_CA,
                    *([config.crl_point(parent_point)] if parent_point else []),
                ],
                extra=limits if self.permits else [],
                work=where.work,
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


def parse_permits(texts: list[str]) -> tuple[tuple[name_constraints.Kind, str], ...]:
    """
    ``--permit`` values, each checked (every bad one named at once), repeats dropped.

    Raises:
        InvalidInputError: about the field ``permit``.
    """
    found: dict[tuple[name_constraints.Kind, str], None] = {}
    problems = []
    for text in texts:
        try:
            found[name_constraints.parse_permit(text)] = None
        except ValueError as exc:
            problems.append(InvalidInputError(str(exc), field="permit", joiner=": "))
    refuse_all(problems)
    return tuple(found)


def _ca_findings(plan: InitPlan, folder: Folder, cert: ParsedCertificate) -> list[Finding]:
    findings = [
        request_checks.subject_matches(plan.subject.attributes(), cert),
        request_checks.key_matches_spec(plan.key, cert),
        request_checks.validity_matches(plan.days, cert),
        request_checks.ca_extensions(cert, path_length=None if plan.parent is None else 0),
        _constraints_finding(plan, cert),
        # openssl made the CA key in this run: its stored public half is openssl's own.
        verify.key_matches_cert(folder.key, folder.cert, passin=plan.passout, made_here=True),
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


def _constraints_finding(plan: InitPlan, cert: ParsedCertificate) -> Finding:
    """``name-constraints``: exactly the names asked for, critical; or none when none were."""
    asked = name_constraints.openssl_value(plan.permits)
    got = cert.name_constraints
    if not plan.permits:
        return finding(
            "name-constraints", got is None, "none asked, none written", "written, not asked"
        )
    wanted = {kind: [v for k, v in plan.permits if k == kind] for kind in ("dns", "ip")}
    exact = (
        got is not None
        and got.critical
        and got.excluded.empty()
        and got.permitted.dns == wanted["dns"]
        and got.permitted.ip == wanted["ip"]
        and not (got.permitted.email or got.permitted.uri or got.permitted.other)
    )
    return finding(
        "name-constraints",
        exact,
        f"critical, {name_constraints.describe(got) if got else asked}",
        f"asked for {asked}, the certificate has "
        f"{name_constraints.describe(got) if got else 'none'}",
    )
