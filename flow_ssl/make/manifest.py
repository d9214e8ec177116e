"""
A batch manifest as a model: a ``[defaults]`` table and ``[[cert]]`` entries, every key typed.

Reading one names every bad table and key in one run (the entry, then the key);
the keys that are good are kept, so each entry can still be checked for the rest
(``batch.load`` does, and reports it all together).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from flow_ssl.core.errors import InvalidInputError
from flow_ssl.make.inputs import SubjectFile, SubjectTable, field_of, key_problem, read_toml

if TYPE_CHECKING:
    from pathlib import Path

    from pydantic_core import ErrorDetails

Mode = Literal["selfsigned", "csr", "ca"]
# Where a problem is, as Read.problems groups them: the file's shape, [defaults], entry N.
SHAPE, DEFAULTS = -1, 0
# Keys whose value is never repeated in a message (it may be the passphrase itself).
SECRETS = frozenset({"ca_pass"})
# What [defaults] may not hold, and why.
_ENTRY_ONLY = dict.fromkeys(("cn", "common_name", "san"), "belongs in each [[cert]] entry")


class Options(BaseModel):
    """The keys besides the subject's that [defaults] and each [[cert]] take."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    key: StrictStr | None = None
    days: StrictInt | None = None
    mode: Mode | None = None
    ca_dir: StrictStr | None = None
    ca_pass: StrictStr | None = None
    out_dir: StrictStr | None = None
    subj: StrictBool | None = None


class Defaults(SubjectTable, Options):
    """``[defaults]``: what every entry has unless it says otherwise (never a cn or san)."""


class Entry(SubjectFile, Options):
    """One ``[[cert]]`` entry: a certificate (or CSR) to make."""


class Manifest(BaseModel):
    """A manifest file: a ``[defaults]`` table and at least one ``[[cert]]`` entry."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    defaults: Defaults = Field(default_factory=Defaults)
    cert: list[Entry] = Field(min_length=1)


@dataclasses.dataclass(frozen=True)
class Read:
    """
    A manifest read and checked.

    Attributes:
        manifest: its good keys (None when its shape is wrong: nothing to check further).
        problems: every bad table and key, worded with where it is, by table: SHAPE for
            the file's own, DEFAULTS for [defaults], N for the Nth entry.
        refused_defaults: the [defaults] fields refused (their follow-ups are not said).
        refused: each entry's refused fields, by entry number (from 1).
    """

    manifest: Manifest | None
    problems: dict[int, list[InvalidInputError]]
    refused_defaults: frozenset[str] = frozenset()
    refused: dict[int, frozenset[str]] = dataclasses.field(default_factory=dict)


def entry_label(number: int, cn: object) -> str:
    """``[[cert]] #2 (b.mycompany.com)``: how a message names an entry."""
    return f"[[cert]] #{number}" + (f" ({cn})" if isinstance(cn, str) else "")


def read(path: Path) -> Read:
    """
    Read ``path`` and check it against the model, naming every problem.

    Raises:
        InvalidInputError: the file is missing, unreadable or not TOML.
    """
    data = read_toml(path, "manifest")
    try:
        return Read(Manifest.model_validate(data), {})
    except ValidationError as exc:
        errors = exc.errors()
    kept = {name: dict(v) if isinstance(v, dict) else v for name, v in data.items()}
    if isinstance(kept.get("cert"), list):
        kept["cert"] = [dict(e) if isinstance(e, dict) else e for e in kept["cert"]]
    problems: dict[int, list[InvalidInputError]] = {}
    refused: dict[int, set[str]] = {}
    salvageable = True
    for error in errors:
        problem, where = _problem(error, data)
        problems.setdefault(SHAPE if where is None else where[0], []).append(problem)
        if where is None:
            salvageable = salvageable and _is_unknown_table(error)
            kept.pop(str(error["loc"][0]), None)
            continue
        table, key = where
        if table == DEFAULTS:
            kept["defaults"].pop(key, None)
        else:
            kept["cert"][table - 1].pop(key, None)
        name = field_of(Defaults if table == DEFAULTS else Entry, key)
        if name is not None:
            refused.setdefault(table, set()).add(name)
    if not salvageable:
        return Read(None, problems)
    return Read(
        Manifest.model_validate(kept),  # only good keys are left
        problems,
        frozenset(refused.pop(DEFAULTS, set())),
        {number: frozenset(names) for number, names in refused.items()},
    )


def _is_unknown_table(error: ErrorDetails) -> bool:
    return len(error["loc"]) == 1 and error["type"] == "extra_forbidden"


def _problem(
    error: ErrorDetails, data: dict[str, Any]
) -> tuple[InvalidInputError, tuple[int, str] | None]:
    """
    One refusal, worded with where it is; and the key at fault as (table, key), where
    table is DEFAULTS or N for the Nth entry (None: the file's shape is at fault).
    """
    loc = error["loc"]
    if loc[0] == "defaults" and len(loc) > 1:
        problem = key_problem(error, Defaults, at=1, secret=SECRETS, elsewhere=_ENTRY_ONLY)
        return InvalidInputError(f"[defaults]: {problem.about(problem.field)}"), (
            DEFAULTS,
            str(loc[1]),
        )
    if loc[0] == "cert" and len(loc) > 2 and isinstance(loc[1], int):
        entries = data["cert"]
        raw = entries[loc[1]]
        label = entry_label(loc[1] + 1, raw.get("cn", raw.get("common_name")))
        problem = key_problem(error, Entry, at=2, secret=SECRETS)
        return InvalidInputError(f"{label}: {problem.about(problem.field)}"), (
            loc[1] + 1,
            str(loc[2]),
        )
    return InvalidInputError(_shape_message(error)), None


def _shape_message(error: ErrorDetails) -> str:
    """What is wrong with the file's tables themselves."""
    loc = error["loc"]
    if loc[0] == "defaults":
        return "defaults must be a table ([defaults])"
    if loc[0] == "cert" and error["type"] in {"missing", "too_short"}:
        return "no [[cert]] entries"
    if loc[0] == "cert":
        return "cert must be [[cert]] tables"
    return f"unknown table {loc[0]!r}; a manifest has [defaults] and [[cert]] entries"
