"""
Read certificates and CSRs from files: framed here, printed by openssl, parsed.

Every form a CA sends is read the same way: PEM (junk and keys between blocks),
DER, PKCS#7 (.p7b/.p7c, PEM or DER) and PKCS#12 (.pfx/.p12, opened by ``p12``).
The file is framed once (``pem``); openssl is then given exactly those DER
bytes on stdin, never the file, so the names, key and fingerprint of one report
come from the same bytes. Every certificate of a file is printed by one
``openssl pkcs7 -print_certs -text`` process, on every supported version; a CSR
takes one ``openssl req`` each (a file holds a few at most). openssl's text
gives the head of each (version, serial, algorithms, validity, key); the names
and extensions, which openssl prints ambiguously, are read from the DER (``der``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flow_ssl.core.errors import InvalidInputError, OpenSSLFailedError, ParseError
from flow_ssl.openssl import runner
from flow_ssl.openssl.commands import pkcs12 as p12_commands
from flow_ssl.openssl.commands import read as commands
from flow_ssl.openssl.read import der, oids, p12, parse, pem
from flow_ssl.openssl.read.pem import Form, Framed, Item, KeyBlock, Kind
from flow_ssl.openssl.script.steps import Note

if TYPE_CHECKING:
    from pathlib import Path

    from flow_ssl.core.models import ParsedCertificate
    from flow_ssl.openssl.commands.base import Command

# A passphrase-protected key: PKCS#8 "ENCRYPTED PRIVATE KEY", or a legacy PEM header.
_ENCRYPTED_KEY = re.compile(r"ENCRYPTED PRIVATE KEY|Proc-Type: 4,ENCRYPTED")
# CSRs are read one process each; a file holding more is not a CSR a CA sent.
MAX_REQUESTS = 8


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
    return pem.frame(pem.read_input(path), str(path), to_der=_pkcs7_as_der)


def split_file(path: Path) -> tuple[list[Item], bool]:
    """
    Find the certificates and CSRs in a file; returns them and whether it was PEM.

    Raises:
        InvalidInputError: unreadable, not a regular file, or holding neither.
    """
    framed = frame_file(path)
    return framed.items, framed.form == "pem"


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


def _pkcs7_as_der(content: bytes) -> bytes:
    """A PKCS#7 in BER (indefinite lengths), re-encoded as DER by openssl."""
    try:
        return runner.run(commands.build_pkcs7_der(), stdin=content).data
    except OpenSSLFailedError as exc:
        raise der.DERError(f"openssl cannot read it either: {exc.reason}") from None


def is_encrypted_key(pem_text: str) -> bool:
    """Whether a PEM private key needs a passphrase."""
    return _ENCRYPTED_KEY.search(pem_text) is not None


def to_pem(der_bytes: bytes) -> str:
    """A certificate's DER as a PEM block (64-character lines, as openssl writes)."""
    return pem.to_pem(der_bytes)


def fingerprint(der_bytes: bytes) -> str:
    """SHA-256 of the DER, as openssl prints it (upper-case hex, colon separated)."""
    return hashlib.sha256(der_bytes).digest().hex(":").upper()


def display_command(path: Path, kind: Kind, *, der: bool) -> Command:
    """The command the vendor page tells operators to run for this file."""
    if kind == "csr":
        return commands.build_req_text(str(path), der=der)
    return commands.build_x509_text(str(path), der=der)


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
    return [display_command(path, framed.items[0].kind, der=framed.form == "der")]


def read_file(path: Path, *, passin: str | None = None) -> list[ParsedCertificate]:
    """
    Parse every certificate or CSR in ``path``, in file order, whatever its form.

    ``passin`` opens a PKCS#12 the empty passphrase does not (see ``load``).

    Raises:
        InvalidInputError: not a certificate file, openssl refuses its content, or a
            PKCS#12 passphrase is missing or wrong (about the field ``pass``).
        OpenSSLTooOldError: this openssl cannot decrypt the PKCS#12.
        ParseError: openssl printed something other than what it was given.
    """
    return read_loaded(load(path, passin=passin))


def read_loaded(loaded: Loaded) -> list[ParsedCertificate]:
    """Parse the certificates and CSRs of a file already loaded."""
    return read_items(loaded.items, str(loaded.path))


def read_items(items: list[Item], source: str) -> list[ParsedCertificate]:
    """
    Parse framed items: one openssl process for all certificates, one per CSR.

    Raises:
        InvalidInputError: a malformed item, or openssl refuses one.
        ParseError: openssl printed something other than what it was given.
    """
    _check_requests(items, source)
    exact = [_exact(item, source, index) for index, item in enumerate(items)]
    ders = [item.der for item in items if item.kind == "certificate"]
    printed = (
        _run(commands.build_print_certificates(), der.pkcs7_of(ders), source, len(ders))
        if ders
        else ""
    )
    requests = [
        _run(commands.build_req_text_stdin(), item.der, source, 0)
        for item in items
        if item.kind == "csr"
    ]
    return parse_printed(items, printed, requests, source, exact=exact)


def parse_printed(
    items: list[Item],
    printed: str,
    requests: list[str],
    source: str,
    *,
    exact: list[der.Exact] | None = None,
) -> list[ParsedCertificate]:
    """
    What openssl printed for framed items -> one ParsedCertificate each, in file order.

    Args:
        items: the framed certificates and CSRs.
        printed: ``pkcs7 -print_certs -text`` output for the certificates, in order.
        requests: ``req -noout -text`` output for each CSR, in order.
        source: the file they came from.
        exact: the items' DER fields, if already read.

    Raises:
        InvalidInputError: a malformed item.
        ParseError: openssl printed something other than what it was given.
    """
    if exact is None:
        exact = [_exact(item, source, index) for index, item in enumerate(items)]
    ders = [item.der for item in items if item.kind == "certificate"]
    segments = iter(split_printed(printed, ders, source))
    texts = iter(requests)
    return [
        _parsed(
            item,
            next(segments) if item.kind == "certificate" else next(texts),
            fields,
            source,
            index,
        )
        for index, (item, fields) in enumerate(zip(items, exact, strict=True))
    ]


def _check_requests(items: list[Item], source: str) -> None:
    count = sum(item.kind == "csr" for item in items)
    if count > MAX_REQUESTS:
        raise InvalidInputError(
            f"{source} holds {count} certificate requests; flow-ssl reads at most "
            f"{MAX_REQUESTS} from one file"
        )


def _exact(item: Item, source: str, index: int) -> der.Exact:
    try:
        return der.certificate(item.der) if item.kind == "certificate" else der.request(item.der)
    except der.DERError as exc:
        raise InvalidInputError(
            f"{source}: {_which(item.kind, index)} is not a valid {_noun(item.kind)} ({exc})"
        ) from None


def _run(command: Command, stdin: bytes, source: str, certificates: int) -> str:
    """Run a reading command on DER from stdin; ``certificates``: how many it holds (0: a CSR)."""
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


def split_printed(printed: str, ders: list[bytes], source: str) -> list[str]:
    """
    Cut ``pkcs7 -print_certs -text`` output into each certificate's text.

    Each text is followed by that certificate's PEM, searched for in order: no
    value inside a certificate can hold the certificate's own encoding, so a
    value that imitates openssl's lines cannot move a boundary.

    Raises:
        ParseError: openssl did not print every certificate it was given.
    """
    segments = []
    position = 0
    for number, der_bytes in enumerate(ders):
        at = printed.find(pem.to_pem(der_bytes), position)
        if at < 0:
            raise ParseError(
                f"{source}: openssl printed {number} of the {len(ders)} certificates it was given"
            )
        segments.append(printed[position:at])
        position = at + len(pem.to_pem(der_bytes))
    return segments


def _parsed(item: Item, text: str, exact: der.Exact, source: str, index: int) -> ParsedCertificate:
    try:
        parsed = parse.parse_text(
            text,
            kind=item.kind,
            source=source,
            index=index,
            names=(exact.issuer, exact.subject),
            extensions=False,
        )
    except InvalidInputError as exc:
        raise InvalidInputError(f"{source}: {_which(item.kind, index)}: {exc.message}") from None
    if exact.serial is not None and _serial_number(parsed.serial or "") != exact.serial:
        raise ParseError(
            f"{source}: openssl printed serial {parsed.serial} for {_which(item.kind, index)}, "
            f"whose serial is {exact.serial:x}"
        )
    try:
        _apply_exact(parsed, exact)
    except der.DERError as exc:
        raise InvalidInputError(
            f"{source}: {_which(item.kind, index)} has a malformed extension ({exc})"
        ) from None
    parsed.der = item.der
    parsed.sha256_fingerprint = fingerprint(item.der)  # a CSR's too: to compare copies
    return parsed


def _apply_exact(parsed: ParsedCertificate, exact: der.Exact) -> None:
    """Names, extensions and CSR attributes, from the DER (the text's may be ambiguous)."""
    from flow_ssl.core.models import SubjectAltNames

    san = der.find(exact, oids.SUBJECT_ALT_NAME)
    parsed.subject_alt_names = der.subject_alt_names(san.value) if san else SubjectAltNames()
    constraints = der.find(exact, oids.BASIC_CONSTRAINTS)
    parsed.basic_constraints = (
        der.basic_constraints(constraints.value, critical=constraints.critical)
        if constraints
        else None
    )
    limits = der.find(exact, oids.NAME_CONSTRAINTS)
    parsed.name_constraints = (
        der.name_constraints(limits.value, critical=limits.critical) if limits else None
    )
    usage = der.find(exact, oids.KEY_USAGE)
    parsed.key_usage = der.key_usage(usage.value) if usage else []
    extended = der.find(exact, oids.EXTENDED_KEY_USAGE)
    parsed.extended_key_usage = der.extended_key_usage(extended.value) if extended else []
    ski = der.find(exact, oids.SUBJECT_KEY_ID)
    parsed.subject_key_id = der.key_identifier(ski.value) if ski else None
    aki = der.find(exact, oids.AUTHORITY_KEY_ID)
    parsed.authority_key_id = der.authority_key_identifier(aki.value) if aki else None
    if parsed.kind == "csr":
        parsed.attributes = exact.attributes
    parse.mark_self_signed(parsed)


def _serial_number(text: str) -> int:
    negative = text.startswith("-")
    try:
        value = int(text.removeprefix("-"), 16)
    except ValueError:
        return -1
    return -value if negative else value


def raw_text(path: Path, *, passin: str | None = None) -> str:
    """openssl's own ``-noout -text`` for every item in the file, unchanged, in file order."""
    items = load(path, passin=passin).items
    source = str(path)
    _check_requests(items, source)
    if len(items) > 1 and all(item.kind == "certificate" for item in items):
        ders = [item.der for item in items]
        command = commands.build_print_certificates(text_only=True)
        return _run(command, der.pkcs7_of(ders), source, len(ders))
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
    "display_command",
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
