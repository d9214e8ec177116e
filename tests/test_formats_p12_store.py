"""
A .pfx is read twice where openssl can: pkcs12 prints its certificates (friendly names
raw among them), storeutl lists its X.509 certificates (no name), and the two must agree.

OpenSSL 3.0 and later have that storeutl; 1.1.1's prompts for the passphrase and
LibreSSL has none, so there flow-ssl never starts it. The files are made by the
openssl under test, or by the machine's OpenSSL 3 where only it can (-nomac).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import SYSTEM_OPENSSL, openssl, requires_openssl
from tests.pki import make_ca, make_leaf, write

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.helpers import Run

pytestmark = requires_openssl
PASSPHRASE = "s3cret phrase"  # noqa: S105 - a test passphrase
HOST = "p12-store.example.com"


def _has_store() -> bool:
    """Whether the openssl under test is OpenSSL 3.0 or later (its own version line)."""
    match = re.match(r"OpenSSL (\d+)\.", openssl("version").decode())
    return match is not None and int(match.group(1)) >= 3


@pytest.fixture
def pki(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """leaf.pem, leaf.key and chain.pem in the test folder; the passphrase in $P12_PASS."""
    inter = make_ca("P12 Store CA")
    leaf = make_leaf(inter, [HOST], cn=HOST)
    write(tmp_path, "leaf.pem", leaf.pem())
    write(tmp_path, "leaf.key", leaf.key_pem())
    write(tmp_path, "chain.pem", inter.pem())
    monkeypatch.setenv("P12_PASS", PASSPHRASE)


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every argv flow-ssl starts, recorded."""
    calls: list[list[str]] = []
    real = subprocess.Popen

    def spy(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        calls.append(list(argv))
        return real(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", spy)
    return calls


@pytest.mark.usefixtures("pki")
def test_storeutl_lists_the_pfx_with_the_same_source_where_it_opens_pkcs12(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenSSL 3+: one storeutl per .pfx read, pass source and path only; 1.1.1/LibreSSL: none."""
    openssl("pkcs12", "-export", "-inkey", "leaf.key", "-in", "leaf.pem", "-certfile",
            "chain.pem", "-passout", "env:P12_PASS", "-out", "f.pfx", cwd=tmp_path)  # fmt: skip
    calls = _spy(monkeypatch)
    result = cli("inspect", "f.pfx", "--pass", "env:P12_PASS", "--json")
    assert result.code == 0, result.err
    stores = [argv[1:] for argv in calls if argv[1:2] == ["storeutl"]]
    shown = cli("inspect", "f.pfx", "--pass", "env:P12_PASS", "--print").out
    if not _has_store():
        assert stores == []
        assert "storeutl" not in shown
        return
    assert stores == [["storeutl", "-passin", "env:P12_PASS", "-certs", "f.pfx"]]
    assert "# flow-ssl also runs openssl storeutl -passin env:P12_PASS -certs f.pfx" in shown


@pytest.mark.skipif(SYSTEM_OPENSSL is None, reason="needs the machine's OpenSSL 3 (-nomac)")
@pytest.mark.usefixtures("pki")
def test_a_pfx_storeutl_cannot_open_is_refused_with_the_reason(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """No MAC, key encrypted: storeutl tries only the empty passphrase; OpenSSL 3+ exit 2, why."""
    openssl("pkcs12", "-export", "-inkey", "leaf.key", "-in", "leaf.pem", "-certpbe", "NONE",
            "-nomac", "-passout", "env:P12_PASS", "-out", "nomac.pfx", cwd=tmp_path,
            system=True)  # fmt: skip
    result = cli("inspect", "nomac.pfx", "--pass", "env:P12_PASS", "--json")
    assert result.code == 2, result.out
    if _has_store():
        assert "openssl storeutl cannot open it" in result.err
        assert "export it again with a MAC" in result.err
    assert PASSPHRASE not in result.out + result.err
