"""
A sequence of steps (openssl commands, and the small file steps between them) as a script.

``--print`` of the CA and batch commands shows this: the operator can read it,
or save and run it, and get what flow-ssl would make. Pure: nothing is run here.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flow_ssl.commands import Command, powershell_quote

if TYPE_CHECKING:
    from flow_ssl.commands import Shell

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


def _quote(token: str, shell: Shell) -> str:
    return powershell_quote(token) if shell == "powershell" else shlex.quote(token)


def render_step(step: Step, shell: Shell = "posix", *, brief: bool = False) -> str:
    """One step as it would be typed; ``brief`` names a written file instead of showing it."""
    if isinstance(step, Command):
        return step.render(shell)
    if isinstance(step, Note):
        return f"# {step.text}"
    if isinstance(step, MakeDir):
        if shell == "powershell":
            return f"New-Item -ItemType Directory -Path {_quote(step.path, shell)} | Out-Null"
        return f"mkdir {'-p ' if step.parents else ''}-m 700 {_quote(step.path, shell)}"
    if isinstance(step, Concat):
        if shell == "powershell":
            sources = ", ".join(_quote(p, shell) for p in step.inputs)
            return f"Get-Content {sources} | Set-Content -Encoding ascii {_quote(step.out, shell)}"
        sources = " ".join(_quote(p, shell) for p in step.inputs)
        return f"cat {sources} > {_quote(step.out, shell)}"
    if brief:
        return f"# write {step.path}"
    body = step.text.rstrip("\n")
    if shell == "powershell":
        return f"@'\n{body}\n'@ | Set-Content -Encoding ascii {_quote(step.path, shell)}"
    return f"cat > {_quote(step.path, shell)} <<'{_END}'\n{body}\n{_END}"


def render_script(steps: list[Step], shell: Shell = "posix", *, brief: bool = False) -> str:
    """The whole sequence, one step per line (a file's text spans several)."""
    return "\n".join(render_step(step, shell, brief=brief) for step in steps)
