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

Shell = Literal["posix", "powershell"]
SHELLS: tuple[Shell, ...] = ("posix", "powershell")
OPENSSL = "openssl"


@dataclass(frozen=True)
class Arg:
    """One option with its values, and what it means in plain words (for --explain)."""

    tokens: tuple[str, ...]
    why: str = ""


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
        """One copy-pasteable line for the given shell."""
        return " ".join(quote(token, shell) for token in self.argv)

    def explain(self, shell: Shell = "posix") -> list[tuple[str, str]]:
        """Each option rendered on its own, with its plain-words meaning."""
        return [(" ".join(quote(t, shell) for t in arg.tokens), arg.why) for arg in self.args]


def command(*args: Arg, prompts: tuple[Prompt, ...] = (), needs: tuple[str, ...] = ()) -> Command:
    """A Command from its Args, ``openssl`` first (the builders' one constructor)."""
    return Command(args=args, prompts=prompts, needs=needs)


def quote(token: str, shell: Shell = "posix") -> str:
    """A token as the given shell reads it back unchanged."""
    return powershell_quote(token) if shell == "powershell" else posix_quote(token)


def posix_quote(token: str) -> str:
    """POSIX sh quoting (single quotes; a ' ends, is escaped, and reopens)."""
    return shlex.quote(token)


# Safe bare in PowerShell: no quote, no $, no `, no separators, no leading @; an option
# (leading -) without ':' (PowerShell splits -name:value for native commands).
_POWERSHELL_SAFE = re.compile(r"^(?:[A-Za-z0-9_./:=][A-Za-z0-9_./:=-]*|-[A-Za-z0-9_./=-]+)$")
# PowerShell ends a single-quoted string at any of these, not only the ASCII one
# (CharTraits.IsSingleQuote); inside one, each is written twice.
POWERSHELL_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"


def powershell_quote(token: str) -> str:
    """Quote for PowerShell: a single-quoted string, each of its five quote characters doubled."""
    if _POWERSHELL_SAFE.match(token):
        return token
    escaped = "".join(char * 2 if char in POWERSHELL_SINGLE_QUOTES else char for char in token)
    return f"'{escaped}'"
