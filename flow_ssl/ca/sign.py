"""
``ca sign``: a server certificate for an operator's CSR, with its names, never its extensions.

The CSR is vetted first (its self-signature, its names, its key), then signed
under the CA folder's lock, read back, checked like ``check`` does, and only
then written.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
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
from flow_ssl.core import request_checks
from flow_ssl.core.errors import InvalidInputError
from flow_ssl.core.findings import refuse_failures
from flow_ssl.core.models import SanEntry
from flow_ssl.openssl import runner, verify
from flow_ssl.openssl.commands.base import WORK, scratch
from flow_ssl.openssl.commands.read import build_req_verify
from flow_ssl.openssl.read import reader
from flow_ssl.openssl.read.pem import to_pem
from flow_ssl.openssl.script.render import perform, require_all
from flow_ssl.openssl.script.steps import Concat, Note, Step, WriteFile

if TYPE_CHECKING:
    from flow_ssl.ca.authority import Announce
    from flow_ssl.core.models import ParsedCertificate
    from flow_ssl.openssl.features import OpenSSL

# Smallest keys a CA signs for a server: what browsers and Go still accept.
MIN_RSA_BITS = 2048
REQUEST_COPY = "request.csr"
REQUEST_LABEL = "CERTIFICATE REQUEST"
SERVER_CURVES = ("P-256", "P-384", "P-521")


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
    # The CSR as PEM, when its file is not one PEM request (DER, say): openssl's
    # req reads PEM only, so the steps write this copy to the scratch folder.
    request_pem: str | None = None

    def request_path(self, work: str = WORK) -> str:
        """Where openssl reads the CSR: its own file, or the PEM copy in ``work``."""
        return scratch(REQUEST_COPY, work) if self.request_pem else str(self.csr)

    def steps(
        self,
        openssl: OpenSSL,
        *,
        serial: str,
        out: Path | None = None,
        fullchain: Path | None = None,
        check_signature: bool = True,
        reserved: bool = False,
        work: str = WORK,
    ) -> list[Step]:
        """
        Check the CSR's signature (unless done already), sign it, join the full chain.

        The script takes the serial just before it signs (checked, then the serial file
        moved on), unless flow-ssl ``reserved`` it (as it does when it runs the steps).
        """
        out = out or self.out
        csr = self.request_path(work)
        steps: list[Step] = []
        if self.request_pem:
            steps.append(WriteFile(csr, self.request_pem, "csr"))
        if check_signature:
            steps += [
                Note(
                    "the request must be signed by its own key: look for 'verify OK' "
                    "(openssl before 3.4 exits 0 even on 'verify failure')"
                ),
                build_req_verify(csr),
            ]
        if not openssl.supports("-CA"):
            steps.append(no_req_ca_note(openssl))
        if not reserved:
            steps.append(serial_claim(self.ca.folder, serial))
        steps.append(
            Note(
                f"the CA in {self.ca.folder.path} signs it, with flow-ssl's extensions, not its own"
            )
        )
        steps += signing_steps(
            openssl,
            self.ca.signer(serial),
            csr=csr,
            out=str(out),
            days=self.days,
            section="server",
            server=(self.names, self.request.public_key.algorithm),
            work=work,
        )
        steps.append(
            Concat(str(fullchain or self.fullchain), (str(out), *self.ca.chain()), "fullchain")
        )
        return steps

    def outputs(self) -> list[files.Output]:
        """The certificate and the full chain."""
        return [
            files.Output(self.out, field="out"),
            files.Output(self.fullchain, field="fullchain"),
        ]


def plan_sign(ca: CA, csr: Path, *, days: int, out: Path, fullchain: Path) -> SignPlan:
    """
    Read and vet the CSR: signed by its own key, names valid, key strong enough.

    Raises:
        InvalidInputError: a tampered, unreadable or unsuitable CSR, or bad days.
    """
    items = reader.read_file(csr)
    if items[0].kind != "csr":
        raise InvalidInputError(f"{csr} is a certificate, not a certificate request (CSR)")
    if len(items) > 1:
        kinds = ", ".join(item.kind for item in items)
        raise InvalidInputError(
            f"{csr} holds {len(items)} items ({kinds}); flow-ssl signs one request at a time",
            hint="give a file with just the CSR (one BEGIN CERTIFICATE REQUEST block)",
        )
    request = items[0]
    framed, is_pem = reader.split_file(csr)
    request_pem = None if is_pem and len(framed) == 1 else to_pem(request.der, REQUEST_LABEL)
    if _signature_fails(csr, request_pem):
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
        request_pem=request_pem,
    )


def _signature_fails(csr: Path, request_pem: str | None) -> bool:
    """``openssl req -verify`` on the CSR (on a PEM copy when its file is not one)."""
    if request_pem is None:
        return verify.csr_signature(csr).status == "fail"
    with tempfile.TemporaryDirectory(prefix="flow-ssl-") as work:
        copy = Path(work) / REQUEST_COPY
        copy.write_text(request_pem, encoding="ascii")
        return verify.csr_signature(copy).status == "fail"


def request_names(csr: Path, request: ParsedCertificate) -> tuple[SanEntry, ...]:
    """
    The CSR's names, validated like every name flow-ssl takes; its CN first if a host name.

    Raises:
        InvalidInputError: a name that is not a host name or IP, or no name at all.
    """
    san = request.subject_alt_names
    if san.email or san.uri:
        raise InvalidInputError(
            f"{csr} asks for e-mail or URI names ({', '.join(san.email + san.uri)}); "
            "a server certificate carries host names and IPs only"
        )
    common_name = request.subject_value("CN")
    candidates = ([common_name] if common_name else []) + san.dns + san.ip
    entries: dict[tuple[str, str], SanEntry] = {}
    for index, text in enumerate(candidates):
        try:
            entry = SanEntry.parse(text)
        except ValueError as exc:
            if index == 0 and common_name and (san.dns or san.ip):
                continue  # a CN like "Flow Server" is a label; the SAN carries the names
            raise InvalidInputError(f"{csr}: name {text!r}: {exc}") from None
        entries.setdefault((entry.kind, entry.value), entry)
    if not entries:
        raise InvalidInputError(f"{csr} names no host: it has neither a CN nor a SAN")
    return tuple(entries.values())


def _check_request_key(csr: Path, request: ParsedCertificate) -> None:
    key = request.public_key
    if key.algorithm == "rsa" and (key.bits or 0) < MIN_RSA_BITS:
        raise InvalidInputError(
            f"{csr} has a {key.bits}-bit RSA key; clients refuse less than {MIN_RSA_BITS}",
            hint="make a new key and CSR with flow-ssl csr",
        )
    if key.algorithm == "ec" and key.curve is None:
        raise InvalidInputError(
            f"{csr} has an EC key with explicit curve parameters instead of a named curve, "
            "which clients refuse",
            hint="make the key with -pkeyopt ec_param_enc:named_curve, or with flow-ssl csr",
        )
    if key.algorithm == "ec" and key.curve not in SERVER_CURVES:
        raise InvalidInputError(f"{csr} has an EC key on {key.curve}; use P-256 or P-384")
    if key.algorithm not in {"rsa", "ec"}:
        raise InvalidInputError(
            f"{csr} has a {key.algorithm} key, which browsers do not accept for TLS servers; "
            "use RSA or EC (P-256, P-384)"
        )


def sign(plan: SignPlan, *, force: bool, announce: Announce | None = None) -> Issued:
    """
    Sign under the CA's lock; write the certificate and chain once they check out.

    The serial is reserved (the serial file moved past it) before openssl signs; the
    issued log gets a line once the files are in place.

    Raises:
        InvalidInputError: outputs exist (without force), or the CA is busy.
        OpenSSLError: openssl failed, or the CA key's passphrase is wrong.
        CheckFailedError: the certificate is not what was asked (nothing written).
    """
    outputs = plan.outputs()
    files.check_outputs(outputs, force=force)
    ca = plan.ca
    kept: list[tuple[Path, Path]] = []
    openssl = runner.find_openssl()
    require_all(openssl, plan.steps(openssl, serial="01"))
    read_serial(ca.folder)  # a damaged serial file stops us before the lock
    unlock(ca)
    with locked(ca.folder):
        serial = reserve_serial(ca.folder)
        if announce:
            announce(
                [reserved_note(ca, serial), *plan.steps(openssl, serial=serial, reserved=True)]
            )
        made: list[ParsedCertificate] = []

        def log() -> None:
            log_issued(ca.folder, made[0], plan.out)

        with (
            files.staged(outputs, kept, on_placed=log) as (out, fullchain),
            tempfile.TemporaryDirectory(prefix="flow-ssl-") as work,
        ):
            # plan_sign has checked the CSR's signature (and refused a bad one) already.
            steps = plan.steps(
                openssl,
                serial=serial,
                out=out,
                fullchain=fullchain,
                check_signature=False,
                reserved=True,
                work=work,
            )
            perform(steps)
            cert, ready = read_back(fullchain, ca, plan.names, key=None, shown_as=plan.out)
            findings = [
                request_checks.subject_matches(
                    [(a.type, a.value) for a in plan.request.subject], cert
                ),
                request_checks.names_match(plan.names, cert),
                request_checks.validity_matches(plan.days, cert),
                request_checks.server_extensions(cert),
                verify.csr_key_in_cert(Path(plan.request_path(work)), out),
                serial_finding(serial, cert),
                *ready,
            ]
            refuse_failures(findings, "the signed certificate")
            made.append(cert)
    return Issued(cert=cert, serial=serial, findings=findings, backups=kept)
