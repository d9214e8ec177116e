"""
A sequence of steps (openssl commands, and the small file steps between them), shown in
one of two forms (the run loop performs the very same steps: make/perform.py).

``--print`` is for a person: the openssl commands, each on its own line as it runs,
prompt answers in a here-document after their command, and nothing that could close
an interactive shell it is pasted into (no ``set``, ``trap``, ``exit``, functions or
loops); what a script would check is said in comments. It still runs under ``sh``.

``--script`` is for a machine (``| sh``, cron, a ``.ps1``): the same commands guarded,
for a run long after printing. ``set -eu`` stops at the first failure; outputs that
exist stop it (or, with ``--force``, are kept as dated backups); a failure or a signal
puts the failing step's outputs back; a CA serial is checked before it is taken; a
check openssl answers only in words is tested on its words.

Both answer openssl's questions from a here-document on its own stdin (never from the
script's stdin, which is the script itself when piped into sh), keep scratch files in
a folder they make and remove, make new keys under ``umask 077`` where openssl follows
the umask (LibreSSL), and set ``MSYS_NO_PATHCONV=1`` on a line passing ``-subj`` (Git
for Windows' bash would turn ``/CN=...`` into a Windows path).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from flow_ssl.core.errors import OpenSSLNotFoundError, ShellRefusalError
from flow_ssl.openssl import features, runner
from flow_ssl.openssl.commands.base import (
    PS_WRITE,
    WORK,
    Command,
    powershell_here_string_problem,
    quote_path,
)
from flow_ssl.openssl.script import guard, person
from flow_ssl.openssl.script.steps import (
    Chmod,
    Concat,
    Guard,
    MakeDir,
    Note,
    Step,
    TakeSerial,
    Verified,
    WriteFile,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from flow_ssl.openssl.commands.base import Prompt, Shell

# Who reads what is printed: a person (--print) or a machine (--script).
Form = Literal["print", "script"]
# Here-document terminator; one that a line of the text holds gets a number added.
_END = "FLOW_SSL_EOF"
# Git for Windows' bash turns an argument that looks like a path (/CN=...) into a Windows
# one for a native program, unless this is set (its release notes say so); elsewhere it
# is an unused variable. Only on a line that passes such an argument: a DN in slash form.
_NO_PATH_CONVERSION = "MSYS_NO_PATHCONV=1 "
_SLASH_FORM = frozenset({"-subj"})
# PowerShell: a private scratch folder, and (a script) a stop after a failing openssl (a
# native program's exit code stops nothing by itself, whatever $ErrorActionPreference says).
_PS_WORK = (
    "$work = (New-Item -ItemType Directory -Path (Join-Path "
    "([System.IO.Path]::GetTempPath()) ([System.IO.Path]::GetRandomFileName()))).FullName"
)
_PS_DROP_WORK = "Remove-Item -LiteralPath $work -Recurse -Force"
# ASCII: Windows PowerShell 5.1's default (UTF-16) is a file openssl cannot read.
_PS_NOT_ASCII = (
    "# save this script as UTF-8 with a BOM: Windows PowerShell 5.1 reads a file "
    "without one as Windows-1252"
)
_PS_STOP = 'if ($LASTEXITCODE -ne 0) { throw "openssl exited with $LASTEXITCODE" }'
# Windows PowerShell 5.1 sends text to a program's stdin as ASCII by default.
_PS_UTF8_STDIN = "$OutputEncoding = [System.Text.UTF8Encoding]::new($false)"
_ANSWERED = "# the lines above answer openssl's questions ('.' leaves one blank):"


def openssl_for_print() -> features.OpenSSL:
    """
    The openssl a printed script is written for: the one in use, or when none is found,
    a modern OpenSSL 3 (printing needs no openssl; the script says so).
    """
    try:
        return runner.find_openssl()
    except OpenSSLNotFoundError:
        return features.assumed_modern()


def for_print(openssl: features.OpenSSL, steps: list[Step]) -> list[Step]:
    """
    The steps a printed script shows: refused first if this openssl cannot run them,
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


def _line(command: Command, shell: Shell) -> str:
    """The command's own line (POSIX: with MSYS_NO_PATHCONV=1 where it passes a DN)."""
    line = command.render(shell)
    if shell == "posix" and _SLASH_FORM.intersection(command.argv):
        return _NO_PATH_CONVERSION + line
    return line


def _render_command(command: Command, shell: Shell, *, private: bool) -> str:
    """
    The command whole on its own line; its answers in a here-document after it; run
    under ``umask 077`` when ``private`` (a key it writes would follow the umask).
    """
    line = _line(command, shell)
    if shell == "powershell":
        if not command.prompts:
            return line
        for prompt in command.prompts:
            _here_string(prompt.answer, prompt.field)
        answers = "\n".join(prompt.answer for prompt in command.prompts)
        # A line ending in | goes on: the command stays one whole line of its own.
        return f"{_here_string(answers, '')} |\n{line}"
    # A subshell for the umask (the shell's own stays as it was); else a group, so the
    # command stays one whole line (--literal: the vendor's, byte for byte).
    opening, closing = ("(umask 077", ")") if private else ("{", "}")
    if not command.prompts:
        return f"{opening}\n{line}\n{closing}" if private else line
    answers = "\n".join(prompt.answer for prompt in command.prompts)
    end = _here_delimiter(answers)
    return f"{opening}\n{line}\n{closing} <<'{end}'\n{answers}\n{end}"


def _private_commands(steps: Sequence[Step]) -> set[int]:
    """
    The commands that write a key openssl makes with the umask: each names a path a
    ``Chmod`` step makes private (only on an openssl lacking 0600 keys of its own).
    """
    private = {step.path for step in steps if isinstance(step, Chmod)}
    return {
        index
        for index, step in enumerate(steps)
        if isinstance(step, Command) and private.intersection(step.argv)
    }


def _file_step(step: MakeDir | WriteFile | Concat | Chmod, shell: Shell) -> str:
    """A small file step, the same in both forms (a CA's new folder aside)."""
    if isinstance(step, MakeDir):
        path = quote_path(step.path, shell, step.field)
        if shell == "powershell":
            return f"New-Item -ItemType Directory -Force -Path {path} | Out-Null"
        return f"mkdir {'-p ' if step.parents else ''}-m 700 -- {path}"
    if isinstance(step, Chmod):
        path = quote_path(step.path, shell, step.field)
        if shell == "powershell":
            return person.comment(f"{path}: on Windows, a key's access comes from its folder")
        return f"chmod 600 -- {path}"
    if isinstance(step, Concat):
        out = quote_path(step.out, shell, step.field)
        if shell == "powershell":
            sources = ", ".join(quote_path(p, shell, step.field) for p in step.inputs)
            return f"Get-Content -LiteralPath {sources} | {PS_WRITE} {out}"
        sources = " ".join(quote_path(p, shell, step.field) for p in step.inputs)
        return f"cat -- {sources} > {out}"
    path = quote_path(step.path, shell, step.field)
    body = step.text.rstrip("\n")
    if shell == "powershell":
        return f"{_here_string(body, step.field)} | {PS_WRITE} {path}"
    end = _here_delimiter(body)
    return f"cat > {path} <<'{end}'\n{body}\n{end}"


def render_step(
    step: Step, shell: Shell = "posix", *, form: Form = "script", private: bool = False
) -> str:
    """
    One step as the form shows it (``private``: a command writing a key made 0600 later).

    Raises:
        InvalidInputError: a value PowerShell cannot carry (``--shell powershell``).
    """
    if isinstance(step, Command):
        return _render_command(step, shell, private=private)
    if isinstance(step, Note):
        return person.comment(step.text)
    if form == "print":
        if isinstance(step, Guard):
            return "\n".join(person.guard_lines(step, shell))
        if isinstance(step, TakeSerial):
            return "\n".join(person.take_serial_lines(step, shell))
        if isinstance(step, Verified):
            return "\n".join(person.verified_lines(step, shell))
        if isinstance(step, MakeDir) and step.result:
            return "\n".join(person.new_folder_lines(step, shell))
        return _file_step(step, shell)
    if isinstance(step, Guard):
        return guard.render_guard(step, shell)
    if isinstance(step, TakeSerial):
        return guard.render_take_serial(step, shell)
    if isinstance(step, Verified):
        return guard.render_verified(step, shell)
    if isinstance(step, MakeDir) and step.result:
        return guard.render_new_folder(step, shell)
    return _file_step(step, shell)


def render_listing(steps: list[Step], shell: Shell = "posix") -> str:
    """
    What a run does, just before it does it: each command's line, and each file a
    step writes named (its answers are shown apart).
    """
    lines = []
    for step in steps:
        if isinstance(step, Command):
            lines.append(step.render(shell))
        elif isinstance(step, Note):
            lines.append(person.comment(step.text))
        elif isinstance(step, WriteFile):
            # The scratch folder as the commands show it ($work), never its inner marker.
            lines.append(person.comment(f"write {quote_path(step.path, shell, step.field)}"))
        elif not isinstance(step, (Guard, TakeSerial, Verified)):
            lines.append(_file_step(step, shell))
    return "\n".join(lines)


def uses_folder(steps: list[Step], folder: str = WORK) -> bool:
    """Whether any step reads or writes a file under ``folder`` (the scratch one by default)."""

    def under(path: str) -> bool:
        return path == folder or path.startswith(folder + "/")

    for step in steps:
        command = step.command if isinstance(step, Verified) else step
        if isinstance(command, Command) and any(under(token) for token in command.argv):
            return True
        if isinstance(step, (MakeDir, WriteFile, Chmod)) and under(step.path):
            return True
        if isinstance(step, Concat) and any(map(under, (step.out, *step.inputs))):
            return True
    return False


def answer_comments(prompts: tuple[Prompt, ...]) -> list[str]:
    """The answers as a person would type them, as comments ('.' leaves a field blank)."""
    width = max((len(p.display) for p in prompts), default=0)
    return [person.comment(f"  {p.display + ':':<{width + 1}} {p.answer}") for p in prompts]


def render_script(
    steps: list[Step],
    shell: Shell = "posix",
    *,
    form: Form = "script",
    heading: str | None = None,
    readback: Command | None = None,
    shebang: bool = False,
    explain: bool = False,
) -> str:
    """
    The whole sequence in the form asked: for a person (``print``), or for a machine
    (``script``: ``set -eu`` when more than one step runs, a stop after any failing
    command in PowerShell). A scratch folder (``$work``) is made and removed when a step
    uses one. ``readback``: the vendor page's check of the result (a command for a
    person, a comment in a script). ``explain``: each command's options in plain words
    first, as comments.

    Raises:
        InvalidInputError: a value PowerShell cannot carry (``--shell powershell``).
    """
    work = uses_folder(steps)
    runs = [step for step in steps if not isinstance(step, Note)]
    strict = form == "script" and (len(runs) > 1 or work)
    body = _body(steps, shell, form=form, strict=strict, explain=explain)
    lines = ["#!/bin/sh"] if shebang and shell == "posix" else []
    if heading:
        lines.append(person.comment(heading))
    if shell == "powershell":
        if not all(map(str.isascii, body)):
            lines.append(_PS_NOT_ASCII)
        if strict:
            lines.append("$ErrorActionPreference = 'Stop'")
        if any(isinstance(step, Command) and step.prompts for step in steps):
            lines.append(_PS_UTF8_STDIN)
    elif strict:
        lines.append("set -eu")
    lines += _in_work_folder(body, shell, form=form) if work else body
    if readback is not None:
        if form == "print":
            lines += [person.comment("read the result back:"), readback.render(shell)]
        else:
            lines += ["# then reads the result back with:", person.comment(readback.render(shell))]
    return "\n".join(line for line in lines if line)


def _body(steps: list[Step], shell: Shell, *, form: Form, strict: bool, explain: bool) -> list[str]:
    """
    Each step, a command's options in words first (``explain``) and its answers after;
    a PowerShell script stops after any openssl that failed (``strict``).
    """
    private = _private_commands(steps) if shell == "posix" else set()
    lines = []
    for index, step in enumerate(steps):
        command = step.command if isinstance(step, Verified) else step
        if explain and isinstance(command, Command):
            lines.append(explanation(command, shell))
        lines.append(render_step(step, shell, form=form, private=index in private))
        if isinstance(step, Command):
            if step.prompts:
                lines += [_ANSWERED, *answer_comments(step.prompts)]
            if strict and shell == "powershell":
                lines.append(_PS_STOP)
    return lines


def explanation(command: Command, shell: Shell) -> str:
    """Each option of the command with its meaning, as comments (--explain)."""
    parts = command.explain(shell)
    width = max(len(text) for text, _ in parts)
    return "\n".join(person.comment(f" {text:<{width}}  {why}") for text, why in parts)


def _in_work_folder(body: list[str], shell: Shell, *, form: Form) -> list[str]:
    """The body between making the scratch folder and removing it."""
    if shell == "powershell":
        if form == "print":
            return [_PS_WORK, *body, _PS_DROP_WORK]
        return [_PS_WORK, "try {", *body, "} finally {", _PS_DROP_WORK, "}"]
    if form == "print":
        return ["work=$(mktemp -d)", *body, 'rm -rf -- "$work"']
    return ["work=$(mktemp -d)", "trap 'rm -rf \"$work\"' EXIT", *body]


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
        command = step.command if isinstance(step, Verified) else step
        if isinstance(command, Command):
            openssl.require(command.needs)
