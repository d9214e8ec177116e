"""
``ca sign``: a server certificate for an operator's CSR, with its names, never its extensions.

The CSR is vetted first (its self-signature, its names, its key), then signed
under the CA folder's lock, read back, checked like ``check`` does, and only
then written (the run loop, make/run.py, with the CA's hooks).
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl import files
from flow_ssl.ca import config
from flow_ssl.ca.authority import (
    CA,
    check_days,
    no_req_ca_note,
    read_back,
    server_base,
    signing_steps,
)
from flow_ssl.ca.folder import serial_claim
from flow_ssl.core import request_checks
from flow_ssl.core.errors import InvalidInputError
from flow_ssl.core.install_checks import RSA_PSS
from flow_ssl.core.models import SanEntry
from flow_ssl.make.run import PRINTED, Checked, Where
from flow_ssl.openssl import verify
from flow_ssl.openssl.commands.base import scratch
from flow_ssl.openssl.commands.make import server_extension_values
from flow_ssl.openssl.commands.read import build_file_digest, build_req_verify
from flow_ssl.openssl.read import pem, reader
from flow_ssl.openssl.read.pem import to_pem
from flow_ssl.openssl.script.steps import Concat, Note, Step, Verified, WriteFile

if TYPE_CHECKING:
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
    crl_url: str | None = None  # this certificate's CRL Distribution Point, if not the CA's
    # The SHA-256 (hex) of the CSR file as vetted: a script signs that file and no other.
    request_sha256: str = ""

    @property
    def issuer(self) -> CA:
        """The CA that signs it."""
        return self.ca

    def request_path(self, where: Where = PRINTED) -> str:
        """
        Where openssl reads the CSR: a run's copy of what flow-ssl vetted, or a script's
        PEM copy of a file that is not one PEM request, else the file itself (the script
        checks its SHA-256 first).
        """
        copied = self.request_pem is not None or not where.scripted
        return scratch(REQUEST_COPY, where.work) if copied else str(self.csr)

    def steps(self, openssl: OpenSSL, where: Where = PRINTED) -> list[Step]:
        """
        Check the CSR's signature, sign it, join the full chain.

        A script checks the signature and takes the serial just before it signs (checked,
        then the serial file moved on); a run has done both already (plan_sign checked
        the signature, the run loop reserved the serial).
        """
        out = str(where.at(self.out))
        csr = self.request_path(where)
        steps: list[Step] = []
        if self.request_pem:
            steps.append(WriteFile(csr, self.request_pem, "csr"))
        elif not where.scripted:  # openssl signs the bytes flow-ssl vetted, not the path again
            steps.append(WriteFile(csr, to_pem(self.request.der, REQUEST_LABEL), "csr"))
        else:
            steps.append(self._same_request())
        if where.scripted:
            steps.append(
                Verified(
                    build_req_verify(csr),
                    passed="verify OK",
                    failed="verify failure",
                    refusal=f"{self.csr}: its signature does not verify; it was altered or "
                    "damaged, so it is not signed",
                    advice="the request must be signed by its own key: look for 'verify OK' "
                    "(1.1.1, 3.0 and LibreSSL exit 0 even on 'verify failure')",
                )
            )
        if not openssl.supports("-CA"):
            steps.append(no_req_ca_note(openssl))
        if where.scripted:
            steps.append(serial_claim(self.ca.folder, where.serial))
        steps.append(
            Note(
                f"the CA in {self.ca.folder.path} signs it, with flow-ssl's extensions, not its own"
            )
        )
        extra = server_extension_values(self.names, key_algorithm=self.request.public_key.algorithm)
        if self.crl_url:
            extra.append(config.crl_point(self.crl_url))
        steps += signing_steps(
            openssl,
            self.ca.signer(where.serial),
            csr=csr,
            out=out,
            days=self.days,
            section="server",
            base=server_base(self.ca),
            extra=extra,
            work=where.work,
        )
        steps.append(Concat(str(where.at(self.fullchain)), (out, *self.ca.chain()), "fullchain"))
        return steps

    def _same_request(self) -> Verified:
        """
        A script signs the CSR file vetted, no other: its SHA-256 must be the one it was
        printed with (a CSR replaced since, even one validly self-signed for another key
        and other names, is refused). A CSR copied into the script needs no such check.
        """
        return Verified(
            build_file_digest(str(self.csr)),
            passed=f"{self.request_sha256} *",
            refusal=f"{self.csr} is not the CSR this was printed for (SHA-256 "
            f"{self.request_sha256}): it was replaced or changed since, so it is not signed",
            advice=f"printed for the CSR with SHA-256 {self.request_sha256}: sign only if "
            "openssl prints that (another is not the CSR checked)",
        )

    def outputs(self) -> list[files.Output]:
        """The certificate and the full chain."""
        return [
            files.Output(self.out, field="out"),
            files.Output(self.fullchain, field="fullchain"),
        ]

    def new_key(self, where: Where) -> None:
        """No key: the CSR's stays where it was made."""

    def read_back(self, where: Where) -> Checked:
        """The certificate: the CSR's subject, names and key, and a chain ready to install."""
        cert, ready = read_back(
            where.at(self.fullchain), self.ca, self.names, key=None, shown_as=self.out
        )
        findings = [
            request_checks.subject_matches([(a.type, a.value) for a in self.request.subject], cert),
            request_checks.names_match(self.names, cert),
            request_checks.validity_matches(self.days, cert),
            request_checks.server_extensions(cert),
            verify.csr_key_in_cert(Path(self.request_path(where)), where.at(self.out)),
            *ready,
        ]
        return Checked(cert, findings, "the signed certificate")


def plan_sign(
    ca: CA, csr: Path, *, days: int, out: Path, fullchain: Path, crl_url: str | None = None
) -> SignPlan:
    """
    Read and vet the CSR: signed by its own key, names valid and inside the CA's name
    constraints, key strong enough.

    Raises:
        InvalidInputError: a tampered, unreadable or unsuitable CSR, bad days, or a name
            the CA may not sign for.
    """
    # Read once: everything below judges these bytes, a run signs a copy of them and a
    # script checks their SHA-256, so a file changed meanwhile is never what is signed.
    vetted = files.read_input(csr, "a certificate request file")
    framed = pem.frame(vetted, str(csr))
    if framed.pkcs12 is not None:
        raise InvalidInputError(f"{csr} is a PKCS#12 file, not a certificate request (CSR)")
    items = reader.read_items(framed.items, str(csr))
    if items[0].kind != "csr":
        raise InvalidInputError(f"{csr} is a certificate, not a certificate request (CSR)")
    if len(items) > 1:
        kinds = ", ".join(item.kind for item in items)
        raise InvalidInputError(
            f"{csr} holds {len(items)} items ({kinds}); flow-ssl signs one request at a time",
            hint="give a file with just the CSR (one BEGIN CERTIFICATE REQUEST block)",
        )
    request = items[0]
    is_pem = framed.form == "pem" and not framed.byte_order_mark
    request_pem = None if is_pem and len(items) == 1 else to_pem(request.der, REQUEST_LABEL)
    if _signature_fails(to_pem(request.der, REQUEST_LABEL)):
        raise InvalidInputError(
            f"{csr}: its signature does not verify; it was altered or damaged, so it is not signed",
            hint="ask for the CSR again, straight from the server that made it",
        )
    check_days(days, ca)
    _check_request_key(csr, request)
    names = request_names(csr, request)
    ca.refuse_names(names)
    return SignPlan(
        ca=ca,
        csr=csr,
        request=request,
        names=names,
        days=days,
        out=out,
        fullchain=fullchain,
        request_pem=request_pem,
        crl_url=crl_url,
        request_sha256=hashlib.sha256(vetted).hexdigest(),
    )


def _signature_fails(request_pem: str) -> bool:
    """
    ``openssl req -verify`` on a copy of the request as flow-ssl read it (never the path
    again: a file swapped meanwhile, or ``/dev/stdin``, would give openssl other bytes).
    """
    with tempfile.TemporaryDirectory(prefix="flow-ssl-") as work:
        copy = Path(work) / REQUEST_COPY
        files.write_staged(copy, request_pem.encode("ascii"))
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
    if key.algorithm == RSA_PSS:
        raise InvalidInputError(
            f"{csr} has an RSA-PSS key (id-RSASSA-PSS, not rsaEncryption), which Go (the admin "
            "console) cannot load and browsers do not accept for TLS servers; use RSA "
            "(rsaEncryption) or EC (P-256, P-384)",
            hint="make a new key, RSA (rsaEncryption) or EC P-256/P-384, and CSR with flow-ssl csr",
        )
    if key.algorithm not in {"rsa", "ec"}:
        raise InvalidInputError(
            f"{csr} has a {key.algorithm} key, which browsers do not accept for TLS servers; "
            "use RSA or EC (P-256, P-384)"
        )
