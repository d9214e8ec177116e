"""
A command as data: argv, the prompts it asks, what it needs; and its rendering for a shell.

What is shown to the operator is rendered from the same argv that runs, so the
line on screen is the line that runs. argv always starts with ``openssl``: the
runner puts in the binary it resolved. Nothing here executes, reads or prints.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Literal

from flow_ssl.core.errors import InvalidInputError, ShellRefusalError

Shell = Literal["posix", "powershell"]
SHELLS: tuple[Shell, ...] = ("posix", "powershell")
OPENSSL = "openssl"
# How a PowerShell script writes a text file (ASCII: 5.1's default is UTF-16).
PS_WRITE = "Set-Content -Encoding ascii -LiteralPath"
# A printed script's scratch folder (made by the script, removed when it ends). A path
# under it starts with this marker, which no real path has (argv cannot hold a NUL):
# the renderer writes it as the script's variable, and the runner would refuse it.
WORK = "\0work"


def scratch(name: str, work: str = WORK) -> str:
    """A file in the scratch folder ``work`` (the script's own, by default)."""
    return f"{work}/{name}"


@dataclass(frozen=True)
class Arg:
    """
    One option with its values, what it means in plain words (for --explain), and
    where its values came from: ``(field, value)`` pairs of the request, so a value
    a shell cannot carry is named by the field the operator gave it with.
    """

    tokens: tuple[str, ...]
    why: str = ""
    sources: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Prompt:
    """
    One interactive question openssl asks, recognised by its label, and our answer.

    ``answer`` is sent as typed; ``"."`` tells openssl to leave the field blank
    (an empty line would take the config's default, such as ``AU``).
    """

    field: str
    label: str
    answer: str

    @property
    def display(self) -> str:
        """The question as a person reads it."""
        return self.label.strip("^").capitalize()

    def matches(self, label: str) -> bool:
        """Whether a label openssl printed is this question."""
        return re.search(self.label, label, re.IGNORECASE) is not None


@dataclass(frozen=True)
class Command:
    """An openssl invocation as data: argv, the prompts it asks, and what it needs."""

    args: tuple[Arg, ...]
    prompts: tuple[Prompt, ...] = ()
    needs: tuple[str, ...] = ()

    @property
    def argv(self) -> tuple[str, ...]:
        """The exact argv, ``openssl`` first."""
        return tuple(token for arg in self.args for token in arg.tokens)

    @property
    def answers(self) -> str:
        """What openssl reads on stdin when its questions are answered from a file."""
        return "".join(prompt.answer + "\n" for prompt in self.prompts)

    def render(self, shell: Shell = "posix") -> str:
        """
        One copy-pasteable line for the given shell.

        Raises:
            InvalidInputError: a value PowerShell cannot pass to openssl intact, about
                the field it came from.
        """
        return " ".join(_quote_arg(arg, shell) for arg in self.args)

    def explain(self, shell: Shell = "posix") -> list[tuple[str, str]]:
        """Each option rendered on its own, with its plain-words meaning."""
        return [(_quote_arg(arg, shell), arg.why) for arg in self.args]


def command(*args: Arg, prompts: tuple[Prompt, ...] = (), needs: tuple[str, ...] = ()) -> Command:
    """A Command from its Args, ``openssl`` first (the builders' one constructor)."""
    return Command(args=args, prompts=prompts, needs=needs)


def _quote_arg(arg: Arg, shell: Shell) -> str:
    try:
        return " ".join(quote(token, shell) for token in arg.tokens)
    except PowerShellRefusalError as refusal:
        raise refusal.about(arg.sources) from None


def quote(token: str, shell: Shell = "posix") -> str:
    """
    A token as the given shell reads it back unchanged.

    Raises:
        PowerShellRefusalError: PowerShell cannot pass the token to openssl intact.
    """
    if token == WORK or token.startswith(WORK + "/"):
        return _quote_scratch(token[len(WORK) :], shell)
    return powershell_quote(token) if shell == "powershell" else posix_quote(token)


def _quote_scratch(rest: str, shell: Shell) -> str:
    """A scratch path: the script's ``$work`` variable, then the file's (plain) name."""
    if shell == "powershell":
        return f'"$work{rest}"'
    return '"$work"' + (posix_quote(rest) if rest else "")


def posix_quote(token: str) -> str:
    """POSIX sh quoting (single quotes; a ' ends, is escaped, and reopens)."""
    return shlex.quote(token)


# PowerShell ends a single-quoted string at any of these, not only the ASCII one
# (CharTraits.IsSingleQuote); inside one, each is written twice.
POWERSHELL_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
# Left bare in PowerShell (anything else is single-quoted): a word starting with a
# letter, an openssl option made of letters and digits only (PowerShell splits a bare
# -a.b or -name:value in two), or a small number.
_POWERSHELL_BARE = re.compile(
    r"^(?:[A-Za-z_][A-Za-z0-9_.:=+\\/-]*|-[A-Za-z][A-Za-z0-9_]*|[1-9][0-9]{0,8}|0)$"
)


class PowerShellRefusalError(ValueError):
    """A token PowerShell cannot pass to openssl as it is (see ``powershell_problem``)."""

    def __init__(self, token: str, problem: str) -> None:
        super().__init__(f"{token!r} {problem}")
        self.token = token
        self.problem = problem

    def about(self, sources: tuple[tuple[str, str], ...]) -> InvalidInputError:
        """The refusal as bad input, about the field whose value causes it."""
        culprits = [name for name, value in sources if powershell_problem(value)]
        named = culprits or [name for name, _ in sources[-1:]]
        shown = next((value for name, value in sources if name in named[:1]), self.token)
        return ShellRefusalError(
            f"{shown!r} {self.problem}: PowerShell cannot pass it to openssl intact",
            field=named[0] if named else "shell",
            joiner=": ",
        )


def powershell_problem(token: str) -> str | None:
    """
    Why PowerShell cannot pass ``token`` to a native program intact, or None.

    The same argv must reach openssl from Windows PowerShell 5.1 and from
    PowerShell 7 in each argument-passing mode; these are the values for which
    no single rendering does (PowerShell's NativeCommandParameterBinder.cs in 5.1 and
    7 Legacy mode against .NET's PasteArguments in 7.3+).
    """
    if token == "":
        return "is empty (Windows PowerShell 5.1 drops an empty argument)"
    if '"' in token:
        return 'contains a double quote (") (PowerShell 5.1 and 7.3+ pass it differently)'
    if token == "--%":  # noqa: S105 - the stop-parsing token, not a password
        return "is PowerShell's stop-parsing token --%"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in token):
        return "contains a control character"
    misread = _cp1252_quotes(token)
    if misread:
        return (
            f"contains {misread}, whose UTF-8 bytes Windows PowerShell 5.1 reads as a quote "
            "in a script saved without a BOM"
        )
    if token.endswith("\\") and any(char.isspace() for char in token):
        return (
            "has a space and ends with a backslash (Windows PowerShell 5.1 then passes "
            'it as \\" and swallows the next argument)'
        )
    return None


# Bytes Windows-1252 decodes as quotes (U+201A, U+201E, U+2018, U+2019, U+201C, U+201D):
# UTF-8 continuation bytes, so in many letters (l with stroke is C5 82).
_CP1252_QUOTE_BYTES = frozenset(b"\x82\x84\x91\x92\x93\x94")


def _cp1252_quotes(token: str) -> str:
    """The characters of ``token`` that a Windows-1252 reading turns into a quote."""
    return "".join(
        char
        for char in dict.fromkeys(token)
        if ord(char) > 0x7F and _CP1252_QUOTE_BYTES.intersection(char.encode("utf-8"))
    )


def powershell_quote(token: str, *, literal: bool = False) -> str:
    """
    Quote for PowerShell: bare when plainly safe (an argument, not ``literal``), else
    single-quoted with each of the five single-quote characters doubled. ``literal``:
    always quoted, as an expression needs (``@(a.crt)`` would run a command ``a.crt``).

    Raises:
        PowerShellRefusalError: a value no rendering passes intact (``powershell_problem``).
    """
    problem = powershell_problem(token)
    if problem:
        raise PowerShellRefusalError(token, problem)
    if not literal and _POWERSHELL_BARE.match(token):
        return token
    escaped = "".join(char * 2 if char in POWERSHELL_SINGLE_QUOTES else char for char in token)
    return f"'{escaped}'"


def powershell_here_string_problem(body: str) -> str | None:
    """
    Why ``body`` cannot be a PowerShell here-string ``@'...'@``, or None.

    A line starting with any of the five single quotes and then ``@`` ends it early.
    """
    for line in re.split(r"\r|\n", body):
        if len(line) >= 2 and line[0] in POWERSHELL_SINGLE_QUOTES and line[1] == "@":
            return f"has a line starting with {line[:2]!r}, which ends a PowerShell here-string"
    return None


def quote_path(path: str, shell: Shell, field: str, *, literal: bool = False) -> str:
    """``path`` quoted for ``shell`` (``literal``: a PowerShell string, never bare)."""
    try:
        if literal and shell == "powershell":
            return powershell_quote(path, literal=True)
        return quote(path, shell)
    except PowerShellRefusalError as refusal:
        raise refusal.about(((field or "shell", path),)) from None
