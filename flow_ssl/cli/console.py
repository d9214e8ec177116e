"""
The CLI's one way to speak: stdout for results, stderr for warnings and errors, all made safe.

Text for a person passes ``terminal_safe`` on its way out, so no value from a
file or a server can act on the terminal; JSON goes out as JSON.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from flow_ssl.cli.options import flag_for
from flow_ssl.output.json_data import dumps
from flow_ssl.output.text import shown, terminal_safe

if TYPE_CHECKING:
    from collections.abc import Iterable

    from flow_ssl.core.models import Notice
    from flow_ssl.openssl.commands.base import Shell
    from flow_ssl.openssl.script.steps import Step


def say(text: str, *, raw: bool = False, err: bool = False, nl: bool = True) -> None:
    """Print for a person; ``raw`` only for text whose values were escaped already (colour)."""
    typer.echo(text if raw else terminal_safe(text), err=err, nl=nl)


def stderr_is_terminal() -> bool:
    """Whether stderr is a terminal (a progress bar can be redrawn there)."""
    import sys

    return sys.stderr.isatty()


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
    steps: list[Step], shell: Shell, *, as_json: bool, heading: str, runnable: bool = False
) -> None:
    """
    A plan's steps as a script with the answers it gives (``--print``), or as JSON;
    ``runnable``: as a script that runs as printed.
    """
    from flow_ssl.openssl.script.render import prompts_of, render_step
    from flow_ssl.output import json_data, text

    if as_json:
        rendered = [render_step(step, shell) for step in steps]
        emit_json(json_data.script(rendered, prompts_of(steps)))
        return
    say_script(text.script_text(steps, shell, heading=heading, runnable=runnable))
