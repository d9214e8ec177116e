"""
A sequence of steps (openssl commands, and the small file steps between them): shown as a
script, or performed.

``--print`` shows the script: the operator can read it, or run it, and get what
flow-ssl would make. ``perform`` runs the very same steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl.openssl import runner
from flow_ssl.openssl.commands.base import Command, quote

if TYPE_CHECKING:
    from flow_ssl.openssl.commands.base import Prompt, Shell

# Here-document terminator; no file flow-ssl writes has a line like it.
_END = "FLOW_SSL_EOF"


@dataclass(frozen=True)
class MakeDir:
    """A private folder (it will hold private keys); ``parents`` makes missing ones too."""

    path: str
    parents: bool = False


@dataclass(frozen=True)
class WriteFile:
    """A small text file flow-ssl writes itself (a config, a serial)."""

    path: str
    text: str


@dataclass(frozen=True)
class Concat:
    """Files joined into one (leaf + chain)."""

    out: str
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class Note:
    """A comment line."""

    text: str


Step = Command | MakeDir | WriteFile | Concat | Note


def render_step(step: Step, shell: Shell = "posix", *, brief: bool = False) -> str:
    """One step as it would be typed; ``brief`` names a written file instead of showing it."""
    if isinstance(step, Command):
        return step.render(shell)
    if isinstance(step, Note):
        return f"# {step.text}"
    if isinstance(step, MakeDir):
        if shell == "powershell":
            return f"New-Item -ItemType Directory -Path {quote(step.path, shell)} | Out-Null"
        return f"mkdir {'-p ' if step.parents else ''}-m 700 {quote(step.path, shell)}"
    if isinstance(step, Concat):
        if shell == "powershell":
            sources = ", ".join(quote(p, shell) for p in step.inputs)
            return f"Get-Content {sources} | Set-Content -Encoding ascii {quote(step.out, shell)}"
        sources = " ".join(quote(p, shell) for p in step.inputs)
        return f"cat {sources} > {quote(step.out, shell)}"
    if brief:
        return f"# write {step.path}"
    body = step.text.rstrip("\n")
    if shell == "powershell":
        return f"@'\n{body}\n'@ | Set-Content -Encoding ascii {quote(step.path, shell)}"
    return f"cat > {quote(step.path, shell)} <<'{_END}'\n{body}\n{_END}"


def render_script(steps: list[Step], shell: Shell = "posix", *, brief: bool = False) -> str:
    """The whole sequence, one step per line (a file's text spans several)."""
    return "\n".join(render_step(step, shell, brief=brief) for step in steps)


def prompts_of(steps: list[Step]) -> list[Prompt]:
    """Every question the steps' commands ask, in order."""
    return [prompt for step in steps if isinstance(step, Command) for prompt in step.prompts]


def perform(steps: list[Step]) -> None:
    """
    Do each step for real, once this openssl is known to run every command.

    Raises:
        OpenSSLTooOldError: before anything runs, when a command needs what it lacks.
        OpenSSLError: a command failed.
    """
    openssl = runner.find_openssl()
    for step in steps:
        if isinstance(step, Command):
            openssl.require(step.needs)
    for step in steps:
        _perform(step)


def _perform(step: Step) -> None:
    if isinstance(step, Command):
        if step.prompts:
            runner.run_interactive(step)
        else:
            runner.run(step)
    elif isinstance(step, WriteFile):
        target = Path(step.path)
        staged = target.with_name(f".{target.name}.new")
        staged.write_text(step.text, encoding="ascii")
        staged.replace(target)  # atomic: a reader sees the old text or the new, never half
    elif isinstance(step, Concat):
        text = "".join(Path(p).read_text(encoding="ascii") for p in step.inputs)
        Path(step.out).write_text(text, encoding="ascii")
