"""
Operator input -> validated requests: flags, a subject file, or a batch manifest entry.

One place turns fields into a CertRequest, so a manifest entry is validated
exactly like the same values given as flags. Errors carry the model field
they concern; the CLI names it as a flag, a manifest as its TOML key (FIELDS).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from flow_ssl.core.errors import InvalidInputError
from flow_ssl.core.models import DEFAULT_DAYS, KEY_NAMES, CertRequest, KeySpec, Subject
from flow_ssl.openssl.read.pem import read_input

# Model field -> how a TOML file (subject file, manifest) names it.
FIELDS = {
    "country": "country",
    "state": "state",
    "locality": "locality",
    "organization": "org",
    "organizational_unit": "ou",
    "common_name": "cn",
    "email": "email",
    "names": "san",
}
# TOML key -> model field (short and long spellings).
FILE_KEYS = {
    "country": "country",
    "state": "state",
    "locality": "locality",
    "org": "organization",
    "organization": "organization",
    "ou": "organizational_unit",
    "organizational_unit": "organizational_unit",
    "cn": "common_name",
    "common_name": "common_name",
    "email": "email",
    "san": "san",
}


def read_toml(path: Path, field: str) -> dict[str, Any]:
    """
    A TOML file as a dict.

    Raises:
        InvalidInputError: missing, unreadable, or not TOML, about ``field``.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        return tomllib.loads(read_input(path, "a TOML file").decode("utf-8"))
    except InvalidInputError as exc:
        raise InvalidInputError(exc.message, field=field) from None
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path} is not UTF-8 text: {exc}", field=field) from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"{path} is not valid TOML: {exc}", field=field) from None


def subject_fields(
    data: dict[str, Any],
    where: str = "",
    *,
    also_known: tuple[str, ...] = (),
    field: str | None = None,
) -> dict[str, Any]:
    """
    The subject keys of a TOML table, as model fields (``san`` kept as a list).

    Raises:
        InvalidInputError: an unknown key (other than ``also_known``, which the
            caller takes) or a value of the wrong type, after ``where``, about ``field``.
    """
    prefix = f"{where}: " if where else ""
    fields: dict[str, Any] = {}
    for key, value in data.items():
        if key in also_known:
            continue
        if key not in FILE_KEYS:
            short = {k for k in FILE_KEYS if "_" not in k} | set(also_known)
            raise InvalidInputError(
                f"{prefix}unknown field {key!r} (known: {', '.join(sorted(short))})", field=field
            )
        if key == "san":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InvalidInputError(f"{prefix}san must be a list of names", field=field)
        elif not isinstance(value, str):
            raise InvalidInputError(f"{prefix}{key} must be a string", field=field)
        fields[FILE_KEYS[key]] = value
    return fields


def validation_error(exc: ValidationError) -> InvalidInputError:
    """The first problem pydantic found, about the model field it concerns."""
    error = exc.errors()[0]
    location = [str(part) for part in error["loc"]]
    while location and location[-1].isdigit():
        location.pop()  # an item of a list, like names.2: the field is names
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] in {"greater_than_equal", "less_than_equal", "int_parsing", "int_type"}:
        message = f"{error['input']!r}: {message.lower()}"
    return InvalidInputError(message, field=location[-1] if location else None, joiner=": ")


def build_request(
    fields: dict[str, Any],
    *,
    days: int | None,
    key: str | None,
    literal: bool = False,
) -> CertRequest:
    """
    Subject fields (model names, ``san`` as a list) -> a validated request.

    Raises:
        InvalidInputError: a missing CN, an unknown key type, or any invalid value.
    """
    fields = dict(fields)
    names = list(fields.pop("san", []))
    if "common_name" not in fields:
        raise InvalidInputError(
            "is required: the server's DNS name (like flow.mycompany.com)", field="common_name"
        )
    check_key_name(key)
    if literal and names:
        raise InvalidInputError(
            "makes a certificate without the SAN extension; it cannot take extra names",
            field="literal",
        )
    try:
        return CertRequest(
            subject=Subject(**fields),
            names=tuple(names),
            key=KeySpec(name=key) if key else KeySpec(),
            days=days if days is not None else DEFAULT_DAYS,
            literal=literal,
        )
    except ValidationError as exc:
        raise validation_error(exc) from None


def check_key_name(key: str | None) -> None:
    """
    Refuse a key type flow-ssl does not offer.

    Raises:
        InvalidInputError: about the field ``key``, listing the offered types.
    """
    if key is not None and key not in KEY_NAMES:
        raise InvalidInputError(
            f"{key!r} is not offered; choose one of {', '.join(KEY_NAMES)}", field="key"
        )


# openssl's pass sources that keep the passphrase off the command line.
_PASS_SOURCE = re.compile(r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$")


def check_pass_source(source: str | None, field: str, *, new: bool = False) -> None:
    """
    Accept only openssl's ``env:VAR`` and ``file:PATH`` pass sources, never echoing one.

    ``pass:secret`` (or a bare passphrase) would put the passphrase on the
    command line, where every user of the machine can read it in the process
    list; a refused value is never repeated, since it may be the passphrase.
    A passphrase that protects something ``new`` may not be empty.

    Raises:
        InvalidInputError: about ``field``.
    """
    if source is None:
        return
    if not _PASS_SOURCE.match(source):
        raise InvalidInputError(
            "give env:VARIABLE or file:PATH, never the passphrase itself (a command "
            "line is visible to every user); the value given is not repeated here",
            field=field,
            joiner=": ",
        )
    kind, _, where = source.partition(":")
    if kind == "env" and where not in os.environ:
        raise InvalidInputError(
            f"the environment variable {where} is not set", field=field, joiner=": "
        )
    if kind == "file":
        _check_pass_file(Path(where), field)
    if new and not _first_line(kind, where):
        raise InvalidInputError(
            f"{source} holds an empty passphrase, which protects nothing; give a real one",
            field=field,
            joiner=": ",
        )


def _check_pass_file(path: Path, field: str) -> None:
    if not path.exists():
        raise InvalidInputError(f"file:{path}: no such file", field=field, joiner=": ")
    if not path.is_file():
        raise InvalidInputError(
            f"file:{path} is not a regular file (a folder or a device)", field=field, joiner=": "
        )


def _first_line(kind: str, where: str) -> str:
    """The passphrase as openssl reads it: the variable, or the file's first line."""
    if kind == "env":
        return os.environ.get(where, "")
    with Path(where).open("rb") as handle:  # bounded: a passphrase is one short line
        return handle.readline(4096).rstrip(b"\r\n").decode("utf-8", "replace")
