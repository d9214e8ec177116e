"""
Errors that reach the operator: one line each, with the exit code the design fixes.

Lower layers raise these with the *field* they concern (``common_name``,
``days``); only the CLI turns a field into the flag the operator typed and
an error into an exit code and a line on stderr.
"""

from __future__ import annotations

import signal
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


class ExitCode(IntEnum):
    """Exit codes from the CLI contract in design.md."""

    OK = 0
    CHECK_FAILED = 1
    BAD_INPUT = 2
    OPENSSL = 3
    INTERNAL = 70
    # 128 + the signal's number, as shells report a process a signal stopped.
    HANGUP = 128 + signal.SIGHUP
    INTERRUPTED = 128 + signal.SIGINT
    TERMINATED = 128 + signal.SIGTERM

    @classmethod
    def for_signal(cls, signum: int) -> int:
        """The exit code of a run stopped by ``signum`` (128 + N)."""
        return 128 + signum


class FlowSSLError(Exception):
    """
    Root of every error flow-ssl reports to the operator.

    Attributes:
        message: one line saying what is wrong; with a field, it follows the field's
            name ("days" + " must be a whole number").
        field: the request field it concerns (the CLI names its flag), if any.
        hint: optional one line saying how to fix it.
        joiner: what goes between the field's name and the message.
    """

    exit_code: ExitCode = ExitCode.INTERNAL
    reference = "flow-ssl-error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        hint: str | None = None,
        joiner: str = " ",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.hint = hint
        self.joiner = joiner

    def about(self, name: str | None) -> str:
        """The message after the field's ``name`` (a flag, a manifest key), hint included."""
        text = f"{name}{self.joiner}{self.message}" if name else self.message
        return text + (f" ({self.hint})" if self.hint else "")

    def __str__(self) -> str:
        return self.about(self.field)


class InvalidInputError(FlowSSLError):
    """A flag, value or input file is not acceptable."""

    exit_code = ExitCode.BAD_INPUT
    reference = "invalid-input"

    def each(self) -> tuple[InvalidInputError, ...]:
        """The problems this error names: itself (a list of them names several)."""
        return (self,)


class InputProblemsError(InvalidInputError):
    """
    Several things wrong with one input (a command line, a subject file, a manifest).

    All are named in one run, each with its own field, so the operator fixes them
    together instead of one per run. The message is the count; ``problems`` the list.
    """

    reference = "invalid-inputs"

    def __init__(self, problems: Sequence[InvalidInputError], *, where: str = "") -> None:
        self.problems = tuple(problems)
        count = f"{len(self.problems)} problems"
        super().__init__(f"{where}: {count}" if where else count)

    def each(self) -> tuple[InvalidInputError, ...]:
        """Every problem in the list."""
        return self.problems


def all_of(problems: Sequence[InvalidInputError], *, where: str = "") -> InvalidInputError:
    """
    One error naming every problem: the problem itself, or a list.

    One problem is itself (its message after ``where``, if given); several are one
    ``InputProblemsError``. A list among ``problems`` gives its items; a problem
    said twice is named once.
    """
    found = [single for problem in problems for single in problem.each()]
    unique = list({str(problem): problem for problem in found}.values())
    if len(unique) != 1:  # none: each was said already, by the caller that asked
        return InputProblemsError(unique, where=where)
    return InvalidInputError(f"{where}: {unique[0]}") if where else unique[0]


def refuse_all(problems: Sequence[InvalidInputError], *, where: str = "") -> None:
    """
    Raise every problem at once (``all_of``), or nothing when there is none.

    Raises:
        InvalidInputError: when ``problems`` is not empty.
    """
    if problems:
        raise all_of(problems, where=where)


class OutputExistsError(InvalidInputError):
    """An output file exists and --force was not given."""

    reference = "output-exists"


class ShellRefusalError(InvalidInputError):
    """A value the chosen shell cannot pass to openssl intact (PowerShell and a ")."""

    reference = "shell-cannot-pass-value"


class CheckFailedError(FlowSSLError):
    """What openssl produced does not match what was asked for."""

    exit_code = ExitCode.CHECK_FAILED
    reference = "check-failed"

    def __init__(
        self, message: str, *, problems: tuple[str, ...] = (), hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems


class OpenSSLError(FlowSSLError):
    """openssl is missing, too old, failed, or did not ask what we expected."""

    exit_code = ExitCode.OPENSSL
    reference = "openssl-error"


class OpenSSLNotFoundError(OpenSSLError):
    """No openssl binary could be found."""

    reference = "openssl-not-found"


class OpenSSLTooOldError(OpenSSLError):
    """The openssl found lacks a feature the request needs."""

    reference = "openssl-too-old"


def _openssl_command(argv: tuple[str, ...]) -> str:
    """``openssl req`` for messages: the binary's role and its command, never its path."""
    return f"openssl {argv[1]}" if len(argv) > 1 else "openssl"


class OpenSSLFailedError(OpenSSLError):
    """
    openssl ran to its end and said no: it exited non-zero, with its own last words.

    Its answer is about the input, so a caller may judge it (a wrong passphrase, an
    unreadable certificate). An openssl that never gave an answer is not this error:
    see ``OpenSSLNoAnswerError``.
    """

    reference = "openssl-exited-with-error"

    def __init__(self, argv: tuple[str, ...], returncode: int, output: str) -> None:
        self.argv = argv
        self.returncode = returncode
        self.output = output
        self.reason = openssl_reason(output)
        reason = f": {self.reason}" if self.reason else ""
        super().__init__(f"{_openssl_command(argv)} exited with {returncode}{reason}")


class OpenSSLNoAnswerError(OpenSSLError):
    """
    openssl gave no answer: it was killed, crashed, timed out, or flooded its pipes.

    It says nothing of the input, so no caller turns it into "bad input" (exit 2):
    it is not an ``OpenSSLFailedError`` and passes every handler of one (exit 3).
    """

    reference = "openssl-gave-no-answer"

    def __init__(self, argv: tuple[str, ...], reason: str) -> None:
        self.argv = argv
        self.reason = reason
        super().__init__(f"{_openssl_command(argv)} {reason}")

    @classmethod
    def killed(cls, argv: tuple[str, ...], signum: int) -> OpenSSLNoAnswerError:
        """Ended by a signal not of flow-ssl's (a crash, a kill): what it printed is no reason."""
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        return cls(argv, f"was killed by {name}")

    @classmethod
    def timed_out(cls, argv: tuple[str, ...], seconds: float) -> OpenSSLNoAnswerError:
        """Still running after ``seconds`` (flow-ssl killed it)."""
        return cls(argv, f"gave no answer within {seconds:.0f}s")


class WriteFailedError(OpenSSLError):
    """A result could not be put in place (disk full, permissions); nothing was changed."""

    reference = "write-failed"


class ConnectionFailedError(OpenSSLError):
    """openssl s_client could not fetch a server's certificates (nothing listening, no TLS)."""

    reference = "connection-failed"


class PromptError(OpenSSLError):
    """An interactive openssl dialog went somewhere we did not expect."""

    reference = "prompt-not-answered"


class ParseError(OpenSSLError):
    """openssl printed text we could not read."""

    reference = "openssl-output-unreadable"

    def __init__(self, message: str, *, line_no: int | None = None, line: str = "") -> None:
        self.line_no = line_no
        self.line = line
        where = f" (line {line_no}: {line.strip()!r})" if line_no is not None else ""
        super().__init__(message + where)


class Stopped(BaseException):
    """
    A signal (Ctrl-C, SIGTERM, SIGHUP) stopped flow-ssl's run: exit 128 + its number.

    The one meaning of "stopped" in flow-ssl (an openssl that ends without an
    answer is ``OpenSSLNoAnswerError``). A BaseException, like KeyboardInterrupt,
    so every ``finally`` cleans up on the way out and no ``except Exception``
    swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def openssl_reason(output: str) -> str:
    """
    Pick the most useful line of openssl's error output.

    openssl 3 prints a summary line ("Error making certificate request") and then
    an error stack ("4087...:error:...:reason:file:line:"). The stack's reason is
    the one that tells the operator something, so prefer it. 1.1.1 and LibreSSL
    print ``<pid>:error:<code>:<lib>:<func>:<reason>:<file>:<line>:``, the same
    field order.
    """
    lines = [line.strip() for line in output.replace("\r", "").splitlines() if line.strip()]
    for line in lines:
        if ":error:" in line:
            parts = line.split(":")
            if len(parts) >= 6 and parts[5]:
                data = parts[8] if len(parts) > 8 else ""
                return parts[5] + (f" ({data})" if data else "")
            return line
    return lines[-1] if lines else ""
