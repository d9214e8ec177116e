"""
What one run has put in place: the writer records each file as it lands, and the CLI names
them when a signal stops the run (they are complete, and kept).

The CLI makes one record per run and binds it for the run's length; the writer records into
the record bound where it runs. A context variable, not a module global: two runs in one
process (tests run several, in threads too) each keep their own.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

_bound: ContextVar[Placed | None] = ContextVar("flow_ssl_placed", default=None)


class Placed:
    """The files a run has put in place, in order (batch entries record from their threads)."""

    def __init__(self) -> None:
        """An empty record."""
        self._paths: list[Path] = []
        self._lock = threading.Lock()

    def paths(self) -> list[Path]:
        """Every file recorded so far."""
        with self._lock:
            return list(self._paths)

    @contextmanager
    def recording(self) -> Iterator[None]:
        """Bind this record: files put in place in this context (and copies of it) land here."""
        token = _bound.set(self)
        try:
            yield
        finally:
            _bound.reset(token)

    def add(self, paths: Iterable[Path]) -> None:
        """Record files just put in place."""
        with self._lock:
            self._paths.extend(paths)


def record_placed(paths: Iterable[Path]) -> None:
    """Record files just put in place in the run's record (outside a run: nowhere)."""
    placed = _bound.get()
    if placed is not None:
        placed.add(paths)
