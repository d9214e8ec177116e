"""
Safe output: no silent overwrite, staged writes renamed into place, 0600 keys,
nothing left behind on failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl.core.errors import InvalidInputError, OutputExistsError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

KEY_MODE = 0o600
STAGING_PREFIX = ".flow-ssl-"


@dataclass(frozen=True)
class Output:
    """One file to write: where it goes, and whether it is a private key."""

    path: Path
    secret: bool = False


def check_outputs(outputs: Sequence[Output], *, force: bool) -> None:
    """
    Refuse outputs that would clobber or cannot be written, before anything runs.

    Raises:
        InvalidInputError: a missing folder, a folder in the way, or the same path twice.
        OutputExistsError: a file exists and ``force`` is false.
    """
    seen: set[Path] = set()
    for output in outputs:
        path = output.path
        resolved = path.resolve()
        if resolved in seen:
            raise InvalidInputError(f"{path} is given for two outputs; name each file once")
        seen.add(resolved)
        if not path.parent.is_dir():
            raise InvalidInputError(
                f"folder {path.parent} does not exist", hint=f"create it: mkdir -p {path.parent}"
            )
        if not os.access(path.parent, os.W_OK):
            raise InvalidInputError(f"folder {path.parent} is not writable")
        if path.is_dir():
            raise InvalidInputError(f"{path} is a folder; give a file name")
        if path.exists() and not force:
            raise OutputExistsError(f"{path} already exists; nothing was changed")


@contextmanager
def staged(outputs: Sequence[Output]) -> Iterator[list[Path]]:
    """
    Give temporary paths beside each output; on success rename them into place.

    The staging folder is created 0700 in each output's own folder, so the final
    rename is atomic and a half-written key is never readable by others. If the
    body raises, every staged file is removed and no output is touched.
    """
    folders: dict[Path, Path] = {}
    staged_paths: list[Path] = []
    try:
        for output in outputs:
            parent = output.path.parent
            if parent not in folders:
                folders[parent] = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=parent))
            staged_paths.append(folders[parent] / output.path.name)
        yield staged_paths
        for output, temporary in zip(outputs, staged_paths, strict=True):
            if output.secret:
                # openssl 1.0.2 and LibreSSL write keys with the umask: fix it here.
                temporary.chmod(KEY_MODE)
            temporary.replace(output.path)
    finally:
        for folder in folders.values():
            shutil.rmtree(folder, ignore_errors=True)


def write_text(output: Output, text: str, *, force: bool) -> None:
    """Write one text file atomically (staged and renamed), never clobbering without force."""
    check_outputs([output], force=force)
    with staged([output]) as (temporary,):
        temporary.write_text(text, encoding="utf-8")
