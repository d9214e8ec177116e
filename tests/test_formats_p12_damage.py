"""
A .pfx that cannot be opened: damaged files, and a passphrase file saved on Windows.

Each damaged file is exit 2 with one line that says why (never a traceback, never an
empty reason), from every command that reads a certificate; the openssl builds are
the matrix's to vary. The .pfx files are made by the openssl under test.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.helpers import OPENSSL, listing, openssl, requires_openssl
from tests.pki import make_ca, make_leaf, write

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.helpers import Run

pytestmark = requires_openssl
PASSPHRASE = "s3cret phrase"  # noqa: S105 - a test passphrase
HOST = "p12-damage.example.com"
CRLF_HINT = (
    "the file ends in a Windows line ending (CR LF); openssl reads the CR as part of the passphrase"
)


@pytest.fixture
def pfx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """good.pfx (leaf, key, chain; the passphrase in $P12_PASS), made by the openssl under test."""
    inter = make_ca("P12 Damage CA")
    leaf = make_leaf(inter, [HOST], cn=HOST)
    write(tmp_path, "leaf.pem", leaf.pem())
    write(tmp_path, "leaf.key", leaf.key_pem())
    write(tmp_path, "chain.pem", inter.pem())
    monkeypatch.setenv("P12_PASS", PASSPHRASE)
    openssl("pkcs12", "-export", "-inkey", "leaf.key", "-in", "leaf.pem", "-certfile",
            "chain.pem", "-passout", "env:P12_PASS", "-out", "good.pfx", cwd=tmp_path)  # fmt: skip
    data = (tmp_path / "good.pfx").read_bytes()
    assert pkcs12.load_key_and_certificates(data, PASSPHRASE.encode())[1] is not None
    return data


def _damaged(data: bytes, damage: str) -> bytes:
    """The .pfx's bytes with one kind of damage."""
    if damage == "cut-in-half":
        return data[: len(data) // 2]
    if damage == "last-byte-cut":
        return data[:-1]
    if damage == "byte-flipped":  # inside the sealed contents: its integrity check fails
        middle = bytearray(data)
        middle[len(data) // 2] ^= 0x5A
        return bytes(middle)
    if damage == "random-bytes":
        return os.urandom(len(data))
    if damage == "random-after-a-der-header":  # a SEQUENCE of the right length, version 3
        size = len(data) - 4
        return bytes([0x30, 0x82, size >> 8, size & 0xFF, 0x02, 0x01, 0x03]) + os.urandom(size - 3)
    raise AssertionError(damage)


@pytest.mark.parametrize(
    "damage",
    [
        "cut-in-half",
        "last-byte-cut",
        "byte-flipped",
        "random-bytes",
        "random-after-a-der-header",
    ],
)
def test_an_unreadable_pfx_is_exit_2_with_one_line_why(
    cli: Callable[..., Run], tmp_path: Path, pfx: bytes, damage: str
) -> None:
    """inspect, check and bundle on a damaged .pfx: exit 2, one line naming it and why."""
    broken = _damaged(pfx, damage)
    (tmp_path / "broken.pfx").write_bytes(broken)
    with pytest.raises(ValueError, match="PKCS12"):  # an independent reader fails too
        pkcs12.load_key_and_certificates(broken, PASSPHRASE.encode())
    before = listing(tmp_path)
    for args in (
        ["inspect", "broken.pfx", "--pass", "env:P12_PASS"],
        ["inspect", "broken.pfx", "--json"],
        ["check", "--cert", "broken.pfx", "--pass", "env:P12_PASS"],
        ["bundle", "--cert", "broken.pfx", "--pass", "env:P12_PASS", "--out", "full.pem"],
        ["bundle", "--cert", "broken.pfx", "--pass", "env:P12_PASS", "--p12", "o.p12"],
    ):
        result = cli(*args)
        assert result.code == 2, (args, result.out, result.err)
        lines = result.err.splitlines()
        assert len(lines) == 1, (args, result.err)
        assert "Traceback" not in result.err
        prefix, _, why = lines[0].partition(": ")
        assert prefix == "flow-ssl"
        assert "broken.pfx" in why
        assert len(why.replace("broken.pfx", "").strip(" :")) > 10, why  # a reason, not a name
        assert PASSPHRASE not in result.out + result.err
        assert listing(tmp_path) == before


def test_a_passphrase_file_with_crlf_gets_a_hint(
    cli: Callable[..., Run], tmp_path: Path, pfx: bytes
) -> None:
    """--pass file: ending in CR LF: openssl keeps the CR, so it fails; the error says why."""
    (tmp_path / "windows.txt").write_bytes(PASSPHRASE.encode() + b"\r\n")
    (tmp_path / "unix.txt").write_bytes(PASSPHRASE.encode() + b"\n")
    (tmp_path / "wrong.txt").write_bytes(b"not it\n")
    # openssl itself: the CR LF file does not open it, the LF file does.
    read = [str(OPENSSL), "pkcs12", "-nokeys", "-in", "good.pfx", "-passin"]
    assert subprocess.run([*read, "file:windows.txt"], cwd=tmp_path, capture_output=True,
                          check=False).returncode != 0  # fmt: skip
    assert subprocess.run([*read, "file:unix.txt"], cwd=tmp_path, capture_output=True,
                          check=False).returncode == 0  # fmt: skip
    with pytest.raises(ValueError, match="PKCS12"):
        pkcs12.load_key_and_certificates(pfx, PASSPHRASE.encode() + b"\r")
    for args in (
        ["inspect", "good.pfx"],
        ["check", "--cert", "good.pfx"],
        ["bundle", "--cert", "good.pfx", "--out", "full.pem"],
    ):
        windows = cli(*args, "--pass", "file:windows.txt")
        assert windows.code == 2, (args, windows.out)
        assert len(windows.err.splitlines()) == 1
        assert "--pass: file:windows.txt does not open good.pfx" in windows.err
        assert f"(file:windows.txt: {CRLF_HINT}" in windows.err
        assert PASSPHRASE not in windows.out + windows.err
        wrong = cli(*args, "--pass", "file:wrong.txt")
        assert wrong.code == 2
        assert "the passphrase is wrong" in wrong.err
        assert CRLF_HINT not in wrong.err
    unix = cli("inspect", "good.pfx", "--pass", "file:unix.txt", "--json")
    assert unix.code == 0, unix.err
    assert CRLF_HINT not in unix.err
    assert not (tmp_path / "full.pem").exists()


def _length(size: int) -> bytes:
    return bytes([size]) if size < 0x80 else b"\x82" + size.to_bytes(2, "big")


def _with_mac_iterations(data: bytes, count: int) -> bytes:
    """The .pfx with its MAC's iteration count (the last INTEGER of macData) set to ``count``."""
    assert data[:2] == b"\x30\x82"
    body = data[4:]
    version, rest = body[:3], body[3:]
    auth_size = int.from_bytes(rest[2:4], "big") + 4 if rest[1] == 0x82 else rest[1] + 2
    auth, mac = rest[:auth_size], rest[auth_size:]
    assert mac[0] == 0x30
    inner = mac[2:] if mac[1] < 0x80 else mac[2 + (mac[1] & 0x7F) :]
    at = inner.rindex(b"\x02\x02")  # the iteration count (2048: two bytes)
    value = count.to_bytes(count.bit_length() // 8 + 1, "big")  # minimal, as DER wants
    inner = inner[:at] + b"\x02" + bytes([len(value)]) + value
    mac = b"\x30" + _length(len(inner)) + inner
    body = version + auth + mac
    return b"\x30" + _length(len(body)) + body


def test_a_pfx_asking_billions_of_iterations_is_refused_at_once(
    cli: Callable[..., Run], tmp_path: Path, pfx: bytes
) -> None:
    """A MAC iteration count of 2^31-1 would keep openssl busy for hours: exit 2 up front."""
    (tmp_path / "slow.pfx").write_bytes(_with_mac_iterations(pfx, 2**31 - 1))
    before = listing(tmp_path)
    for args in (["inspect", "slow.pfx"], ["check", "--cert", "slow.pfx"]):
        result = cli(*args, "--pass", "env:P12_PASS")
        assert result.code == 2, result.err
        assert "slow.pfx asks for 2,147,483,647 iterations of its key derivation" in result.err
        assert listing(tmp_path) == before
    (tmp_path / "usual.pfx").write_bytes(_with_mac_iterations(pfx, 2048))
    assert cli("inspect", "usual.pfx", "--pass", "env:P12_PASS").code == 0  # the surgery is sound
