"""
Make a key with a self-signed certificate or a CSR: plan, run, read back, check, commit.

The command shown is built by the same builder as the one run; the only
difference is where openssl writes (staging paths beside the targets, renamed
into place once the result is checked).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl import files
from flow_ssl.core.findings import refuse_failures
from flow_ssl.core.models import Notice
from flow_ssl.core.names import default_file_stem
from flow_ssl.core.request_checks import compare_request
from flow_ssl.openssl import runner, verify
from flow_ssl.openssl.commands.base import WORK, Command, scratch
from flow_ssl.openssl.commands.config import request_config
from flow_ssl.openssl.commands.make import build_req
from flow_ssl.openssl.read import reader
from flow_ssl.openssl.read.keys import KEY_ATTEMPTS, short_key_error, short_key_file
from flow_ssl.openssl.script.render import perform
from flow_ssl.openssl.script.steps import Chmod, Note, Step, WriteFile

if TYPE_CHECKING:
    from flow_ssl.core.models import CertRequest, Finding, ParsedCertificate
    from flow_ssl.openssl.features import OpenSSL

# Called with the exact steps (final paths) just before they run.
Announce = Callable[[list[Step]], None]
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

    def command(
        self,
        openssl: OpenSSL,
        *,
        keyout: str | None = None,
        out: str | None = None,
        work: str = WORK,
    ) -> Command:
        """The openssl req command; paths default to the final ones."""
        own = needs_own_config(openssl, self.request)
        return build_req(
            self.request,
            keyout=keyout or str(self.key_path),
            out=out or str(self.out_path),
            x509=self.x509,
            use_subj=self.use_subj,
            config=scratch(REQUEST_CONFIG, work) if own else None,
            key_file=str(self.existing_key) if self.existing_key else None,
        )

    def steps(
        self,
        openssl: OpenSSL,
        *,
        keyout: str | None = None,
        out: str | None = None,
        work: str = WORK,
    ) -> list[Step]:
        """The command, with the config it needs first and the key made private after."""
        keyout = keyout or str(self.key_path)
        steps: list[Step] = []
        if needs_own_config(openssl, self.request):
            text = request_config(self_signed=self.x509)
            steps += [own_config_note(openssl), WriteFile(scratch(REQUEST_CONFIG, work), text)]
        steps.append(self.command(openssl, keyout=keyout, out=out, work=work))
        if not openssl.supports("private-keyout") and self.existing_key is None:
            steps.append(Chmod(keyout, field="keyout"))
        return steps

    def readback(self) -> Command:
        """The vendor page's check of the result."""
        return reader.display_command(
            self.out_path, "certificate" if self.x509 else "csr", der=False
        )

    def outputs(self) -> list[files.Output]:
        """The key (secret; unless an existing one is kept) and the certificate or CSR."""
        if self.existing_key is not None:
            return [files.Output(self.out_path, field="out")]
        return [
            files.Output(self.key_path, secret=True, field="keyout"),
            files.Output(self.out_path, field="out"),
        ]


def name_notices(plan: Plan) -> list[Notice]:
    """A CSR written to a name that says certificate (.crt, .cer): said, not refused."""
    if plan.x509 or plan.out_path.suffix.lower() not in {".crt", ".cer"}:
        return []
    return [
        Notice(
            "out",
            f"{plan.out_path} will hold a certificate request (CSR), though its name says "
            "certificate: send it to the CA, never install it (NAME.csr is the usual name)",
        )
    ]


def default_paths(request: CertRequest, *, x509: bool) -> tuple[Path, Path]:
    """``<name>.key`` and ``<name>.crt``/``.csr`` in the current folder."""
    stem = default_file_stem(request.subject.common_name)
    return Path(f"{stem}.key"), Path(f"{stem}.{'crt' if x509 else 'csr'}")


@dataclass
class Outcome:
    """What was made and what the read-back found."""

    plan: Plan
    result: ParsedCertificate
    command: Command
    findings: list[Finding] = field(default_factory=list)
    backups: list[tuple[Path, Path]] = field(default_factory=list)


def execute(plan: Plan, *, force: bool, announce: Announce | None = None) -> Outcome:
    """
    Run the plan; write the files only if openssl succeeded and the result matches.

    Raises:
        InvalidInputError: outputs exist (without force) or cannot be written.
        OpenSSLError: openssl missing, too old, failing, or asking the unexpected.
        CheckFailedError: openssl's result does not match the request.
    """
    outputs = plan.outputs()
    files.check_outputs(outputs, force=force)
    openssl = runner.find_openssl()
    for step in plan.steps(openssl):
        if isinstance(step, Command):
            openssl.require(step.needs)
    if announce:
        announce(plan.steps(openssl))
    kept: list[tuple[Path, Path]] = []
    with (
        files.staged(outputs, kept) as staged,
        tempfile.TemporaryDirectory(prefix="flow-ssl-") as work,
    ):
        *made_key, staged_out = staged
        staged_key = made_key[0] if made_key else plan.existing_key
        assert staged_key is not None  # noqa: S101 - a new key is staged, or an existing one kept
        steps = plan.steps(openssl, keyout=str(staged_key), out=str(staged_out), work=work)
        for _ in range(KEY_ATTEMPTS):
            perform(steps)
            files.require_written([*zip(staged, (o.path for o in outputs), strict=True)])
            if not made_key or not short_key_file(staged_key):
                break
        else:
            raise short_key_error(openssl)
        (result,) = reader.read_file(staged_out)
        result.source = str(plan.out_path)
        findings = compare_request(plan.request, result)
        if plan.x509:
            findings.append(verify.key_matches_cert(staged_key, staged_out))
        else:
            findings.append(verify.csr_signature(staged_out))
        refuse_failures(findings, "openssl's result")
    return Outcome(
        plan=plan,
        result=result,
        command=plan.command(openssl),
        findings=findings,
        backups=kept,
    )
