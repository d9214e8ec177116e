"""
PKCS#12 inputs: passphrases as sources only, the legacy provider, PBMAC1, and hostile files.

Files are made by openssl (the one under test, or a named other version where the
case needs one: 3.x -legacy writes RC2-40, 3.5 writes PBMAC1) and by cryptography
where an attacker's file is needed.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.helpers import (
    OPENSSL,
    SYSTEM_OPENSSL,
    WRAPPERS,
    argv_spy,
    each_build,
    fake_openssl,
    listing,
    needs_builds,
    openssl,
    requires_openssl,
    run_sh,
)
from tests.pki import Issued, make_ca, make_leaf, write

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.helpers import Run

pytestmark = requires_openssl
PASSPHRASE = "s3cret phrase"  # noqa: S105 - a test passphrase
HOST = "p12.example.com"
OPENSSL_35 = Path(__file__).resolve().parents[2] / "shared" / "openssl" / "bin" / "openssl-3.5.9"


def _version() -> tuple[str, tuple[int, ...]]:
    """The openssl under test, from its own version line (not from flow-ssl)."""
    text = openssl("version").decode()
    match = re.match(r"(OpenSSL|LibreSSL) (\d+)\.(\d+)\.(\d+)", text)
    assert match is not None, text
    return match.group(1), tuple(int(part) for part in match.group(2, 3, 4))


@pytest.fixture
def pki(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Issued, Issued]:
    """leaf.pem, leaf.key and chain.pem in the test folder; the passphrase in $P12_PASS."""
    inter = make_ca("P12 Inputs CA")
    leaf = make_leaf(inter, [HOST], cn=HOST)
    write(tmp_path, "leaf.pem", leaf.pem())
    write(tmp_path, "leaf.key", leaf.key_pem())
    write(tmp_path, "chain.pem", inter.pem())
    monkeypatch.setenv("P12_PASS", PASSPHRASE)
    monkeypatch.setenv("WRONG_PASS", "not it")
    return inter, leaf


def _export(tmp_path: Path, out: str, *extra: str, system: bool = False) -> Path:
    openssl("pkcs12", "-export", "-inkey", "leaf.key", "-in", "leaf.pem", "-certfile",
            "chain.pem", "-passout", "env:P12_PASS", *extra, "-out", out, cwd=tmp_path,
            system=system)  # fmt: skip
    return tmp_path / out


@pytest.mark.usefixtures("pki")
@pytest.mark.parametrize("command", ["inspect", "check", "bundle"])
def test_a_wrong_passphrase_is_exit_2_named_never_echoed(
    cli: Callable[..., Run], tmp_path: Path, command: str
) -> None:
    """Wrong: exit 2 naming the source; none: exit 2 asking for --pass; the value never shown."""
    _export(tmp_path, "f.pfx")
    before = listing(tmp_path)
    args = {"inspect": ["inspect", "f.pfx"], "check": ["check", "--cert", "f.pfx"],
            "bundle": ["bundle", "--cert", "f.pfx", "--out", "o.pem"]}[command]  # fmt: skip
    wrong = cli(*args, "--pass", "env:WRONG_PASS")
    assert wrong.code == 2, wrong.err
    assert "--pass: env:WRONG_PASS does not open f.pfx: the passphrase is wrong" in wrong.err
    missing = cli(*args)
    assert missing.code == 2, missing.err
    assert "--pass is needed: f.pfx is a PKCS#12 file protected by a passphrase" in missing.err
    literal = cli(*args, "--pass", PASSPHRASE)
    assert literal.code == 2
    assert "never the passphrase itself" in literal.err
    for run in (wrong, missing, literal):
        assert PASSPHRASE not in run.out + run.err
        assert "not it" not in run.out + run.err
        assert "Traceback" not in run.err
    assert listing(tmp_path) == before


@pytest.mark.usefixtures("pki")
def test_the_passphrase_reaches_openssl_only_as_a_source(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No argv holds the passphrase, the key goes through pipes: check writes no file at all."""
    _export(tmp_path, "f.pfx")
    (tmp_path / "pass.txt").write_text(PASSPHRASE + "\n")
    before = listing(tmp_path)
    calls = argv_spy(monkeypatch)
    result = cli("check", "--cert", "f.pfx", "--pass", "file:pass.txt", "--json")
    found = {f["check"]: f["status"] for f in json.loads(result.out)["findings"]}
    assert found["key-matches-cert"] == "pass"
    assert all(PASSPHRASE not in " ".join(argv) for argv in calls)
    first = next(argv for argv in calls if "pkcs12" in argv)
    assert first[first.index("-passin") + 1] == "pass:"
    assert any("file:pass.txt" in argv for argv in calls)
    assert not any("-out" in argv for argv in calls if "pkcs12" in argv)
    assert listing(tmp_path) == before


def test_an_empty_passphrase_is_tried_first(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """A .p12 with no passphrase opens without --pass, and even when a wrong one is given."""
    openssl("pkcs12", "-export", "-inkey", "leaf.key", "-in", "leaf.pem", "-passout", "pass:",
            "-out", "open.p12", cwd=tmp_path)  # fmt: skip
    for extra in ([], ["--pass", "env:WRONG_PASS"]):
        result = cli("inspect", "open.p12", "--json", *extra)
        assert result.code == 0, result.err
        (found,) = json.loads(result.out)
        assert found["subject"] == [{"type": "CN", "value": HOST}]
    assert pki[1].cert.subject.rfc4514_string() == f"CN={HOST}"


def _legacy_file(tmp_path: Path) -> Path:
    """An RC2-40 .pfx (1.1.1's and LibreSSL's default), written by the machine's 3.x -legacy."""
    return _export(tmp_path, "rc2.pfx", "-legacy", system=True)


@pytest.mark.skipif(SYSTEM_OPENSSL is None, reason="needs the machine's OpenSSL 3")
def test_rc2_files_read_on_every_openssl(
    cli: Callable[..., Run],
    tmp_path: Path,
    pki: tuple[Issued, Issued],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An RC2-40 .pfx reads everywhere: OpenSSL 3 is asked again with -legacy, others need not."""
    path = _legacy_file(tmp_path)
    info = subprocess.run([str(SYSTEM_OPENSSL), "pkcs12", "-info", "-nokeys", "-passin",
                           "env:P12_PASS", "-in", str(path), "-legacy"],
                          capture_output=True, text=True, check=True).stderr  # fmt: skip
    assert "RC2-40" in info or "40BitRC2" in info
    calls = argv_spy(monkeypatch)
    result = cli("inspect", "rc2.pfx", "--pass", "env:P12_PASS", "--json")
    assert result.code == 0, result.err
    assert len(json.loads(result.out)) == 2
    flavour, version = _version()
    legacy = any("-legacy" in argv for argv in calls)
    assert legacy == (flavour == "OpenSSL" and version >= (3, 0, 0))
    checked = cli("check", "--cert", "rc2.pfx", "--pass", "env:P12_PASS", "--json")
    found = {f["check"]: f for f in json.loads(checked.out)["findings"]}
    assert found["key-matches-cert"]["status"] == "pass"
    assert ("-legacy" in found["key-unencrypted"]["message"]) == legacy
    assert pki[1].cert is not None


def _bundled(tmp_path: Path, name: str, leaf: Issued) -> None:
    """The .p12 a script wrote holds the leaf and its key (the root left out), 0600."""
    key, cert, extra = pkcs12.load_key_and_certificates(
        (tmp_path / name).read_bytes(), PASSPHRASE.encode()
    )
    assert (cert, extra) == (leaf.cert, [])
    assert key is not None
    assert key.public_key() == leaf.cert.public_key()
    assert (tmp_path / name).stat().st_mode & 0o777 == 0o600


@pytest.mark.skipif(SYSTEM_OPENSSL is None, reason="needs the machine's OpenSSL 3")
def test_print_scripts_open_an_rc2_pfx_as_flow_ssl_does(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """check/bundle --print | sh on an RC2-40 .pfx: every pkcs12 step has -legacy where needed."""
    _legacy_file(tmp_path)
    checked = cli("check", "--cert", "rc2.pfx", "--pass", "env:P12_PASS", "--ca-file",
                  "chain.pem", "--print")  # fmt: skip
    assert checked.code == 0, checked.err
    assert ": OK" in run_sh(checked.out, tmp_path).stdout
    bundled = cli("bundle", "--cert", "rc2.pfx", "--pass", "env:P12_PASS", "--p12", "o.p12",
                  "--print")  # fmt: skip
    assert bundled.code == 0, bundled.err
    run_sh(bundled.out, tmp_path)
    _bundled(tmp_path, "o.p12", pki[1])
    flavour, version = _version()
    legacy = flavour == "OpenSSL" and version >= (3, 0, 0)
    reads = [line for line in checked.out.splitlines() if line.startswith("openssl pkcs12")]
    assert len(reads) == 2
    assert all(("-legacy" in line) == legacy for line in reads)


def test_print_scripts_try_the_empty_passphrase_first_as_flow_ssl_does(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """A .pfx with no passphrase, --pass given: the scripts use -passin pass:, which opens it."""
    openssl("pkcs12", "-export", "-inkey", "leaf.key", "-in", "leaf.pem", "-certfile",
            "chain.pem", "-passout", "pass:", "-out", "open.pfx", cwd=tmp_path)  # fmt: skip
    checked = cli("check", "--cert", "open.pfx", "--pass", "env:P12_PASS", "--ca-file",
                  "chain.pem", "--print")  # fmt: skip
    assert checked.code == 0, checked.err
    assert "env:P12_PASS" not in checked.out
    assert ": OK" in run_sh(checked.out, tmp_path).stdout
    shown = cli("inspect", "open.pfx", "--pass", "env:P12_PASS", "--print")
    assert "-passin pass:" in shown.out
    printed = run_sh(shown.out, tmp_path).stdout.encode()
    assert pki[1].cert in x509.load_pem_x509_certificates(printed)
    bundled = cli("bundle", "--cert", "open.pfx", "--pass", "env:P12_PASS", "--p12", "o.p12",
                  "--print")  # fmt: skip
    run_sh(bundled.out, tmp_path)
    _bundled(tmp_path, "o.p12", pki[1])


def test_bundle_p12_script_keeps_its_scratch_files_in_its_scratch_folder(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """bundle --p12 --print | sh: the leaf/chain PEM files live in $work; nothing beside is hit."""
    _export(tmp_path, "f.pfx")
    mine = ("o.p12.leaf.pem", "o.p12.chain.pem")
    for name in mine:
        (tmp_path / name).write_text("mine\n")
    before = listing(tmp_path)
    for cert in (["--cert", "f.pfx"], ["--cert", "leaf.pem", "--chain", "chain.pem",
                                        "--key", "leaf.key", "--include-root"]):  # fmt: skip
        result = cli("bundle", *cert, "--pass", "env:P12_PASS", "--p12", "o.p12", "--print")
        assert result.code == 0, result.err
        assert "o.p12.leaf.pem" not in result.out
        assert "then remove" not in result.out
        run_sh(result.out, tmp_path)
        assert listing(tmp_path) == sorted([*before, "o.p12"])
        assert all((tmp_path / name).read_text() == "mine\n" for name in mine)
        assert (tmp_path / "o.p12").stat().st_mode & 0o777 == 0o600
        (tmp_path / "o.p12").unlink()
    assert pki[1].cert is not None


@pytest.mark.skipif(SYSTEM_OPENSSL is None, reason="needs the machine's OpenSSL 3")
@pytest.mark.usefixtures("pki")
def test_an_openssl_without_the_legacy_provider_says_who_can_read(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No legacy provider (faked): OpenSSL 3 is exit 3 naming 1.1.1 and LibreSSL; they read it."""
    _legacy_file(tmp_path)
    real = OPENSSL or "openssl"
    script = fake_openssl(
        tmp_path,
        'for arg in "$@"; do if [ "$arg" = -legacy ]; then\n'
        '  echo "pkcs12: unable to load provider legacy" >&2; exit 1; fi; done\n'
        f'exec "{real}" "$@"\n',
    )
    monkeypatch.setenv("FLOW_SSL_OPENSSL", str(script))
    result = cli("inspect", "rc2.pfx", "--pass", "env:P12_PASS")
    flavour, version = _version()
    if flavour == "OpenSSL" and version >= (3, 0, 0):
        assert result.code == 3, result.err
        assert "RC2-40" in result.err
        assert "legacy provider" in result.err
        assert "OpenSSL 1.1.1 and LibreSSL read it" in result.err
        assert len(result.err.strip().splitlines()) == 1
    else:
        assert result.code == 0, result.err


@pytest.mark.skipif(not OPENSSL_35.exists(), reason="needs OpenSSL 3.5 to write PBMAC1")
@pytest.mark.usefixtures("pki")
def test_a_pbmac1_file_is_named_not_called_a_wrong_passphrase(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """PBMAC1 (3.4+): read by 3.4 and later; before, exit 3 saying so, not 'wrong passphrase'."""
    subprocess.run([str(OPENSSL_35), "pkcs12", "-export", "-pbmac1_pbkdf2", "-inkey", "leaf.key",
                    "-in", "leaf.pem", "-passout", "env:P12_PASS", "-out", "pbmac1.pfx"],
                   cwd=tmp_path, check=True)  # fmt: skip
    result = cli("inspect", "pbmac1.pfx", "--pass", "env:P12_PASS")
    flavour, version = _version()
    if flavour == "OpenSSL" and version >= (3, 4, 0):
        assert result.code == 0, result.err
    else:
        assert result.code == 3, result.err
        assert "PBMAC1" in result.err
        assert "OpenSSL 3.4 and later read it" in result.err
        assert "wrong" not in result.err.replace("looks wrong", "")


def test_a_friendly_name_cannot_smuggle_a_certificate(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """A friendly name holding a certificate's PEM (printed raw by openssl): refused, exit 2."""
    inter, leaf = pki
    forged = b"evil\n" + make_ca("Smuggled CA").pem()
    assert isinstance(leaf.key, ec.EllipticCurvePrivateKey)
    data = pkcs12.serialize_key_and_certificates(
        forged, leaf.key, leaf.cert, [inter.cert],
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    )  # fmt: skip
    (tmp_path / "forged.pfx").write_bytes(data)
    # openssl itself prints three certificates for this file of two.
    printed = openssl("pkcs12", "-nokeys", "-passin", "env:P12_PASS", "-in", "forged.pfx",
                      cwd=tmp_path)  # fmt: skip
    assert printed.count(b"BEGIN CERTIFICATE") == 3
    for args in (["inspect", "forged.pfx"], ["check", "--cert", "forged.pfx"]):
        result = cli(*args, "--pass", "env:P12_PASS")
        assert result.code == 2, result.err
        assert "imitates a PEM block" in result.err


def test_a_friendly_name_cannot_smuggle_a_key(
    cli: Callable[..., Run], tmp_path: Path, pki: tuple[Issued, Issued]
) -> None:
    """A key bag's friendly name holding another key's PEM: check refuses it (exit 2)."""
    _, leaf = pki
    other = make_ca("Other key")
    assert isinstance(leaf.key, ec.EllipticCurvePrivateKey)
    data = pkcs12.serialize_key_and_certificates(
        b"evil\n" + other.key_pem(), leaf.key, None,
        [pkcs12.PKCS12Certificate(leaf.cert, None)],
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    )  # fmt: skip
    (tmp_path / "forged.pfx").write_bytes(data)
    assert cli("inspect", "forged.pfx", "--pass", "env:P12_PASS").code == 0
    result = cli("check", "--cert", "forged.pfx", "--pass", "env:P12_PASS")
    assert result.code == 2, result.err
    assert "imitates a PEM block" in result.err


# certBag's certId: x509Certificate (1.2.840.113549.1.9.22.1); sdsiCertificate ends in 2.
_X509_CERT_ID = bytes.fromhex("060a2a864886f70d01091601")


def _as_sdsi(data: bytes) -> bytes:
    """
    A .pfx whose certificate bags are in the clear, its one X.509 bag re-tagged in place:
    certId x509Certificate becomes sdsiCertificate, and the value's OCTET STRING (the
    DER) an IA5String. Lengths are kept, so nothing else moves.
    """
    at = data.index(_X509_CERT_ID)
    assert data.count(_X509_CERT_ID) == 1
    patched = bytearray(data)
    patched[at + len(_X509_CERT_ID) - 1] = 0x02
    wrapper = at + len(_X509_CERT_ID)  # [0] EXPLICIT, then the OCTET STRING
    assert patched[wrapper] == 0xA0
    size = patched[wrapper + 1]
    value = wrapper + 2 + (size & 0x7F if size & 0x80 else 0)
    assert patched[value] == 0x04
    patched[value] = 0x16
    return bytes(patched)


@pytest.mark.skipif(SYSTEM_OPENSSL is None, reason="needs the machine's OpenSSL 3 (-nomac)")
@pytest.mark.usefixtures("pki")
@pytest.mark.parametrize("smuggled", [True, False], ids=["pem-in-name", "plain-name"])
def test_a_certificate_bag_that_is_not_x509_is_refused(
    cli: Callable[..., Run], tmp_path: Path, smuggled: bool
) -> None:
    """An SDSI cert bag (printed: its names only), a PEM in its friendly name or not: exit 2."""
    fake = make_ca("Smuggled Fake CA")
    name = "evil\n" + fake.pem().decode() if smuggled else "flow"
    # The machine's OpenSSL 3 writes the bags in the clear, with no MAC (so they can be
    # edited); 1.1.1 and LibreSSL refuse any file without a MAC.
    openssl("pkcs12", "-export", "-inkey", "leaf.key", "-in", "leaf.pem", "-name", name,
            "-keypbe", "NONE", "-certpbe", "NONE", "-nomac", "-passout", "pass:",
            "-out", "clear.pfx", cwd=tmp_path, system=True)  # fmt: skip
    (tmp_path / "sdsi.pfx").write_bytes(_as_sdsi((tmp_path / "clear.pfx").read_bytes()))
    shown = openssl("pkcs12", "-nokeys", "-passin", "pass:", "-in", "sdsi.pfx", cwd=tmp_path,
                    system=True)  # fmt: skip
    assert shown.count(b"-----BEGIN CERTIFICATE-----") == (1 if smuggled else 0)
    flavour, version = _version()
    for args in (["inspect", "sdsi.pfx", "--json"], ["check", "--cert", "sdsi.pfx", "--json"]):
        result = cli(*args)
        assert result.code == 2, result.out
        assert "Smuggled Fake CA" not in result.out + result.err
        if flavour == "OpenSSL" and version >= (3, 0, 0):
            words = "imitates a PEM block" if smuggled else "1 of its 1 certificate bags hold no"
            assert words in result.err


def _indefinite(data: bytes, depth: int) -> bytes:
    """The same DER with its outer ``depth`` levels of constructed elements in BER's
    indefinite-length form (as Java and Bouncy Castle write PKCS#12 and PKCS#7)."""
    out = b""
    at = 0
    while at < len(data):
        tag, first = data[at], data[at + 1]
        header = 2 + (first & 0x7F if first & 0x80 else 0)
        length = int.from_bytes(data[at + 2 : at + header], "big") if first & 0x80 else first
        content = data[at + header : at + header + length]
        if depth > 0 and tag & 0x20:
            out += bytes((tag, 0x80)) + _indefinite(content, depth - 1) + b"\x00\x00"
        else:
            out += data[at : at + header + length]
        at += header + length
    return out


@pytest.mark.usefixtures("pki")
def test_a_ber_pfx_is_read(cli: Callable[..., Run], tmp_path: Path) -> None:
    """A .pfx with indefinite lengths outside (Java's, Bouncy Castle's) is known and opened."""
    der = _export(tmp_path, "f.pfx").read_bytes()
    ber = _indefinite(der, 2)
    assert ber[:2] == b"\x30\x80"
    (tmp_path / "ber.pfx").write_bytes(ber)
    result = cli("inspect", "ber.pfx", "--pass", "env:P12_PASS", "--json")
    assert result.code == 0, result.err
    expected = cli("inspect", "f.pfx", "--pass", "env:P12_PASS", "--json")
    assert result.out.replace("ber.pfx", "f.pfx") == expected.out


@pytest.mark.skipif(SYSTEM_OPENSSL is None, reason="needs the machine's OpenSSL 3 (-nomac)")
@pytest.mark.usefixtures("pki")
def test_an_sdsi_bag_whose_name_imitates_all_of_a_certificate_is_refused(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """An SDSI cert bag named "subject=..., issuer=..., PEM": the file holds no X.509, exit 2."""
    fake = make_ca("Imitated CA")
    name = f"evil\nsubject=CN = Imitated CA\nissuer=CN = Imitated CA\n{fake.pem().decode()}"
    openssl("pkcs12", "-export", "-inkey", "leaf.key", "-in", "leaf.pem", "-name", name,
            "-keypbe", "NONE", "-certpbe", "NONE", "-nomac", "-passout", "pass:",
            "-out", "clear.pfx", cwd=tmp_path, system=True)  # fmt: skip
    (tmp_path / "sdsi.pfx").write_bytes(_as_sdsi((tmp_path / "clear.pfx").read_bytes()))
    # pkcs12's output alone shows the made-up CA as a certificate it read.
    shown = openssl("pkcs12", "-nokeys", "-passin", "pass:", "-in", "sdsi.pfx", cwd=tmp_path,
                    system=True)  # fmt: skip
    assert b"\nsubject=CN = Imitated CA\nissuer=CN = Imitated CA\n-----BEGIN" in shown
    flavour, version = _version()
    for args in (["inspect", "sdsi.pfx", "--json"], ["check", "--cert", "sdsi.pfx", "--json"]):
        result = cli(*args)
        assert result.code == 2, result.out
        assert "Imitated CA" not in result.out
        if flavour == "OpenSSL" and version >= (3, 0, 0):
            # Proved here: storeutl lists no certificate, pkcs12 printed one.
            assert "imitates a PEM block" in result.err
        else:
            # 1.1.1 and LibreSSL refuse any file without a MAC; with one, the hole stays
            # open there (test_formats_p12_store.py: no storeutl reads PKCS#12).
            assert "--pass is needed" in result.err


@pytest.mark.usefixtures("pki")
@needs_builds
def test_bundle_p12_with_a_non_ascii_passphrase_opens_everywhere_or_is_refused(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bundle --p12 with 'Zürich': cryptography opens OpenSSL's file; LibreSSL is exit 3, why."""
    monkeypatch.setenv("UMLAUT_PASS", "Zürich")
    made = tmp_path / "z.pfx"
    given = ["--cert", "leaf.pem", "--chain", "chain.pem", "--key", "leaf.key"]

    def run() -> tuple[int, str, bool]:
        made.unlink(missing_ok=True)
        result = cli("bundle", *given, "--p12", "z.pfx", "--pass", "env:UMLAUT_PASS")
        if made.exists():  # raises unless the characters themselves open it
            pkcs12.load_key_and_certificates(made.read_bytes(), "Zürich".encode())
        return result.code, result.err, made.exists()

    for build, (code, err, written) in each_build(monkeypatch, run).items():
        libressl = "libressl" in build
        assert code == (3 if libressl else 0), (build, err)
        assert written is not libressl
        if libressl:
            assert "ASCII" in err
            assert "Zürich" not in err


@pytest.mark.usefixtures("pki")
@needs_builds
@pytest.mark.skipif(SYSTEM_OPENSSL is None, reason="needs the machine's OpenSSL 3 to make it")
def test_a_non_ascii_pfx_openssl_made_is_libressls_limit_not_a_wrong_passphrase(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenSSL's 'Zürich' .pfx: read by OpenSSL builds; LibreSSL is exit 3 naming itself."""
    monkeypatch.setenv("UMLAUT_PASS", "Zürich")
    made = "pkcs12 -export -inkey leaf.key -in leaf.pem -passout env:UMLAUT_PASS -out z.pfx"
    openssl(*made.split(), cwd=tmp_path, system=True)
    seen = each_build(monkeypatch, lambda: cli("inspect", "z.pfx", "--pass", "env:UMLAUT_PASS"))
    for build, result in seen.items():
        if "libressl" in build:
            assert result.code == 3, (build, result.err)
            assert "LibreSSL" in result.err
            assert "non-ASCII passphrase" in result.err
            assert "wrong" not in result.err
        else:
            assert result.code == 0, (build, result.err)


@pytest.mark.usefixtures("pki")
@needs_builds
@pytest.mark.parametrize("maker", ["openssl-libressl-3.3.6", "openssl-libressl-4.3.2"])
def test_an_ascii_pfx_libressl_made_with_its_old_defaults_reads_the_same_everywhere(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, maker: str
) -> None:
    """LibreSSL's default .pfx (RC2-40, 3DES, SHA-1 MAC): one reading on every build."""
    binary = next((path for path in WRAPPERS if path.name == maker), None)
    if binary is None:
        pytest.skip(f"no {maker} here")
    made = "pkcs12 -export -inkey leaf.key -in leaf.pem -certfile chain.pem -passout env:P12_PASS"
    subprocess.run(
        [str(binary), *made.split(), "-out", "lr.pfx"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    seen = each_build(
        monkeypatch, lambda: cli("inspect", "lr.pfx", "--pass", "env:P12_PASS", "--json")
    )
    assert {result.code for result in seen.values()} == {0}
    assert len({result.out for result in seen.values()}) == 1
    assert len(json.loads(next(iter(seen.values())).out)) == 2
