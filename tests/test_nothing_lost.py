"""Nothing is ever lost: existing files kept, backups on --force, all or nothing, full disks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from flow_ssl import files
from tests.helpers import (
    fill_disk,
    key_spki,
    listing,
    load_cert,
    load_csr,
    requires_openssl,
    small_filesystem,
    spki,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tests.helpers import Run

pytestmark = requires_openssl
CN = "flow.mycompany.com"


def test_the_hint_never_costs_a_pending_requests_key(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """csr then selfsigned: refused, naming the CSR's key; --force keeps that key as a backup."""
    assert cli("csr", "--cn", CN, "--key", "ec:P-256", "--subj").code == 0
    pending_key = (tmp_path / f"{CN}.key").read_bytes()
    before = listing(tmp_path)
    refused = cli("selfsigned", "--cn", CN, "--key", "ec:P-256", "--subj")
    assert refused.code == 2
    assert f"the request {CN}.csr beside it" in refused.err
    assert "--keyout" in refused.err
    assert "--force" in refused.err
    assert listing(tmp_path) == before
    forced = cli("selfsigned", "--cn", CN, "--key", "ec:P-256", "--subj", "--force")
    assert forced.code == 0, forced.err
    backups = sorted(tmp_path.glob(f"{CN}.key.bak-*"))
    assert len(backups) == 1
    assert backups[0].read_bytes() == pending_key
    assert backups[0].stat().st_mode & 0o777 == 0o600
    assert backups[0].name in forced.out
    # The CA's answer to the pending CSR still has its key: the backup.
    assert spki(load_csr(tmp_path / f"{CN}.csr").public_key()) == key_spki(backups[0])


def test_force_keeps_every_replaced_file(cli: Callable[..., Run], tmp_path: Path) -> None:
    """--force twice: both old keys and certificates kept, each named in --json, keys 0600."""
    base = ["selfsigned", "--cn", CN, "--key", "ec:P-256", "--subj"]
    assert cli(*base).code == 0
    first_cert = (tmp_path / f"{CN}.crt").read_bytes()
    result = cli(*base, "--force", "--json")
    assert result.code == 0
    import json

    kept = json.loads(result.out)["backups"]
    assert set(kept) == {f"{CN}.key", f"{CN}.crt"}
    assert Path(tmp_path / kept[f"{CN}.crt"]).read_bytes() == first_cert
    assert (tmp_path / kept[f"{CN}.key"]).stat().st_mode & 0o777 == 0o600
    assert load_cert(tmp_path / f"{CN}.crt").public_key() is not None


def test_a_failed_put_in_place_restores_everything(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the second rename fails, the first is undone: old key and cert as they were, exit 3."""
    assert cli("selfsigned", "--cn", CN, "--key", "ec:P-256", "--subj").code == 0
    state = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real_replace = Path.replace
    calls: list[Path] = []

    def failing_second(self: Path, target: str | os.PathLike[str]) -> Path:
        if ".flow-ssl-" in str(self):
            calls.append(self)
            if len(calls) == 2:
                raise OSError(28, "No space left on device", str(target))
        return real_replace(self, target)

    # A rename that fails half way cannot be produced on demand; the filesystem call is faked.
    monkeypatch.setattr(Path, "replace", failing_second)
    result = cli("selfsigned", "--cn", CN, "--key", "ec:P-256", "--subj", "--force")
    assert result.code == 3
    assert "No space left on device" in result.err
    assert "nothing was changed" in result.err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == state


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs, nearly full: writes there fail with 'No space left on device'."""
    with small_filesystem(tmp_path / "tiny", "256k") as mount:
        fill_disk(mount / "filler", leave=4096)  # room for a key, not for its certificate too
        yield mount


def test_a_full_disk_is_exit_3_and_leaves_nothing(cli: Callable[..., Run], tiny_disk: Path) -> None:
    """openssl runs out of space half way: exit 3 with the reason, no file, no staging left."""
    key, cert = str(tiny_disk / "flow.key"), str(tiny_disk / "flow.crt")
    result = cli("selfsigned", "--cn", CN, "--subj", "--keyout", key, "--out", cert)
    assert result.code == 3, result.err
    assert "space" in result.err.lower()
    assert listing(tiny_disk) == ["filler"]


def test_a_bundle_onto_a_full_disk_keeps_the_old_file(
    cli: Callable[..., Run], tiny_disk: Path, tmp_path: Path
) -> None:
    """bundle --force onto a full disk: exit 3, the old file untouched, no staging left."""
    from tests.pki import make_ca, make_leaf, write

    root = make_ca("Root")
    inter = make_ca("Inter", root)
    leaf = make_leaf(inter, [CN])
    cert = write(tmp_path, "leaf.crt", leaf.pem())
    chain = write(tmp_path, "chain.crt", inter.pem() * 40)  # duplicates: a large input
    old = tiny_disk / "full.pem"
    old.write_bytes(b"old bundle\n")
    fill_disk(tiny_disk / "more", leave=0)
    result = cli("bundle", "--cert", str(cert), "--chain", str(chain), "--out", str(old), "--force")
    assert result.code == 3, result.err
    assert "space" in result.err.lower()
    assert old.read_bytes() == b"old bundle\n"
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler", "full.pem", "more"]


def test_a_full_disk_at_the_last_file_is_exit_3(
    cli: Callable[..., Run], tiny_disk: Path, tmp_path: Path
) -> None:
    """ca issue with room for the key and certificate, not the full chain: exit 3, nothing kept."""
    assert cli("ca", "init", "--dir", "ca", "--name", "Disk Root", "--key", "ec:P-256").code == 0
    serial = (tmp_path / "ca" / "serial").read_text()
    (tiny_disk / "filler").unlink()
    fill_disk(tiny_disk / "filler", leave=8192)  # two pages: the key and the certificate
    outputs = [str(tiny_disk / n) for n in ("flow.key", "flow.crt", "flow-fullchain.pem")]
    result = cli("ca", "issue", "--dir", "ca", "--cn", CN, "--subj", "--key", "ec:P-256",
                 "--keyout", outputs[0], "--out", outputs[1],
                 "--fullchain", outputs[2])  # fmt: skip
    assert result.code == 3, result.err
    assert "space" in result.err.lower()
    assert outputs[2] in result.err  # the real file, never its staging path
    assert ".flow-ssl-" not in result.err
    assert listing(tiny_disk) == ["filler"]
    assert not (tmp_path / "ca" / "issued.log").exists()
    assert (tmp_path / "ca" / "serial").read_text() != serial  # spent, never reused


def test_backup_names_never_collide(tmp_path: Path) -> None:
    """Two backups of one file in the same second get distinct names."""
    target = tmp_path / "x.key"
    target.write_text("one")
    first = files.backup_name(target)
    first.write_text("kept")
    second = files.backup_name(target)
    assert second != first
    assert second.name.startswith("x.key.bak-")


def test_batch_with_an_unusable_out_dir_is_bad_input(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """out_dir that is a file: exit 2 naming the entry and out_dir, nothing written."""
    (tmp_path / "certs").write_text("not a folder")
    (tmp_path / "hosts.toml").write_text('[[cert]]\ncn = "a.example.com"\nout_dir = "certs/x"\n')
    before = listing(tmp_path)
    result = cli("batch", "hosts.toml")
    assert result.code == 2, result.err
    assert "out_dir" in result.err
    assert "is a file" in result.err
    assert listing(tmp_path) == before


@pytest.mark.parametrize("kind", ["fifo", "device-link", "loop"])
def test_outputs_that_are_not_files_are_refused_even_with_force(
    cli: Callable[..., Run], tmp_path: Path, kind: str
) -> None:
    """A FIFO, a link to /dev/null or a symlink loop as --out: exit 2 and left as it was."""
    target = tmp_path / "out.crt"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "device-link":
        target.symlink_to("/dev/null")  # were this replaced, only the link would go
    else:
        target.symlink_to(target)
    before = listing(tmp_path)
    result = cli("selfsigned", "--cn", CN, "--key", "ec:P-256", "--subj", "--out", "out.crt",
                 "--force")  # fmt: skip
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    assert listing(tmp_path) == before
    assert target.is_symlink() or target.is_fifo()


def test_a_signal_while_files_are_put_in_place_waits_for_the_last_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM arriving between the key's rename and the certificate's: both land, then it stops."""
    import signal

    from flow_ssl.core.errors import Stopped

    for name in ("a.key", "a.crt"):
        (tmp_path / name).write_text("old\n")
    real_replace = Path.replace

    def replace_then_signal(self: Path, target: str | os.PathLike[str]) -> Path:
        moved = real_replace(self, target)
        if str(target).endswith("a.key"):
            os.kill(os.getpid(), signal.SIGTERM)  # lands between the two renames
        return moved

    def stop(signum: int, _frame: object) -> None:
        raise Stopped(signum)

    previous = signal.signal(signal.SIGTERM, stop)
    monkeypatch.setattr(Path, "replace", replace_then_signal)
    outputs = [files.Output(tmp_path / "a.key", secret=True), files.Output(tmp_path / "a.crt")]

    def write_both() -> None:
        with files.staged(outputs) as (key, cert):
            key.write_text("new key\n")
            cert.write_text("new cert\n")

    try:
        with pytest.raises(Stopped):
            write_both()
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert (tmp_path / "a.key").read_text() == "new key\n"
    assert (tmp_path / "a.crt").read_text() == "new cert\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".flow-ssl-")]


def test_an_empty_passphrase_never_protects_a_new_file(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty variable, an empty file or /dev/null as a new key's passphrase: exit 2."""
    monkeypatch.setenv("EMPTY_PASS", "")
    (tmp_path / "empty.txt").write_text("\n")
    for source, words in (("env:EMPTY_PASS", "empty passphrase"),
                          ("file:empty.txt", "empty passphrase"),
                          ("file:/dev/null", "not a regular file")):  # fmt: skip
        result = cli("ca", "init", "--dir", "ca", "--name", "Root", "--ca-pass", source)
        assert result.code == 2, (source, result.err)
        assert words in result.err
    assert listing(tmp_path) == ["empty.txt"]


def test_a_run_names_only_what_it_put_in_place(tmp_path: Path) -> None:
    """Each run's record holds its own files: not an earlier run's, nor one outside any run."""
    from flow_ssl.core.placed import Placed

    def write(name: str) -> None:
        files.write_text(files.Output(tmp_path / name), "text\n")

    first, second = Placed(), Placed()
    with first.recording():
        write("a.txt")
    write("outside.txt")
    with second.recording():
        write("b.txt")
    assert first.paths() == [tmp_path / "a.txt"]
    assert second.paths() == [tmp_path / "b.txt"]
    assert (tmp_path / "outside.txt").read_text() == "text\n"
