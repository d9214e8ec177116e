"""
Safe output: nothing lost, nothing half-written, keys 0600. The only writer.

The files of one result (key, certificate, chain, CSR), or one new folder (a CA's),
are written into a 0700 staging folder beside their targets and put in place
together, or not at all. A file replaced with --force is kept beside it as a
backup first (a hard link: same bytes, same mode), and a failed put-in-place is
rolled back. Small files that change in place (a CA's serial) are replaced whole;
a log gains whole lines.

What may never be written, even with --force (a CA's own files), is the caller's
rule, given to ``check_outputs``: this module knows files, not what they are for.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl.core.errors import InvalidInputError, OutputExistsError, WriteFailedError
from flow_ssl.core.placed import record_placed

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

# What a path is, when flow-ssl must never write it (even with --force); None: it may.
Forbidden = Callable[[Path], "str | None"]
KEY_MODE = 0o600
# The signals a moment that must finish holds back (``uninterrupted``).
_HELD = ("SIGINT", "SIGTERM", "SIGHUP")
# Larger than any real bundle (the public root store is about 200 KB); a bound on memory.
MAX_BYTES = 32 * 1024 * 1024
STAGING_PREFIX = ".flow-ssl-"
# The first PEM label of a file flow-ssl would replace says what it is.
_PEM_LABEL = re.compile(r"-----BEGIN ([A-Z0-9 ]{1,40})-----")


@dataclass(frozen=True)
class Output:
    """
    One file to write: where it goes, whether it is a private key, its option's field.
    ``folder``: a new folder the steps make whole (a CA's), put in place over nothing or
    an empty folder, never over files. ``backup``: a file it replaces is kept beside it
    first; False for state that is replaced whole as a matter of course (a CA's CRL).
    """

    path: Path
    secret: bool = False
    field: str = ""
    folder: bool = False
    backup: bool = True


def check_outputs(outputs: Sequence[Output], *, force: bool, forbidden: Forbidden) -> None:
    """
    Refuse outputs that would clobber or cannot be written, before anything runs.

    ``forbidden`` names the files no output may land on, even with ``force``.

    Raises:
        InvalidInputError: a missing folder, a folder in the way, the same path twice, a
            forbidden file, or a folder output that holds files.
        OutputExistsError: a file exists and ``force`` is false (saying what it is).
    """
    seen: set[Path] = set()
    for output in outputs:
        path = output.path
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):  # a symlink loop
            raise InvalidInputError(f"{path} is a symlink that leads nowhere (a loop)") from None
        if resolved in seen:
            raise InvalidInputError(f"{path} is given for two outputs; name each file once")
        seen.add(resolved)
        if not path.parent.is_dir():
            raise InvalidInputError(
                f"folder {path.parent} does not exist", hint=f"create it: mkdir -p {path.parent}"
            )
        if not os.access(path.parent, os.W_OK):
            raise InvalidInputError(f"folder {path.parent} is not writable")
        if output.folder:
            _check_new_folder(output)
            continue
        if path.is_dir():
            raise InvalidInputError(f"{path} is a folder; give a file name")
        never = forbidden(path)
        if never is not None:
            raise InvalidInputError(
                f"{path} is {never}; flow-ssl never writes over one (even with --force): "
                "give another file name"
            )
        if path.exists() and not path.is_file():
            raise InvalidInputError(
                f"{path} is a device, FIFO or socket, not a file; flow-ssl replaces only files "
                "(even with --force)"
            )
        if (path.exists() or path.is_symlink()) and not force:
            raise OutputExistsError(
                f"{path} already exists ({describe(path)}); nothing was changed"
            )


def _check_new_folder(output: Output) -> None:
    """A new folder goes where nothing is, or into an empty folder; never over files."""
    path = output.path
    if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
        return
    if path.exists() or path.is_symlink():
        held = "is not empty" if path.is_dir() else "is a file, not a folder"
        raise InvalidInputError(
            f"{path} {held}; nothing was changed",
            field=output.field or None,
            hint="give a new or empty folder: flow-ssl never writes into one that holds files",
        )


def describe(path: Path) -> str:
    """What an existing file is, and what replacing it would cost (a pending request's key)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096).decode("ascii", errors="replace")
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    found = _PEM_LABEL.search(head)
    label = found.group(1) if found else ""
    if label.endswith("PRIVATE KEY"):
        pending = [p.name for p in _siblings(path, (".csr",)) if p.exists()]
        if pending:
            return (
                f"a private key, with the request {pending[0]} beside it: replacing it would "
                "leave the certificate your CA sends back without its key"
            )
        return "a private key"
    if "REQUEST" in label:
        return "a certificate request"
    return "a certificate" if "CERTIFICATE" in label else "a file"


def _siblings(path: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return [path.with_suffix(suffix) for suffix in suffixes if path.suffix != suffix]


@contextmanager
def uninterrupted() -> Iterator[None]:
    """
    Hold Ctrl-C, SIGTERM and SIGHUP for a moment that must finish once started.

    Putting a result in place (renames, their roll-back, the CA log line) and
    removing staging are short; a signal arriving then is delivered right after.
    The signals are blocked in this thread and, in the main thread, their handlers only
    note them meanwhile: another thread of the process (a library's, a test runner's)
    may be the one the system hands a signal to, and Python runs handlers in the main
    thread whichever thread received it.
    """
    held = [getattr(signal, name) for name in _HELD if hasattr(signal, name)]
    mask = getattr(signal, "pthread_sigmask", None)
    before = mask(signal.SIG_BLOCK, held) if mask is not None else None
    noted: list[int] = []
    saved = {}
    if threading.current_thread() is threading.main_thread():
        saved = {signum: signal.signal(signum, lambda n, _: noted.append(n)) for signum in held}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
        if mask is not None and before is not None:
            mask(signal.SIG_SETMASK, before)  # a blocked one reaches its own handler now
        if noted:
            handler = saved[noted[0]]
            if callable(handler):
                handler(noted[0], None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(noted[0])


@contextmanager
def staged(
    outputs: Sequence[Output],
    backups: list[tuple[Path, Path]] | None = None,
    on_placed: Callable[[], None] | None = None,
) -> Iterator[list[Path]]:
    """
    Give temporary paths beside each output; once the body succeeds, put them all in place.

    The staging folder is made 0700 in each output's own folder, so the final
    rename is atomic and a half-written key is never readable by others. A folder
    output's path is left for the body to make. If the body raises (or a signal
    stops the run), every staged file is removed and no output is touched. Each
    file replaced is kept first as a backup, appended to ``backups`` as (file,
    backup). ``on_placed`` (a log line, say) runs right after, and no signal comes
    between the two.

    Raises:
        WriteFailedError: a file could not be put in place; everything was rolled back.
    """
    folders: dict[Path, Path] = {}
    staged_paths: list[Path] = []
    try:
        for output in outputs:
            parent = output.path.parent
            if parent not in folders:
                folders[parent] = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=parent))
            staged_paths.append(folders[parent] / output.path.name)
        yield staged_paths
        for output, temporary in zip(outputs, staged_paths, strict=True):
            if not (temporary.is_dir() if output.folder else temporary.is_file()):
                raise WriteFailedError(f"{output.path} was not written; nothing was changed")
            if output.secret:
                # openssl 1.0.2 and LibreSSL write keys with the umask: fix it here.
                temporary.chmod(KEY_MODE)
        with uninterrupted():
            kept = _put_in_place(list(zip(staged_paths, outputs, strict=True)))
            record_placed(output.path for output in outputs)
            if on_placed is not None:
                on_placed()
        if backups is not None:
            backups.extend(kept)
    finally:
        with uninterrupted():
            for folder in folders.values():
                shutil.rmtree(folder, ignore_errors=True)


def _put_in_place(moves: list[tuple[Path, Output]]) -> list[tuple[Path, Path]]:
    """
    Rename each staged file over its target, after backing up the ones that exist; or none.

    A file replaced without a backup goes last: nothing placed after it could fail and
    need it back.
    """
    moves = sorted(moves, key=lambda move: not move[1].backup)
    kept: list[tuple[Path, Path]] = []
    placed: list[Output] = []
    current = moves[0][1].path
    try:
        for _, output in moves:
            current = output.path
            exists = current.exists() or current.is_symlink()
            if output.backup and not output.folder and exists:
                backup = backup_name(current)
                _keep(current, backup)
                kept.append((current, backup))
        for temporary, output in moves:
            current = output.path
            if output.folder and current.is_dir():
                current.rmdir()  # empty (check_outputs): a folder is renamed over nothing
            temporary.replace(current)
            placed.append(output)
    except OSError as exc:
        _roll_back(placed, kept)
        raise WriteFailedError(
            f"could not put {current} in place: {exc.strerror or exc}; nothing was changed"
        ) from None
    secrets = {output.path for _, output in moves if output.secret}
    for target, backup in kept:
        if target in secrets and not backup.is_symlink():
            backup.chmod(KEY_MODE)  # a key's backup is still a key
    return kept


def _keep(target: Path, backup: Path) -> None:
    """The old file, kept under ``backup``: a hard link (same bytes, same mode), else a copy."""
    try:
        os.link(target, backup, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in {errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP}:
            raise
        shutil.copy2(target, backup, follow_symlinks=False)


def _roll_back(placed: list[Output], kept: list[tuple[Path, Path]]) -> None:
    """Undo a partial put-in-place: the old files back where they were, new ones gone."""
    backed_up = dict(kept)
    for output in placed:
        target = output.path
        if target in backed_up:
            backed_up.pop(target).replace(target)
        elif output.folder:
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    for backup in backed_up.values():
        backup.unlink(missing_ok=True)


def backup_name(target: Path) -> Path:
    """``flow.key`` -> ``flow.key.bak-20261128-044512`` (``-2``, ``-3``... if that is taken)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = target.with_name(f"{target.name}.bak-{stamp}")
    number = 2
    while candidate.exists() or candidate.is_symlink():
        candidate = target.with_name(f"{target.name}.bak-{stamp}-{number}")
        number += 1
    return candidate


def require_written(made: Sequence[tuple[Path, Path]]) -> None:
    """
    openssl said it succeeded: each (staged, final) file must exist and hold something
    (a folder output: exist; what is in it is read back).

    openssl can exit 0 having written a truncated or empty file when the disk fills
    (3.0 does), so a full filesystem is checked for first.

    Raises:
        WriteFailedError: the disk is full, or a file is missing or empty; named by its
            final path, never the staging one.
    """
    for staged_path, final in made:
        stats = os.statvfs(staged_path.parent)
        if stats.f_bavail == 0:
            raise WriteFailedError(
                f"could not write {final}: no space left on device; nothing was changed"
            )
        if staged_path.is_dir():
            continue
        if not staged_path.is_file() or staged_path.stat().st_size == 0:
            raise WriteFailedError(
                f"openssl reported success but wrote no {final}; nothing was changed"
            )


def write_text(output: Output, text: str, backups: list[tuple[Path, Path]] | None = None) -> None:
    """
    Write one text file all-or-nothing (staged, put in place): ``check_outputs`` it first.

    Raises:
        WriteFailedError: the disk is full or the folder refuses the file; nothing was changed.
    """
    with staged([output], backups) as (temporary,):
        write_staged(temporary, text.encode())


def write_staged(path: Path, data: bytes) -> None:
    """
    Write bytes into a staging path.

    Raises:
        WriteFailedError: a full disk or an I/O error, with the reason.
    """
    try:
        with path.open("xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise WriteFailedError(f"could not write {path.name}: {exc.strerror or exc}") from None


def read_input(path: Path, what: str = "a certificate file") -> bytes:
    """
    The bytes of a regular file (``what`` it should be), at most MAX_BYTES.

    Opened without blocking, then checked: a FIFO, a device (/dev/zero) or a
    folder is refused before anything is read from it. Every file an operator
    names is read through here.

    Raises:
        InvalidInputError: missing, not a regular file, too large, or unreadable.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InvalidInputError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{path} is a folder, not {what}") from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from None
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        os.close(fd)
        raise InvalidInputError(f"{path} is a folder, not {what}")
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInputError(f"{path} is not a regular file (a pipe or a device?)")
        if info.st_size > MAX_BYTES:
            raise InvalidInputError(
                f"{path} is {info.st_size} bytes; {what} is at most {MAX_BYTES}"
            )
        try:
            data = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise InvalidInputError(f"{path} grew past {MAX_BYTES} bytes while being read")
    return data


def replace_text(target: Path, text: str) -> None:
    """
    Replace a small ASCII file whole: a reader (or a crash) sees the old text or the new,
    never half, and two writers at once each replace it whole (the last one wins). For files
    that change in place (a CA's serial, a cache) and scratch files a step writes again.

    Raises:
        OSError: the file could not be written (the caller says what it was for).
    """
    descriptor, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    staged_path = Path(name)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        staged_path.replace(target)
    finally:
        staged_path.unlink(missing_ok=True)  # gone already once it replaced the target


def append_line(target: Path, line: str) -> None:
    """
    Add one line to a log in one write, so lines written at once never interleave.

    Raises:
        OSError: the log could not be written (the caller says what it was for).
    """
    with target.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
