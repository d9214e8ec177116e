"""A CA's serials and log, attacked: kills, damaged files, wrong passphrases, symlinked folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.helpers import OPENSSL, fake_openssl, listing, load_cert, openssl, requires_openssl

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.helpers import Run

pytestmark = requires_openssl
PASSPHRASE = "correct horse battery staple"  # noqa: S105 - the test CA's


def _serial(ca: Path) -> int:
    return int((ca / "serial").read_text(), 16)


def _logged(ca: Path) -> list[int]:
    log = ca / "issued.log"
    if not log.exists():
        return []
    return [int(json.loads(line)["serial"], 16) for line in log.read_text().splitlines()]


def _csr(folder: Path, name: str) -> Path:
    openssl("req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-pkeyopt", "ec_param_enc:named_curve", "-keyout", f"{name}.key",
            "-subj", f"/CN={name}", "-out", f"{name}.csr", cwd=folder)  # fmt: skip
    return folder / f"{name}.csr"


@pytest.fixture
def root(cli: Callable[..., Run], tmp_path: Path) -> Path:
    """A fresh root CA in ./ca."""
    made = cli("ca", "init", "--dir", "ca", "--name", "Serial Root")
    assert made.code == 0, made.err
    return tmp_path / "ca"


def test_a_killed_ca_sign_never_lets_its_serial_be_used_again(
    cli: Callable[..., Run], root: Path, tmp_path: Path
) -> None:
    """flow-ssl killed (SIGKILL) right after openssl signed: the next sign takes a new serial."""
    _csr(tmp_path, "one.example.com")
    killer = fake_openssl(
        tmp_path,
        f'for a in "$@"; do if [ "$a" = -CA ]; then "{OPENSSL}" "$@"; kill -KILL $PPID; '
        f'sleep 5; exit 1; fi; done\nexec "{OPENSSL}" "$@"\n',
    )
    env = {**os.environ, "FLOW_SSL_OPENSSL": str(killer)}
    killed = subprocess.run(
        [sys.executable, "-m", "flow_ssl", "ca", "sign", "one.example.com.csr", "--dir", "ca"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert killed.returncode == -9
    (signed_then_killed,) = tmp_path.glob(".flow-ssl-*/one.example.com.crt")
    lost = load_cert(signed_then_killed).serial_number
    assert not (tmp_path / "one.example.com.crt").exists()
    assert _logged(root) == []
    again = cli("ca", "sign", "one.example.com.csr", "--dir", "ca")
    assert again.code == 0, again.err
    made = load_cert(tmp_path / "one.example.com.crt").serial_number
    assert made != lost
    assert _logged(root) == [made]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("00\n", "no certificate may carry"),
        ("0\n", "no certificate may carry"),
        ("80" + "00" * 19 + "\n", "given out its last serial"),  # 2**159: 21 octets in DER
        ("01" + "00" * 20 + "\n", "no certificate may carry"),
        ("zz\n", "does not hold a hex serial"),
        ("", "does not hold a hex serial"),
    ],
)
def test_a_damaged_or_out_of_range_serial_file_is_refused(
    cli: Callable[..., Run], root: Path, tmp_path: Path, text: str, words: str
) -> None:
    """Serial 0 or over 20 octets (RFC 5280), used up, or no number: exit 2, nothing signed."""
    (root / "serial").write_text(text)
    _csr(tmp_path, "s.example.com")
    before = listing(tmp_path)
    for args in (
        ("ca", "sign", "s.example.com.csr", "--dir", "ca"),
        ("ca", "issue", "--dir", "ca", "--cn", "s.example.com", "--subj", "--keyout", "x.key"),
        ("ca", "sign", "s.example.com.csr", "--dir", "ca", "--print"),
    ):
        result = cli(*args)
        assert result.code == 2, result.err
        assert words in result.err
        assert "Traceback" not in result.err
    assert listing(tmp_path) == before
    assert (root / "serial").read_text() == text


def test_the_last_serial_is_given_then_refused(
    cli: Callable[..., Run], root: Path, tmp_path: Path
) -> None:
    """The largest 20-octet serial is issued once; after it the CA says it is used up."""
    largest = 2**159 - 1
    (root / "serial").write_text(f"{largest:X}\n")
    first = cli("ca", "issue", "--dir", "ca", "--cn", "a.example.com", "--subj")
    assert first.code == 0, first.err
    assert load_cert(tmp_path / "a.example.com.crt").serial_number == largest
    assert _logged(root) == [largest]
    used_up = (root / "serial").read_text()
    _csr(tmp_path, "c.example.com")
    before = listing(tmp_path)
    for args in (
        ("ca", "issue", "--dir", "ca", "--cn", "b.example.com", "--subj"),
        ("ca", "sign", "c.example.com.csr", "--dir", "ca"),
        ("ca", "issue", "--dir", "ca", "--cn", "b.example.com", "--subj", "--print"),
        ("ca", "init", "--dir", "sub", "--name", "Sub", "--parent", "ca"),
    ):
        second = cli(*args)
        assert second.code == 2, second.err
        assert "no certificate may carry" in second.err
        assert "this CA has given out its last serial" in second.err
        assert "make a new issuing CA" in second.err
        assert "damaged" not in second.err
        assert "restore" not in second.err
        assert len(second.err.strip().splitlines()) == 1
    assert listing(tmp_path) == before
    assert (root / "serial").read_text() == used_up
    assert _logged(root) == [largest]


@pytest.mark.parametrize("own", ["serial", "ca.key", "ca.crt"])
def test_a_ca_file_that_is_a_symlink_is_refused(
    cli: Callable[..., Run], root: Path, tmp_path: Path, own: str
) -> None:
    """serial, ca.key or ca.crt a link out of the folder: exit 2, link and target untouched."""
    (tmp_path / "elsewhere").mkdir()
    target = tmp_path / "elsewhere" / own
    (root / own).rename(target)
    (root / own).symlink_to(target)
    target_bytes = target.read_bytes()
    _csr(tmp_path, "l.example.com")
    before = listing(tmp_path)
    for args in (
        ("ca", "issue", "--dir", "ca", "--cn", "i.example.com", "--subj"),
        ("ca", "sign", "l.example.com.csr", "--dir", "ca"),
        ("ca", "sign", "l.example.com.csr", "--dir", "ca", "--print"),
        ("ca", "init", "--dir", "sub", "--name", "Sub", "--parent", "ca"),
    ):
        result = cli(*args)
        assert result.code == 2, result.err
        assert f"ca/{own} is a symbolic link" in result.err
        assert len(result.err.strip().splitlines()) == 1
    assert (root / own).is_symlink()
    assert target.read_bytes() == target_bytes
    assert listing(tmp_path) == before
    assert _logged(root) == []


def test_the_log_lists_only_what_was_put_in_place(
    cli: Callable[..., Run], root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ca sign whose full chain cannot be put in place: exit 3, no file, no log line."""
    real_replace = Path.replace

    def full_at_the_chain(self: Path, target: str | os.PathLike[str]) -> Path:
        into_place = ".flow-ssl-" in str(self) and ".flow-ssl-" not in str(target)
        if into_place and str(target).endswith("fullchain.pem"):
            raise OSError(28, "No space left on device", str(target))
        return real_replace(self, target)

    _csr(tmp_path, "p.example.com")
    # A rename refused half way cannot be produced on demand; the filesystem call is faked.
    monkeypatch.setattr(Path, "replace", full_at_the_chain)
    result = cli("ca", "sign", "p.example.com.csr", "--dir", "ca")
    assert result.code == 3, result.err
    assert "could not put p.example.com.fullchain.pem in place" in result.err
    assert not (tmp_path / "p.example.com.crt").exists()
    assert _logged(root) == []
    monkeypatch.setattr(Path, "replace", real_replace)
    made = cli("ca", "sign", "p.example.com.csr", "--dir", "ca")
    assert made.code == 0, made.err
    assert _logged(root) == [load_cert(tmp_path / "p.example.com.crt").serial_number]


@pytest.fixture
def locked_root(cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A root CA whose key is encrypted with PASSPHRASE (from $GOOD_PASS)."""
    monkeypatch.setenv("GOOD_PASS", PASSPHRASE)
    monkeypatch.setenv("BAD_PASS", "not the passphrase")
    made = cli("ca", "init", "--dir", "locked", "--name", "Locked", "--ca-pass", "env:GOOD_PASS")
    assert made.code == 0, made.err
    return tmp_path / "locked"


def test_a_wrong_ca_passphrase_is_exit_3_and_spends_no_serial(
    cli: Callable[..., Run], locked_root: Path, tmp_path: Path
) -> None:
    """A wrong passphrase: exit 3, 'wrong passphrase for .../ca.key', no serial, no file."""
    assert locked_root.name == "locked"
    _csr(tmp_path, "w.example.com")
    serial = _serial(locked_root)
    before = listing(tmp_path)
    for args in (
        ("ca", "sign", "w.example.com.csr"),
        ("ca", "issue", "--cn", "w.example.com", "--subj", "--keyout", "w2.key"),
    ):
        result = cli(*args, "--dir", "locked", "--ca-pass", "env:BAD_PASS")
        assert result.code == 3, result.err
        assert "wrong passphrase for locked/ca.key" in result.err
        assert "not the passphrase" not in result.err + result.out
        assert len(result.err.strip().splitlines()) == 1
    sub = cli("ca", "init", "--dir", "sub", "--name", "Sub", "--parent", "locked",
              "--parent-pass", "env:BAD_PASS")  # fmt: skip
    assert sub.code == 3
    assert "wrong passphrase" in sub.err
    assert listing(tmp_path) == before
    assert _serial(locked_root) == serial
    assert _logged(locked_root) == []


def test_an_unset_passphrase_variable_names_the_option(
    cli: Callable[..., Run], locked_root: Path, tmp_path: Path
) -> None:
    """env:VAR with VAR unset: exit 2 naming --ca-pass (or --parent-pass), nothing taken."""
    serial = _serial(locked_root)
    result = cli("ca", "issue", "--dir", "locked", "--cn", "u.example.com", "--subj",
                 "--ca-pass", "env:NO_SUCH_PASS_VARIABLE")  # fmt: skip
    assert result.code == 2
    assert result.err.startswith("flow-ssl: --ca-pass: ")
    assert "NO_SUCH_PASS_VARIABLE" in result.err
    sub = cli("ca", "init", "--dir", "sub", "--name", "Sub", "--parent", "locked",
              "--parent-pass", "env:NO_SUCH_PASS_VARIABLE")  # fmt: skip
    assert sub.code == 2
    assert "--parent-pass" in sub.err
    assert not (tmp_path / "u.example.com.key").exists()
    assert not (tmp_path / "sub").exists()
    assert _serial(locked_root) == serial


def test_ca_init_through_a_symlinked_folder(
    cli: Callable[..., Run], root: Path, tmp_path: Path
) -> None:
    """--dir a symlink to an empty folder: the CA is made there; the parent's state agrees."""
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    serial = _serial(root)
    result = cli("ca", "init", "--dir", "link", "--name", "Linked Issuing", "--parent", "ca")
    assert result.code == 0, result.err
    assert (tmp_path / "link").is_symlink()
    issuing = load_cert(tmp_path / "real" / "ca.crt")
    issuing.verify_directly_issued_by(load_cert(root / "ca.crt"))
    assert issuing.serial_number == serial
    assert _serial(root) == serial + 1
    assert _logged(root) == [serial]
    issued = cli("ca", "issue", "--dir", "link", "--cn", "l.example.com", "--subj")
    assert issued.code == 0, issued.err


def _short_once(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Make the first key flow-ssl checks look short (as LibreSSL 3.3.6 writes 1 in 256)."""
    from flow_ssl.openssl.read import keys

    checked: list[Path] = []

    def short_first(path: Path) -> bool:
        checked.append(path)
        return len(checked) == 1

    monkeypatch.setattr(keys, "short_key_file", short_first)
    return checked


def _signs_as_it_makes_the_key() -> bool:
    """req -CA makes the key and signs at once; else x509 -req signs once the key is made."""
    from flow_ssl.openssl import runner

    return runner.find_openssl().supports("-CA")


def test_a_short_ec_key_is_made_again_with_a_new_serial_once_signed(
    cli: Callable[..., Run], root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ca issue: a short key is made again; a certificate signed with it takes its serial along."""
    checked = _short_once(monkeypatch)
    serial = _serial(root)
    result = cli(
        "ca", "issue", "--dir", "ca", "--cn", "k.example.com", "--subj", "--key", "ec:P-256"
    )
    assert result.code == 0, result.err
    assert len(checked) == 2
    # Signed together with the short key (req -CA): that serial is spent, never given again.
    # Signed after the key was checked (x509 -req): no certificate carried it, so it is used.
    used = serial + 1 if _signs_as_it_makes_the_key() else serial
    assert load_cert(tmp_path / "k.example.com.crt").serial_number == used
    assert _serial(root) == used + 1
    assert _logged(root) == [used]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ca",
        "k.example.com.crt",
        "k.example.com.fullchain.pem",
        "k.example.com.key",
    ]


def test_a_short_key_of_an_issuing_ca_spends_no_serial_of_its_root(
    cli: Callable[..., Run], root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ca init --parent: the CA key is made again before the root signs: one serial, one line."""
    checked = _short_once(monkeypatch)
    serial = _serial(root)
    result = cli("ca", "init", "--dir", "sub", "--name", "Short Sub", "--parent", "ca")
    assert result.code == 0, result.err
    assert len(checked) == 2
    issuing = load_cert(tmp_path / "sub" / "ca.crt")
    issuing.verify_directly_issued_by(load_cert(root / "ca.crt"))
    assert issuing.serial_number == serial
    assert _serial(root) == serial + 1
    assert _logged(root) == [serial]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ca", "sub"]


def test_a_short_ec_key_is_made_again_by_selfsigned(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """selfsigned: a short key is made again, with its certificate, before anything is written."""
    checked = _short_once(monkeypatch)
    result = cli("selfsigned", "--cn", "k.example.com", "--subj", "--key", "ec:P-256")
    assert result.code == 0, result.err
    assert len(checked) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.example.com.crt", "k.example.com.key"]
