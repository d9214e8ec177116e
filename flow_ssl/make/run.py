"""
The one run loop: plan -> stage -> run -> retry -> read back -> check -> put in place.

Every command that makes files is a plan on this loop (selfsigned and csr, renew, batch,
ca sign, ca issue, ca init). A plan supplies its outputs, its steps (the same ones
``--print`` shows, with staging paths), the key it makes, and its read-back; a plan a CA
signs supplies the CA too, whose hooks take the lock (its records brought up to date),
reserve the serial before openssl signs (above every serial its index lists), and record
the certificate once it is in place (index, copy, log). The loop does the rest the same way
for all: the outputs are checked before anything runs, the steps run in a 0700 staging
folder beside the targets, a short EC key (LibreSSL 3.3.6) is made again, the result is
read back and refused on any failing finding, and only then is it put in place.

What only a run needs (performing steps, reading keys, the CA's file rules) is imported
when a run starts: ``--print`` imports this module for ``Where`` alone.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from flow_ssl import files
from flow_ssl.core.findings import finding, refuse_failures
from flow_ssl.openssl import runner
from flow_ssl.openssl.commands.base import WORK, Command
from flow_ssl.openssl.script.render import require_all

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from flow_ssl.core.models import Finding, ParsedCertificate
    from flow_ssl.openssl.features import OpenSSL
    from flow_ssl.openssl.script.steps import Note, Step

# Called with the exact steps (final paths, the serial taken) just before they run.
Announce = Callable[[list["Step"]], None]


@dataclass(frozen=True)
class Where:
    """
    Where one pass of a plan's steps writes, and how: each output's staging path, the
    scratch folder, and the CA serial they sign with.

    The default is a printed script's: final paths, ``$work``, and ``scripted`` (it claims
    its serial and checks a CSR's signature itself, where flow-ssl does both before a run).
    """

    staged: Mapping[Path, Path] = field(default_factory=dict)
    work: str = WORK
    serial: str = ""
    scripted: bool = True

    def at(self, final: Path) -> Path:
        """Where the steps write ``final`` (itself, when it is not staged)."""
        return self.staged.get(final, final)

    def shown(self, path: str) -> str:
        """The final name of a path the steps write (one in a staged folder too)."""
        for final, staged in self.staged.items():
            if path == str(staged) or path.startswith(f"{staged}/"):
                return str(final) + path[len(str(staged)) :]
        return path


# A printed script's: final paths, the script's own scratch folder, no serial taken yet.
PRINTED = Where()
# The copy of a key given to openssl, in a run's private scratch folder.
KEY_COPY = "given.key"


def given_key(key: Path, where: Where) -> tuple[list[Step], str]:
    """
    The steps that give openssl ``key`` as flow-ssl read it, and the file openssl reads.

    A run writes the key's PEM block as flow-ssl framed it (past a UTF-8 byte-order mark,
    none of the text around it) 0600 into its private scratch folder: OpenSSL 1.1.1 and
    LibreSSL cannot read past the mark, OpenSSL 3 can, and every build must get the same
    key. A printed script names the file itself (a copy would put the key in the script).

    Raises:
        InvalidInputError: ``key`` holds no PEM private key.
    """
    if where.scripted:
        return marked_key_note(key), str(key)
    from flow_ssl.core.errors import InvalidInputError
    from flow_ssl.openssl.read import pem
    from flow_ssl.openssl.script.steps import Note, WriteFile

    blocks = pem.private_keys(files.read_input(key, "a key file"))
    if not blocks:
        raise InvalidInputError(f"{key} holds no PEM private key", field="key")
    copy = f"{where.work}/{KEY_COPY}"
    text = blocks[0].text.decode("ascii", errors="replace")
    return [
        Note(f"openssl reads a private copy of the key block in {key}"),
        WriteFile(copy, text),
    ], copy


def marked_key_note(key: Path) -> list[Step]:
    """A printed script's word on a key file behind a UTF-8 byte-order mark, if it is one."""
    from flow_ssl.openssl.script.steps import Note

    try:
        with key.open("rb") as handle:
            marked = handle.read(3) == b"\xef\xbb\xbf"
    except OSError:
        return []
    if not marked:
        return []
    return [
        Note(
            f"{key} starts with a UTF-8 byte-order mark (Notepad's): OpenSSL 3 reads past it, "
            "1.1.1 and LibreSSL stop at it (no start line); save the key without it first"
        )
    ]


@dataclass
class Checked:
    """A result read back from staging and the findings that accept or refuse it."""

    cert: ParsedCertificate  # its source is where it is put, never the staging path
    findings: list[Finding]
    what: str  # names it in a refusal: "the issued certificate"


class Issuer(Protocol):
    """The CA that signs a plan's result: the hooks the loop calls around the run."""

    def vet(self) -> None:
        """Before the lock: stop at a damaged serial file, or a key that will not open."""

    def locked(self) -> AbstractContextManager[None]:
        """Hold the CA's lock (the serial state and the records change only under it)."""

    def reserve(self) -> str:
        """Take the next serial: the serial file moves past it before openssl signs."""

    def reserved_note(self, serial: str) -> Note:
        """What reserving did, shown first in the announced steps."""

    def signs(self, step: Step) -> bool:
        """Whether this step is the CA signing (its serial is then carried by a certificate)."""

    def record(self, cert: ParsedCertificate) -> None:
        """Record the certificate as issued (it is in place, at its ``source``)."""


class Plan(Protocol):
    """What a command supplies to the loop."""

    @property
    def issuer(self) -> Issuer | None:
        """The CA that signs the result, or None."""

    def outputs(self) -> list[files.Output]:
        """What it puts in place: its files, or one new folder."""

    def steps(self, openssl: OpenSSL, where: Where = PRINTED) -> list[Step]:
        """Its openssl commands and the small file steps between them."""

    def new_key(self, where: Where) -> Path | None:
        """The private key its steps make, if any (a short EC one is made again)."""

    def read_back(self, where: Where) -> Checked:
        """The result, read from staging, and what it is checked against."""


@dataclass
class Made:
    """What a run put in place, and the findings that accepted it."""

    cert: ParsedCertificate
    findings: list[Finding]
    serial: str = ""  # the CA serial it carries (none for selfsigned or a CSR)
    backups: list[tuple[Path, Path]] = field(default_factory=list)


class _ShortKeyError(Exception):
    """openssl wrote an EC key with a short private value (LibreSSL 3.3.6): make another."""

    def __init__(self, *, signed: bool) -> None:
        super().__init__("short EC private key")
        self.signed = signed


def check_outputs(outputs: Sequence[files.Output], *, force: bool) -> None:
    """
    Refuse outputs that would clobber or cannot be written, before anything runs; and,
    for every command, never a CA's own file (any CA's), even with --force.

    Raises:
        InvalidInputError: see ``files.check_outputs``.
        OutputExistsError: a file exists and ``force`` is false.
    """
    from flow_ssl.ca.folder import own_file

    files.check_outputs(outputs, force=force, forbidden=own_file)


def run(plan: Plan, *, force: bool, announce: Announce | None = None) -> Made:
    """
    Run the plan in staging; put the result in place only once it checks out.

    Under a CA, its serial is reserved under its lock before openssl signs (never given
    twice, even if the run is killed), and the CA records the certificate (its index,
    its copy, its log) once the files are in place, with no signal between the two.

    Raises:
        InvalidInputError: outputs exist (without force) or cannot be written, or the
            CA is busy, damaged or locked with another passphrase source.
        OpenSSLError: openssl missing, too old, failing, or asking the unexpected; or a
            short EC key every time.
        CheckFailedError: the result is not what was asked (nothing written).
        WriteFailedError: a full disk, or a file that could not be put in place.
    """
    from flow_ssl.openssl.read.keys import KEY_ATTEMPTS, short_key_error

    outputs = plan.outputs()
    check_outputs(outputs, force=force)
    openssl = runner.find_openssl()
    require_all(openssl, plan.steps(openssl, Where(serial="01", scripted=False)))
    issuer = plan.issuer
    if issuer is not None:
        issuer.vet()
    with issuer.locked() if issuer is not None else nullcontext():
        serial = issuer.reserve() if issuer is not None else ""
        if announce is not None:
            shown = plan.steps(openssl, Where(serial=serial, scripted=False))
            announce([issuer.reserved_note(serial), *shown] if issuer is not None else shown)
        for _ in range(KEY_ATTEMPTS):
            try:
                return _attempt(plan, openssl, outputs, serial)
            except _ShortKeyError as short:
                # Its files are gone; a certificate made with it took its serial along.
                if issuer is not None and short.signed:
                    serial = issuer.reserve()
    raise short_key_error(openssl)


def _attempt(plan: Plan, openssl: OpenSSL, outputs: list[files.Output], serial: str) -> Made:
    """One pass: stage, run, read back, check, put in place; or leave nothing."""
    issuer = plan.issuer
    kept: list[tuple[Path, Path]] = []
    accepted: list[ParsedCertificate] = []

    def log() -> None:
        if issuer is not None:
            issuer.record(accepted[0])

    with (
        files.staged(outputs, kept, on_placed=log) as staged,
        tempfile.TemporaryDirectory(prefix="flow-ssl-") as work,
    ):
        finals = [output.path for output in outputs]
        where = Where(dict(zip(finals, staged, strict=True)), work, serial, scripted=False)
        _run_steps(plan, openssl, where)
        files.require_written(list(zip(staged, finals, strict=True)))
        checked = plan.read_back(where)
        findings = checked.findings
        if issuer is not None:
            findings = [*findings, serial_finding(serial, checked.cert)]
        refuse_failures(findings, checked.what)
        accepted.append(checked.cert)
    return Made(checked.cert, findings, serial, kept)


def _run_steps(plan: Plan, openssl: OpenSSL, where: Where) -> None:
    """
    Perform the steps; the new key is checked as soon as the command naming it has run,
    so a short one is made again before a CA signs it where the two are separate steps.
    """
    from flow_ssl.make.perform import perform
    from flow_ssl.openssl.read.keys import short_key_file

    issuer = plan.issuer
    key = plan.new_key(where)
    signed = False
    for step in plan.steps(openssl, where):
        perform([step], shown=where.shown)
        signed = signed or (issuer is not None and issuer.signs(step))
        if key is not None and isinstance(step, Command) and str(key) in step.argv:
            if short_key_file(key):
                raise _ShortKeyError(signed=signed)
            key = None  # well formed: the later steps only read it


def serial_finding(serial: str, cert: ParsedCertificate) -> Finding:
    """``serial``: the certificate carries the serial reserved for it."""
    return finding(
        "serial",
        int(serial, 16) == int(cert.serial or "0", 16),
        f"serial {serial}",
        f"serial is {cert.serial}, expected {serial}",
    )
