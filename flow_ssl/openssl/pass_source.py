"""What a pass source (``env:``, ``file:``, ``pass:``) holds that openssl reads differently."""

from __future__ import annotations

import os
from pathlib import Path


def crlf_hint(passin: str | None) -> str | None:
    """
    A hint where a ``file:`` source's first line ends in CR LF (saved on Windows):
    openssl keeps the CR as part of the passphrase on every version, so the right
    passphrase reads as a wrong one.
    """
    kind, _, where = (passin or "").partition(":")
    if kind != "file":
        return None
    try:
        with Path(where).open("rb") as handle:  # bounded: openssl reads one short line
            line = handle.readline(4096)
    except OSError:
        return None
    if not line.endswith(b"\r\n"):
        return None
    return (
        f"{passin}: the file ends in a Windows line ending (CR LF); openssl reads the CR as "
        "part of the passphrase: save it with a plain LF"
    )


def non_ascii(passin: str | None) -> bool:
    """
    Whether the passphrase an ``env:`` or ``file:`` source holds has a non-ASCII character
    (``Zürich``): LibreSSL takes it byte by byte where PKCS#12 wants UTF-16 (OpenSSL,
    Windows, Java), so its files and theirs do not open on each other's side. The value
    is read to decide, never shown.
    """
    kind, _, where = (passin or "").partition(":")
    if kind == "env":
        return not os.environb.get(os.fsencode(where), b"").isascii()
    if kind != "file":
        return False
    try:
        with Path(where).open("rb") as handle:  # bounded: openssl reads one short line
            return not handle.readline(4096).isascii()
    except OSError:
        return False
