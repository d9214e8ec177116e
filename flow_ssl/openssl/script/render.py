"""
A sequence of steps (openssl commands, and the small file steps between them), shown as a
script (the run loop performs the very same steps: make/perform.py).

``--print`` shows the script: the operator can read it, or run it with
``flow-ssl ... --print | sh``, and get what flow-ssl would make. openssl's
questions are answered from a here-document on its own stdin (never from the
script's stdin, which is the script itself when piped into sh); ``set -eu``
stops at the first failure; scratch files live in a folder the script makes and
removes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flow_ssl.core.errors import OpenSSLNotFoundError, ShellRefusalError
from flow_ssl.openssl import features, runner
from flow_ssl.openssl.commands.base import (
    PS_WRITE,
    WORK,
    Command,
    powershell_here_string_problem,
    quote_path,
)
from flow_ssl.openssl.script.guard import render_guard, render_take_serial, undo_folder
from flow_ssl.openssl.script.steps import (
    Chmod,
    Concat,
    Guard,
    MakeDir,
    Note,
    Step,
    TakeSerial,
    WriteFile,
)

if TYPE_CHECKING:
    from flow_ssl.openssl.commands.base import Prompt, Shell

# Here-document terminator; one that a line of the text holds gets a number added.
_END = "FLOW_SSL_EOF"
# PowerShell: a private scratch folder, and a stop after a failing openssl (a native
# program's exit code stops nothing by itself, whatever $ErrorActionPreference says).
_PS_WORK = (
    "$work = (New-Item -ItemType Directory -Path (Join-Path "
    "([System.IO.Path]::GetTempPath()) ([System.IO.Path]::GetRandomFileName()))).FullName"
)
# ASCII: Windows PowerShell 5.1's default (UTF-16) is a file openssl cannot read.
_PS_NOT_ASCII = (
    "# save this script as UTF-8 with a BOM: Windows PowerShell 5.1 reads a file "
    "without one as Windows-1252"
)
_PS_STOP = 'if ($LASTEXITCODE -ne 0) { throw "openssl exited with $LASTEXITCODE" }'


def openssl_for_print() -> features.OpenSSL:
    """
    The openssl a ``--print`` script is written for: the one in use, or when none is
    found, a modern OpenSSL 3 (``--print`` needs no openssl; the script says so).
    """
    try:
        return runner.find_openssl()
    except OpenSSLNotFoundError:
        return features.assumed_modern()


def for_print(openssl: features.OpenSSL, steps: list[Step]) -> list[Step]:
    """
    The steps a ``--print`` script shows: refused first if this openssl cannot run them,
    with a note at the end when the openssl was assumed.

    Raises:
        OpenSSLTooOldError: naming the version and the missing capability.
    """
    require_all(openssl, steps)
    if not openssl.assumed:
        return steps
    note = Note(
        "no openssl was found here, so this is written for OpenSSL 3; "
        "print it again where it will run (1.1.1 and LibreSSL need other commands)"
    )
    return [*steps, note]


def _here_delimiter(text: str) -> str:
    lines = set(text.splitlines())
    delimiter, number = _END, 0
    while delimiter in lines:
        number += 1
        delimiter = f"{_END}_{number}"
    return delimiter


def _here_string(body: str, field: str) -> str:
    """``body`` as a PowerShell here-string, or refused when a line would end it."""
    problem = powershell_here_string_problem(body)
    if problem:
        raise ShellRefusalError(
            f"{problem}: PowerShell cannot give it to openssl intact",
            field=field or "shell",
            joiner=": ",
        )
    return f"@'\n{body}\n'@"


def _answers(command: Command) -> str:
    return "\n".join(prompt.answer for prompt in command.prompts)


def _render_command(command: Command, shell: Shell, *, brief: bool) -> str:
    line = command.render(shell)
    if brief or not command.prompts:
        return line
    answers = _answers(command)
    if shell == "powershell":
        for prompt in command.prompts:
            _here_string(prompt.answer, prompt.field)
        # A line ending in | goes on: the command stays one whole line of its own.
        return f"{_here_string(answers, '')} |\n{line}"
    end = _here_delimiter(answers)
    # A group, so the command stays one whole line (--literal: the vendor's, byte
    # for byte) and its answers come from this here-document, not the script's stdin.
    return f"{{\n{line}\n}} <<'{end}'\n{answers}\n{end}"


def render_step(step: Step, shell: Shell = "posix", *, brief: bool = False) -> str:
    """
    One step as it would be typed; ``brief`` names a written file instead of showing it,
    and leaves out a command's answers.

    Raises:
        InvalidInputError: a value PowerShell cannot carry (``--shell powershell``).
    """
    if isinstance(step, Command):
        return _render_command(step, shell, brief=brief)
    if isinstance(step, Note):
        return f"# {step.text}"
    if isinstance(step, MakeDir):
        path = quote_path(step.path, shell, step.field)
        if shell == "powershell":
            return f"New-Item -ItemType Directory -Path {path} | Out-Null"
        made = f"mkdir {'-p ' if step.parents else ''}-m 700 -- {path}"
        return made + undo_folder(path) if step.result and not step.parents else made
    if isinstance(step, Chmod):
        path = quote_path(step.path, shell, step.field)
        if shell == "powershell":
            return f"# {step.path}: on Windows, a key's access comes from its folder"
        return f"chmod 600 -- {path}"
    if isinstance(step, Concat):
        out = quote_path(step.out, shell, step.field)
        if shell == "powershell":
            sources = ", ".join(quote_path(p, shell, step.field) for p in step.inputs)
            return f"Get-Content -LiteralPath {sources} | {PS_WRITE} {out}"
        sources = " ".join(quote_path(p, shell, step.field) for p in step.inputs)
        return f"cat -- {sources} > {out}"
    if isinstance(step, Guard):
        return render_guard(step, shell)
    if isinstance(step, TakeSerial):
        return render_take_serial(step, shell)
    path = quote_path(step.path, shell, step.field)
    if brief:
        return f"# write {path}"
    body = step.text.rstrip("\n")
    if shell == "powershell":
        here = _here_string(body, step.field)
        return f"{here} | {PS_WRITE} {path}"
    end = _here_delimiter(body)
    return f"cat > {path} <<'{end}'\n{body}\n{end}"


def uses_folder(steps: list[Step], folder: str = WORK) -> bool:
    """Whether any step reads or writes a file under ``folder`` (the scratch one by default)."""

    def under(path: str) -> bool:
        return path == folder or path.startswith(folder + "/")

    for step in steps:
        if isinstance(step, Command) and any(under(token) for token in step.argv):
            return True
        if isinstance(step, (MakeDir, WriteFile, Chmod)) and under(step.path):
            return True
        if isinstance(step, Concat) and any(map(under, (step.out, *step.inputs))):
            return True
    return False


def answer_comments(prompts: tuple[Prompt, ...]) -> list[str]:
    """The answers as a person would type them, as comments ('.' leaves a field blank)."""
    width = max((len(p.display) for p in prompts), default=0)
    return [f"#   {p.display + ':':<{width + 1}} {p.answer}" for p in prompts]


def render_script(
    steps: list[Step],
    shell: Shell = "posix",
    *,
    brief: bool = False,
    heading: str | None = None,
    shebang: bool = False,
) -> str:
    """
    The whole sequence as a script that runs as printed (``brief``: a listing only).

    ``set -eu`` (PowerShell: a stop after any failing command) when more than one
    step runs; a scratch folder (``$work``) made and removed when a step uses one.

    Raises:
        InvalidInputError: a value PowerShell cannot carry (``--shell powershell``).
    """
    if brief:
        return "\n".join(render_step(step, shell, brief=True) for step in steps)
    runs = [step for step in steps if not isinstance(step, Note)]
    work = uses_folder(steps)
    strict = len(runs) > 1 or work
    if shell == "powershell":
        return _powershell_script(steps, heading=heading, strict=strict, work=work)
    lines = ["#!/bin/sh"] if shebang else []
    if heading:
        lines.append(f"# {heading}")
    if strict:
        lines.append("set -eu")
    if work:
        lines += ["work=$(mktemp -d)", "trap 'rm -rf \"$work\"' EXIT"]
    for step in steps:
        lines.append(render_step(step, shell))
        if isinstance(step, Command) and step.prompts:
            lines.append("# the lines above answer openssl's questions ('.' leaves one blank):")
            lines += answer_comments(step.prompts)
    return "\n".join(lines)


def _powershell_script(steps: list[Step], *, heading: str | None, strict: bool, work: bool) -> str:
    lines = [f"# {heading}"] if heading else []
    if not all(map(str.isascii, (render_step(step, "powershell") for step in steps))):
        lines.append(_PS_NOT_ASCII)
    if strict:
        lines.append("$ErrorActionPreference = 'Stop'")
    if any(isinstance(step, Command) and step.prompts for step in steps):
        # Windows PowerShell 5.1 sends text to a program's stdin as ASCII by default.
        lines.append("$OutputEncoding = [System.Text.UTF8Encoding]::new($false)")
    if work:
        lines += [_PS_WORK, "try {"]
    for step in steps:
        lines.append(render_step(step, "powershell"))
        if isinstance(step, Command):
            if step.prompts:
                lines.append("# the lines above answer openssl's questions ('.' leaves one blank):")
                lines += answer_comments(step.prompts)
            if strict:
                lines.append(_PS_STOP)
    if work:
        lines += ["} finally {", "Remove-Item -LiteralPath $work -Recurse -Force", "}"]
    return "\n".join(lines)


def prompts_of(steps: list[Step]) -> list[Prompt]:
    """Every question the steps' commands ask, in order."""
    return [prompt for step in steps if isinstance(step, Command) for prompt in step.prompts]


def require_all(openssl: features.OpenSSL, steps: list[Step]) -> None:
    """
    Refuse, before anything runs, steps this openssl cannot run.

    Raises:
        OpenSSLTooOldError: naming the version and the missing capability.
    """
    for step in steps:
        if isinstance(step, Command):
            openssl.require(step.needs)
