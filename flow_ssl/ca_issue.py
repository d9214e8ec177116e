"""
``ca issue``: a new key and a server certificate signed by the CA, in one openssl run.

Like mkcert, but every openssl command is shown, and the result is read back and
checked before the key, certificate and full chain are put in place together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flow_ssl import cafolder, files
from flow_ssl.ca import CA, Issued, check_days, read_back, serial_finding
from flow_ssl.core.findings import refuse_failures
from flow_ssl.core.request_checks import compare_request
from flow_ssl.openssl.commands.make import build_req
from flow_ssl.openssl.script import Concat, Step, perform

if TYPE_CHECKING:
    from pathlib import Path

    from flow_ssl.ca import Announce
    from flow_ssl.core.models import CertRequest
    from flow_ssl.openssl.commands.base import Command


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
        self, *, serial: str, keyout: Path | None = None, out: Path | None = None
    ) -> Command:
        """``openssl req -x509 -newkey ... -CA ... -CAkey ...``."""
        return build_req(
            self.request,
            keyout=str(keyout or self.key_path),
            out=str(out or self.out),
            x509=True,
            use_subj=self.use_subj,
            signer=self.ca.signer(serial),
        )

    def steps(
        self,
        *,
        serial: str,
        keyout: Path | None = None,
        out: Path | None = None,
        fullchain: Path | None = None,
    ) -> list[Step]:
        """Make and sign in one run, then join the full chain."""
        out = out or self.out
        return [
            self.command(serial=serial, keyout=keyout, out=out),
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
        InvalidInputError: outputs exist (without force), the CA is busy, or bad days.
        OpenSSLError: openssl failed or asked what it was not expected to.
        CheckFailedError: the certificate is not what was asked (nothing written).
    """
    check_days(plan.request.days, plan.ca)
    outputs = plan.outputs()
    files.check_outputs(outputs, force=force)
    ca = plan.ca
    kept: list[tuple[Path, Path]] = []
    with cafolder.locked(ca.folder), files.staged(outputs, kept) as (key, out, fullchain):
        serial = cafolder.read_serial(ca.folder)
        if announce:
            announce(plan.steps(serial=serial))
        perform(plan.steps(serial=serial, keyout=key, out=out, fullchain=fullchain))
        cert, ready = read_back(fullchain, ca, plan.request.names, key=key, shown_as=plan.out)
        findings = [*compare_request(plan.request, cert), serial_finding(serial, cert), *ready]
        refuse_failures(findings, "the issued certificate")
        cafolder.log_issued(ca.folder, cert, plan.out)
    return Issued(cert=cert, serial=serial, findings=findings, backups=kept)
