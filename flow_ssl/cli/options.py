"""
The options commands share, written once, and the one function that turns them into a request.

``subject_options`` and ``request_options`` add their options to a command's
signature and hand the command one ``SubjectFlags`` / ``RequestFlags`` value,
so no option list is written twice and nothing passes 20 parameters along.
``FLAGS`` names each request field as the operator types it: the only place a
field becomes a flag.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from flow_ssl.core.keys import KEY_NAMES

if TYPE_CHECKING:
    from collections.abc import Callable

    from flow_ssl.core.models import CertRequest
    from flow_ssl.openssl.commands.base import Shell
    from flow_ssl.openssl.script.render import Form

# Request field (as lower layers name it) -> the flag an operator types.
FLAGS = {
    "common_name": "--cn",
    "names": "--san",
    "san": "--san",
    "country": "--country",
    "state": "--state",
    "locality": "--locality",
    "organization": "--org",
    "organizational_unit": "--ou",
    "email": "--email",
    "subject_file": "--subject-file",
    "key": "--key",
    "days": "--days",
    "literal": "--literal",
    "dir": "--dir",
    "ca_pass": "--ca-pass",
    "parent": "--parent",
    "parent_pass": "--parent-pass",
    "host": "HOST",
    "check_host": "--host",
    "connect": "--connect",
    "pass": "--pass",
    "manifest": "manifest",
}

# What a printed script says when a file it would write exists: --script refuses to replace
# it; --print says its commands write over it.
SCRIPT_REFUSAL = (
    "nothing was changed (print the script again with --force to replace it, kept as a backup)"
)
PRINT_OVERWRITE = (
    "these commands write over it (print them again with --force to keep it as a dated "
    "backup first)"
)


def flag_for(field: str, renamed: dict[str, str] | None = None) -> str:
    """The flag that sets ``field`` (``renamed`` first: ``ca init`` calls its CN ``--name``)."""
    chosen = (renamed or {}).get(field) or FLAGS.get(field)
    return chosen or "--" + field.replace("_", "-")


class ShellChoice(str, Enum):
    """The shells ``--print`` renders for."""

    posix = "posix"
    powershell = "powershell"

    @property
    def shell(self) -> Shell:
        """As the renderer names it."""
        return "powershell" if self is ShellChoice.powershell else "posix"


ForceFlag = Annotated[
    bool, typer.Option("--force", help="Replace existing files (each kept as a backup).")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable result on stdout.")]
DaysOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option("--days", metavar="DAYS", help="Days of validity [default: 365]."),
]
KeyoutOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--keyout", metavar="FILE", help="Private key file [default: NAME.key]."),
]
SubjFlag = Annotated[
    bool, typer.Option("--subj", help="Give the subject with -subj instead of answering prompts.")
]
CertOutOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--out", metavar="FILE", help="Certificate file [default: NAME.crt]."),
]
CaPassOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--ca-pass",
        metavar="SRC",
        help="The CA key's passphrase source: env:VARIABLE or file:PATH (never the passphrase).",
    ),
]


def _option(name: str, annotation: object, *decls: str, **info: Any) -> inspect.Parameter:  # noqa: ANN401
    """
    A keyword parameter carrying a typer option, as a command's signature holds it
    (``decls``: its flag, where the parameter's name is not it).
    """
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=info.pop("default", None),
        annotation=Annotated[annotation, typer.Option(*decls, **info)],
    )


_TEXT = Optional[str]  # noqa: UP045
_PATH = Optional[Path]  # noqa: UP045
_SUBJECT_PARAMETERS = (
    _option("country", _TEXT, metavar="CC", help="Country: two letters, like US."),
    _option("state", _TEXT, metavar="TEXT", help="State or province, in full."),
    _option("locality", _TEXT, metavar="TEXT", help="City or other location."),
    _option("org", _TEXT, metavar="TEXT", help="Organization (company) name."),
    _option("ou", _TEXT, metavar="TEXT", help="Organizational unit (department)."),
    _option("email", _TEXT, metavar="EMAIL", help="Contact e-mail address."),
)
_REQUEST_PARAMETERS = (
    _option(
        "cn",
        _TEXT,
        metavar="NAME",
        help="Common Name: the server's DNS name, a *.wildcard or an IP "
        "[required, unless the --subject-file has cn].",
    ),
    _option(
        "san",
        Optional[list[str]],  # noqa: UP045
        metavar="NAME",
        help="Another name the certificate covers (repeat for several).",
    ),
    _option(
        "key",
        _TEXT,
        metavar="TYPE",
        help=f"Key type: {', '.join(KEY_NAMES)} [default: rsa:2048].",
    ),
    *_SUBJECT_PARAMETERS,
    _option(
        "subject_file",
        _PATH,
        metavar="FILE",
        help="TOML file with the subject fields (flags win).",
    ),
)


_PRINTING_PARAMETERS = (
    _option(
        "print_only",
        bool,
        "--print",
        default=False,
        help="Show the openssl commands to copy and paste, as they run; run nothing.",
    ),
    _option(
        "script",
        bool,
        "--script",
        default=False,
        help="Show them as a guarded script for sh, cron or a .ps1; run nothing.",
    ),
    _option(
        "explain",
        bool,
        "--explain",
        default=False,
        help="With --print or --script: say what each option does.",
    ),
    _option(
        "shell",
        ShellChoice,
        "--shell",
        default=ShellChoice.posix,
        metavar="[posix|powershell]",
        help="The shell --print and --script write for.",
    ),
)


@dataclass(frozen=True)
class SubjectFlags:
    """The six subject fields besides the Common Name, as typed."""

    country: str | None = None
    state: str | None = None
    locality: str | None = None
    org: str | None = None
    ou: str | None = None
    email: str | None = None

    def fields(self) -> dict[str, str]:
        """As request fields, the ones given only."""
        named = {
            "country": self.country,
            "state": self.state,
            "locality": self.locality,
            "organization": self.org,
            "organizational_unit": self.ou,
            "email": self.email,
        }
        return {name: value for name, value in named.items() if value is not None}


@dataclass(frozen=True)
class RequestFlags(SubjectFlags):
    """Everything that names and keys a request, as typed."""

    cn: str | None = None
    san: list[str] | None = None
    key: str | None = None
    subject_file: Path | None = None


def _adding(
    parameters: tuple[inspect.Parameter, ...],
    holder: type[SubjectFlags | Printing],
    argument: str,
    *,
    last: bool = False,
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """
    A decorator: the command gets ``parameters`` as options (before its own, or ``last``)
    and one ``holder`` of them.
    """
    names = [parameter.name for parameter in parameters]

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.name != argument]
        first_option = (
            len(own)
            if last
            else next(
                (i for i, p in enumerate(own) if p.kind is inspect.Parameter.KEYWORD_ONLY), len(own)
            )
        )
        placed = [*own[:first_option], *parameters, *own[first_option:]]

        @functools.wraps(command)
        def wrapper(**given: Any) -> None:  # noqa: ANN401 - typer passes each option by name
            values = {name: given.pop(name) for name in names}
            command(**given, **{argument: holder(**values)})

        wrapper.__signature__ = signature.replace(parameters=placed)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in placed}
        return wrapper

    return decorate


@dataclass(frozen=True)
class Printing:
    """How a command was asked to show its openssl commands instead of running them."""

    print_only: bool = False
    script: bool = False
    explain: bool = False
    shell: ShellChoice = ShellChoice.posix

    @property
    def form(self) -> Form | None:
        """
        ``print`` (for a person), ``script`` (for a machine), or None: run.

        Raises:
            InvalidInputError: both asked, or --explain without either.
        """
        from flow_ssl.core.errors import InvalidInputError

        if self.print_only and self.script:
            raise InvalidInputError(
                "goes without --print: --print is for a person to paste, --script for sh, "
                "cron or a .ps1",
                field="script",
            )
        if self.explain and not (self.print_only or self.script):
            raise InvalidInputError("goes with --print or --script", field="explain")
        if self.script:
            return "script"
        return "print" if self.print_only else None


subject_options = _adding(_SUBJECT_PARAMETERS, SubjectFlags, "subject")
request_options = _adding(_REQUEST_PARAMETERS, RequestFlags, "request")
printing_options = _adding(_PRINTING_PARAMETERS, Printing, "printing", last=True)


def request_from_flags(
    flags: RequestFlags, *, days: int | None, literal: bool = False
) -> CertRequest:
    """
    Flags (over a --subject-file) -> a validated request.

    Raises:
        InvalidInputError: every problem of the flags and the file at once, each about
            its field (the CLI names its flag; the file's as the file's).
    """
    from flow_ssl.core.errors import InvalidInputError, all_of
    from flow_ssl.make import inputs

    under, problems = (
        inputs.read_subject_file(flags.subject_file) if flags.subject_file else (None, [])
    )
    given = {
        **flags.fields(),
        "common_name": flags.cn,
        "san": flags.san,
        "key": flags.key,
        "days": days,
    }
    try:
        request = inputs.build_request(given, under=under, literal=literal)
    except InvalidInputError as exc:
        raise all_of([*problems, exc]) from None
    if problems:
        raise all_of(problems)
    return request
