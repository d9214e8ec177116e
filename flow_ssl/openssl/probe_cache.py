"""
What each openssl binary can do, remembered between runs, so a run asks the binary nothing a
previous run already learned (its ``version`` line, and the options each ``CMD -help`` lists).

One small JSON file per binary in the user's cache folder (``$XDG_CACHE_HOME/flow-ssl``, else
``~/.cache/flow-ssl``), keyed by the binary's real path and identity (device, inode, size,
modification and change times): a binary replaced or rewritten in place is probed afresh. A file
that is corrupt, for another binary, not the user's own, or writable by others is ignored, never
trusted. A folder that cannot be written (a read-only home) only makes runs slower.

The identity is the named file's: a wrapper script (``exec /opt/openssl-3.5/bin/openssl``)
that starts running another binary without being changed itself, or a shared libcrypto
upgraded under the same binary, is not seen; ``doctor`` says when the binary is a script,
and ``doctor --refresh`` asks again. Keying on what ``openssl version -a`` says would cost
the process per run the cache is there to save.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from flow_ssl import files

FORMAT = 1
# Every openssl's version line is well under this ("OpenSSL 3.0.13 30 Jan 2024 (Library: ...)").
VERSION_MAX = 200
# The help of one command lists a few hundred options at most; anything beyond is not openssl's.
_OPTIONS_MAX = 1000
_OPTION_MAX = 64
_COMMAND_MAX = 32
_SIZE_MAX = 256 * 1024


@dataclass
class Facts:
    """What one binary said of itself: its version line, and each command's help options."""

    version: str
    # None: the command does not exist in this binary.
    options: dict[str, frozenset[str] | None] = field(default_factory=dict)


def folder() -> Path:
    """Where the probe files live (``$XDG_CACHE_HOME/flow-ssl``, else ``~/.cache/flow-ssl``)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or ".")
    return (base if base.is_absolute() else Path.home() / ".cache") / "flow-ssl"


def identity(path: str) -> tuple[int, ...] | None:
    """The file at ``path`` as the cache knows it: device, inode, size, mtime and ctime."""
    try:
        info = Path(path).stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _file_for(path: str) -> Path:
    digest = hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return folder() / f"openssl-{digest}.json"


def recall(path: str) -> Facts | None:
    """
    What the binary at ``path`` said on an earlier run, if it is still the same file.

    None when there is no cache, or the cache is stale, damaged, foreign or unsafe.
    """
    now = identity(path)
    try:
        cache = _file_for(path)
    except RuntimeError:  # no home folder to find the cache in
        return None
    if now is None or not _owned_and_private(cache):
        return None
    try:
        with cache.open("rb") as handle:
            data = json.loads(handle.read(_SIZE_MAX + 1)[:_SIZE_MAX].decode("utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: JSON nested too deep
        return None
    return _facts(data, path, list(now))


def _owned_and_private(cache: Path) -> bool:
    """A cache file trusted only if this user wrote it and no one else can."""
    try:
        info = cache.lstat()
    except OSError:
        return False
    if not cache.is_file() or cache.is_symlink():
        return False
    owner_ok = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return owner_ok and not info.st_mode & 0o022


def _facts(data: object, path: str, now: list[int]) -> Facts | None:
    """The facts in a cache file's JSON, or None unless every part is as written."""
    if not isinstance(data, dict):
        return None
    if data.get("format") != FORMAT or data.get("path") != path or data.get("id") != now:
        return None
    version, helps = data.get("version"), data.get("options")
    if not isinstance(version, str) or not 0 < len(version) <= VERSION_MAX:
        return None
    if not isinstance(helps, dict) or len(helps) > _OPTIONS_MAX:
        return None
    options: dict[str, frozenset[str] | None] = {}
    for command, listed in helps.items():
        if not isinstance(command, str) or not 0 < len(command) <= _COMMAND_MAX:
            return None
        if listed is None:
            options[command] = None
            continue
        if not isinstance(listed, list) or len(listed) > _OPTIONS_MAX:
            return None
        if not all(isinstance(o, str) and 1 < len(o) <= _OPTION_MAX for o in listed):
            return None
        options[command] = frozenset(listed)
    return Facts(version, options)


def remember(path: str, facts: Facts) -> None:
    """Keep what the binary at ``path`` said; quietly nothing where the folder is not writable."""
    now = identity(path)
    if now is None:
        return
    data = {
        "format": FORMAT,
        "path": path,
        "id": list(now),
        "version": facts.version,
        "options": {
            command: None if listed is None else sorted(listed)
            for command, listed in sorted(facts.options.items())
        },
    }
    try:
        folder().mkdir(mode=0o700, parents=True, exist_ok=True)
        files.replace_text(_file_for(path), json.dumps(data, ensure_ascii=True) + "\n")
    except (OSError, ValueError, RuntimeError):
        return  # a read-only or full home, or none: the next run probes again


def is_script(path: str) -> bool:
    """Whether the binary is a script (``#!``): what it runs is not part of its identity."""
    try:
        with Path(path).open("rb") as handle:
            return handle.read(2) == b"#!"
    except OSError:
        return False


def unusable() -> str | None:
    """Why the cache folder cannot hold probes (something else at its path), if it cannot."""
    try:
        where = folder()
    except RuntimeError:
        return "there is no home folder to keep it in"
    if where.is_symlink() and not where.exists():
        return "it is a symbolic link to nothing"
    if where.exists() and not where.is_dir():
        return "it is a file, not a folder"
    return None


def cached_files() -> list[Path]:
    """Every probe file in the cache folder (for doctor)."""
    try:
        return sorted(folder().glob("openssl-*.json"))
    except (OSError, RuntimeError):
        return []


def forget() -> list[Path]:
    """
    Drop every remembered probe (``doctor --refresh``); returns the files removed.

    Raises:
        OSError: a probe file could not be removed.
    """
    removed = []
    for cache in cached_files():
        cache.unlink(missing_ok=True)
        removed.append(cache)
    return removed
