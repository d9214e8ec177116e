"""
Operator input -> validated requests: flags, a --subject-file, or a batch manifest entry.

One place turns fields into a CertRequest, so a manifest entry is validated
exactly like the same values given as flags. Errors name the field the way
the operator wrote it: ``--org`` on the command line, ``org`` in a file.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from flow_ssl.errors import InvalidInputError
from flow_ssl.models import DEFAULT_DAYS, KEY_NAMES, CertRequest, KeySpec, Subject

if TYPE_CHECKING:
    from pathlib import Path

Style = Literal["flag", "field"]

# Model field -> how the operator names it on the command line and in a TOML file.
FLAGS = {
    "country": "--country",
    "state": "--state",
    "locality": "--locality",
    "organization": "--org",
    "organizational_unit": "--ou",
    "common_name": "--cn",
    "email": "--email",
    "names": "--san",
}
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


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """
    A TOML file as a dict.

    Raises:
        InvalidInputError: missing, unreadable, or not TOML (with openssl-free detail).
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{what} {path} is a folder, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{what} {path} cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"{what} {path} is not valid TOML: {exc}") from None


def subject_fields(
    data: dict[str, Any], where: str = "", *, also_known: tuple[str, ...] = ()
) -> dict[str, Any]:
    """
    The subject keys of a TOML table, as model fields (``san`` kept as a list).

    Raises:
        InvalidInputError: an unknown key (other than ``also_known``, which the
            caller takes) or a value of the wrong type, named after ``where``.
    """
    prefix = f"{where}: " if where else ""
    fields: dict[str, Any] = {}
    for key, value in data.items():
        if key in also_known:
            continue
        if key not in FILE_KEYS:
            short = {k for k in FILE_KEYS if "_" not in k} | set(also_known)
            raise InvalidInputError(
                f"{prefix}unknown field {key!r} (known: {', '.join(sorted(short))})"
            )
        if key == "san":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InvalidInputError(f"{prefix}san must be a list of names")
        elif not isinstance(value, str):
            raise InvalidInputError(f"{prefix}{key} must be a string")
        fields[FILE_KEYS[key]] = value
    return fields


def validation_message(exc: ValidationError, style: Style = "flag") -> str:
    """The first problem, named as the operator wrote it."""
    error = exc.errors()[0]
    field_name = str(error["loc"][-1]) if error["loc"] else ""
    if field_name.isdigit() and len(error["loc"]) > 1:
        field_name = str(error["loc"][-2])  # an item of a list, like names.2
    names = FLAGS if style == "flag" else FIELDS
    default = f"--{field_name.replace('_', '-')}" if style == "flag" else field_name
    label = names.get(field_name, default)
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] in {"greater_than_equal", "less_than_equal", "int_parsing", "int_type"}:
        message = f"{error['input']!r}: {message.lower()}"
    return f"{label}: {message}"


def build_request(
    fields: dict[str, Any],
    *,
    days: int | None,
    key: str | None,
    literal: bool = False,
    style: Style = "flag",
) -> CertRequest:
    """
    Subject fields (model names, ``san`` as a list) -> a validated request.

    Raises:
        InvalidInputError: a missing CN, an unknown key type, or any invalid value.
    """
    fields = dict(fields)
    names = list(fields.pop("san", []))
    cn_label, san_label, key_label = (
        ("--cn", "--san", "--key") if style == "flag" else ("cn", "san", "key")
    )
    if "common_name" not in fields:
        raise InvalidInputError(
            f"{cn_label} is required: the server's DNS name (like flow.mycompany.com)"
        )
    if key is not None and key not in KEY_NAMES:
        raise InvalidInputError(
            f"{key_label} {key!r} is not offered; choose one of {', '.join(KEY_NAMES)}"
        )
    if literal and names:
        raise InvalidInputError(
            f"--literal makes a certificate without SAN; it cannot take {san_label}"
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
        raise InvalidInputError(validation_message(exc, style)) from None
