"""
Many certificates from one TOML manifest, through the same code as the single commands.

The whole manifest is validated before anything is written; then each entry
runs as ``selfsigned``, ``csr`` or ``ca issue`` would, several at a time (the
work is in openssl processes, so threads suffice). One failing entry does not
stop the others. The CA's code is imported only when an entry names a CA.
"""

from __future__ import annotations

import contextvars
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from flow_ssl import files
from flow_ssl.core.errors import FlowSSLError, InvalidInputError, all_of, refuse_all
from flow_ssl.core.names import default_file_stem
from flow_ssl.make import generate, inputs, manifest
from flow_ssl.make.manifest import Mode
from flow_ssl.make.run import Where
from flow_ssl.make.run import run as run_plan
from flow_ssl.openssl.commands.base import scratch
from flow_ssl.openssl.script.render import uses_folder
from flow_ssl.openssl.script.steps import Guard, MakeDir, Note, Step

if TYPE_CHECKING:
    from collections.abc import Callable

    from flow_ssl.ca.authority import CA
    from flow_ssl.ca.issue import IssuePlan
    from flow_ssl.core.models import CertRequest
    from flow_ssl.openssl.features import OpenSSL

Status = Literal["made", "skipped", "failed"]
# The manifest keys that make the request (the rest say how and where).
_REQUEST_KEYS = frozenset({*inputs.FIELDS, "san", "key", "days"})


@dataclass(frozen=True)
class Job:
    """One manifest entry, validated: what to make and where."""

    number: int
    mode: Mode
    request: CertRequest
    key_path: Path
    out_path: Path
    fullchain: Path | None
    authority: CA | None
    use_subj: bool

    @property
    def name(self) -> str:
        """The entry's CN."""
        return self.request.subject.common_name

    def outputs(self) -> list[Path]:
        """Every file the entry writes."""
        paths = [self.key_path, self.out_path]
        return [*paths, self.fullchain] if self.fullchain else paths

    def plan(self, *, use_subj: bool | None = None) -> generate.Plan | IssuePlan:
        """The same plan the single command builds."""
        subj = self.use_subj if use_subj is None else use_subj
        if self.authority is not None and self.fullchain is not None:
            from flow_ssl.ca.issue import IssuePlan

            return IssuePlan(
                ca=self.authority,
                request=self.request,
                key_path=self.key_path,
                out=self.out_path,
                fullchain=self.fullchain,
                use_subj=subj,
            )
        return generate.Plan(
            request=self.request,
            key_path=self.key_path,
            out_path=self.out_path,
            x509=self.mode == "selfsigned",
            use_subj=subj,
        )


@dataclass(frozen=True)
class Outcome:
    """What became of one entry."""

    job: Job
    status: Status
    message: str


def load(path: Path) -> list[Job]:
    """
    Read and validate the whole manifest, naming every problem of every entry at once.

    Raises:
        InvalidInputError: a malformed file, or every invalid table, entry and key, each
            naming where it is (an entry, or [defaults] when the value came from there).
    """
    read = manifest.read(path)
    problems = {table: list(found) for table, found in read.problems.items()}
    jobs: list[Job] = []
    if read.manifest is not None:
        authorities: dict[tuple[Path, str | None], CA] = {}
        defaults = inputs.Layer(read.manifest.defaults.fields(), "[defaults]")
        for number, entry in enumerate(read.manifest.cert, 1):
            given = entry.fields()
            refused = read.refused.get(number, frozenset())
            refused |= read.refused_defaults - set(given)
            try:
                jobs.append(_job(number, given, defaults, refused, path.parent, authorities))
            except InvalidInputError as exc:
                label = manifest.entry_label(number, entry.common_name)
                for problem in exc.each():
                    if defaults.gave(problem, given):
                        problems.setdefault(manifest.DEFAULTS, []).append(defaults.said(problem))
                    else:
                        said = problem.about(inputs.toml_key(problem.field))
                        problems.setdefault(number, []).append(
                            InvalidInputError(f"{label}: {said}")
                        )
    # In the file's order: its shape, [defaults], each entry; then entries that clash.
    in_order = [problem for table in sorted(problems) for problem in problems[table]]
    refuse_all([*in_order, *_shared_outputs(jobs)], where=str(path))
    return jobs


def _job(
    number: int,
    given: dict[str, Any],
    defaults: inputs.Layer,
    refused: frozenset[str],
    base: Path,
    authorities: dict[tuple[Path, str | None], CA],
) -> Job:
    """
    One entry (its ``given`` fields over the ``defaults``), as the single command takes it.

    Raises:
        InvalidInputError: every problem of the entry, each about its field.
    """
    options = {**defaults.fields, **given}
    mode: Mode = options.get("mode") or "selfsigned"
    problems: list[InvalidInputError] = []
    request = _attempt(problems, lambda: _request(options, mode, refused))
    out_dir = _attempt(problems, lambda: _usable_folder(base / (options.get("out_dir") or ".")))
    authority = None
    if mode == "ca":
        authority = _attempt(problems, lambda: _authority(options, base, authorities, refused))
    if authority is not None and request is not None:
        from flow_ssl.ca.authority import check_days

        _attempt(problems, lambda: check_days(request.days, authority))
    if request is None or out_dir is None or problems:
        raise all_of(problems)
    stem = default_file_stem(request.subject.common_name)
    suffix = "csr" if mode == "csr" else "crt"
    return Job(
        number=number,
        mode=mode,
        request=request,
        key_path=out_dir / f"{stem}.key",
        out_path=out_dir / f"{stem}.{suffix}",
        fullchain=out_dir / f"{stem}.fullchain.pem" if mode == "ca" else None,
        authority=authority,
        use_subj=bool(options.get("subj")),
    )


Made = TypeVar("Made")


def _attempt(problems: list[InvalidInputError], make: Callable[[], Made]) -> Made | None:
    """``make()``, or None with its problems added to ``problems``."""
    try:
        return make()
    except InvalidInputError as exc:
        problems.extend(exc.each())
        return None


def _request(options: dict[str, Any], mode: Mode, refused: frozenset[str]) -> CertRequest:
    """The entry's request (a CSR has no days; a CA-issued one the CA's default)."""
    asked = {name: options[name] for name in options.keys() & _REQUEST_KEYS}
    if mode == "csr":
        asked.pop("days", None)
    elif mode == "ca":
        from flow_ssl.ca.authority import LEAF_DAYS

        asked.setdefault("days", LEAF_DAYS)
    return inputs.build_request(asked, refused=refused)


def _authority(
    options: dict[str, Any],
    base: Path,
    authorities: dict[tuple[Path, str | None], CA],
    refused: frozenset[str],
) -> CA | None:
    """
    The CA folder a ``mode = "ca"`` entry names, opened once for all entries naming it.

    None when its ca_dir was refused already (that problem is named).

    Raises:
        InvalidInputError: no ca_dir, or the folder holds no CA, or its pass source fails.
    """
    ca_dir, ca_pass = options.get("ca_dir"), options.get("ca_pass")
    if ca_dir is None:
        if "ca_dir" in refused:
            return None
        raise InvalidInputError("'ca' needs ca_dir, the CA folder (made by ca init)", field="mode")
    where = (base / ca_dir, ca_pass)
    if where not in authorities:
        from flow_ssl.ca.authority import open_ca

        authorities[where] = open_ca(base / ca_dir, passin=ca_pass, field="ca_dir")
    return authorities[where]


def _usable_folder(folder: Path) -> Path:
    """
    An out_dir that is, or can be made, a writable folder (made later, by run).

    Raises:
        InvalidInputError: about ``out_dir``: a file in the way, or no writable parent.
    """
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise InvalidInputError(f"{existing} is a file, not a folder", field="out_dir", joiner=": ")
    if existing is None or not os.access(existing, os.W_OK | os.X_OK):
        raise InvalidInputError(
            f"{folder} cannot be made: {existing or folder.anchor} is not writable",
            field="out_dir",
            joiner=": ",
        )
    return folder


def _shared_outputs(jobs: list[Job]) -> list[InvalidInputError]:
    """Entries that would write the same file: each pair named once, with its first such file."""
    owners: dict[Path, Job] = {}
    clashes: dict[tuple[int, int], Path] = {}
    for job in jobs:
        for output in job.outputs():
            other = owners.setdefault(output.resolve(), job)
            if other is not job:
                clashes.setdefault((other.number, job.number), output)
    return [
        InvalidInputError(
            f"[[cert]] #{first} and #{second} both write {output}; "
            "give them different names or out_dir"
        )
        for (first, second), output in clashes.items()
    ]


def is_done(job: Job) -> bool:
    """Every file of the entry exists: a re-run skips it."""
    return all(output.exists() for output in job.outputs())


def run(
    jobs: list[Job],
    *,
    workers: int,
    force: bool,
    report: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """
    Make every entry not done yet (all with ``force``), ``workers`` at a time.

    Returns the outcomes in manifest order; ``report`` is called as each finishes.
    """
    outcomes: dict[int, Outcome] = {}
    pending = []
    for job in jobs:
        if is_done(job) and not force:
            outcomes[job.number] = Outcome(job, "skipped", "its files exist")
            if report:
                report(outcomes[job.number])
        else:
            pending.append(job)
    for folder in {job.key_path.parent for job in pending}:
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            message = f"{folder} cannot be made: {exc.strerror or exc}"
            raise InvalidInputError(message, field="out_dir", joiner=": ") from None
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    try:
        # Each entry runs in a copy of this context: what it puts in place is the run's.
        futures = [
            pool.submit(contextvars.copy_context().run, _make, job, force=force) for job in pending
        ]
        for future in as_completed(futures):
            outcome = future.result()
            outcomes[outcome.job.number] = outcome
            if report:
                report(outcome)
    finally:
        # On a signal, start nothing new; the entries running clean up as they stop.
        pool.shutdown(wait=True, cancel_futures=True)
    return [outcomes[job.number] for job in jobs]


def _make(job: Job, *, force: bool) -> Outcome:
    try:
        made = run_plan(job.plan(), force=force)
    except FlowSSLError as exc:
        return Outcome(job, "failed", str(exc))
    except Exception as exc:  # noqa: BLE001 - one entry's bug must not stop the others
        return Outcome(job, "failed", f"unexpected: {type(exc).__name__}: {exc}")
    if made.serial:
        return Outcome(job, "made", f"serial {made.serial}")
    return Outcome(job, "made", ", ".join(entry.value for entry in job.request.names))


def default_workers() -> int:
    """One openssl at a time per core."""
    return os.cpu_count() or 1


def script_steps(
    jobs: list[Job],
    *,
    force: bool,
    openssl: OpenSSL,
    guard: Callable[[list[files.Output]], Guard],
) -> list[Step]:
    """
    Every entry's openssl commands, as one script, each as the single command makes it.

    Entries answer openssl's questions from here-documents, or give ``-subj``, as
    their ``subj`` says. CA entries take consecutive serials from each CA's serial
    file, and each records the next there once its certificate is made, as the
    single command's script does. Scratch files go in one folder per entry. ``guard``:
    what an entry's guard says when one of its files exists.
    """
    folders = sorted({job.key_path.parent for job in jobs})
    steps: list[Step] = [
        MakeDir(str(path), parents=True, field="out_dir") for path in folders if not path.is_dir()
    ]
    serials: dict[Path, int] = {}
    for job in jobs:
        title = f"[[cert]] #{job.number} {job.name} ({job.mode})"
        if is_done(job) and not force:
            steps.append(Note(f"{title}: skipped, its files exist"))
            continue
        steps.append(Note(title))
        steps.append(guard([files.Output(p) for p in job.outputs()]))
        work = scratch(str(job.number))
        plan = job.plan()
        serial = ""
        if not isinstance(plan, generate.Plan):  # a CA issues it
            from flow_ssl.ca.folder import script_serial
            from flow_ssl.ca.index import serial_text

            ca_folder = plan.ca.folder
            if ca_folder.path not in serials:
                serials[ca_folder.path] = int(script_serial(ca_folder), 16)
            serial = serial_text(serials[ca_folder.path])
            serials[ca_folder.path] += 1
        entry = plan.steps(openssl, Where(work=work, serial=serial))
        if uses_folder(entry, work):
            steps.append(MakeDir(work))
        steps += entry
    return steps
