"""A company CA is never damaged by its own commands: its files, its log, its secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography import x509

from tests.helpers import contents, listing, requires_openssl, small_filesystem

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tests.helpers import Run

pytestmark = requires_openssl
HOST = "flow.mycompany.com"


@pytest.fixture
def ca(cli: Callable[..., Run], tmp_path: Path) -> Path:
    """A root CA in ./ca (EC P-256: quick to make)."""
    assert cli("ca", "init", "--dir", "ca", "--name", "Safety Root", "--key", "ec:P-256").code == 0
    return tmp_path / "ca"


def _state(folder: Path) -> dict[str, bytes]:
    return contents(folder)


@pytest.mark.parametrize("own", ["ca.key", "ca.crt", "serial", "issued.log"])
def test_issue_never_writes_over_the_cas_own_files(
    cli: Callable[..., Run], ca: Path, own: str
) -> None:
    """--out or --keyout onto ca.key, ca.crt, serial or the log: exit 2, even with --force."""
    before = _state(ca)
    flag = "--keyout" if own == "ca.key" else "--out"
    result = cli("ca", "issue", "--dir", "ca", "--cn", HOST, "--subj", flag, str(ca / own),
                 "--force")  # fmt: skip
    assert result.code == 2, result.err
    assert "a CA's own" in result.err
    assert _state(ca) == before


# Every command that writes, aimed at a CA folder's own files (with --force).
WRITERS = {
    "selfsigned": ("selfsigned", "--cn", HOST, "--key", "ec:P-256", "--subj",
                   "--keyout", "ca/ca.key", "--out", "mine.crt"),
    "csr": ("csr", "--cn", HOST, "--key", "ec:P-256", "--subj", "--out", "ca/ca.crt"),
    "renew": ("renew", "old.crt", "--key", "old.key", "--out", "ca/ca.crt"),
    "ca sign": ("ca", "sign", "old.csr", "--dir", "ca", "--fullchain", "ca/serial"),
    "bundle": ("bundle", "--cert", "old.crt", "--out", "ca/ca.crt"),
    "batch": ("batch", "into-the-ca.toml"),
}  # fmt: skip


@pytest.mark.parametrize("command", WRITERS)
def test_no_command_writes_over_any_cas_files(
    cli: Callable[..., Run], ca: Path, tmp_path: Path, command: str
) -> None:
    """Each command's output onto a CA folder's ca.key, ca.crt or serial, even with --force."""
    made = ("selfsigned", "--cn", HOST, "--key", "ec:P-256", "--subj", "--keyout", "old.key",
            "--out", "old.crt")  # fmt: skip
    assert cli(*made).code == 0
    csr = ("csr", "--cn", HOST, "--key", "ec:P-256", "--subj", "--keyout", "old-csr.key",
           "--out", "old.csr")  # fmt: skip
    assert cli(*csr).code == 0
    # A batch entry named like the CA, made in its folder: ca/ca.key and ca/ca.crt.
    (tmp_path / "into-the-ca.toml").write_text(
        '[[cert]]\ncn = "ca"\nout_dir = "ca"\nkey = "ec:P-256"\nsubj = true\n'
    )
    before, others = _state(ca), listing(tmp_path)
    result = cli(*WRITERS[command], "--force")
    assert result.code == (1 if command == "batch" else 2), result.err
    assert "a CA's own" in result.err + result.out
    assert _state(ca) == before
    assert listing(tmp_path) == others


def test_a_folder_that_cannot_be_locked_is_bad_input(cli: Callable[..., Run], ca: Path) -> None:
    """A CA folder flow-ssl cannot lock (here its lock is a folder): exit 2 naming it."""
    (ca / ".lock").unlink(missing_ok=True)
    (ca / ".lock").mkdir()
    before = _state(ca)
    result = cli("ca", "issue", "--dir", "ca", "--cn", HOST, "--subj")
    assert result.code == 2, result.err
    assert "cannot lock the CA folder" in result.err
    assert _state(ca) == before
    assert not Path(f"{HOST}.crt").exists()


# Another flow-ssl process: it holds the CA folder's lock until told to go on, then takes
# the next serial (as a run signing with it would) and lets go.
HOLDER = """
import sys
from pathlib import Path
from flow_ssl.ca.folder import Folder, locked, reserve_serial
folder = Folder(Path(sys.argv[1]))
with locked(folder):
    print("held", flush=True)
    sys.stdin.readline()
    reserve_serial(folder)
"""


@contextmanager
def _held(ca: Path) -> Iterator[subprocess.Popen[str]]:
    """The CA's lock, held by another process until a line is written to its stdin."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(ca)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    try:
        assert holder.stdout.readline() == "held\n"
        yield holder
    finally:
        holder.communicate("go\n", timeout=30)


def _serial(ca: Path) -> int:
    return int((ca / "serial").read_text(), 16)


@pytest.mark.slow
def test_a_second_process_waits_for_the_lock_and_takes_the_next_serial(
    ca: Path, tmp_path: Path
) -> None:
    """ca issue while another process holds the lock: it waits, then signs with the next serial."""
    serial = _serial(ca)
    with _held(ca) as holder:
        issuing = subprocess.Popen(
            [sys.executable, "-m", "flow_ssl", "ca", "issue", "--dir", "ca", "--cn", HOST,
             "--key", "ec:P-256", "--subj"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        with pytest.raises(subprocess.TimeoutExpired):
            issuing.wait(timeout=3)  # unlocked, it would be done long before
        assert not (tmp_path / f"{HOST}.crt").exists()
        assert holder.stdin is not None
    _, err = issuing.communicate(timeout=60)
    assert issuing.returncode == 0, err
    assert (
        x509.load_pem_x509_certificate((tmp_path / f"{HOST}.crt").read_bytes()).serial_number
        == serial + 1
    )  # the holder took ``serial`` while it held the lock
    assert _serial(ca) == serial + 2


def test_a_busy_ca_folder_is_refused_after_the_timeout(
    cli: Callable[..., Run], ca: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holding the lock past the wait: exit 2, 'busy', no serial, no file."""
    from flow_ssl.ca import folder

    monkeypatch.setattr(folder, "LOCK_TIMEOUT", 0.3)
    with _held(ca):
        before, others = _state(ca), listing(tmp_path)
        result = cli("ca", "issue", "--dir", "ca", "--cn", HOST, "--subj", "--key", "ec:P-256")
        assert result.code == 2, result.err
        assert "the CA folder ca is busy: another flow-ssl has held its lock" in result.err
        assert "try again when it has finished" in result.err
        assert _state(ca) == before
        assert listing(tmp_path) == others


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A small filesystem to make a CA in, then mount read-only (root is not stopped by modes)."""
    with small_filesystem(tmp_path / "ro", "1m") as mount:
        yield mount


@pytest.mark.parametrize("used", [False, True], ids=["new", "used-before"])
def test_a_read_only_ca_folder_is_bad_input_with_the_reason(
    cli: Callable[..., Run], read_only: Path, tmp_path: Path, used: bool
) -> None:
    """A CA on a read-only filesystem (its lock file made earlier or not): exit 2, the reason."""
    made = cli("ca", "init", "--dir", "ro/ca", "--name", "Read-only Root", "--key", "ec:P-256")
    assert made.code == 0, made.err
    if used:
        assert cli("ca", "issue", "--dir", "ro/ca", "--cn", "a.example.com", "--subj").code == 0
    remount = ["mount", "-o", "remount,ro", str(read_only)]
    subprocess.run(remount, capture_output=True, check=True)
    before, others = _state(read_only / "ca"), listing(tmp_path)
    result = cli("ca", "issue", "--dir", "ro/ca", "--cn", HOST, "--subj", "--key", "ec:P-256")
    assert result.code == 2, result.err
    assert "cannot lock the CA folder ro/ca: Read-only file system" in result.err
    assert "must be writable by whoever signs with it" in result.err
    assert _state(read_only / "ca") == before
    assert listing(tmp_path) == others


def test_a_failed_put_in_place_logs_nothing(
    cli: Callable[..., Run], ca: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the certificate cannot be put in place, issued.log gains no line; the error names it."""
    real_replace = Path.replace

    def fail_for_the_certificate(self: Path, target: str | os.PathLike[str]) -> Path:
        if ".flow-ssl-" in str(self) and str(target).endswith(f"{HOST}.crt"):
            raise OSError(16, "Device or resource busy", str(self))
        return real_replace(self, target)

    log_before = (ca / "issued.log").read_bytes() if (ca / "issued.log").exists() else b""
    # A rename refused half way cannot be produced on demand; the filesystem call is faked.
    monkeypatch.setattr(Path, "replace", fail_for_the_certificate)
    result = cli("ca", "issue", "--dir", "ca", "--cn", HOST, "--subj", "--key", "ec:P-256")
    assert result.code == 3, result.err
    assert f"could not put {HOST}.crt in place" in result.err
    assert ".flow-ssl-" not in result.err
    log_after = (ca / "issued.log").read_bytes() if (ca / "issued.log").exists() else b""
    assert log_after == log_before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ca"]


@pytest.mark.usefixtures("ca")
@pytest.mark.parametrize("value", ["987654321", '["pass:hunter2"]', "{ secret = 'hunter2' }"])
def test_a_manifest_passphrase_of_the_wrong_type_is_never_echoed(
    cli: Callable[..., Run], tmp_path: Path, value: str
) -> None:
    """ca_pass given as a number, array or table: exit 2 naming ca_pass, the value not shown."""
    (tmp_path / "hosts.toml").write_text(
        f'[[cert]]\ncn = "{HOST}"\nmode = "ca"\nca_dir = "ca"\nca_pass = {value}\n'
    )
    result = cli("batch", "hosts.toml", "--json")
    assert result.code == 2
    assert "ca_pass" in result.err
    for secret in ("987654321", "hunter2"):
        assert secret not in result.err + result.out
    assert json.loads(result.out)["error"]["exit_code"] == 2
    assert "ca" in listing(tmp_path)


def test_a_der_csr_is_signed_and_its_script_runs(
    cli: Callable[..., Run], ca: Path, tmp_path: Path
) -> None:
    """ca sign of a DER CSR: signed with its names; --print | sh signs it the same way."""
    from cryptography import x509

    from tests.helpers import load_cert, openssl, run_sh

    openssl("req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-pkeyopt", "ec_param_enc:named_curve", "-keyout", "r.key", "-subj", f"/CN={HOST}",
            "-outform", "DER", "-out", "r.der", cwd=tmp_path)  # fmt: skip
    assert cli("ca", "sign", "r.der", "--dir", "ca").code == 0
    signed = load_cert(tmp_path / "r.crt")
    signed.verify_directly_issued_by(load_cert(ca / "ca.crt"))
    names = signed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [HOST]
    printed = cli("ca", "sign", "r.der", "--dir", "ca", "--out", "p.crt", "--fullchain", "p.pem",
                  "--print")  # fmt: skip
    assert printed.code == 0, printed.err
    run_sh(printed.out, tmp_path)
    load_cert(tmp_path / "p.crt").verify_directly_issued_by(load_cert(ca / "ca.crt"))


def test_a_file_of_two_requests_is_refused(cli: Callable[..., Run], ca: Path) -> None:
    """ca sign of a file holding two CSRs signs neither (not silently the first): exit 2."""
    for host in ("t.example.com", "s.example.com"):
        assert cli("csr", "--cn", host, "--subj", "--key", "ec:P-256").code == 0
    Path("two.pem").write_bytes(
        Path("t.example.com.csr").read_bytes() + Path("s.example.com.csr").read_bytes()
    )
    before = _state(ca)
    result = cli("ca", "sign", "two.pem", "--dir", "ca")
    assert result.code == 2, result.err
    assert "holds 2 items" in result.err
    assert _state(ca) == before
    assert not list(Path().glob("two*.crt"))


@pytest.mark.parametrize("form", [[], ["--print"]])
def test_a_ca_folder_name_with_a_line_break_is_refused(
    cli: Callable[..., Run], tmp_path: Path, form: list[str]
) -> None:
    """A newline in a CA folder's name would add lines to openssl ca's config: exit 2, one line."""
    folder = "nl\nprivate_key = /tmp/evil"
    result = cli("ca", "init", "--dir", folder, "--name", "Odd Root", "--key", "ec:P-256", *form)
    assert result.code == 2, result.out + result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert "nl\\x0aprivate_key" in result.err
    assert not any(tmp_path.iterdir())
    (tmp_path / folder).mkdir(parents=True)
    listed = cli("ca", "crl", "--dir", folder, *form)
    assert listed.code == 2, listed.out + listed.err
    assert "private_key = /tmp/evil" not in listed.out
