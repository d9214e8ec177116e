"""
What ``--print`` shows a person in place of a script's guards: comments and plain commands.

A person pastes ``--print`` into an interactive shell, so it holds no shell code that
could close that shell (no ``set``, ``trap``, ``exit``, functions or loops). What a
``--script`` checks as it runs, a person is told as it is printed: a file that exists
(kept as a dated backup first with ``--force``), the CA serial it takes, the words
to look for where openssl's exit code cannot be trusted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flow_ssl.openssl.commands.base import PS_WRITE, quote_path

if TYPE_CHECKING:
    from flow_ssl.openssl.commands.base import Shell
    from flow_ssl.openssl.script.steps import Guard, MakeDir, TakeSerial, Verified

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def comment(text: str) -> str:
    """
    ``text`` as one comment line: a line break or other control character in a name
    is written as an escape, so no part of it can run as a command.
    """
    return "# " + "".join(_escaped(char) for char in text)


def _escaped(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x20 or 0x7F <= code < 0xA0 else char


def guard_lines(guard: Guard, shell: Shell) -> list[str]:
    """
    The outputs that exist as this is printed: said (they would be written over), or with
    ``keep`` (``--force``) moved to a dated backup first, as a run keeps them.
    """
    if not guard.existing:
        return []
    if not guard.keep:
        return [comment(f"{path} exists: {guard.overwrite}") for path in guard.existing]
    fields = dict(zip(guard.paths, guard.fields or ("",) * len(guard.paths), strict=True))
    lines = [comment("kept first as dated backups (if a step fails, move them back):")]
    for path in guard.existing:
        quoted = quote_path(path, shell, fields.get(path, ""), literal=True)
        if shell == "powershell":
            stamp = "(Get-Date -Format 'yyyyMMdd-HHmmss')"
            lines.append(
                f"Move-Item -LiteralPath {quoted} -Destination ({quoted} + '.bak-' + {stamp})"
            )
        else:
            # Moved, not copied: openssl then makes a new file (0600 for a key), where it
            # would keep an old file's mode.
            lines.append(f'mv -- {quoted} {quoted}".bak-$(date +%Y%m%d-%H%M%S)"')
    return lines


def take_serial_lines(take: TakeSerial, shell: Shell) -> list[str]:
    """The serial said, and the serial file moved past it (so no run gives it again)."""
    path = quote_path(take.path, shell, take.field, literal=True)
    said = comment(
        f"takes serial {take.serial} from {take.path}: if it no longer holds {take.serial}, "
        "another run took it, so print this again"
    )
    if shell == "powershell":
        return [said, f"{PS_WRITE} {path} -Value '{take.following}'"]
    return [said, f"echo {take.following} > {path}"]


def new_folder_lines(make: MakeDir, shell: Shell) -> list[str]:
    """A CA's new folder, 0700: made, or (new and empty) made private."""
    path = quote_path(make.path, shell, make.field)
    if shell == "powershell":
        return [f"New-Item -ItemType Directory -Force -Path {path} | Out-Null"]
    return [f"mkdir -p -m 700 -- {path}", f"chmod 700 -- {path}"]


def verified_lines(check: Verified, shell: Shell) -> list[str]:
    """The command, after what to look for in its output."""
    return [comment(check.advice), check.command.render(shell)]
