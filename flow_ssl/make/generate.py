"""
A key with a self-signed certificate or a CSR: the plan ``selfsigned``, ``csr`` and
``renew`` run on the run loop (make/run.py).

The command shown is built by the same builder as the one run; the only
difference is where openssl writes (staging paths beside the targets, renamed
into place once the result is checked).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl import files
from flow_ssl.core.models import Notice
from flow_ssl.core.names import default_file_stem
from flow_ssl.core.request_checks import compare_request
from flow_ssl.make.run import PRINTED, Checked, Where, given_key
from flow_ssl.openssl.commands.base import scratch
from flow_ssl.openssl.commands.config import request_config
from flow_ssl.openssl.commands.make import build_req
from flow_ssl.openssl.commands.read import build_readback
from flow_ssl.openssl.script.steps import Chmod, Note, Step, WriteFile

if TYPE_CHECKING:
    from flow_ssl.core.models import CertRequest
    from flow_ssl.openssl.commands.base import Command
    from flow_ssl.openssl.features import OpenSSL

REQUEST_CONFIG = "request.cnf"


def own_config_note(openssl: OpenSSL) -> Note:
    """Why a script gives openssl flow-ssl's own config (1.1.1, LibreSSL)."""
    return Note(
        f"{openssl.name}: -addext adds to the extensions of the system's openssl.cnf "
        "instead of replacing them, so req gets flow-ssl's own settings (-config)"
    )


def needs_own_config(openssl: OpenSSL, request: CertRequest) -> bool:
    """
    Whether ``req`` must get flow-ssl's own config on this openssl.

    Where -addext adds to the config's extensions (1.1.1's stock v3_ca would give a
    second basicConstraints), and never with --literal (the vendor's command as is).
    """
    return not request.literal and not openssl.supports("addext-replaces")


@dataclass(frozen=True)
class Plan:
    """What will run: the request, its output paths, and the command as shown."""

    request: CertRequest
    key_path: Path
    out_path: Path
    x509: bool
    use_subj: bool
    existing_key: Path | None = None  # renew --same-key: certify this key again

    @property
    def issuer(self) -> None:
        """No CA signs it: self-signed, or a request for one."""

    def command(
        self, openssl: OpenSSL, where: Where = PRINTED, key_file: str | None = None
    ) -> Command:
        """
        The openssl req command; paths the final ones unless ``where`` stages them;
        ``key_file``: where openssl reads the existing key (``given_key``).
        """
        own = needs_own_config(openssl, self.request)
        return build_req(
            self.request,
            keyout=str(where.at(self.key_path)),
            out=str(where.at(self.out_path)),
            x509=self.x509,
            use_subj=self.use_subj,
            config=scratch(REQUEST_CONFIG, where.work) if own else None,
            key_file=key_file or (str(self.existing_key) if self.existing_key else None),
        )

    def steps(self, openssl: OpenSSL, where: Where = PRINTED) -> list[Step]:
        """The command, with the config it needs first and the key made private after."""
        steps: list[Step] = []
        if needs_own_config(openssl, self.request):
            text = request_config(self_signed=self.x509)
            steps += [
                own_config_note(openssl),
                WriteFile(scratch(REQUEST_CONFIG, where.work), text),
            ]
        key_file = None
        if self.existing_key is not None:
            copied, key_file = given_key(self.existing_key, where)
            steps += copied
        steps.append(self.command(openssl, where, key_file))
        if not openssl.supports("private-keyout") and self.existing_key is None:
            steps.append(Chmod(str(where.at(self.key_path)), field="keyout"))
        return steps

    def new_key(self, where: Where) -> Path | None:
        """The key ``req`` makes (none when renew --same-key certifies the old one)."""
        return None if self.existing_key else where.at(self.key_path)

    def read_back(self, where: Where) -> Checked:
        """The certificate or CSR, compared with the request; its key or self-signature."""
        from flow_ssl import files
        from flow_ssl.openssl import keymatch, verify
        from flow_ssl.openssl.read import pem, reader

        out = where.at(self.out_path)
        (result,) = reader.read_file(out)
        result.source = str(self.out_path)
        findings = compare_request(self.request, result)
        if not self.x509:
            findings.append(verify.csr_signature(out))
            return Checked(result, findings, "openssl's result")
        key = self.existing_key or self.key_path
        blocks = pem.private_keys(files.read_input(where.at(key), "a private key file"))
        # openssl made this key in this run (or renew --same-key proved the old key before
        # openssl certified it): its stored public half is openssl's own, compared as is.
        matched = (
            keymatch.made_key_matches(
                blocks[0],
                result.der,
                passin=None,
                key_name=str(key),
                cert_name=str(self.out_path),
                made_with="the certificate itself (no CSR)",
            )
            if blocks
            else keymatch.no_key(str(key))
        )
        findings.append(matched)
        return Checked(result, findings, "openssl's result")

    def readback(self) -> Command:
        """The vendor page's check of the result."""
        return build_readback(str(self.out_path), "certificate" if self.x509 else "csr", der=False)

    def outputs(self) -> list[files.Output]:
        """The key (secret; unless an existing one is kept) and the certificate or CSR."""
        if self.existing_key is not None:
            return [files.Output(self.out_path, field="out")]
        return [
            files.Output(self.key_path, secret=True, field="keyout"),
            files.Output(self.out_path, field="out"),
        ]


def name_notices(plan: Plan) -> list[Notice]:
    """
    What the operator should know of the result before it is made: the vendor's command
    taken verbatim (every way clients will refuse it), a CSR written to a name that says
    certificate (.crt, .cer). Said, not refused.
    """
    found = [_literal_notice(x509=plan.x509)] if plan.request.literal else []
    if plan.x509 or plan.out_path.suffix.lower() not in {".crt", ".cer"}:
        return found
    return [
        *found,
        Notice(
            "out",
            f"{plan.out_path} will hold a certificate request (CSR), though its name says "
            "certificate: send it to the CA, never install it (NAME.csr is the usual name)",
        ),
    ]


def _literal_notice(*, x509: bool) -> Notice:
    """Everything the vendor's command leaves out, and what each costs."""
    if x509:
        return Notice(
            "literal",
            "the certificate has no Subject Alternative Name and no serverAuth usage, and "
            "OpenSSL's stock settings make it a CA certificate (CA:TRUE): Chrome, Apple "
            "platforms and Go clients (the admin console included) reject it, Firefox refuses "
            "a CA certificate as a server's, and flow-ssl check fails it",
        )
    return Notice(
        "literal",
        "the request asks for no Subject Alternative Name: a CA that issues only what a CSR "
        "asks gives a certificate Chrome, Apple platforms and Go clients reject",
    )


def default_paths(request: CertRequest, *, x509: bool) -> tuple[Path, Path]:
    """``<name>.key`` and ``<name>.crt``/``.csr`` in the current folder."""
    stem = default_file_stem(request.subject.common_name)
    return Path(f"{stem}.key"), Path(f"{stem}.{'crt' if x509 else 'csr'}")
