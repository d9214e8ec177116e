"""Fixtures: run the CLI in-process in a fresh folder."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from flow_ssl.cli.app import main
from flow_ssl.openssl import runner
from tests.helpers import Run

if TYPE_CHECKING:
    from collections.abc import Callable
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


@pytest.fixture(autouse=True)
def _fresh_openssl_probe() -> None:
    """Each test finds openssl anew (tests swap it for fakes)."""
    runner._probe.cache_clear()
