"""
A company CA's folder: its files, its lock, its serial state, its index and its log.

Everything a CA needs lives in one folder, in formats openssl and people can
read: the key (0600), the certificate, the config openssl is given with
``-config``, the next serial in openssl's ``-CAserial`` format, ``index.txt`` in
``openssl ca``'s format (with a copy of each certificate in ``certs/``), the CRL
and its number, and one JSON line per certificate issued. Changes to the state
happen under a lock, so two runs at once never give out the same serial; the next
serial is above every serial the index lists, whatever the serial file says.
"""

from __future__ import annotations

import json
import re
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl import files
from flow_ssl.ca import index
from flow_ssl.core.errors import InvalidInputError, WriteFailedError
from flow_ssl.openssl.read.pem import to_pem
from flow_ssl.openssl.script.steps import TakeSerial

if TYPE_CHECKING:
    from collections.abc import Iterator

    from flow_ssl.core.models import ParsedCertificate

LOCK_TIMEOUT = 30.0
_HEX = re.compile(r"^[0-9A-Fa-f]+$")
# RFC 5280 4.1.2.2: a positive serial of at most 20 octets. DER needs a leading zero
# octet when the top bit is set, so the largest is 2**159 - 1.
MAX_SERIAL = 2**159 - 1


@dataclass(frozen=True)
class Folder:
    """The files of one CA folder (real or staged: the names are the same)."""

    path: Path

    @property
    def key(self) -> Path:
        """The CA's private key (0600; it never leaves the folder)."""
        return self.path / "ca.key"

    @property
    def cert(self) -> Path:
        """The CA's certificate."""
        return self.path / "ca.crt"

    @property
    def config(self) -> Path:
        """The extension config openssl is given with ``-config``."""
        return self.path / "ca.cnf"

    @property
    def serial(self) -> Path:
        """The next serial number, in hex (openssl's ``-CAserial`` format)."""
        return self.path / "serial"

    @property
    def log(self) -> Path:
        """One JSON line per certificate issued."""
        return self.path / "issued.log"

    @property
    def request(self) -> Path:
        """An issuing CA's request to its root (kept for re-signing)."""
        return self.path / "ca.csr"

    @property
    def root(self) -> Path:
        """An issuing CA's copy of its root certificate."""
        return self.path / "root.crt"

    @property
    def lock(self) -> Path:
        """Held while the serial state changes."""
        return self.path / ".lock"

    @property
    def index(self) -> Path:
        """Every certificate issued, in ``openssl ca``'s format."""
        return self.path / "index.txt"

    @property
    def index_attr(self) -> Path:
        """The index's setting openssl reads beside it (``unique_subject = no``)."""
        return self.path / "index.txt.attr"

    @property
    def certs(self) -> Path:
        """A copy of each certificate issued, as ``SERIAL.pem`` (openssl's new_certs_dir)."""
        return self.path / "certs"

    @property
    def crl_number(self) -> Path:
        """The next CRL's number, in hex (openssl's ``crlnumber`` file)."""
        return self.path / "crlnumber"

    @property
    def crl(self) -> Path:
        """The CA's last CRL (PEM)."""
        return self.path / "crl.pem"

    def copy_of(self, serial: str) -> Path:
        """Where the copy of the certificate with this serial is kept."""
        return self.certs / f"{index.serial_text(int(serial, 16))}.pem"

    def own_files(self) -> tuple[Path, ...]:
        """Every file the CA itself keeps (no certificate it issues may land on one)."""
        # openssl ca keeps the previous index, attr and CRL number as .old files.
        olds = (self.index, self.index_attr, self.crl_number)
        return (
            self.key,
            self.cert,
            self.config,
            self.serial,
            self.log,
            self.request,
            self.root,
            self.lock,
            self.index,
            self.index_attr,
            self.crl_number,
            self.crl,
            *(path.with_name(path.name + ".old") for path in olds),
        )

    def root_cert(self) -> Path:
        """The root to trust: the CA itself, or the root it was signed by."""
        return self.root if self.root.exists() else self.cert


def own_file(path: Path) -> str | None:
    """
    ``a CA's own ca.key`` when ``path`` is one of a flow-ssl CA folder's own files (any
    CA's, not just one): what no certificate it issues, nor any other output, may land on.
    """
    folder = Folder(path.parent)
    if _looks_like_a_ca(folder) and path.name in {own.name for own in folder.own_files()}:
        return f"a CA's own {path.name}"
    if path.parent.name == "certs" and _looks_like_a_ca(Folder(path.parent.parent)):
        return f"a CA's copy of what it issued (certs/{path.name})"
    return None


def _looks_like_a_ca(folder: Folder) -> bool:
    return folder.key.is_file() and folder.cert.is_file() and folder.serial.is_file()


def random_serial() -> str:
    """A positive 64-bit serial with its top bit set (fixed length), in hex."""
    return index.serial_text(secrets.randbits(63) | (1 << 63))


def read_serial(folder: Folder) -> str:
    """
    The serial the serial file holds.

    Raises:
        InvalidInputError: the serial file is missing, damaged, or holds a serial RFC 5280
            forbids (0, or more than 20 octets), or the CA has given out its last serial.
    """
    try:
        text = folder.serial.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{folder.serial} cannot be read: {exc}") from None
    if not _HEX.match(text) or len(text) > 64:
        raise InvalidInputError(
            f"{folder.serial} does not hold a hex serial number; it is damaged",
            hint=f"restore it from a backup of {folder.path}",
        )
    number = int(text, 16)
    if number == MAX_SERIAL + 1:  # what reserve_serial writes after giving out the last one
        raise InvalidInputError(
            f"{folder.serial} holds serial {text}, which no certificate may carry (RFC 5280: "
            "at most 20 octets): this CA has given out its last serial",
            hint="make a new issuing CA with flow-ssl ca init, and issue from that",
        )
    if not 1 <= number <= MAX_SERIAL:
        raise InvalidInputError(
            f"{folder.serial} holds serial {text}, which no certificate may carry "
            "(RFC 5280: a positive number of at most 20 octets); it is damaged",
            hint=f"restore it from a backup of {folder.path}",
        )
    return index.serial_text(number)


def refuse_control_characters(path: Path, *, field: str = "dir") -> None:
    """
    Refuse a CA folder whose full path holds a control character (a line break, a tab):
    openssl ca's config names the folder by its full path, one setting a line, so a line
    break in it would add settings of its own.

    Raises:
        InvalidInputError: naming the path with the character escaped.
    """
    text = str(path.absolute())
    if not any(_control(char) for char in text):
        return
    shown = "".join(f"\\x{ord(char):02x}" if _control(char) else char for char in text)
    raise InvalidInputError(
        f"{shown}: a CA folder's path must not hold a control character (a line break, a "
        "tab): openssl ca's config names it one setting a line; rename the folder",
        field=field,
        joiner=": ",
    )


def _control(char: str) -> bool:
    """A C0 or C1 control character, or DEL."""
    return ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0


def refuse_links(folder: Folder, *, field: str = "dir") -> None:
    """
    Refuse a CA folder whose own files are symbolic links.

    The folder's lock guards only what is in the folder, and the serial file is
    replaced (written beside it, renamed over it): through a link, that would turn
    the link into a file and leave its target behind, still handing out the serials
    this CA has used, to whatever else reads it. The folder itself may be a link.

    Raises:
        InvalidInputError: about ``field``, naming the link and where it points.
    """
    for path in folder.own_files():
        if path.is_symlink():
            raise InvalidInputError(
                f"{path} is a symbolic link (to {path.readlink()}); a CA's own files must "
                f"be files in its folder, which flow-ssl locks and rewrites in place",
                field=field,
                joiner=": ",
                hint="put the file itself there instead of the link, or give the folder "
                "that holds the files",
            )


def _next(serial: str) -> str:
    return index.serial_text(int(serial, 16) + 1) + "\n"


def read_state(path: Path, encoding: str = "ascii") -> str | None:
    """
    A record file's text (the index, the log), or None before the folder has one.

    Raises:
        InvalidInputError: it exists and cannot be read as text.
    """
    try:
        return path.read_text(encoding=encoding)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path} cannot be read: {exc}") from None


def read_index(folder: Folder) -> list[index.Entry]:
    """
    The index's entries (none before the folder has one).

    Raises:
        InvalidInputError: the index is unreadable or damaged (naming the line).
    """
    try:
        data = folder.index.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise InvalidInputError(f"{folder.index} cannot be read: {exc}") from None
    try:
        entries = index.parse(_ascii(data))
    except index.IndexLineError as exc:
        raise InvalidInputError(
            f"{folder.index} is damaged: {exc}", hint=f"restore it from a backup of {folder.path}"
        ) from None
    twins = index.twin_subjects(entries)
    if twins and index.unique_subject(read_state(folder.index_attr)):
        first, second, subject = twins
        raise InvalidInputError(
            f"{folder.index_attr} says unique_subject = yes, but lines {first} and {second} of "
            f"{folder.index} are both valid certificates of {subject}: openssl ca refuses "
            "that (Error creating name index)",
            hint=f"write 'unique_subject = no' in {folder.index_attr}, as flow-ssl does",
        )
    return entries


@dataclass(frozen=True)
class Logged:
    """What the log says of one serial: its names, whether it is a CA, the serial it renews."""

    names: tuple[str, ...] = ()
    ca: bool = False
    renews: int | None = None


def logged(folder: Folder) -> dict[int, Logged]:
    """Each serial as the log's last line for it has it (best effort: bad lines are passed)."""
    found: dict[int, Logged] = {}
    try:
        lines = folder.log.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return found
    for line in lines:
        try:
            said = json.loads(line)
            serial = int(str(said["serial"]), 16)
            renews = int(str(said["renews"]), 16) if "renews" in said else None
        except (ValueError, KeyError, TypeError, RecursionError):
            continue
        names = said.get("names")
        names = tuple(str(n) for n in names) if isinstance(names, list) else ()
        found[serial] = Logged(names, bool(said.get("ca")), renews)
    return found


def renewals(log: dict[int, Logged]) -> dict[int, int]:
    """Each serial ``renew`` made, with the serial it renewed (from ``logged``)."""
    return {serial: said.renews for serial, said in log.items() if said.renews is not None}


def _ascii(data: bytes) -> str:
    """
    The index as text: openssl writes it in ASCII (other bytes as ``\\xHH``).

    Raises:
        IndexLineError: a byte that is not ASCII, with its line.
    """
    try:
        return data.decode("ascii")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise index.IndexLineError(
            f"line {line} holds the byte 0x{data[exc.start]:02X}, which openssl never writes "
            "there (it writes non-ASCII as \\xHH)"
        ) from None


def next_serial(folder: Folder) -> str:
    """
    The serial the CA gives next: the serial file's, unless the index already lists it or
    a higher one (a serial file restored from a backup); then the one after the index's.

    Raises:
        InvalidInputError: the serial file or the index is damaged, or the serials are used up.
    """
    in_file = read_serial(folder)
    above = index.highest(read_index(folder)) + 1
    if int(in_file, 16) >= above:
        return in_file
    if above > MAX_SERIAL:
        raise InvalidInputError(
            f"{folder.index} lists serial {index.serial_text(above - 1)}, the last a certificate "
            "may carry (RFC 5280: at most 20 octets): this CA has given out its last serial",
            hint="make a new issuing CA with flow-ssl ca init, and issue from that",
        )
    return index.serial_text(above)


def serial_behind(folder: Folder, *, moved: bool = False) -> str | None:
    """
    What to tell the operator when the serial file is behind the index, if it is
    (``moved``: flow-ssl has just moved it on).

    Raises:
        InvalidInputError: the serial file or the index is damaged.
    """
    in_file, taken = read_serial(folder), next_serial(folder)
    if in_file == taken:
        return None
    done = "it now holds" if moved else "the next serial is"
    return (
        f"{folder.serial} held {in_file}, but {folder.index} lists serials up to "
        f"{index.serial_text(int(taken, 16) - 1)} (a serial file restored from a backup?): "
        f"{done} {taken}"
    )


def repair_serial(folder: Folder) -> str | None:
    """
    Under the lock: move a serial file that is behind the index on (past the index), and
    say what was done; None when it was not behind.

    Raises:
        InvalidInputError: the serial file or the index is damaged.
        WriteFailedError: the serial file cannot be written.
    """
    said = serial_behind(folder, moved=True)
    if said is None:
        return None
    try:
        files.replace_text(folder.serial, next_serial(folder) + "\n")
    except OSError as exc:
        raise WriteFailedError(f"cannot move {folder.serial} on: {exc.strerror or exc}") from None
    return said


def script_serial(folder: Folder) -> str:
    """
    The serial a printed script claims: the serial file's (the script checks the file
    still holds it just before it signs, then moves it on).

    Raises:
        InvalidInputError: the serial file or the index is damaged, or the serial file is
            behind the index (the script would give out a serial the index lists).
    """
    in_file = read_serial(folder)
    if next_serial(folder) != in_file:
        raise InvalidInputError(
            f"{folder.serial} holds {in_file}, a serial {folder.index} lists already: a "
            "printed script would give it out again",
            hint=f"let flow-ssl move it on first: flow-ssl ca list --dir {folder.path}",
        )
    return in_file


def serial_claim(folder: Folder, serial: str) -> TakeSerial:
    """
    The script step that takes ``serial`` before openssl signs: it stops if another run
    moved the serial file on since the script was printed, else moves it past ``serial``.

    flow-ssl itself reserves the serial under the folder's lock (``reserve_serial``);
    a printed script has no lock, only this check just before it signs.
    """
    return TakeSerial(str(folder.serial), serial, _next(serial).strip(), field="dir")


def reserve_serial(folder: Folder) -> str:
    """
    Take the CA's next serial for one certificate (``next_serial``): the serial file moves
    past it first.

    Call it under ``locked(folder)``, before openssl signs: a run killed at any moment
    afterwards leaves the serial used up, never given out twice.

    Raises:
        InvalidInputError: the serial file or the index is damaged, or out of range.
        WriteFailedError: the serial file cannot be written.
    """
    refuse_links(folder)
    serial = next_serial(folder)
    try:
        files.replace_text(folder.serial, _next(serial))
    except OSError as exc:
        raise WriteFailedError(
            f"cannot reserve a serial in {folder.serial}: {exc.strerror or exc}"
        ) from None
    return serial


def record_issued(
    folder: Folder, cert: ParsedCertificate, written_to: Path, *, renews: str | None = None
) -> None:
    """
    Record a certificate once it is in place: a copy in certs/, its line in the index
    (valid), and its line in the log (``renews``: the serial a ``renew`` replaced with it).

    Raises:
        WriteFailedError: a record could not be written (saying which, and what to add).
    """
    assert cert.serial is not None  # noqa: S101 - a certificate has one
    assert cert.not_after is not None  # noqa: S101 - and an expiry
    entry = index.Entry(
        status="V",
        expires=cert.not_after,
        revoked="",
        serial=index.serial_text(int(cert.serial, 16)),
        subject=index.oneline(cert.subject),
    )
    copy = folder.copy_of(cert.serial)
    try:
        folder.certs.mkdir(mode=0o700, exist_ok=True)
        files.replace_text(copy, to_pem(cert.der, "CERTIFICATE"))
        files.append_line(folder.index, entry.line())
    except OSError as exc:
        raise WriteFailedError(
            f"{written_to} is written, but {folder.index} could not record it "
            f"({exc.strerror or exc}); add this line to it: {entry.line()}"
        ) from None
    log_issued(folder, cert, written_to, renews=renews)


def log_issued(
    folder: Folder, cert: ParsedCertificate, written_to: Path, *, renews: str | None = None
) -> None:
    """
    Append one line per certificate issued: when, serial, subject, names, file, and the
    serial it renews (only ``renew`` says that a certificate replaces another).
    """
    entry: dict[str, object] = {
        "issued": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "serial": cert.serial,
        "subject": cert.names_text(),
        "names": [*cert.subject_alt_names.dns, *cert.subject_alt_names.ip],
        "not_after": cert.not_after.strftime("%Y-%m-%dT%H:%M:%SZ") if cert.not_after else None,
        "ca": bool(cert.basic_constraints and cert.basic_constraints.ca),
        "file": str(written_to.resolve()),
    }
    if renews is not None:
        entry["renews"] = renews
    line = json.dumps(entry, ensure_ascii=False)
    try:
        files.append_line(folder.log, line)
    except OSError as exc:
        raise WriteFailedError(
            f"{written_to} is written, but {folder.log} could not record it "
            f"({exc.strerror or exc}); add this line to it: {line}"
        ) from None


@contextmanager
def locked(folder: Folder) -> Iterator[None]:
    """
    Hold the folder's lock (an OS file lock, released even if the process dies), waiting
    up to ``LOCK_TIMEOUT`` seconds for another run to let go.

    Raises:
        InvalidInputError: another run held it for longer than that, or the folder will
            not let flow-ssl lock it (read-only, not ours).
    """
    from filelock import FileLock, Timeout  # 50 ms to import: only runs that lock pay it

    lock = FileLock(folder.lock, timeout=LOCK_TIMEOUT, mode=0o600, poll_interval=0.02)
    try:
        lock.acquire()
    except Timeout:
        raise InvalidInputError(
            f"the CA folder {folder.path} is busy: another flow-ssl has held its "
            f"lock for {LOCK_TIMEOUT:.0f}s",
            hint="try again when it has finished",
        ) from None
    except OSError as exc:
        raise InvalidInputError(
            f"cannot lock the CA folder {folder.path}: {exc.strerror or exc}",
            hint="a CA folder must be writable by whoever signs with it",
        ) from None
    try:
        yield
    finally:
        lock.release()
