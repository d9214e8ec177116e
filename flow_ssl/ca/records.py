"""
A CA folder's records brought up to date, under its lock, before anything uses them.

A folder without ``index.txt`` (made by an earlier flow-ssl, or new) gets one, made from
``issued.log`` and the certificates it names, with a copy of each certificate in
``certs/``, the CRL number, and the ``openssl ca`` part of ``ca.cnf``: all put in place
together, or none (the index last). Then every valid entry past its expiry is marked
``E``, so ``openssl ca -status`` says what ``ca list`` says.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flow_ssl import files
from flow_ssl.ca import config, index
from flow_ssl.ca.folder import Folder, read_index, read_state
from flow_ssl.check.crls import read_crl
from flow_ssl.core.errors import FlowSSLError, InvalidInputError, WriteFailedError
from flow_ssl.openssl.read import reader
from flow_ssl.openssl.read.pem import to_pem

if TYPE_CHECKING:
    from flow_ssl.core.models import ParsedCertificate

FIRST_CRL_NUMBER = "01"
INDEX_ATTR = "unique_subject = no\n"
# "C=US, O=Acme, Inc., CN=x" (the log's subject) splits before each ", TYPE=".
_LOG_SUBJECT = re.compile(r", (?=[A-Za-z][A-Za-z0-9.]*=)")


@dataclass(frozen=True)
class Upgraded:
    """What making the index did: how many certificates it lists, how many were copied."""

    listed: int
    copied: int
    from_log_only: tuple[str, ...]  # serials whose certificate file was gone or replaced

    def said(self, folder: Folder) -> str:
        """One line for the operator."""
        text = (
            f"{folder.path}: made {folder.index.name} (openssl ca's format) from "
            f"{folder.log.name}: {self.listed} certificate(s), {self.copied} copied to "
            f"{folder.certs.name}/"
        )
        if self.from_log_only:
            text += (
                f"; {len(self.from_log_only)} from the log alone (their files are gone or "
                "hold another certificate now)"
            )
        return text


def bring_up_to_date(
    folder: Folder, ca_cert: ParsedCertificate, digest: str, now: datetime | None = None
) -> Upgraded | None:
    """
    Under the folder's lock: make the index if there is none, then mark expired entries.

    Returns what making the index did, or None when the folder had one.

    Raises:
        InvalidInputError: the log or the index is damaged (the folder is left as it was).
        WriteFailedError: the records could not be written (the folder is left as it was).
    """
    made = None if folder.index.exists() else _make_records(folder, ca_cert, digest)
    if not folder.crl_number.exists():
        _number_after_last_crl(folder)
    entries = read_index(folder)
    marked = index.expired(entries, now or datetime.now(timezone.utc))
    if marked != entries:
        try:
            files.replace_text(folder.index, index.render(marked))
        except OSError as exc:
            raise WriteFailedError(
                f"cannot mark expired certificates in {folder.index}: {exc.strerror or exc}"
            ) from None
    return made


def mark_revoked(folder: Folder, serial: str, reason: str | None, now: datetime) -> None:
    """
    Under the folder's lock: mark one index entry revoked, as ``openssl ca -revoke``
    writes it (``YYMMDDHHMMSSZ[,reason]``, the only date form ``-gencrl`` takes on every
    build). For a certificate whose file is gone (known from ``issued.log`` alone):
    ``openssl ca -revoke`` needs the certificate, ``-gencrl`` only the index.

    Raises:
        InvalidInputError: the index no longer lists the serial as not revoked.
        WriteFailedError: the index could not be written (it is as it was).
    """
    entries = read_index(folder)
    number = int(serial, 16)
    found = index.find(entries, number)
    if found is None or found.status == "R":
        raise InvalidInputError(f"{folder.index} no longer lists {serial} as not revoked")
    when = now.astimezone(timezone.utc).strftime("%y%m%d%H%M%SZ")
    marked = index.Entry(
        status="R",
        expires=found.expires,
        revoked=f"{when},{reason}" if reason else when,
        serial=found.serial,
        subject=found.subject,
    )
    try:
        files.replace_text(
            folder.index, index.render(marked if entry is found else entry for entry in entries)
        )
    except OSError as exc:
        raise WriteFailedError(f"cannot write {folder.index}: {exc.strerror or exc}") from None


def _number_after_last_crl(folder: Folder) -> None:
    """A lost crlnumber file made again: past the last CRL's number (CRL numbers only grow)."""
    last = read_crl(folder.crl).number if folder.crl.is_file() else None
    try:
        files.replace_text(folder.crl_number, index.serial_text((last or 0) + 1) + "\n")
    except OSError as exc:
        raise WriteFailedError(f"cannot write {folder.crl_number}: {exc.strerror or exc}") from None


def _make_records(folder: Folder, ca_cert: ParsedCertificate, digest: str) -> Upgraded:
    entries: list[index.Entry] = []
    copies: dict[str, str] = {}
    from_log: list[str] = []
    for number, logged in _log_lines(folder):
        entry, pem = _entry(folder, number, logged, ca_cert)
        if index.find(entries, int(entry.serial, 16)) is not None:
            continue  # listed once: openssl refuses an index that lists a serial twice
        entries.append(entry)
        if pem is None:
            from_log.append(entry.serial)
        else:
            copies[entry.serial] = pem
    text = folder.config.read_text(encoding="utf-8")
    if not config.has_ca_part(text):
        text += "\n" + config.ca_part(".", digest)
    outputs = [
        files.Output(folder.certs, field="dir", folder=True),
        files.Output(folder.index_attr, field="dir"),
        files.Output(folder.crl_number, field="dir"),
        files.Output(folder.config, field="dir"),
        files.Output(folder.index, field="dir"),
    ]
    kept: list[tuple[Path, Path]] = []
    try:
        with files.staged(outputs, kept) as (certs, attr, number_file, cnf, made_index):
            certs.mkdir(mode=0o700)
            for serial, pem in copies.items():
                files.write_staged(certs / f"{serial}.pem", pem.encode("ascii"))
            files.write_staged(attr, INDEX_ATTR.encode("ascii"))
            files.write_staged(number_file, f"{FIRST_CRL_NUMBER}\n".encode("ascii"))
            files.write_staged(cnf, text.encode("utf-8"))
            files.write_staged(made_index, index.render(entries).encode("ascii"))
    except FlowSSLError as exc:
        raise WriteFailedError(
            f"{folder.path}: could not make its index ({exc.message}); the folder is as it was"
        ) from None
    for _, backup in kept:
        backup.unlink(missing_ok=True)  # the old ca.cnf: the new one begins with all of it
    return Upgraded(len(entries), len(copies), tuple(from_log))


def _log_lines(folder: Folder) -> list[tuple[int, dict[str, Any]]]:
    """The log's entries with their line numbers (none without a log)."""
    text = read_state(folder.log, "utf-8")
    if text is None:
        return []
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            logged = json.loads(line)
        except json.JSONDecodeError:
            logged = None
        except RecursionError:
            raise _damaged(folder, number, "nested too deeply to read") from None
        if not isinstance(logged, dict):
            raise _damaged(folder, number, "not a JSON object")
        found.append((number, logged))
    return found


def _damaged(folder: Folder, number: int, what: str) -> InvalidInputError:
    return InvalidInputError(
        f"{folder.log} line {number} is {what}, so no index can be made from it; "
        "the folder was left as it was",
        hint="correct that line (or restore the log from a backup), then run again",
    )


def _entry(
    folder: Folder, number: int, logged: dict[str, Any], ca_cert: ParsedCertificate
) -> tuple[index.Entry, str | None]:
    """One log line's index entry, and the certificate's PEM where its file still holds it."""
    try:
        serial = int(str(logged["serial"]), 16)
    except (KeyError, ValueError):
        raise _damaged(folder, number, "without a hex serial") from None
    cert = _certificate(logged.get("file"), serial, ca_cert)
    if cert is not None and cert.not_after is not None:
        subject = index.oneline(cert.subject)
        entry = index.Entry("V", cert.not_after, "", index.serial_text(serial), subject)
        return entry, to_pem(cert.der, "CERTIFICATE")
    try:
        expires = datetime.strptime(str(logged["not_after"]), "%Y-%m-%dT%H:%M:%S%z")
    except (KeyError, ValueError):
        raise _damaged(folder, number, "without its expiry, and its certificate is gone") from None
    subject = "".join(f"/{part}" for part in _LOG_SUBJECT.split(str(logged.get("subject", ""))))
    entry = index.Entry("V", expires, "", index.serial_text(serial), subject)
    return entry, None


def _certificate(file: object, serial: int, ca_cert: ParsedCertificate) -> ParsedCertificate | None:
    """The certificate a log line names, if its file still holds it (this CA's, this serial)."""
    if not isinstance(file, str) or not Path(file).is_file():
        return None
    try:
        cert = reader.read_file(Path(file))[0]
    except FlowSSLError:
        return None
    if cert.kind != "certificate" or int(cert.serial or "0", 16) != serial:
        return None
    return cert if ca_cert.issued(cert) else None
