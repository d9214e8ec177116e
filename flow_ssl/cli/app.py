"""
The root of the command line: the app, ``main(argv)``, and the one error boundary.

Every failure becomes one line on stderr and the exit code of the design;
``--debug`` adds the traceback and keeps the code. SIGTERM and SIGHUP stop a
run the way Ctrl-C does: the openssl children are stopped, staging is removed
on the way out, and the exit is 128 + the signal's number.
"""

from __future__ import annotations

import copy
import functools
import signal
import sys
import traceback
import typing
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperArgument

from flow_ssl import __version__
from flow_ssl.cli import batch, ca, doctor, making, reading
from flow_ssl.cli.console import emit_json, say
from flow_ssl.cli.options import flag_for
from flow_ssl.cli.stopping import stop_the_run, what_stopped
from flow_ssl.core.errors import (
    CheckFailedError,
    ExitCode,
    FlowSSLError,
    InputProblemsError,
    OutputExistsError,
    PromptError,
    ShellRefusalError,
    Stopped,
)
from flow_ssl.core.placed import Placed

if TYPE_CHECKING:
    from pathlib import Path

    # typer vendors click and names no public type for what get_command returns.
    from typer._click import Command

app = typer.Typer(
    name="flow-ssl",
    help="Get a TLS certificate onto a Flow Enterprise Server, with openssl doing the work.",
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    """``flow-ssl 0.1.0 with OpenSSL 3.0.19 27 Jan 2026 (/usr/bin/openssl)``, one line."""
    if value:
        from flow_ssl.core.errors import OpenSSLError
        from flow_ssl.openssl.runner import find_openssl

        try:
            binary = find_openssl()
            using = f"with {binary.text.split(' (Library')[0]} ({binary.path})"
        except OpenSSLError as exc:
            using = f"(no usable openssl: {exc.message})"
        from flow_ssl.output.text import shown

        typer.echo(f"flow-ssl {__version__} {shown(using)}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks on errors (same exit codes).")
    ] = False,
) -> None:
    """Make keys, certificates and CSRs with openssl, and check them before they are installed."""
    del version, debug  # read by main() before the command runs


app.command(short_help="Make a key and a self-signed certificate.")(making.selfsigned)
app.command(short_help="Make a key and a CSR for a CA.")(making.csr)
app.command(short_help="Renew a certificate with its old names.")(making.renew)
app.command(short_help="Show what certificates and CSRs hold.")(reading.inspect)
app.command(short_help="Say whether a certificate set is ready to install.")(reading.check)
app.command(short_help="Write the leaf and its chain as one file.")(reading.bundle)
app.command(short_help="Make every certificate in a manifest.")(batch.batch)
app.command(short_help="Check what a live server sends.")(reading.probe)
app.command(short_help="Diagnose this machine and run a self-test.")(doctor.doctor)
app.add_typer(ca.ca_app, name="ca", short_help="A company CA: make one, sign, issue, trust.")

# Flags named differently by one command (ca init calls its CN --name).
_RENAMED = {"ca init": {"common_name": "--name"}}


def _command_for(args: list[str]) -> Command:
    """The click command that runs ``args``: the one being run, made once per process."""
    wanted = next((arg for arg in args if not arg.startswith("-")), None)
    version_only = wanted is None and "--version" in args and "--help" not in args
    return _made(wanted, version_only=version_only)


@functools.lru_cache(maxsize=32)
def _made(wanted: str | None, *, version_only: bool) -> Command:
    """
    The app as a click command, with only the command being run registered.

    Typer turns every registered command into a click command (about 50 ms for all of
    them, most of the start-up over the imports); the one being run is enough, and it
    is made once however often it runs in a process. Anything else (no command, --help,
    a typo) gets the whole app, so listings and "did you mean" stay complete.
    """
    commands = [
        info
        for info in app.registered_commands
        if info.callback is not None
        and (info.name or info.callback.__name__.lower().replace("_", "-")) == wanted
    ]
    groups = [info for info in app.registered_groups if info.name == wanted]
    chosen = app
    if commands or groups or version_only:
        chosen = copy.copy(app)
        chosen.registered_commands = commands
        chosen.registered_groups = groups
    return _plain_arguments(typer.main.get_command(chosen))


class _PlainArgument(TyperArgument):
    """A positional argument shown by its value name alone (``FILE...``, ``CSR``)."""

    def get_usage_pieces(self, ctx: object) -> list[str]:  # noqa: ARG002 - click's API
        """The usage line's piece: the value name, without braces."""
        return [self.display_name_raw]

    def display_type_rich(self, ctx: object) -> str | None:  # noqa: ARG002 - typer's API
        """No Python type after the value name in --help (``<list[Path]>``)."""
        return None


_Command = typing.TypeVar("_Command")


def _plain_arguments(command: _Command) -> _Command:
    """Every positional argument of the command tree shown by its value name alone."""
    found = [command]
    while found:
        current = found.pop()
        for param in getattr(current, "params", ()):
            if type(param) is TyperArgument:
                param.__class__ = _PlainArgument
        found += getattr(current, "commands", {}).values()
    return command


def _command_path(args: list[str]) -> str:
    """``ca init`` for ``ca init --dir x``: which command's flag names apply."""
    words = [arg for arg in args if not arg.startswith("-")][:2]
    return " ".join(words)


def _message(exc: FlowSSLError, command_path: str) -> str:
    """The error as one line, its field named as the flag the operator typed."""
    if exc.hint is None:
        exc.hint = _hint_for(exc)
    return exc.about(flag_for(exc.field, _RENAMED.get(command_path)) if exc.field else None)


def _hint_for(exc: FlowSSLError) -> str | None:
    """The CLI's advice for errors whose fix is a flag."""
    if isinstance(exc, OutputExistsError):
        return "choose another --out/--keyout, or pass --force to replace it"
    if isinstance(exc, PromptError):
        return "use --subj to give the subject without questions"
    if isinstance(exc, ShellRefusalError):
        return "with --shell powershell; use --shell posix, or give another value"
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (for tests and the console script)."""
    args = list(sys.argv[1:] if argv is None else argv)
    placed = Placed()  # what this run puts in place: named if a signal stops it
    problems: tuple[str, ...] = ()
    usage_hint = ""
    failure: BaseException
    try:
        args = _debug_first(args)
        with stop_the_run(), placed.recording():
            command = _command_for(args)
            # standalone_mode=False: click returns the code of a typer.Exit instead of exiting.
            returned = command.main(args=args, prog_name="flow-ssl", standalone_mode=False)
        return returned if isinstance(returned, int) else 0
    except typer.Exit as exc:
        return int(exc.exit_code)
    except FlowSSLError as exc:
        path = _command_path(args)
        failure, code, message = exc, int(exc.exit_code), _message(exc, path)
        if isinstance(exc, CheckFailedError):
            problems = exc.problems
        elif isinstance(exc, InputProblemsError):
            problems = tuple(_message(problem, path) for problem in exc.problems)
    except (typer.Abort, KeyboardInterrupt) as exc:
        failure, code = exc, int(ExitCode.INTERRUPTED)
        message = _stopped_message(signal.SIGINT, placed.paths())
    except Stopped as exc:
        failure, code = exc, ExitCode.for_signal(exc.signum)
        message = _stopped_message(exc.signum, placed.paths())
    except Exception as exc:  # noqa: BLE001 - the one boundary: every error becomes a line
        failure, usage = exc, _usage_error(exc)
        if usage is None:
            code = int(ExitCode.INTERNAL)
            message = f"unexpected error: {type(exc).__name__}: {exc} (--debug shows where)"
        else:
            context = getattr(exc, "ctx", None)
            where = context.command_path if context is not None else "flow-ssl"
            code, message = int(ExitCode.BAD_INPUT), _with_suggestion(exc, args) or usage
            usage_hint = f"(run '{where} --help' for usage)"
    _report_failure(args, failure, code, message, problems, usage_hint)
    return code


def _debug_first(args: list[str]) -> list[str]:
    """``--debug`` is global: accepted anywhere on the line, moved to the front for click."""
    if "--debug" not in args or args[:1] == ["--debug"]:
        return args
    return ["--debug", *(arg for arg in args if arg != "--debug")]


def _stopped_message(signum: int, placed: list[Path]) -> str:
    """What a signal stopped, and the files already complete and in place (kept)."""
    what = what_stopped(signum)
    if not placed:
        return f"{what}; nothing was left behind"
    names = ", ".join(str(path) for path in placed)
    return f"{what} after these were complete and in place (kept): {names}; nothing else was left"


def _report_failure(
    args: list[str],
    failure: BaseException,
    code: int,
    message: str,
    problems: tuple[str, ...],
    usage_hint: str = "",
) -> None:
    """
    One line on stderr, or a short list: the first line says what (how many), then one
    line each (the traceback first with --debug); JSON on stdout with --json.
    """
    if "--debug" in args:
        say("".join(traceback.format_exception(failure)).rstrip(), err=True)
    message = _shortened(message)
    problems = tuple(map(_shortened, problems))
    say(f"flow-ssl: {message}", err=True)
    for line in (*problems, usage_hint) if usage_hint else problems:
        say(f"  {line}", err=True)
    if "--json" in args:
        from flow_ssl.output.json_data import error

        emit_json(error(code, message, problems))


def _shortened(line: str, head: int = 500, tail: int = 300) -> str:
    """A line that echoes a huge value, cut in the middle (its start and its advice stay)."""
    if len(line) <= head + tail + 100:
        return line
    left_out = len(line) - head - tail
    return f"{line[:head]} [... {left_out} characters left out ...] {line[-tail:]}"


def _with_suggestion(exc: Exception, args: list[str]) -> str | None:
    """
    An unknown option with the one meant, where click has none to offer: another case
    (``--CN``), one dash where flow-ssl takes two (``-days``, as openssl spells it), or a
    near miss. None: click's own message stands.
    """
    name = getattr(exc, "option_name", None)
    context = getattr(exc, "ctx", None)
    if not isinstance(name, str) or getattr(exc, "possibilities", None) or context is None:
        return None
    known = [opt for param in context.command.params for opt in param.opts if opt.startswith("--")]
    typed = next(
        (arg.split("=", 1)[0] for arg in args if arg.split("=", 1)[0].startswith(name)), name
    )
    wanted = typed if typed.startswith("--") else "-" + typed
    lowered = {opt.lower(): opt for opt in known}
    meant = lowered.get(wanted.lower())
    if meant is None:
        import difflib

        close = difflib.get_close_matches(wanted.lower(), list(lowered), n=1, cutoff=0.75)
        meant = lowered[close[0]] if close else None
    if meant is None:
        return None
    return f"No such option: {typed} (did you mean {meant}?)"


def _usage_error(exc: Exception) -> str | None:
    """Click's (Typer's vendored click's) usage errors, without importing click."""
    if hasattr(exc, "format_message") and getattr(exc, "exit_code", None) == 2:
        return str(exc.format_message())
    return None
