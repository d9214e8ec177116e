"""
Reading a process's output with a ceiling: a binary that floods its pipes is cut off.

For the probes (``openssl version``, ``openssl CMD -help``): their honest output is a
few kilobytes, and whatever ``FLOW_SSL_OPENSSL`` names must not cost memory or time
without end by printing more.
"""

from __future__ import annotations

import os
import selectors
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from subprocess import Popen

PROBE_LIMIT = 1 << 20


class FloodError(Exception):
    """The process printed more than the ceiling (it is killed)."""


def read_all(
    process: Popen[bytes], *, timeout: float, limit: int = PROBE_LIMIT
) -> tuple[bytes, bytes]:
    """
    stdout and stderr of ``process`` (its stdin closed at once), like ``communicate``.

    Raises:
        FloodError: more than ``limit`` bytes in all; the process is killed.
        TimeoutError: no end within ``timeout`` seconds; the process is killed.
    """
    if process.stdin is not None:
        process.stdin.close()
    pipes = [stream.fileno() for stream in (process.stdout, process.stderr) if stream]
    chunks: dict[int, list[bytes]] = {fd: [] for fd in pipes}
    deadline, total = time.monotonic() + timeout, 0
    with selectors.DefaultSelector() as selector:
        for fd in pipes:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            ready = selector.select(remaining) if remaining > 0 else []
            if not ready:
                process.kill()
                raise TimeoutError
            for key, _ in ready:
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fd)
                    continue
                chunks[key.fd].append(chunk)
                total += len(chunk)
                if total > limit:
                    process.kill()
                    raise FloodError
    process.wait()
    out, err = (b"".join(chunks.get(fd, [])) for fd in pipes)
    return out, err
