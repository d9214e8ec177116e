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

from flow_ssl import checks, commands, files, reader, runner
from flow_ssl.errors import CheckFailedError

if TYPE_CHECKING:
    from flow_ssl.models import CertRequest, Finding, ParsedCertificate


@dataclass(frozen=True)
class Plan:
    """What will run: the request, its output paths, and the command as shown."""

    request: CertRequest
    key_path: Path
    out_path: Path
    x509: bool
    use_subj: bool

    def command(
        self, *, keyout: str | None = None, out: str | None = None, openssl: str = "openssl"
    ) -> commands.Command:
        """The openssl req command; paths default to the final ones."""
        return commands.build_req(
            self.request,
            keyout=keyout or str(self.key_path),
            out=out or str(self.out_path),
            x509=self.x509,
            use_subj=self.use_subj,
            openssl=openssl,
        )

    def readback(self) -> commands.Command:
        """The vendor page's check of the result."""
        return reader.display_command(
            self.out_path, "certificate" if self.x509 else "csr", der=False
        )

    def outputs(self) -> list[files.Output]:
        """The key (secret) and the certificate or CSR."""
        return [files.Output(self.key_path, secret=True), files.Output(self.out_path)]


def default_paths(request: CertRequest, *, x509: bool) -> tuple[Path, Path]:
    """``<name>.key`` and ``<name>.crt``/``.csr`` in the current folder."""
    from flow_ssl.names import default_file_stem

    stem = default_file_stem(request.subject.common_name)
    return Path(f"{stem}.key"), Path(f"{stem}.{'crt' if x509 else 'csr'}")


@dataclass
class Outcome:
    """What was made and what the read-back found."""

    plan: Plan
    result: ParsedCertificate
    findings: list[Finding] = field(default_factory=list)


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
    openssl = runner.find_openssl()
    openssl.require(plan.command())
    with files.staged(outputs) as (staged_key, staged_out):
        command = plan.command(keyout=str(staged_key), out=str(staged_out), openssl=openssl.path)
        if plan.use_subj:
            runner.run(command)
        else:
            runner.run_interactive(command)
        (result,) = reader.read_file(staged_out)
        result.source = str(plan.out_path)
        findings = checks.compare_request(plan.request, result)
        if plan.x509:
            findings.append(verify_key_matches(openssl.path, staged_key, staged_out))
        else:
            findings.append(verify_csr_signature(openssl.path, staged_out))
        problems = checks.failed(findings)
        if problems:
            raise CheckFailedError(
                "openssl's result does not match the request; nothing was written",
                problems=tuple(f"{f.check}: {f.message}" for f in problems),
            )
    return Outcome(plan=plan, result=result, findings=findings)


def verify_key_matches(
    openssl: str, key: Path, cert: Path, *, passin: str | None = None
) -> Finding:
    """The key file's public key is the certificate's (openssl compares, we decide)."""
    from flow_ssl.models import Finding

    from_key, from_cert = runner.run_many(
        [
            commands.build_pubkey_from_key(str(key), passin=passin, openssl=openssl),
            commands.build_pubkey_from_cert(str(cert), openssl=openssl),
        ]
    )
    key_pub, cert_pub = from_key.stdout, from_cert.stdout
    ok = key_pub.strip() == cert_pub.strip() and "PUBLIC KEY" in key_pub
    return Finding(
        check="key-matches-cert",
        status="pass" if ok else "fail",
        message="the key belongs to the certificate" if ok else "the key is not the certificate's",
    )


def verify_csr_signature(openssl: str, csr: Path) -> Finding:
    """
    ``openssl req -verify``: the CSR is signed by its own key.

    Decided by what openssl prints, not only its exit code: before 3.4 it exits 0
    on a failed self-signature (openssl/openssl#23771).
    """
    from flow_ssl.errors import OpenSSLFailedError
    from flow_ssl.models import Finding

    try:
        result = runner.run(commands.build_req_verify(str(csr), openssl=openssl))
    except OpenSSLFailedError as exc:
        return Finding(check="csr-signature", status="fail", message=exc.message)
    printed = result.stdout + result.stderr
    if "verify OK" not in printed or "verify failure" in printed:
        return Finding(
            check="csr-signature",
            status="fail",
            message="openssl req -verify: the self-signature does not match the contents",
        )
    return Finding(check="csr-signature", status="pass", message="openssl req -verify: OK")
