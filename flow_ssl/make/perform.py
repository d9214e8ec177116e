"""
Steps done for real: openssl commands through the runner, and the small file steps
between them written through ``files``.

The same steps a ``--print`` script shows (openssl/script renders them); the run loop
performs them in staging, with the files' final names for any error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl import files
from flow_ssl.core.errors import WriteFailedError
from flow_ssl.openssl import runner
from flow_ssl.openssl.commands.base import Command
from flow_ssl.openssl.script.render import require_all
from flow_ssl.openssl.script.steps import Chmod, Concat, MakeDir, TakeSerial, Verified, WriteFile

# A file anyone may read (certificates, CRLs), before the umask.
PUBLIC_MODE = 0o666

if TYPE_CHECKING:
    from collections.abc import Callable

    from flow_ssl.openssl.script.steps import Step


def _as_is(path: str) -> str:
    return path


def perform(steps: list[Step], *, shown: Callable[[str], str] = _as_is) -> None:
    """
    Do each step for real, once this openssl is known to run every command.

    ``shown`` turns a path the steps write (a staging one) into the one an error names.

    Raises:
        OpenSSLTooOldError: before anything runs, when a command needs what it lacks.
        OpenSSLError: a command failed.
        WriteFailedError: a file step could not write its file (a full disk, say).
    """
    require_all(runner.find_openssl(), steps)
    for step in steps:
        if isinstance(step, Command):
            if step.prompts:
                runner.run_interactive(step)
            else:
                runner.run(step)
        elif isinstance(step, MakeDir):
            Path(step.path).mkdir(mode=0o700, parents=step.parents)
        elif isinstance(step, Chmod):
            Path(step.path).chmod(files.KEY_MODE)
        elif isinstance(step, (WriteFile, Concat)):
            _write(step, shown)
        elif isinstance(step, (TakeSerial, Verified)):
            # A run reserves its serial under the CA's lock, and checks a CSR's signature
            # before it plans; only a printed script does either as a step.
            kind = type(step).__name__
            raise TypeError(f"a {kind} step is for printed scripts, never performed")
        # A Guard is for scripts too (a run checks its outputs itself); a Note says only.


def _write(step: WriteFile | Concat, shown: Callable[[str], str]) -> None:
    """A small file a step writes (a config, a full chain), replaced whole if it exists."""
    if isinstance(step, WriteFile):
        path, text = step.path, step.text
    else:
        path = step.out
        text = "".join(Path(p).read_text(encoding="ascii") for p in step.inputs)
    try:
        files.replace_text(Path(path), text)
        if isinstance(step, Concat):
            # Certificates or a CRL, for a server running as another user: the umask's
            # mode, as the printed "cat > FILE" gives it (the staging file is 0600).
            Path(path).chmod(PUBLIC_MODE & ~_umask())
    except OSError as exc:
        raise WriteFailedError(
            f"could not write {shown(path)}: {exc.strerror or exc}; nothing was changed"
        ) from None


def _umask() -> int:
    """The process's umask (read by setting it, then set back at once)."""
    mask = os.umask(0o077)
    os.umask(mask)
    return mask
