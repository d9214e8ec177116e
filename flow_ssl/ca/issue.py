"""
``ca issue``: a new key and a server certificate signed by the CA, in one openssl run.

Like mkcert, but every openssl command is shown, and the result is read back and
checked before the key, certificate and full chain are put in place together.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flow_ssl import files
from flow_ssl.ca.authority import (
    CA,
    Issued,
    check_days,
    no_req_ca_note,
    read_back,
    reserved_note,
    serial_finding,
    signing_steps,
    unlock,
)
from flow_ssl.ca.folder import locked, log_issued, read_serial, reserve_serial, serial_claim
from flow_ssl.core.findings import refuse_failures
from flow_ssl.core.request_checks import compare_request
from flow_ssl.openssl import runner
from flow_ssl.openssl.commands.base import WORK, scratch
from flow_ssl.openssl.commands.make import build_req
from flow_ssl.openssl.read.keys import KEY_ATTEMPTS, short_key_error, short_key_file
from flow_ssl.openssl.script.render import perform, require_all
from flow_ssl.openssl.script.steps import Chmod, Concat, Step

if TYPE_CHECKING:
    from pathlib import Path

    from flow_ssl.ca.authority import Announce
    from flow_ssl.core.models import CertRequest, Finding, ParsedCertificate
    from flow_ssl.openssl.features import OpenSSL

REQUEST = "request.csr"


@dataclass(frozen=True)
class IssuePlan:
    """A new key and a server certificate signed by ``ca``, in one openssl run (like mkcert)."""

    ca: CA
    request: CertRequest
    key_path: Path
    out: Path
    fullchain: Path
    use_subj: bool
    existing_key: Path | None = None  # renew --same-key: certify this key again

    def steps(
        self,
        openssl: OpenSSL,
        *,
        serial: str,
        keyout: Path | None = None,
        out: Path | None = None,
        fullchain: Path | None = None,
        reserved: bool = False,
        work: str = WORK,
    ) -> list[Step]:
        """
        Make the key and have the CA sign it, then join the full chain.

        One ``req -x509 -CA`` where this openssl has it; else a request signed with
        ``x509 -req``. The script takes the serial first (checked, then the serial file
        moved on), unless flow-ssl ``reserved`` it (as it does when it runs the steps).
        """
        key, cert = str(keyout or self.key_path), str(out or self.out)
        signer = self.ca.signer(serial)
        steps: list[Step]
        if openssl.supports("-CA"):
            steps = [
                build_req(
                    self.request,
                    keyout=key,
                    out=cert,
                    x509=True,
                    use_subj=self.use_subj,
                    signer=signer,
                    key_file=self._key_file(),
                )
            ]
        else:
            request = scratch(REQUEST, work)
            steps = [
                no_req_ca_note(openssl),
                build_req(
                    self.request,
                    keyout=key,
                    out=request,
                    x509=False,
                    use_subj=self.use_subj,
                    config=signer.config,
                    extensions=False,
                    key_file=self._key_file(),
                ),
                *signing_steps(
                    openssl,
                    signer,
                    csr=request,
                    out=cert,
                    days=self.request.days,
                    section="server",
                    server=(self.request.names, self.request.key.algorithm),
                    work=work,
                ),
            ]
        if not openssl.supports("private-keyout") and self.existing_key is None:
            steps.append(Chmod(key, field="keyout"))
        if not reserved:
            steps.insert(0, serial_claim(self.ca.folder, serial))
        steps.append(
            Concat(str(fullchain or self.fullchain), (cert, *self.ca.chain()), "fullchain")
        )
        return steps

    def _key_file(self) -> str | None:
        return str(self.existing_key) if self.existing_key else None

    def outputs(self) -> list[files.Output]:
        """The key (secret, unless an existing one is kept), the certificate, the full chain."""
        made = [
            files.Output(self.out, field="out"),
            files.Output(self.fullchain, field="fullchain"),
        ]
        if self.existing_key is None:
            return [files.Output(self.key_path, secret=True, field="keyout"), *made]
        return made


def issue(plan: IssuePlan, *, force: bool, announce: Announce | None = None) -> Issued:
    """
    Make key + certificate under the CA's lock; write them once they check out.

    The serial is reserved (the serial file moved past it) before openssl signs; the
    issued log gets a line once the files are in place.

    Raises:
        InvalidInputError: outputs exist (without force), the CA is busy, or bad days.
        OpenSSLError: openssl failed or asked what it was not expected to, or the CA
            key's passphrase is wrong.
        CheckFailedError: the certificate is not what was asked (nothing written).
    """
    check_days(plan.request.days, plan.ca)
    outputs = plan.outputs()
    files.check_outputs(outputs, force=force)
    ca = plan.ca
    openssl = runner.find_openssl()
    require_all(openssl, plan.steps(openssl, serial="01"))
    read_serial(ca.folder)  # a damaged serial file stops us before the lock
    unlock(ca)
    with locked(ca.folder):
        for attempt in range(KEY_ATTEMPTS):
            serial = reserve_serial(ca.folder)
            if announce and attempt == 0:
                shown = plan.steps(openssl, serial=serial, reserved=True)
                announce([reserved_note(ca, serial), *shown])
            kept: list[tuple[Path, Path]] = []
            try:
                cert, findings = _issue_once(plan, openssl, serial, outputs, kept)
            except _ShortKeyError:
                continue  # that certificate was removed with its key; its serial stays spent
            return Issued(cert=cert, serial=serial, findings=findings, backups=kept)
    raise short_key_error(openssl)


class _ShortKeyError(Exception):
    """openssl wrote an EC key with a short private value (LibreSSL 3.3.6): make another."""


def _issue_once(
    plan: IssuePlan,
    openssl: OpenSSL,
    serial: str,
    outputs: list[files.Output],
    kept: list[tuple[Path, Path]],
) -> tuple[ParsedCertificate, list[Finding]]:
    """Make, read back and check one key and certificate; put them in place if they pass."""
    made: list[ParsedCertificate] = []

    def log() -> None:
        log_issued(plan.ca.folder, made[0], plan.out)

    with (
        files.staged(outputs, kept, on_placed=log) as staged,
        tempfile.TemporaryDirectory(prefix="flow-ssl-") as work,
    ):
        *made_key, out, fullchain = staged
        key = made_key[0] if made_key else plan.existing_key
        assert key is not None  # noqa: S101 - a new key is staged, or an existing one kept
        steps = plan.steps(
            openssl,
            serial=serial,
            keyout=key,
            out=out,
            fullchain=fullchain,
            reserved=True,
            work=work,
        )
        perform(steps)
        if made_key and short_key_file(key):
            raise _ShortKeyError
        cert, ready = read_back(fullchain, plan.ca, plan.request.names, key=key, shown_as=plan.out)
        findings = [*compare_request(plan.request, cert), serial_finding(serial, cert), *ready]
        refuse_failures(findings, "the issued certificate")
        made.append(cert)
    return cert, findings
