"""
The small file steps a plan has between its openssl commands, and ``Step``, any of them.

Plans list them; ``render`` shows them (``--print`` for a person, ``--script`` for a
machine), and the run loop performs them (make/perform.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flow_ssl.openssl.commands.base import Command

if TYPE_CHECKING:
    from collections.abc import Sequence

    from flow_ssl.files import Output


@dataclass(frozen=True)
class MakeDir:
    """
    A private folder (it will hold private keys); ``parents`` makes missing ones too.
    ``result``: the folder is what the script makes (a CA), removed whole if it stops.
    """

    path: str
    parents: bool = False
    field: str = ""
    result: bool = False


@dataclass(frozen=True)
class WriteFile:
    """A small text file flow-ssl writes itself (a config, a serial)."""

    path: str
    text: str
    field: str = ""


@dataclass(frozen=True)
class Concat:
    """Files joined into one (leaf + chain)."""

    out: str
    inputs: tuple[str, ...]
    field: str = ""


@dataclass(frozen=True)
class Chmod:
    """
    A private key made 0600 (LibreSSL writes ``-keyout`` with the umask, often 0644).

    A printed command that names this path runs under ``umask 077`` too, so the key is
    never readable by others, not even until this step runs.
    """

    path: str
    field: str = ""


@dataclass(frozen=True)
class Guard:
    """
    A printed script's check of the files it writes: refuse to run over one, or with
    ``keep`` (``--force``), copy each existing one to a dated backup first.
    """

    paths: tuple[str, ...]
    keep: bool = False
    fields: tuple[str, ...] = ()  # each path's option, for a refusal
    refusal: str = "nothing was changed"
    existing: tuple[str, ...] = ()  # the paths that exist as it is printed (--print says so)
    overwrite: str = "these commands write over it"  # what --print says of one that exists

    @classmethod
    def over(cls, outputs: Sequence[Output], *, force: bool, refusal: str, overwrite: str) -> Guard:
        """
        The check of a plan's outputs (a script may run long after it was printed): stop at
        an existing file, or with ``force`` keep each as a dated backup, as a run would.
        The ones that exist as it is printed are named too (``--print`` says so). The CLI
        words ``refusal`` and ``overwrite`` (what --print says of one that exists): they name
        its option.
        """
        return cls(
            tuple(str(output.path) for output in outputs),
            keep=force,
            fields=tuple(output.field for output in outputs),
            refusal=refusal,
            overwrite=overwrite,
            existing=tuple(
                str(output.path)
                for output in outputs
                if output.path.exists() or output.path.is_symlink()
            ),
        )


@dataclass(frozen=True)
class TakeSerial:
    """
    A printed script's claim on a CA serial, before openssl signs with it: stop unless
    the serial file still holds ``serial``, then move it on to ``following``.
    """

    path: str
    serial: str
    following: str
    field: str = ""


@dataclass(frozen=True)
class Verified:
    """
    A printed script's check that openssl answers in words, not always in its exit code:
    ``openssl req -verify`` exits 0 on "verify failure" on 1.1.1, 3.0 and LibreSSL; a
    file's digest is the one printed. A ``--script`` goes on only when the output says
    ``passed`` and never ``failed`` (none when empty), else it stops with ``refusal``;
    ``--print`` shows the command with ``advice``.
    """

    command: Command
    passed: str
    refusal: str
    advice: str
    failed: str = ""


@dataclass(frozen=True)
class Note:
    """A comment line."""

    text: str


# One thing a plan does, in order.
Step = Command | MakeDir | WriteFile | Concat | Chmod | Guard | TakeSerial | Verified | Note
