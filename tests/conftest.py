"""Fixtures: run the CLI in-process in a fresh folder."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from flow_ssl.cli.app import main
from tests.helpers import Run

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Run]:
    """Run ``flow-ssl ARGS`` in-process, in a fresh folder."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> Run:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture(autouse=True, scope="session")
def _own_probe_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The suite remembers openssl's probes in a folder of its own, never the user's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield
