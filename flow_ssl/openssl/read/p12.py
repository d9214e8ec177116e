"""
Opening a PKCS#12 (.pfx/.p12) with openssl: its certificates for every reader, its key
for check and bundle.

The passphrase reaches openssl only as a pass source (``-passin env:VAR`` or
``file:PATH``), never argv; the empty passphrase is tried first (CA portals and
Windows exports often use none). OpenSSL 3 decrypts RC2-40, the PKCS#12 default of
1.1.1, LibreSSL and older Windows, only with its legacy provider: where the binary
has ``pkcs12 -legacy`` it is asked again with it. The file goes to openssl on
stdin and the key comes back on a pipe, so the decrypted key is never written.
What openssl printed is held against what ``-info`` says it found: a friendly
name is printed raw and could imitate a certificate or a key. A certificate counts
only where openssl prints one, after its ``subject=`` and ``issuer=`` lines, and
every certificate bag must have given one: a bag of another type (an SDSI
certificate) prints its attributes and nothing else. A name imitating all of it
(subject=, issuer= and a PEM block) is caught where ``openssl storeutl`` opens
PKCS#12 (OpenSSL 3.0 and later): its own reader lists the X.509 certificates and
no name, from the file's path, with the same pass source and provider; the two
must find the same certificates. Known hole: 1.1.1 (its storeutl prompts) and
LibreSSL (none) have no such reader, so there pkcs12's output alone decides (a
strict xfail in tests/test_formats_p12_store.py).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NoReturn

from flow_ssl.core.errors import (
    InvalidInputError,
    OpenSSLFailedError,
    OpenSSLNotFoundError,
    OpenSSLTooOldError,
)
from flow_ssl.openssl import features, runner
from flow_ssl.openssl.commands import pkcs12 as commands
from flow_ssl.openssl.pass_source import crlf_hint, non_ascii
from flow_ssl.openssl.read import kdf, pem
from flow_ssl.openssl.script.steps import Note

# The empty passphrase: no secret, so it may be a literal source.
EMPTY = "pass:"
_CERT_BAGS = re.compile(r"Certificate bag")
_KEY_BAGS = re.compile(r"Shrouded Keybag|Key bag")

# The lines openssl prints before each certificate it read (dump_cert_text, every version).
_SUBJECT, _ISSUER = b"subject=", b"issuer="

Failure = Literal["passphrase", "legacy", "pbmac1", "source", "other"]


@dataclass(frozen=True)
class Opened:
    """A PKCS#12 openssl opened: its certificates (DER, bag order) and how it was opened."""

    data: bytes = field(repr=False)
    source: str
    passin: str
    legacy: bool
    certificates: list[bytes]
    keys: int = 0  # the key bags openssl found
    crosschecked: bool = False  # storeutl found the same certificates

    @property
    def protected(self) -> bool:
        """Whether it needed a passphrase (the empty one did not open it)."""
        return self.passin != EMPTY


@dataclass(frozen=True)
class _Failed:
    kind: Failure
    reason: str


def _classify(output: str, binary: features.OpenSSL) -> Failure:
    """What openssl's complaint means (the same words on every version, measured)."""
    if "Mac verify error" in output:
        unknown_mac = "PBMAC1" in output or "unknown digest algorithm" in output
        return "pbmac1" if unknown_mac and not binary.supports("pkcs12 PBMAC1") else "passphrase"
    if "Error getting passwords" in output:
        return "source"
    if ":unsupported:" in output or "unable to load provider legacy" in output:
        return "legacy"
    return "other"


def _attempt(
    data: bytes, passin: str, *, legacy: bool, keys: bool, binary: features.OpenSSL
) -> runner.Result | _Failed:
    command = commands.build_p12_read(passin=passin, legacy=legacy, keys=keys)
    try:
        return runner.run(command, stdin=data)
    except OpenSSLFailedError as exc:
        return _Failed(_classify(exc.output, binary), exc.reason)


def _run(
    data: bytes, passin: str, *, keys: bool, binary: features.OpenSSL
) -> tuple[runner.Result | _Failed, bool]:
    """One passphrase: as the file is, then with the legacy provider where that is the cure."""
    outcome = _attempt(data, passin, legacy=False, keys=keys, binary=binary)
    legacy = isinstance(outcome, _Failed) and outcome.kind == "legacy"
    if legacy and binary.supports("pkcs12 -legacy"):
        return _attempt(data, passin, legacy=True, keys=keys, binary=binary), True
    return outcome, False


def open_pkcs12(data: bytes, source: str, *, passin: str | None) -> Opened:
    """
    Open a PKCS#12 with the empty passphrase, then with ``passin``; read its certificates.

    Raises:
        InvalidInputError: a passphrase is needed or wrong (about the field ``pass``; the
            source is named, its value never), or the file is not a PKCS#12 openssl reads.
        OpenSSLTooOldError: this openssl cannot decrypt it (RC2-40 with no legacy
            provider, a PBMAC1 MAC before 3.4); says which openssl can.
    """
    kdf.refuse_costly(data, source)
    binary = runner.find_openssl()
    attempts = [EMPTY, *([passin] if passin and passin != EMPTY else [])]
    failed = _Failed("other", "")
    for attempt in attempts:
        outcome, legacy = _run(data, attempt, keys=False, binary=binary)
        if not isinstance(outcome, _Failed):
            found = _certificates(outcome, source)
            keys = len(_KEY_BAGS.findall(outcome.stderr))
            checked = _cross_check(data, found, outcome, source, passin=attempt, legacy=legacy)
            return Opened(data, source, attempt, legacy, found, keys, checked)
        failed = outcome
        if outcome.kind in {"legacy", "pbmac1", "source"}:
            break
    raise _refusal(failed, source, passin, binary)


def for_print(data: bytes, source: str, *, passin: str | None) -> Opened:
    """
    How a printed script opens a PKCS#12: with the pass source (the empty one first)
    and the provider that opened it here, so the script runs where flow-ssl would. With
    no openssl here (``--print`` needs none), ``passin`` as given, without -legacy.

    Raises:
        InvalidInputError: as ``open_pkcs12``: no passphrase opens it, or not a PKCS#12.
        OpenSSLTooOldError: this openssl cannot decrypt it (see ``open_pkcs12``).
    """
    try:
        return open_pkcs12(data, source, passin=passin)
    except OpenSSLNotFoundError:
        return Opened(data, source, passin or EMPTY, legacy=False, certificates=[])


def _refusal(
    failed: _Failed, source: str, passin: str | None, binary: features.OpenSSL
) -> InvalidInputError | OpenSSLTooOldError:
    if failed.kind == "legacy":
        cannot = "cannot load it" if binary.supports("pkcs12 -legacy") else "lacks it"
        return OpenSSLTooOldError(
            f"{source} is encrypted with RC2-40, the PKCS#12 default of OpenSSL 1.1.1, "
            f"LibreSSL and older Windows; {binary.name} decrypts it only with its legacy "
            f"provider, and {cannot}",
            hint=f"OpenSSL 1.1.1 and LibreSSL read it as it is, {features.OPENSSL_ENV} can "
            "point at one; or install OpenSSL 3's legacy provider",
        )
    if failed.kind == "pbmac1":
        return OpenSSLTooOldError(
            f"{source} is sealed with a PBMAC1 integrity check (OpenSSL 3.4 and later write "
            f"it with -pbmac1_pbkdf2), which {binary.name} cannot verify: every passphrase "
            "looks wrong to it",
            hint=f"OpenSSL 3.4 and later read it, {features.OPENSSL_ENV} can point at one",
        )
    if failed.kind == "source":
        return InvalidInputError(
            f"openssl could not read a passphrase from {passin}", field="pass", joiner=": "
        )
    if failed.kind == "passphrase" and binary.flavour == "LibreSSL" and non_ascii(passin):
        return binary.cannot(
            f"tell whether the non-ASCII passphrase in {passin} opens {source}: it takes each "
            "of its UTF-8 bytes as a character, where OpenSSL, Windows and Java (who make "
            "most such files) take the characters themselves, so the right passphrase fails "
            "its integrity check too"
        )
    if failed.kind == "passphrase" and passin in {None, EMPTY}:
        return InvalidInputError(
            f"is needed: {source} is a PKCS#12 file protected by a passphrase (give its "
            "source, env:VARIABLE or file:PATH)",
            field="pass",
        )
    if failed.kind == "passphrase":
        return InvalidInputError(
            f"{passin} does not open {source}: the passphrase is wrong, or {source} is damaged "
            f"(openssl: {failed.reason or 'its integrity check failed'})",
            field="pass",
            joiner=": ",
            hint=crlf_hint(passin),
        )
    reason = failed.reason or "it is damaged or not a PKCS#12"
    return InvalidInputError(f"{source}: openssl cannot read this PKCS#12: {reason}")


def _imitation(source: str) -> InvalidInputError:
    return InvalidInputError(
        f"{source}: openssl printed more than the PKCS#12 holds: a name inside it (a friendly "
        "name?) imitates a PEM block; flow-ssl does not read such a file"
    )


def _certificates(result: runner.Result, source: str) -> list[bytes]:
    """
    The certificates openssl printed: each after its subject= and issuer= lines, and
    exactly one for each certificate bag it said it found.
    """
    bags = len(_CERT_BAGS.findall(result.stderr))
    if bags == 0:
        raise InvalidInputError(f"{source} is a PKCS#12 with no certificate in it")
    if not _each_block_named(result.data):
        raise _imitation(source)
    items: list[pem.Item] = []
    if b"-----BEGIN" in result.data:  # none at all: every bag held another type
        try:
            framed = pem.frame(result.data, source)
        except InvalidInputError:
            raise _imitation(source) from None
        if framed.keys or any(item.kind != "certificate" for item in framed.items):
            raise _imitation(source)
        items = framed.items
    if len(items) > bags:
        raise _imitation(source)
    if len(items) < bags:
        raise InvalidInputError(
            f"{source}: {bags - len(items)} of its {bags} certificate bags hold no X.509 "
            "certificate (another type, which no server reads); flow-ssl does not read such a file"
        )
    return [item.der for item in items]


def store_notes(opened: Opened) -> list[Note]:
    """For a script: the ``storeutl`` flow-ssl also read ``opened`` with, where it did."""
    if not opened.crosschecked:
        return []
    listed = commands.build_p12_store_certificates(
        opened.source, passin=opened.passin, legacy=opened.legacy
    )
    return [Note(f"flow-ssl also runs {listed.render()}: it must list the same certificates")]


def _cross_check(
    data: bytes,
    found: list[bytes],
    result: runner.Result,
    source: str,
    *,
    passin: str,
    legacy: bool,
) -> bool:
    """
    Whether ``storeutl`` found the certificates pkcs12 printed (False: this openssl has
    no such reader). A friendly name cannot imitate one there: it prints none. storeutl
    reads a path only, so it gets a private copy of the very bytes pkcs12 read: a file
    replaced in between cannot make the two disagree.

    Raises:
        InvalidInputError: storeutl found other certificates, or cannot open the file.
    """
    if not runner.find_openssl().supports("storeutl-pkcs12"):
        return False
    with tempfile.TemporaryDirectory(prefix="flow-ssl-p12-") as folder:  # 0700
        copy = Path(folder) / "read.p12"
        with os.fdopen(os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            out.write(data)
        command = commands.build_p12_store_certificates(str(copy), passin=passin, legacy=legacy)
        try:
            listed = runner.run(command)
        except OpenSSLFailedError as exc:
            _unopened(exc.reason.replace(str(copy), source), result, source)
    if Counter(found) != Counter(_listed(listed.data, source)):
        raise _imitation(source)
    return True


def _unopened(reason: str, result: runner.Result, source: str) -> NoReturn:
    """storeutl could not open what pkcs12 did (a file without a MAC, most often)."""
    no_mac = "MAC is absent" in result.stderr  # -info's words, no value of the file
    raise InvalidInputError(
        f"{source}: openssl storeutl cannot open it ({reason or 'no reason given'}), so "
        "what openssl pkcs12 printed cannot be checked; flow-ssl does not read such a file",
        hint="it has no integrity MAC, so storeutl decrypts it with the empty passphrase "
        "only: export it again with a MAC"
        if no_mac
        else None,
    )


def _listed(printed: bytes, source: str) -> list[bytes]:
    """The certificates ``storeutl -certs`` printed: PEM blocks after ``N: Certificate`` lines."""
    if b"-----BEGIN" not in printed:
        return []
    try:
        framed = pem.frame(printed, source)
    except InvalidInputError:
        raise _imitation(source) from None
    if framed.keys or any(item.kind != "certificate" for item in framed.items):
        raise _imitation(source)
    return [item.der for item in framed.items]


def _each_block_named(printed: bytes) -> bool:
    """
    Whether each BEGIN line follows the subject= and issuer= lines openssl prints before
    a certificate it read (1.1.1 puts a blank line after each); a PEM block inside a name,
    printed raw, follows neither.
    """
    lines = printed.split(b"\n")
    for number, line in enumerate(lines):
        if b"-----BEGIN" not in line:
            continue
        before = [text for text in lines[max(0, number - 4) : number] if text.strip()]
        if len(before) < 2 or not (
            before[-2].startswith(_SUBJECT) and before[-1].startswith(_ISSUER)
        ):
            return False
    return True


def private_keys(opened: Opened) -> list[pem.KeyBlock]:
    """
    The keys inside, unencrypted, from openssl's stdout into memory (never a file).

    Raises:
        InvalidInputError: openssl printed more keys than the file holds (an imitation).
        OpenSSLFailedError: openssl failed where it had just opened the same file.
    """
    binary = runner.find_openssl()
    outcome = _attempt(opened.data, opened.passin, legacy=opened.legacy, keys=True, binary=binary)
    if isinstance(outcome, _Failed):
        raise InvalidInputError(f"{opened.source}: openssl cannot read its key: {outcome.reason}")
    keys = pem.private_keys(outcome.data)
    if len(keys) != len(_KEY_BAGS.findall(outcome.stderr)):
        raise _imitation(opened.source)
    return keys
