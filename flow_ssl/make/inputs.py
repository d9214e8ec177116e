"""
Operator input -> validated requests: flags, a subject file, or a batch manifest entry.

One place turns fields into a CertRequest, so a manifest entry is validated
exactly like the same values given as flags, and every problem of one input is
named in one run. Errors carry the model field they concern; the CLI names it
as a flag, a manifest as its TOML key (FIELDS). A TOML table (a subject file, a
manifest's tables) is a model too: its keys and their types are checked there.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StrictStr, ValidationError

from flow_ssl.core.errors import InvalidInputError, all_of
from flow_ssl.core.keys import KEY_NAMES
from flow_ssl.core.models import DEFAULT_DAYS, CertRequest
from flow_ssl.files import read_input

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pydantic_core import ErrorDetails

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
_SUBJECT_FIELDS = (
    "country",
    "state",
    "locality",
    "organization",
    "organizational_unit",
    "common_name",
    "email",
)
_CN_REQUIRED = "is required: the server's DNS name (like flow.mycompany.com)"
# pydantic's numeric refusals, said after the value refused ("0: input should be ...").
_NUMERIC = frozenset({"greater_than_equal", "less_than_equal", "int_parsing", "int_type"})


# A manifest nests three deep ([[cert]], its san list); anything far deeper is no manifest.
_TOML_DEPTH = 16


def read_toml(path: Path, field: str) -> dict[str, Any]:
    """
    A TOML file as a dict.

    Raises:
        InvalidInputError: missing, unreadable, not TOML, or nested more than
            ``_TOML_DEPTH`` deep (Python's TOML reader recurses per array), about ``field``.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        text = read_input(path, "a TOML file").decode("utf-8")
        data = None if _dotted_deeper_than(text, _DOTTED_MAX) else tomllib.loads(text)
    except InvalidInputError as exc:
        raise InvalidInputError(exc.message, field=field) from None
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path} is not UTF-8 text: {exc}", field=field) from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"{path} is not valid TOML: {exc}", field=field) from None
    except ValueError:  # tomllib's own: an integer past Python's 4300-digit limit
        raise InvalidInputError(
            f"{path} holds a number thousands of digits long, which no setting takes",
            field=field,
        ) from None
    except RecursionError:  # tomllib recurses per array or inline table
        data = None
    if data is None or _deeper_than(data, _TOML_DEPTH):
        raise InvalidInputError(
            f"{path} is nested too deeply to read (more than {_TOML_DEPTH} tables or arrays "
            "within each other)",
            field=field,
        )
    return data


# Keys dotted deeper than this are refused before tomllib reads them: it builds dotted keys
# in time and memory that grow with the square of their depth (20,000 levels: 2.4 GB).
_DOTTED_MAX = 64
# What a line names: the key before its "=" (bare, dotted), or a [table] / [[array]] header.
_NAMED = re.compile(r"^[ \t]*(?:([A-Za-z0-9_-][^=\n]*)=|(\[[^\n]*))", re.MULTILINE)


def _dotted_deeper_than(text: str, limit: int) -> bool:
    """Whether a key or table header of some line holds more than ``limit`` dots."""
    return any((key or header).count(".") > limit for key, header in _NAMED.findall(text))


def _deeper_than(data: dict[str, Any], limit: int) -> bool:
    """
    Whether tables and arrays nest deeper than ``limit`` (dotted keys nest without
    recursion in tomllib, then any repr or validation of the value would recurse).
    """
    pending: list[tuple[object, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            if depth > limit:
                return True
            pending.extend((item, depth + 1) for item in value)
    return False


class SubjectTable(BaseModel):
    """The six subject fields besides the CN, as a TOML table gives them (strings, as typed)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    country: StrictStr | None = None
    state: StrictStr | None = None
    locality: StrictStr | None = None
    organization: StrictStr | None = Field(
        None, validation_alias=AliasChoices("org", "organization")
    )
    organizational_unit: StrictStr | None = Field(
        None, validation_alias=AliasChoices("ou", "organizational_unit")
    )
    email: StrictStr | None = None

    def fields(self) -> dict[str, Any]:
        """The keys the table gives, as request fields (``san`` a list of names)."""
        return self.model_dump(exclude_unset=True)


class SubjectFile(SubjectTable):
    """A ``--subject-file``: the subject fields, the CN and more names (``san``)."""

    common_name: StrictStr | None = Field(None, validation_alias=AliasChoices("cn", "common_name"))
    san: list[StrictStr] | None = None


Table = TypeVar("Table", bound=BaseModel)


def field_of(table: type[BaseModel], key: str) -> str | None:
    """The field a TOML key sets in ``table`` (``org`` -> ``organization``), if any."""
    for name, info in table.model_fields.items():
        alias = info.validation_alias
        if key == name or (isinstance(alias, AliasChoices) and key in alias.choices):
            return name
    return None


def _spellings(table: type[BaseModel], name: str) -> list[str]:
    """The TOML spellings of one field, the short one first."""
    alias = table.model_fields[name].validation_alias
    return [str(c) for c in alias.choices] if isinstance(alias, AliasChoices) else [name]


def key_problem(
    error: ErrorDetails,
    table: type[BaseModel],
    *,
    at: int = 0,
    secret: frozenset[str] = frozenset(),
    elsewhere: Mapping[str, str] | None = None,
) -> InvalidInputError:
    """
    One of pydantic's refusals of a key of a TOML ``table``, worded about that key.

    The key is ``error``'s location at ``at`` (a list's item may follow it).
    ``secret``: keys whose value is never repeated; ``elsewhere``: keys that belong
    in another table, with what to say.
    """
    key = str(error["loc"][at])
    value = error.get("input")
    kind = error["type"]
    if kind == "extra_forbidden":
        return _extra_key(key, table, elsewhere or {})
    shown = "" if key in secret else f", not {value!r}"
    in_list = len(error["loc"]) > at + 1  # an item of a list, like san's third name
    expected = error.get("ctx", {}).get("expected", "")
    message = {
        "string_type": ("each name must be a string" if in_list else "must be a string") + shown,
        "list_type": f"must be a list of names{shown}",
        "int_type": f"must be a whole number{shown}",
        "bool_type": f"must be true or false{shown}",
        "literal_error": f"{value!r}: choose {expected}",
    }.get(kind, str(error["msg"]))
    return InvalidInputError(message, field=key, joiner=": ")


def _extra_key(key: str, table: type[BaseModel], elsewhere: Mapping[str, str]) -> InvalidInputError:
    """A key the table does not take: a second spelling of one given, misplaced, or unknown."""
    name = field_of(table, key)
    if name is not None:
        spellings = " and ".join(_spellings(table, name))
        return InvalidInputError(f"{spellings} are one field: give it once", field=key, joiner=": ")
    if key in elsewhere:
        return InvalidInputError(elsewhere[key], field=key)
    known = sorted(_spellings(table, name)[0] for name in table.model_fields)
    return InvalidInputError(f"unknown field {key!r} (known: {', '.join(known)})")


def check_table(
    table: type[Table], data: Mapping[str, Any]
) -> tuple[Table, list[InvalidInputError], set[str]]:
    """
    A flat TOML table as its model, every bad key named, the good ones kept.

    Returns the model of the keys that are good, each bad key's problem, and the
    fields refused (their follow-ups, like "cn is required", are not said again).
    """
    try:
        return table.model_validate(data), [], set()
    except ValidationError as exc:
        errors = exc.errors()
    bad = {str(error["loc"][0]) for error in errors}
    kept = table.model_validate({key: value for key, value in data.items() if key not in bad})
    refused = {name for key in bad if (name := field_of(table, key)) is not None}
    return kept, [key_problem(error, table) for error in errors], refused


def toml_key(field: str | None) -> str | None:
    """How a TOML file names a request field (``organization`` -> ``org``)."""
    return FIELDS.get(field, field) if field else None


@dataclasses.dataclass(frozen=True)
class Layer:
    """
    Fields given under others that go over them: a subject file under the flags, a
    manifest's [defaults] under each entry. A problem with a value that came from
    here is said as this layer's (``--subject-file: s.toml: country: ...``).

    Attributes:
        fields: request fields (``san`` a list of names), and for [defaults] options.
        label: how a problem names it (a path, ``[defaults]``).
        field: the option that gave it (``subject_file``), if any.
        refused: its fields whose value was refused already.
    """

    fields: dict[str, Any]
    label: str
    field: str | None = None
    refused: frozenset[str] = frozenset()

    def gave(
        self, problem: InvalidInputError, over: Mapping[str, Any], item: int | None = None
    ) -> bool:
        """
        Whether the value ``problem`` is about came from here, not from the fields
        ``over`` it (for ``names``: whether the ``item``-th name is one of this layer's).
        """
        name = problem.field
        if name == "names":
            return item is not None and item < len(self.fields.get("san") or [])
        return name in self.fields and over.get(name) is None

    def said(self, problem: InvalidInputError) -> InvalidInputError:
        """A problem with one of this layer's values, as this layer's."""
        return InvalidInputError(
            f"{self.label}: {problem.about(toml_key(problem.field))}", field=self.field, joiner=": "
        )


def read_subject_file(path: Path) -> tuple[Layer | None, list[InvalidInputError]]:
    """
    A ``--subject-file`` as a layer under the flags, and every problem of its keys.

    Its good keys are kept (flags still go over them); a file that cannot be read
    gives no layer.
    """
    try:
        data = read_toml(path, "subject_file")
    except InvalidInputError as exc:
        return None, [exc]
    table, problems, refused = check_table(SubjectFile, data)
    layer = Layer(table.fields(), str(path), field="subject_file", refused=frozenset(refused))
    # Each key as the file spells it (organization stays organization).
    return layer, [
        InvalidInputError(f"{path}: {problem}", field="subject_file", joiner=": ")
        for problem in problems
    ]


def build_request(
    fields: Mapping[str, Any],
    *,
    under: Layer | None = None,
    literal: bool = False,
    refused: frozenset[str] = frozenset(),
) -> CertRequest:
    """
    Request fields (subject fields, ``san`` a list, ``key``, ``days``), over ``under``'s.

    Every problem is named at once, each about its field; a value that came from
    ``under`` is said as ``under``'s. A field missing because its value was refused
    already (``refused``, ``under.refused``) is not said again.

    Raises:
        InvalidInputError: every problem: a missing CN, an unknown key type, or any
            invalid value (none of its own when each was refused already: the caller
            names those).
    """
    below = dict(under.fields) if under else {}
    top = {name: value for name, value in fields.items() if value is not None}
    merged = {**below, **top}
    names = list(below.get("san") or []) + list(top.get("san") or [])
    found: list[tuple[InvalidInputError, int | None]] = []
    key = merged.get("key")
    refusal = _key_refusal(key)
    if refusal is not None:
        found.append((refusal, None))
        key = None
    if literal and names:
        literal_refusal = InvalidInputError(
            "makes a certificate without the SAN extension; it cannot take extra names",
            field="literal",
        )
        found.append((literal_refusal, None))
    asked = {
        "subject": {name: merged[name] for name in _SUBJECT_FIELDS if name in merged},
        "names": names,
        "key": {"name": key} if key else {},
        "days": merged.get("days", DEFAULT_DAYS),
        "literal": literal,
    }
    request = None
    try:
        request = CertRequest.model_validate(asked)
    except ValidationError as exc:
        found += _request_problems(exc)
    if request is not None and not found:
        return request
    skipped = refused | (under.refused if under else frozenset())
    problems = []
    for problem, item in sorted(found, key=lambda pair: _rank(pair[0].field)):
        if problem.field in skipped and problem.field not in merged:
            continue  # missing because its value was refused: that is said already
        if under is not None and under.gave(problem, top, item):
            problem = under.said(problem)  # noqa: PLW2901 - the same problem, said as under's
        problems.append(problem)
    raise all_of(problems)


def _rank(field: str | None) -> int:
    """Where a problem about ``field`` comes in the list (_ORDER; others last)."""
    return _ORDER.index(field) if field in _ORDER else len(_ORDER)


# The order problems are named in: the flags' in --help.
_ORDER = (
    "common_name",
    "names",
    "key",
    "country",
    "state",
    "locality",
    "organization",
    "organizational_unit",
    "email",
    "days",
    "literal",
)


def _request_problems(exc: ValidationError) -> list[tuple[InvalidInputError, int | None]]:
    """Each problem pydantic found with a request, about its field (and list item)."""
    found = []
    for error in exc.errors():
        location = list(error["loc"])
        item = None
        while location and isinstance(location[-1], int):
            item = int(location.pop())  # an item of a list, like names.2: the field is names
        if location[-1:] == ["name"] and location[:1] == ["key"]:
            location.pop()
        field = str(location[-1]) if location else None
        message = str(error["msg"]).removeprefix("Value error, ")
        joiner = ": "
        if error["type"] == "missing":
            message, joiner = (_CN_REQUIRED if field == "common_name" else "is required"), " "
        elif error["type"] in _NUMERIC:
            message = f"{error['input']!r}: {message.lower()}"
        found.append((InvalidInputError(message, field=field, joiner=joiner), item))
    return found


def validation_error(exc: ValidationError) -> InvalidInputError:
    """The first problem pydantic found, about the model field it concerns."""
    return _request_problems(exc)[0][0]


def validation_problems(exc: ValidationError) -> list[InvalidInputError]:
    """Every problem pydantic found, each about the model field it concerns."""
    return [problem for problem, _ in _request_problems(exc)]


def check_key_name(key: str | None) -> None:
    """
    Refuse a key type flow-ssl does not offer.

    Raises:
        InvalidInputError: about the field ``key``, listing the offered types.
    """
    refusal = _key_refusal(key)
    if refusal is not None:
        raise refusal


def _key_refusal(key: str | None) -> InvalidInputError | None:
    if key is None or key in KEY_NAMES:
        return None
    return InvalidInputError(
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
