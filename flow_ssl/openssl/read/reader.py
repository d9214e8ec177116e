"""
Read certificates and CSRs from files: framed here, read from their DER, no openssl.

Every form a CA sends is read the same way: PEM (junk and keys between blocks),
DER, PKCS#7 (.p7b/.p7c, PEM or DER, BER too) and PKCS#12 (.pfx/.p12, opened by
``p12``). The file is framed once (``pem``) and every field of every certificate
and CSR is read from those same DER bytes (``x509``), in time linear in the file,
so the names, key and fingerprint of one report cannot disagree. openssl's own
text is kept for ``inspect --raw`` and for the command shown to the operator.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flow_ssl import files
from flow_ssl.core.errors import InvalidInputError, OpenSSLFailedError
from flow_ssl.openssl import runner
from flow_ssl.openssl.commands import pkcs12 as p12_commands
from flow_ssl.openssl.commands import read as commands
from flow_ssl.openssl.read import containers, p12, pem, x509
from flow_ssl.openssl.read.asn1 import ASN1Error
from flow_ssl.openssl.read.pem import Form, Framed, Item, KeyBlock, Kind
from flow_ssl.openssl.script.steps import Note

if TYPE_CHECKING:
    from pathlib import Path

    from flow_ssl.core.models import ParsedCertificate
    from flow_ssl.openssl.commands.base import Command

# A passphrase-protected key: PKCS#8 "ENCRYPTED PRIVATE KEY", or a legacy PEM header.
_ENCRYPTED_KEY = re.compile(r"ENCRYPTED PRIVATE KEY|Proc-Type: 4,ENCRYPTED")
# inspect --raw prints each CSR with its own openssl process: a file of more is no CSR a CA sent.
MAX_RAW_REQUESTS = 8


@dataclass(frozen=True)
class Loaded:
    """
    One file read: its certificates and CSRs (file order), how it holds them, the
    private keys beside them (PEM) and, for a PKCS#12, how openssl opened it.
    """

    path: Path
    form: Form
    items: list[Item]
    keys: list[KeyBlock] = field(default_factory=list)
    opened: p12.Opened | None = None

    @property
    def ordered(self) -> bool:
        """Whether the file order means something (PKCS#7 and PKCS#12 hold sets)."""
        return self.form in {"pem", "der"}


def frame_file(path: Path) -> Framed:
    """
    What a file holds, without opening a PKCS#12 (no passphrase needed).

    Raises:
        InvalidInputError: unreadable, not a regular file, or holding nothing flow-ssl reads.
    """
    return pem.frame(files.read_input(path), str(path))


def split_file(path: Path) -> tuple[list[Item], bool]:
    """
    Find the certificates and CSRs in a file; returns them and whether openssl reads the
    file itself as flow-ssl does (PEM, with no byte-order mark before a block).

    Raises:
        InvalidInputError: unreadable, not a regular file, or holding neither.
    """
    framed = frame_file(path)
    return framed.items, framed.form == "pem" and not framed.byte_order_mark


def load(path: Path, *, passin: str | None = None) -> Loaded:
    """
    Frame a file, opening a PKCS#12 with the empty passphrase, then ``passin``.

    ``passin`` is a pass source (``env:VAR`` or ``file:PATH``) its caller has checked
    (``inputs.check_pass_source``); only a PKCS#12 uses it.

    Raises:
        InvalidInputError: unreadable, holding nothing flow-ssl reads, or a PKCS#12
            passphrase missing or wrong (about the field ``pass``).
        OpenSSLTooOldError: this openssl cannot decrypt the PKCS#12 (says which can).
    """
    framed = frame_file(path)
    if framed.pkcs12 is None:
        return Loaded(path, framed.form, framed.items, framed.keys)
    opened = p12.open_pkcs12(framed.pkcs12, str(path), passin=passin)
    items = [Item("certificate", certificate) for certificate in opened.certificates]
    return Loaded(path, "pkcs12", items, opened=opened)


def is_encrypted_key(pem_text: str) -> bool:
    """Whether a PEM private key needs a passphrase."""
    return _ENCRYPTED_KEY.search(pem_text) is not None


def to_pem(der_bytes: bytes) -> str:
    """A certificate's DER as a PEM block (64-character lines, as openssl writes)."""
    return pem.to_pem(der_bytes)


def fingerprint(der_bytes: bytes) -> str:
    """SHA-256 of the DER, as openssl prints it (upper-case hex, colon separated)."""
    return hashlib.sha256(der_bytes).digest().hex(":").upper()


def show_steps(
    path: Path, framed: Framed, *, passin: str | None = None, opened: p12.Opened | None = None
) -> list[Command | Note]:
    """
    The one openssl command that shows what a file of this form holds.

    A PKCS#12 is shown with the pass source and provider that open it: ``opened``, else
    it is opened here (``p12.for_print``: openssl runs, reading only); then a note naming
    the ``storeutl`` flow-ssl also checks it with, where it does.
    """
    if framed.pkcs12 is not None:
        opened = opened or p12.for_print(framed.pkcs12, str(path), passin=passin)
        show = p12_commands.build_p12_show(str(path), passin=opened.passin, legacy=opened.legacy)
        return [show, *p12.store_notes(opened)]
    if framed.form == "pkcs7":
        return [commands.build_pkcs7_text(str(path), der=not framed.armored)]
    return [commands.build_readback(str(path), framed.items[0].kind, der=framed.form == "der")]


def read_file(path: Path, *, passin: str | None = None) -> list[ParsedCertificate]:
    """
    Read every certificate or CSR in ``path``, in file order, whatever its form.

    ``passin`` opens a PKCS#12 the empty passphrase does not (see ``load``).

    Raises:
        InvalidInputError: not a certificate file, a malformed item, or a PKCS#12
            passphrase is missing or wrong (about the field ``pass``).
        OpenSSLTooOldError: this openssl cannot decrypt the PKCS#12.
    """
    return read_loaded(load(path, passin=passin))


def read_loaded(loaded: Loaded) -> list[ParsedCertificate]:
    """Read the certificates and CSRs of a file already loaded."""
    return read_items(loaded.items, str(loaded.path))


def read_items(items: list[Item], source: str) -> list[ParsedCertificate]:
    """
    Read framed items, each from its DER.

    Raises:
        InvalidInputError: a malformed item, naming the file and the item.
    """
    return [_read(item, source, index) for index, item in enumerate(items)]


def _read(item: Item, source: str, index: int) -> ParsedCertificate:
    read = x509.read_certificate if item.kind == "certificate" else x509.read_request
    try:
        parsed = read(item.der, source=source, index=index)
    except ASN1Error as exc:
        raise InvalidInputError(
            f"{source}: {_which(item.kind, index)} is not a valid {_noun(item.kind)} ({exc})"
        ) from None
    parsed.der = item.der
    parsed.sha256_fingerprint = fingerprint(item.der)  # a CSR's too: to compare copies
    return parsed


def _run(command: Command, stdin: bytes, source: str, certificates: int) -> str:
    """Run a printing command on DER from stdin; ``certificates``: how many it holds (0: a CSR)."""
    try:
        return runner.run(command, stdin=stdin).stdout
    except OpenSSLFailedError as exc:
        what = (
            "a certificate request"
            if certificates == 0
            else "this certificate"
            if certificates == 1
            else f"one of its {certificates} certificates"
        )
        raise InvalidInputError(
            f"{source}: openssl cannot read {what}: {exc.message.split(': ', 1)[-1]}"
        ) from None


def raw_text(path: Path, *, passin: str | None = None) -> str:
    """openssl's own ``-noout -text`` for every item in the file, unchanged, in file order."""
    items = load(path, passin=passin).items
    source = str(path)
    count = sum(item.kind == "csr" for item in items)
    if count > MAX_RAW_REQUESTS:
        raise InvalidInputError(
            f"{source} holds {count} certificate requests; openssl prints one at a time, and "
            f"flow-ssl shows at most {MAX_RAW_REQUESTS} from one file that way"
        )
    if len(items) > 1 and all(item.kind == "certificate" for item in items):
        ders = [item.der for item in items]
        command = commands.build_print_certificates()
        return _run(command, containers.pkcs7_of(ders), source, len(ders))
    return "".join(
        _run(commands.build_x509_text_stdin(), item.der, source, 1)
        if item.kind == "certificate"
        else _run(commands.build_req_text_stdin(), item.der, source, 0)
        for item in items
    )


def _which(kind: Kind, index: int) -> str:
    return f"item {index + 1} ({_noun(kind)})"


def _noun(kind: Kind) -> str:
    return "certificate request" if kind == "csr" else "certificate"


__all__ = [
    "Item",
    "Loaded",
    "fingerprint",
    "frame_file",
    "is_encrypted_key",
    "load",
    "raw_text",
    "read_file",
    "read_items",
    "read_loaded",
    "show_steps",
    "split_file",
    "to_pem",
]
