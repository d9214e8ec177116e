"""A CA's records in openssl ca's own format: the index, its upgrade, and serials above it."""

from __future__ import annotations

import json
import os
import re
import subprocess
from typing import TYPE_CHECKING

import pytest

from tests.helpers import OPENSSL, contents, listing, load_cert, requires_openssl

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.helpers import Run

pytestmark = requires_openssl
HOST = "flow.mycompany.com"
# ca.cnf as flow-ssl 0.x (the release before the index) wrote it: no openssl ca part.
RELEASE_CONFIG = """\
# flow-ssl certificate authority. openssl reads this file with -config; each
# section below is the complete set of extensions one kind of certificate gets.
# Nothing a certificate request asks for is copied (-copy_extensions none).

[ req ]
distinguished_name = subject
string_mask        = utf8only

[ subject ]
countryName            = Country Name (2 letter code)
commonName             = Common Name (e.g. server FQDN or YOUR name)

# The root: signs issuing CAs (and, without one, servers directly).
[ root_ca ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

# An issuing CA under the root: signs servers only (pathlen:0).
[ issuing_ca ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# A TLS server. subjectAltName, basicConstraints (CA:FALSE), keyUsage and
# extendedKeyUsage (serverAuth) are given with -addext, per certificate.
[ server ]
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
"""
_STATUS = re.compile(r"^([0-9A-F]+)=(Valid|Revoked|Expired) \(([VRE])\)$", re.MULTILINE)


def status(folder: Path, serial: str) -> str:
    """What ``openssl ca -status`` says, run in the CA folder with its own ca.cnf."""
    assert OPENSSL is not None
    done = subprocess.run(
        [OPENSSL, "ca", "-config", "ca.cnf", "-status", serial],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1  # whatever the status (measured on all seven builds)
    found = _STATUS.search(done.stderr)
    if found is None:
        assert "not present in db" in done.stderr, done.stderr
        return "unknown"
    return found.group(2).lower()


def index_lines(folder: Path) -> list[list[str]]:
    """The index's lines, split into their six fields."""
    return [line.split("\t") for line in (folder / "index.txt").read_text().splitlines()]


def _issue(cli: Callable[..., Run], host: str, *extra: str) -> int:
    result = cli("ca", "issue", "--dir", "ca", "--cn", host, "--subj", "--key", "ec:P-256", *extra)
    assert result.code == 0, result.err
    return load_cert(result_path(host)).serial_number


def result_path(host: str) -> Path:
    """Where ca issue wrote the certificate for ``host`` (in the test's folder)."""
    from pathlib import Path

    return Path(f"{host}.crt").resolve()


@pytest.fixture
def root(cli: Callable[..., Run], tmp_path: Path) -> Path:
    """A new root CA in ./ca (EC P-256: quick)."""
    made = cli("ca", "init", "--dir", "ca", "--name", "Records Root", "--key", "ec:P-256")
    assert made.code == 0, made.err
    return tmp_path / "ca"


def test_a_new_ca_keeps_an_index_openssl_ca_reads(cli: Callable[..., Run], root: Path) -> None:
    """ca init makes the records; each issue adds a V line and a copy; openssl ca -status agrees."""
    assert (root / "index.txt").read_text() == ""
    assert (root / "index.txt.attr").read_text() == "unique_subject = no\n"
    assert (root / "crlnumber").read_text() == "01\n"
    assert (root / "certs").is_dir()
    serial = _issue(cli, HOST, "--org", "R/D+Ops")
    hexed = f"{serial:X}"
    hexed = hexed if len(hexed) % 2 == 0 else "0" + hexed
    cert = load_cert(result_path(HOST))
    ((state, expiry, revoked, listed, file, subject),) = index_lines(root)
    assert (state, revoked, listed, file) == ("V", "", hexed, "unknown")
    assert expiry == cert.not_valid_after_utc.strftime("%y%m%d%H%M%SZ")
    assert subject == f"/O=R\\/D\\+Ops/CN={HOST}"
    assert (root / "certs" / f"{hexed}.pem").read_bytes() == result_path(HOST).read_bytes()
    assert status(root, hexed) == "valid"
    assert status(root, "0123") == "unknown"


def _as_the_release_made_it(root: Path) -> None:
    """Turn a folder into what the release before the index left: no records but the log."""
    for name in ("index.txt", "index.txt.attr", "crlnumber"):
        (root / name).unlink()
    for copy in (root / "certs").iterdir():
        copy.unlink()
    (root / "certs").rmdir()
    (root / "ca.cnf").write_text(RELEASE_CONFIG)


def test_a_release_folder_is_upgraded_on_first_use(
    cli: Callable[..., Run], root: Path, tmp_path: Path
) -> None:
    """First use makes the index from issued.log and the certificates, all of it, once."""
    first = _issue(cli, "a.mycompany.com")
    second = _issue(cli, "b.mycompany.com")
    gone = _issue(cli, "c.mycompany.com")
    (tmp_path / "c.mycompany.com.crt").unlink()  # the log still names it
    _as_the_release_made_it(root)
    result = cli("ca", "issue", "--dir", "ca", "--cn", "d.mycompany.com", "--subj")
    assert result.code == 0, result.err
    assert (
        "made index.txt (openssl ca's format) from issued.log: 3 certificate(s), 2 copied"
        in result.err
    )
    assert "1 from the log alone" in result.err
    fourth = load_cert(tmp_path / "d.mycompany.com.crt").serial_number
    lines = index_lines(root)
    assert [int(line[3], 16) for line in lines] == [first, second, gone, fourth]
    assert {line[0] for line in lines} == {"V"}
    assert lines[2][5] == "/CN=c.mycompany.com"
    assert sorted(p.name for p in (root / "certs").iterdir()) == sorted(
        f"{line[3]}.pem" for line in lines if line[3] != lines[2][3]
    )
    config = (root / "ca.cnf").read_text()
    assert config.startswith(RELEASE_CONFIG)
    assert "default_ca = flow_ssl_ca" in config
    assert not list(root.glob("ca.cnf.bak*"))
    for line in lines:
        assert status(root, line[3]) == "valid"
    again = cli("ca", "issue", "--dir", "ca", "--cn", "e.mycompany.com", "--subj")
    assert "made index.txt" not in again.err


def test_an_upgrade_that_cannot_finish_changes_nothing(
    cli: Callable[..., Run], root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index cannot be put in place: exit 3, the folder exactly as it was; then it works."""
    from pathlib import Path

    _issue(cli, "a.mycompany.com")
    _as_the_release_made_it(root)
    before, others = contents(root), listing(tmp_path)
    real_replace = Path.replace

    def refuse_the_index(self: Path, target: str | os.PathLike[str]) -> Path:
        if str(target).endswith("index.txt") and ".flow-ssl-" in str(self):
            raise OSError(28, "No space left on device", str(target))
        return real_replace(self, target)

    # A rename refused half way cannot be produced on demand; the filesystem call is faked.
    monkeypatch.setattr(Path, "replace", refuse_the_index)
    result = cli("ca", "issue", "--dir", "ca", "--cn", "b.mycompany.com", "--subj")
    assert result.code == 3, result.err
    assert "could not make its index" in result.err
    assert "the folder is as it was" in result.err
    assert contents(root) == before
    assert listing(tmp_path) == others
    monkeypatch.setattr(Path, "replace", real_replace)
    assert cli("ca", "issue", "--dir", "ca", "--cn", "b.mycompany.com", "--subj").code == 0
    assert len(index_lines(root)) == 2


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("{half a line", "is not a JSON object"),
        ("[" * 100_000 + "]" * 100_000, "is nested too deeply to read"),
    ],
    ids=["half", "nested-deep"],
)
def test_a_damaged_log_stops_the_upgrade_with_its_line(
    cli: Callable[..., Run], root: Path, tmp_path: Path, line: str, words: str
) -> None:
    """A log line that is not JSON: exit 2 naming the line; nothing changed, nothing signed."""
    _issue(cli, "a.mycompany.com")
    _as_the_release_made_it(root)
    with (root / "issued.log").open("a") as log:
        log.write(line + "\n")
    before, others = contents(root), listing(tmp_path)
    result = cli("ca", "issue", "--dir", "ca", "--cn", "b.mycompany.com", "--subj")
    assert result.code == 2, result.err
    assert f"issued.log line 2 {words}" in result.err
    assert "the folder was left as it was" in result.err
    assert {k: v for k, v in contents(root).items() if k != ".lock"} == {
        k: v for k, v in before.items() if k != ".lock"
    }
    assert [p for p in listing(tmp_path) if p != "ca/.lock"] == [
        p for p in others if p != "ca/.lock"
    ]


def test_a_restored_serial_file_can_no_longer_reissue_a_serial(
    cli: Callable[..., Run], root: Path, tmp_path: Path
) -> None:
    """The serial file put back from a backup: the next serial is still above the index."""
    backup = (root / "serial").read_text()
    first = _issue(cli, "a.mycompany.com")
    second = _issue(cli, "b.mycompany.com")
    (root / "serial").write_text(backup)  # restored: it would give ``first`` again
    printed = cli("ca", "issue", "--dir", "ca", "--cn", "c.mycompany.com", "--subj", "--print")
    assert printed.code == 2
    assert "a printed script would give it out again" in printed.err
    result = cli("ca", "issue", "--dir", "ca", "--cn", "c.mycompany.com", "--subj")
    assert result.code == 0, result.err
    third = load_cert(tmp_path / "c.mycompany.com.crt").serial_number
    assert third == second + 1
    assert f"held {backup.strip()}, but" in result.err
    assert [int(line[3], 16) for line in index_lines(root)] == [first, second, third]
    assert int((root / "serial").read_text(), 16) == third + 1
    logged = [json.loads(line)["serial"] for line in (root / "issued.log").read_text().splitlines()]
    assert len(set(logged)) == 3


def test_a_deeply_nested_log_line_after_the_upgrade_is_passed_over(
    cli: Callable[..., Run], root: Path
) -> None:
    """ca list reads the log's names as a hint: a line nested 100000 deep is skipped, no crash."""
    _issue(cli, "a.mycompany.com")
    with (root / "issued.log").open("a") as log:
        log.write("[" * 100_000 + "]" * 100_000 + "\n")
    result = cli("ca", "list", "--dir", "ca")
    assert result.code == 0, result.err
    assert "a.mycompany.com" in result.out


def _serial_lowered(line: str) -> str:
    """An index line with its serial (field 4) in lower case."""
    fields = line.split("\t")
    fields[3] = fields[3].lower()
    return "\t".join(fields)


DAMAGE = {
    "a copied line": lambda text: text + text.splitlines(keepends=True)[0],
    "a copy in lower case": lambda text: text + _serial_lowered(text.splitlines(keepends=True)[0]),
    "CR LF line ends": lambda text: text.replace("\n", "\r\n"),
    "a byte not ASCII": lambda text: text + "V\t301231000000Z\t\t7F\tunknown\t/CN=\xff\n",
}
SAID = {
    "a copied line": "line 3 lists serial",
    "a copy in lower case": "line 3 lists serial",
    "CR LF line ends": "line 1 ends in CR LF",
    "a byte not ASCII": "line 3 holds the byte 0xFF",
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_index_is_refused_on_reading_naming_the_line(
    cli: Callable[..., Run], root: Path, damage: str
) -> None:
    """Duplicate serials, CR LF or a stray byte in index.txt: exit 2 naming the line, no change."""
    _issue(cli, "a.mycompany.com")
    _issue(cli, "b.mycompany.com")
    index = root / "index.txt"
    index.write_bytes(DAMAGE[damage](index.read_text()).encode("latin-1"))
    before = contents(root)
    for args in (
        ("ca", "list", "--dir", "ca"),
        ("ca", "revoke", "a.mycompany.com.crt", "--dir", "ca"),
    ):
        result = cli(*args)
        assert result.code == 2, result.err
        assert SAID[damage] in result.err
        assert len(result.err.strip().splitlines()) <= 2, result.err
    assert {k: v for k, v in contents(root).items() if k != ".lock"} == {
        k: v for k, v in before.items() if k != ".lock"
    }


def test_a_certificate_known_from_the_log_alone_is_revoked_by_serial(
    cli: Callable[..., Run], root: Path, tmp_path: Path
) -> None:
    """Its file gone, the log's serial is revoked all the same: in the index and in the CRL."""
    from cryptography import x509

    _issue(cli, "a.mycompany.com")
    gone = _issue(cli, "c.mycompany.com")
    (tmp_path / "c.mycompany.com.crt").unlink()
    _as_the_release_made_it(root)
    assert cli("ca", "list", "--dir", "ca").code == 0
    serial = f"{gone:X}"
    printed = cli("ca", "revoke", "--dir", "ca", "--serial", serial, "--print")
    assert printed.code == 2, printed.err
    assert "its certificate file is gone" in printed.err
    result = cli("ca", "revoke", "--dir", "ca", "--serial", serial, "--reason", "keyCompromise")
    assert result.code == 0, result.err
    (line,) = [fields for fields in index_lines(root) if int(fields[3], 16) == gone]
    assert line[0] == "R"
    assert re.fullmatch(r"\d{12}Z,keyCompromise", line[2]), line
    assert status(root, line[3]) == "revoked"
    crl = x509.load_pem_x509_crl((root / "crl.pem").read_bytes())
    entry = crl.get_revoked_certificate_by_serial_number(gone)
    assert entry is not None
    again = cli("ca", "revoke", "--dir", "ca", "--serial", serial)
    assert again.code == 2
    assert "was revoked already" in again.err


def _subject_twin(text: str) -> str:
    """The index with a second valid line (serial 7F) for its first line's subject."""
    fields = text.splitlines()[0].split("\t")
    fields[3] = "7F"
    return text + "\t".join(fields) + "\n"


# Damage openssl ca refuses on every build ("invalid reason code", "bad serial number
# length", "Error creating name index"), with index.txt.attr's text, and what flow-ssl says.
OPENSSL_REFUSES: dict[str, tuple[Callable[[str], str], str, str]] = {
    "an unknown reason": (
        lambda text: text + "R\t301231000000Z\t261208000000Z,badReason\t7F\tunknown\t/CN=r\n",
        "unique_subject = no\n",
        "line 3: the revocation reason 'badReason' is not one openssl ca reads",
    ),
    "a reason without its argument": (
        lambda text: text + "R\t301231000000Z\t261208000000Z,keyTime\t7F\tunknown\t/CN=r\n",
        "unique_subject = no\n",
        "line 3: the revocation reason keyTime without what openssl ca needs",
    ),
    "an odd-length serial": (
        lambda text: text + "V\t301231000000Z\t\t7F1\tunknown\t/CN=odd\n",
        "unique_subject = no\n",
        "line 3: serial 7F1 has an odd number of digits",
    ),
    "one subject twice under unique_subject": (
        _subject_twin,
        "unique_subject = yes\n",
        "lines 1 and 3 of",
    ),
}


@pytest.mark.parametrize("damage", list(OPENSSL_REFUSES))
def test_index_damage_openssl_ca_refuses_is_refused_on_reading(
    cli: Callable[..., Run], root: Path, damage: str
) -> None:
    """Index damage that makes openssl ca fail: ca list and ca revoke exit 2 naming the line."""
    change, attributes, said = OPENSSL_REFUSES[damage]
    _issue(cli, "a.mycompany.com")
    _issue(cli, "b.mycompany.com")
    index = root / "index.txt"
    index.write_text(change(index.read_text()))
    (root / "index.txt.attr").write_text(attributes)
    assert OPENSSL is not None
    gencrl = [OPENSSL, "ca", "-config", "ca.cnf", "-gencrl", "-out", "/dev/null"]
    assert subprocess.run(gencrl, cwd=root, capture_output=True, check=False).returncode != 0
    before = contents(root)
    for args in (
        ("ca", "list", "--dir", "ca"),
        ("ca", "revoke", "a.mycompany.com.crt", "--dir", "ca"),
        ("ca", "crl", "--dir", "ca"),
    ):
        result = cli(*args)
        assert result.code == 2, result.err
        assert said in result.err
        assert len(result.err.strip().splitlines()) <= 2, result.err
    assert {k: v for k, v in contents(root).items() if k != ".lock"} == {
        k: v for k, v in before.items() if k != ".lock"
    }


@pytest.mark.parametrize(
    ("attributes", "unique"),
    [
        (None, False),
        ("unique_subject = no\n", False),
        ("unique_subject = False\n", False),
        ('unique_subject = "no"\n', False),
        ("unique_subject = yes\n", True),
        ("unique_subject = maybe # not a word openssl knows\n", True),
        ("unique_subject =\n", True),
        ("# nothing said\n", False),
        ("[other]\nunique_subject = yes\n", False),
    ],
)
def test_unique_subject_is_read_as_openssl_ca_reads_it(
    attributes: str | None, unique: bool
) -> None:
    """index.txt.attr: "no" only from n, f or 0 (as measured); no line leaves ca.cnf's "no"."""
    from flow_ssl.ca.index import unique_subject

    assert unique_subject(attributes) is unique
