"""bundle --p12: key, leaf and chain in a .pfx that 1.1.1, 3.x and cryptography all read."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.helpers import SYSTEM_OPENSSL, fill_disk, listing, requires_openssl, small_filesystem
from tests.pki import Issued, make_ca, make_leaf, write

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.helpers import Run

pytestmark = requires_openssl
HOST = "flow.mycompany.com"
OPENSSL_111 = Path(__file__).resolve().parents[2] / "shared" / "openssl" / "bin" / "openssl-1.1.1w"


@pytest.fixture
def chain_files(tmp_path: Path) -> tuple[Issued, Issued, Issued]:
    """leaf.pem (+ leaf.key) and chain.pem (intermediate and root) in the test folder."""
    root = make_ca("P12 Root")
    inter = make_ca("P12 Issuing", root)
    leaf = make_leaf(inter, [HOST], cn=HOST)
    write(tmp_path, "leaf.pem", leaf.pem())
    write(tmp_path, "leaf.key", leaf.key_pem())
    write(tmp_path, "chain.pem", root.pem(), inter.pem())
    return root, inter, leaf


@pytest.mark.parametrize("legacy", [False, True])
def test_p12_holds_key_leaf_and_chain_for_every_reader(
    cli: Callable[..., Run],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    chain_files: tuple[Issued, Issued, Issued],
    legacy: bool,
) -> None:
    """The .p12 opens with cryptography and with openssl (3.x, and 1.1.1 where present), 0600."""
    _, inter, leaf = chain_files
    monkeypatch.setenv("P12_PASS", "correct horse")
    args = ["bundle", "--cert", "leaf.pem", "--chain", "chain.pem", "--key", "leaf.key",
            "--p12", "out.p12", "--pass", "env:P12_PASS"]  # fmt: skip
    result = cli(*args, *(["--p12-legacy"] if legacy else []))
    assert result.code == 0, result.err
    data = (tmp_path / "out.p12").read_bytes()
    assert (tmp_path / "out.p12").stat().st_mode & 0o777 == 0o600
    key, cert, extra = pkcs12.load_key_and_certificates(data, b"correct horse")
    assert cert == leaf.cert
    assert extra == [inter.cert]  # the root left out
    assert key is not None
    assert key.public_key() == leaf.cert.public_key()
    friendly = pkcs12.load_pkcs12(data, b"correct horse").cert
    assert friendly is not None
    assert friendly.friendly_name == HOST.encode()
    # The readers on purpose: OpenSSL 3 (the system's) and 1.1.1, whatever is under test.
    readers = [SYSTEM_OPENSSL, *([str(OPENSSL_111)] if OPENSSL_111.exists() else [])]
    for binary in readers:
        assert binary is not None
        printed = subprocess.run(
            [binary, "pkcs12", "-in", "out.p12", "-passin", "env:P12_PASS", "-nokeys"],
            cwd=tmp_path, capture_output=True, check=True,
        ).stdout  # fmt: skip
        assert printed.count(b"BEGIN CERTIFICATE") == 2, binary
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "chain.pem",
        "leaf.key",
        "leaf.pem",
        "out.p12",
    ]


@pytest.mark.usefixtures("chain_files")
def test_p12_print_shows_the_source_never_the_secret(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--print shows openssl pkcs12 with -passout env:..., not the passphrase; writes nothing."""
    monkeypatch.setenv("P12_PASS", "correct horse")
    before = listing(tmp_path)
    result = cli("bundle", "--cert", "leaf.pem", "--chain", "chain.pem", "--key", "leaf.key",
                 "--p12", "out.p12", "--pass", "env:P12_PASS", "--print")  # fmt: skip
    assert result.code == 0, result.err
    assert "-passout env:P12_PASS" in result.out
    assert "correct horse" not in result.out
    assert listing(tmp_path) == before


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--pass", "correct horse"], "--pass"),
        (["--pass", "env:P12_PASS", "--key", "chain.pem"], "--key"),
        (["--pass", "env:P12_PASS", "--key", "other.key"], "is not the key"),
        ([], "--pass"),
    ],
)
def test_p12_refuses_a_literal_passphrase_or_a_wrong_key(
    cli: Callable[..., Run],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    chain_files: tuple[Issued, Issued, Issued],
    extra: list[str],
    words: str,
) -> None:
    """A literal passphrase, a non-key or another key: exit 2, nothing written, nothing echoed."""
    monkeypatch.setenv("P12_PASS", "correct horse")
    write(tmp_path, "other.key", make_leaf(chain_files[1], [HOST]).key_pem())
    before = listing(tmp_path)
    key = [] if "--key" in extra else ["--key", "leaf.key"]
    result = cli("bundle", "--cert", "leaf.pem", "--chain", "chain.pem", "--p12", "out.p12",
                 *key, *extra)  # fmt: skip
    assert result.code == 2, result.err
    assert words in result.err
    assert "correct horse" not in result.err
    assert listing(tmp_path) == before


@pytest.mark.parametrize("room", [0, 4096, 8192, 12288])
@pytest.mark.parametrize("from_pfx", [False, True])
def test_a_p12_onto_a_full_disk_names_the_file_asked_for(
    cli: Callable[..., Run],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    chain_files: tuple[Issued, Issued, Issued],
    room: int,
    from_pfx: bool,
) -> None:
    """Whichever file fills the disk (leaf, chain, key, .pfx): exit 3 naming x.pfx, no staging."""
    del chain_files
    monkeypatch.setenv("P12_PASS", "correct horse")
    given = ["--cert", "leaf.pem", "--chain", "chain.pem", "--key", "leaf.key"]
    if from_pfx:  # its key is written out by openssl into the staging folder first
        made = cli("bundle", *given, "--p12", "in.pfx", "--pass", "env:P12_PASS")
        assert made.code == 0, made.err
        given = ["--cert", "in.pfx"]
    with small_filesystem(tmp_path / "tiny", "256k") as tiny:
        fill_disk(tiny / "filler", leave=room)
        result = cli("bundle", *given, "--p12", "tiny/x.pfx", "--pass", "env:P12_PASS")
        assert result.code == 3, result.err
        assert "no space left" in result.err.lower()
        assert "tiny/x.pfx" in result.err
        assert ".flow-ssl" not in result.err
        assert listing(tiny) == ["filler"]
