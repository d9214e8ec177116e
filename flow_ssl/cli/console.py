"""
The CLI's one way to speak: stdout for results, stderr for warnings and errors, all made safe.

Text for a person passes ``terminal_safe`` on its way out, so no value from a
file or a server can act on the terminal; JSON goes out as JSON. Colour and
progress are rich's, only on a terminal (and colour not with NO_COLOR), and rich
is imported only then: --version, --print and every pipe never load it.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from flow_ssl.cli.options import flag_for
from flow_ssl.output.json_data import dumps
from flow_ssl.output.text import ALERT, shown, terminal_safe

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from flow_ssl.core.models import Notice
    from flow_ssl.openssl.commands.base import Command, Shell
    from flow_ssl.openssl.script.render import Form
    from flow_ssl.openssl.script.steps import Step
    from flow_ssl.output.text import Styled

# How a terminal shows each style of output/text.py (rich's names).
_STYLES = {ALERT: "bold red"}


def say(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Print for a person, every control character escaped."""
    typer.echo(terminal_safe(text), err=err, nl=nl)


def say_styled(text: Styled) -> None:
    """
    Print for a person, in colour on a terminal (rich), plain where there is none: a
    pipe, a file, NO_COLOR set, or a terminal rich finds without colour.
    """
    if not sys.stdout.isatty() or os.environ.get("NO_COLOR"):
        say(text.plain())
        return
    from rich.console import Console
    from rich.text import Text

    terminal = Console(highlight=False, markup=False, emoji=False, soft_wrap=True)
    if terminal.color_system is None:
        say(text.plain())
        return
    parts = [(terminal_safe(part), _STYLES.get(style, "")) for part, style in text.parts]
    terminal.print(Text.assemble(*parts))


@contextmanager
def progress(total: int) -> Iterator[Callable[[str], None] | None]:
    """
    A progress bar on stderr for ``total`` steps: ``advance(label)`` as each ends; it is
    cleared at the end. None where stderr cannot redraw (not a terminal): say lines then.
    """
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    terminal = Console(stderr=True, highlight=False, markup=False, emoji=False)
    if not terminal.is_terminal or terminal.is_dumb_terminal:
        yield None
        return
    bar = Progress(
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[label]}", markup=False),
        console=terminal,
        transient=True,
        auto_refresh=False,  # redrawn as each step ends: no thread of its own
        redirect_stdout=False,
        redirect_stderr=False,
    )
    with bar:
        task = bar.add_task("", total=total, label="")

        def advance(label: str) -> None:
            bar.update(task, advance=1, label=shown(label), refresh=True)

        yield advance


def say_script(script: str) -> None:
    """
    A --print script, exactly: what is shown is what runs.

    Escaping a control character would print a script that makes other files than
    flow-ssl would, and printing it raw could act on the terminal: it is refused.

    Raises:
        InvalidInputError: a value in the script holds a control character.
    """
    from flow_ssl.core.errors import InvalidInputError

    odd = next((c for c in script if c not in "\n\t" and c != shown(c)), None)
    if odd is not None:
        raise InvalidInputError(
            f"a file name or value holds the control character {shown(odd)}, which a printed "
            "script can neither show safely nor change; rename the file or drop the character"
        )
    typer.echo(script)


def emit_json(data: object) -> None:
    """The machine-readable result, on stdout."""
    typer.echo(dumps(data))


def warning_lines(notices: Iterable[Notice], renamed: dict[str, str] | None = None) -> list[str]:
    """Each notice as ``--days: 900 is over 825: ...``."""
    return [f"{flag_for(n.field, renamed)}: {n.message}" if n.field else n.message for n in notices]


def warn(message: str) -> None:
    """One warning line on stderr."""
    say(f"warning: {message}", err=True)


def warn_all(notices: Iterable[Notice], renamed: dict[str, str] | None = None) -> None:
    """Every notice as a warning line."""
    for line in warning_lines(notices, renamed):
        warn(line)


def print_steps(
    steps: list[Step],
    form: Form,
    shell: Shell,
    *,
    as_json: bool,
    explain: bool = False,
    heading: str | None = None,
    readback: Command | None = None,
) -> None:
    """
    A plan's steps in the form asked (``print`` for a person, ``script`` for a machine),
    or as JSON: each step so rendered, and the answers openssl is given.
    """
    from flow_ssl.openssl.script.render import prompts_of, render_script, render_step

    if as_json:
        from flow_ssl.output import json_data

        rendered = [render_step(step, shell, form=form) for step in steps]
        emit_json(json_data.script(rendered, prompts_of(steps)))
        return
    say_script(
        render_script(steps, shell, form=form, heading=heading, readback=readback, explain=explain)
    )
