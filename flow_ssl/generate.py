"""
Make a key with a self-signed certificate or a CSR: plan, run, read back, check, commit.

The command shown is built by the same builder as the one run; the only
difference is where openssl writes (staging paths beside the targets, renamed
into place once the result is checked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl import files
from flow_ssl.core.findings import refuse_failures
from flow_ssl.core.names import default_file_stem
from flow_ssl.core.request_checks import compare_request
from flow_ssl.openssl import reader, runner, verify
from flow_ssl.openssl.commands.make import build_req
from flow_ssl.openssl.script import perform

if TYPE_CHECKING:
    from flow_ssl.core.models import CertRequest, Finding, ParsedCertificate
    from flow_ssl.openssl.commands.base import Command


@dataclass(frozen=True)
class Plan:
    """What will run: the request, its output paths, and the command as shown."""

    request: CertRequest
    key_path: Path
    out_path: Path
    x509: bool
    use_subj: bool

    def command(self, *, keyout: str | None = None, out: str | None = None) -> Command:
        """The openssl req command; paths default to the final ones."""
        return build_req(
            self.request,
            keyout=keyout or str(self.key_path),
            out=out or str(self.out_path),
            x509=self.x509,
            use_subj=self.use_subj,
        )

    def readback(self) -> Command:
        """The vendor page's check of the result."""
        return reader.display_command(
            self.out_path, "certificate" if self.x509 else "csr", der=False
        )

    def outputs(self) -> list[files.Output]:
        """The key (secret) and the certificate or CSR."""
        return [files.Output(self.key_path, secret=True), files.Output(self.out_path)]


def default_paths(request: CertRequest, *, x509: bool) -> tuple[Path, Path]:
    """``<name>.key`` and ``<name>.crt``/``.csr`` in the current folder."""
    stem = default_file_stem(request.subject.common_name)
    return Path(f"{stem}.key"), Path(f"{stem}.{'crt' if x509 else 'csr'}")


@dataclass
class Outcome:
    """What was made and what the read-back found."""

    plan: Plan
    result: ParsedCertificate
    findings: list[Finding] = field(default_factory=list)
    backups: list[tuple[Path, Path]] = field(default_factory=list)


def execute(plan: Plan, *, force: bool) -> Outcome:
    """
    Run the plan; write the files only if openssl succeeded and the result matches.

    Raises:
        InvalidInputError: outputs exist (without force) or cannot be written.
        OpenSSLError: openssl missing, too old, failing, or asking the unexpected.
        CheckFailedError: openssl's result does not match the request.
    """
    outputs = plan.outputs()
    files.check_outputs(outputs, force=force)
    runner.find_openssl().require(plan.command().needs)
    kept: list[tuple[Path, Path]] = []
    with files.staged(outputs, kept) as (staged_key, staged_out):
        perform([plan.command(keyout=str(staged_key), out=str(staged_out))])
        files.require_written([(staged_key, plan.key_path), (staged_out, plan.out_path)])
        (result,) = reader.read_file(staged_out)
        result.source = str(plan.out_path)
        findings = compare_request(plan.request, result)
        if plan.x509:
            findings.append(verify.key_matches_cert(staged_key, staged_out))
        else:
            findings.append(verify.csr_signature(staged_out))
        refuse_failures(findings, "openssl's result")
    return Outcome(plan=plan, result=result, findings=findings, backups=kept)
