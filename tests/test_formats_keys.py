"""
Keys beside the certificate: in a combined PEM, passphrase-protected, or not the leaf's.

Keys are encrypted by the openssl under test (pkey and ec, PKCS#8 and the legacy
PEM header), and the unencrypted copy check tells the operator to make is made by
running its command exactly as printed, the passphrase typed at openssl's prompt.
"""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING

import pexpect
import pytest
from cryptography.hazmat.primitives import serialization

from tests.helpers import OPENSSL, listing, openssl, requires_openssl
from tests.pki import Issued, make_ca, make_leaf, write

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.helpers import Run

pytestmark = requires_openssl
KEY_PASS = "key pass phrase"  # noqa: S105 - a test passphrase
HOST = "keys.example.com"
# pkey writes PKCS#8 (ENCRYPTED PRIVATE KEY); ec writes the legacy Proc-Type header.
ENCRYPTIONS = {"pkcs8": ("pkey", "-aes256"), "legacy-pem": ("ec", "-aes256")}


@pytest.fixture
def leaf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Issued:
    """leaf.pem and its unencrypted leaf.key; $KEY_PASS set."""
    issued = make_leaf(make_ca("Keys CA"), [HOST], cn=HOST)
    write(tmp_path, "leaf.pem", issued.pem())
    write(tmp_path, "leaf.key", issued.key_pem())
    monkeypatch.setenv("KEY_PASS", KEY_PASS)
    monkeypatch.setenv("WRONG_PASS", "nope nope")
    return issued


def _encrypt(tmp_path: Path, how: str, out: str = "enc.key") -> bytes:
    tool, cipher = ENCRYPTIONS[how]
    openssl(tool, "-in", "leaf.key", cipher, "-passout", "env:KEY_PASS", "-out", out,
            cwd=tmp_path)  # fmt: skip
    data = (tmp_path / out).read_bytes()
    assert (b"ENCRYPTED PRIVATE KEY" in data) == (how == "pkcs8")
    return data


def _findings(result: Run) -> dict[str, tuple[str, str]]:
    return {f["check"]: (f["status"], f["message"]) for f in json.loads(result.out)["findings"]}


@pytest.mark.usefixtures("leaf")
@pytest.mark.parametrize("how", ENCRYPTIONS)
def test_an_encrypted_key_fails_and_is_compared_with_its_passphrase(
    cli: Callable[..., Run], tmp_path: Path, how: str
) -> None:
    """Encrypted: key-unencrypted fails; --pass lets openssl compare it; a wrong one is exit 2."""
    _encrypt(tmp_path, how)
    base = ["check", "--cert", "leaf.pem", "--key", "enc.key", "--json"]
    alone = cli(*base)
    assert alone.code == 1
    found = _findings(alone)
    assert found["key-unencrypted"][0] == "fail"
    assert (
        "(umask 077 && openssl pkey -in enc.key -out enc.unencrypted.key)"
        in found["key-unencrypted"][1]
    )
    assert found["key-matches-cert"][0] == "warn"
    assert _findings(cli(*base, "--pass", "env:KEY_PASS"))["key-matches-cert"][0] == "pass"
    wrong = cli(*base, "--pass", "env:WRONG_PASS")
    assert wrong.code == 2, wrong.err
    assert "--pass: env:WRONG_PASS does not decrypt the key in enc.key" in wrong.err
    for run in (alone, wrong):
        assert KEY_PASS not in run.out + run.err
        assert "nope nope" not in run.out + run.err


@pytest.mark.parametrize("how", ENCRYPTIONS)
def test_the_printed_command_writes_an_unencrypted_0600_copy(
    cli: Callable[..., Run], tmp_path: Path, leaf: Issued, how: str
) -> None:
    """check's command, run as printed, the passphrase typed: the key, unencrypted, 0600."""
    _encrypt(tmp_path, how)
    result = cli("check", "--cert", "leaf.pem", "--key", "enc.key", "--json")
    message = _findings(result)["key-unencrypted"][1]
    command = message[message.index("(umask 077") :]
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "openssl").write_text(f'#!/bin/sh\nexec "{OPENSSL}" "$@"\n')
    (shim / "openssl").chmod(0o755)
    child = pexpect.spawn("sh", ["-c", f"PATH={shim}:$PATH; {command}"], cwd=str(tmp_path),
                          timeout=30, encoding="utf-8")  # fmt: skip
    child.expect("(?i)pass ?phrase")
    child.sendline(KEY_PASS)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    copy = tmp_path / "enc.unencrypted.key"
    assert copy.stat().st_mode & 0o777 == 0o600
    key = serialization.load_pem_private_key(copy.read_bytes(), None)
    assert key.public_key() == leaf.cert.public_key()


def test_a_combined_file_s_key_is_checked_without_key(
    cli: Callable[..., Run], tmp_path: Path, leaf: Issued
) -> None:
    """The key inside --cert is used: matched when it is the leaf's, failed when it is not."""
    write(tmp_path, "good.pem", b"Private key:\n", leaf.key_pem(), b"\nCertificate:\n", leaf.pem())
    good = cli("check", "--cert", "good.pem", "--json")
    assert _findings(good)["key-matches-cert"][0] == "pass"
    assert _findings(good)["key-unencrypted"] == ("pass", "the key in good.pem has no passphrase")
    other = make_leaf(make_ca("Other CA"), [HOST], cn=HOST)
    write(tmp_path, "bad.pem", other.key_pem(), leaf.pem())
    bad = cli("check", "--cert", "bad.pem", "--json")
    assert bad.code == 1
    assert _findings(bad)["key-matches-cert"][0] == "fail"


@pytest.mark.usefixtures("leaf")
def test_a_combined_file_with_an_encrypted_key(cli: Callable[..., Run], tmp_path: Path) -> None:
    """An encrypted key inside --cert: check names the command; bundle --p12 refuses it (exit 2)."""
    write(
        tmp_path, "combined.pem", _encrypt(tmp_path, "pkcs8"), (tmp_path / "leaf.pem").read_bytes()
    )
    result = cli("check", "--cert", "combined.pem", "--json")
    assert result.code == 1
    status, message = _findings(result)["key-unencrypted"]
    assert status == "fail"
    assert "openssl pkey -in combined.pem -out combined.key" in message
    before = listing(tmp_path)
    bundled = cli("bundle", "--cert", "combined.pem", "--p12", "o.p12", "--pass", "env:KEY_PASS")
    assert bundled.code == 2, bundled.err
    assert "passphrase-protected" in bundled.err
    assert listing(tmp_path) == before
    assert KEY_PASS not in bundled.out + bundled.err


@pytest.mark.usefixtures("leaf")
def test_the_printed_command_never_names_a_file_that_exists(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """The key-copy command names a new file: run and failing, it leaves an existing one whole."""
    _encrypt(tmp_path, "pkcs8")
    (tmp_path / "enc.unencrypted.key").write_bytes(b"keep me\n")
    result = cli("check", "--cert", "leaf.pem", "--key", "enc.key", "--json")
    message = _findings(result)["key-unencrypted"][1]
    command = message[message.index("(umask 077") :]
    assert command.endswith("-out enc.unencrypted-2.key)"), command
    wrong = command.replace("openssl pkey", f"'{OPENSSL}' pkey -passin pass:wrong")
    failed = subprocess.run(["sh", "-c", wrong], cwd=tmp_path, capture_output=True, check=False)
    assert failed.returncode != 0
    assert (tmp_path / "enc.unencrypted.key").read_bytes() == b"keep me\n"
