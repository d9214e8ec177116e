"""
Every form a CA sends, through inspect, check and bundle: files made by openssl itself.

The chain is made with cryptography; the openssl under test then writes it in each
form (crl2pkcs7, pkcs12 -export, x509 -outform DER), as a CA's tools would. What
flow-ssl reads is held against cryptography, and the bundles it writes against a
real TLS handshake.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.helpers import listing, openssl, requires_openssl, run_sh
from tests.pki import NOW, Issued, make_ca, make_leaf, write
from tests.tls import handshake, s_server

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.helpers import Run

pytestmark = requires_openssl
HOST = "localhost"
PASSPHRASE = "correct horse battery"  # noqa: S105 - a test passphrase
# Every form of the same leaf + intermediate + root, and whether it carries the key.
FORMS = {
    "full.pem": False,  # PEM, the chain after the leaf
    "combined.pem": True,  # a portal download: key, leaf, chain, text between the blocks
    "leaf.der": False,
    "full.p7b": False,  # crl2pkcs7: PKCS#7 in PEM
    "full-der.p7b": False,  # PKCS#7 in DER
    "full.p7c": False,  # PKCS#7 in DER, the chain first: a set has no order
    "full.pfx": True,  # pkcs12 -export with a passphrase
    "open.p12": True,  # pkcs12 -export with none
}


@dataclass(frozen=True)
class Made:
    """The chain, and the folder holding it in every form."""

    root: Issued
    inter: Issued
    leaf: Issued


@pytest.fixture
def made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Made:
    """leaf + intermediate + root in every form of FORMS, written by the openssl under test."""
    root = make_ca("Formats Root")
    inter = make_ca("Formats Issuing", root)
    leaf = make_leaf(inter, [HOST], cn=HOST)
    monkeypatch.setenv("P12_PASS", PASSPHRASE)
    write(tmp_path, "leaf.pem", leaf.pem())
    write(tmp_path, "leaf.key", leaf.key_pem())
    write(tmp_path, "chain.pem", inter.pem(), root.pem())
    write(tmp_path, "root.pem", root.pem())
    write(tmp_path, "full.pem", leaf.pem(), inter.pem(), root.pem())
    write(tmp_path, "combined.pem", b"Bag Attributes\n    friendlyName: flow\n", leaf.key_pem(),
          b"subject=/CN=localhost\n", leaf.pem(), b"\nThe chain:\n\n", inter.pem())  # fmt: skip
    openssl("x509", "-in", "leaf.pem", "-outform", "DER", "-out", "leaf.der", cwd=tmp_path)
    openssl("x509", "-in", "root.pem", "-outform", "DER", "-out", "root.der", cwd=tmp_path)
    both = ["-certfile", "leaf.pem", "-certfile", "chain.pem"]
    openssl("crl2pkcs7", "-nocrl", *both, "-out", "full.p7b", cwd=tmp_path)
    openssl("crl2pkcs7", "-nocrl", *both, "-outform", "DER", "-out", "full-der.p7b", cwd=tmp_path)
    openssl("crl2pkcs7", "-nocrl", "-certfile", "chain.pem", "-certfile", "leaf.pem",
            "-outform", "DER", "-out", "full.p7c", cwd=tmp_path)  # fmt: skip
    openssl("crl2pkcs7", "-nocrl", "-certfile", "chain.pem", "-outform", "DER",
            "-out", "chain.p7b", cwd=tmp_path)  # fmt: skip
    export = [
        "pkcs12",
        "-export",
        "-inkey",
        "leaf.key",
        "-in",
        "leaf.pem",
        "-certfile",
        "chain.pem",
    ]
    openssl(*export, "-passout", "env:P12_PASS", "-out", "full.pfx", cwd=tmp_path)
    openssl(*export, "-passout", "pass:", "-out", "open.p12", cwd=tmp_path)
    return Made(root, inter, leaf)


def _fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


@pytest.mark.parametrize("form", FORMS)
def test_inspect_reads_every_form_alike(cli: Callable[..., Run], made: Made, form: str) -> None:
    """inspect --json of each form is the PEM bundle's, certificate for certificate."""
    expected = json.loads(cli("inspect", "full.pem", "--json").out)
    result = cli("inspect", form, "--pass", "env:P12_PASS", "--json")
    assert result.code == 0, result.err
    found = json.loads(result.out)
    for item in [*found, *expected]:
        del item["source"], item["index"]
    wanted = [made.leaf.cert] if form == "leaf.der" else [made.leaf.cert, made.inter.cert]
    if form not in {"leaf.der", "combined.pem"}:
        wanted.append(made.root.cert)
    by_print = {item["sha256_fingerprint"]: item for item in expected}
    assert sorted(item["sha256_fingerprint"] for item in found) == sorted(map(_fingerprint, wanted))
    assert all(item == by_print[item["sha256_fingerprint"]] for item in found)
    assert PASSPHRASE not in result.out + result.err


@pytest.mark.parametrize("form", FORMS)
def test_check_takes_every_form_and_its_key(cli: Callable[..., Run], made: Made, form: str) -> None:
    """check: leaf found first, chain verified, the key in the file compared; a PKCS#12's fails."""
    del made
    args = ["check", "--cert", form, "--pass", "env:P12_PASS", "--ca-file", "root.der",
            "--host", HOST, "--json"]  # fmt: skip
    if form == "leaf.der":
        args += ["--chain", "chain.p7b"]
    result = cli(*args)
    found = {f["check"]: (f["status"], f["message"]) for f in json.loads(result.out)["findings"]}
    assert found["cert-readable"][0] == "pass"
    assert found["chain-order"][0] == "pass", found["chain-order"]
    assert found["chain-verifies"][0] == "pass", found["chain-verifies"]
    assert found["hostname"][0] == "pass"
    if FORMS[form]:
        assert found["key-matches-cert"][0] == "pass"
    else:
        status, message = found["key-matches-cert"]
        assert (status, message.split(";")[0]) == ("warn", "not checked: no key given")
    pfx = form.endswith((".pfx", ".p12"))
    assert found.get("key-unencrypted", ("none",))[0] == (
        "fail" if pfx else "pass" if FORMS[form] else "none"
    )
    assert result.code == (1 if pfx else 0), result.out
    assert PASSPHRASE not in result.out + result.err


@pytest.mark.parametrize("form", ["full.pfx", "open.p12"])
def test_the_key_copy_check_prints_is_the_key(
    cli: Callable[..., Run], tmp_path: Path, made: Made, form: str
) -> None:
    """The command check prints for a PKCS#12's key writes that key, unencrypted, mode 0600."""
    result = cli("check", "--cert", form, "--pass", "env:P12_PASS", "--json")
    (message,) = [
        f["message"] for f in json.loads(result.out)["findings"] if f["check"] == "key-unencrypted"
    ]
    command = message[message.index("(umask 077") :]
    run_sh(command, tmp_path)
    copy = tmp_path / form.replace(".pfx", ".key").replace(".p12", ".key")
    assert copy.stat().st_mode & 0o777 == 0o600
    key = serialization.load_pem_private_key(copy.read_bytes(), None)
    assert key.public_key() == made.leaf.cert.public_key()


@pytest.mark.parametrize("form", FORMS)
def test_bundle_writes_the_chain_from_every_form(
    cli: Callable[..., Run], made: Made, tmp_path: Path, form: str
) -> None:
    """bundle --out from each form: leaf then intermediate, whatever order the file held them."""
    chain = ["--chain", "chain.p7b"] if form == "leaf.der" else []
    result = cli("bundle", "--cert", form, *chain, "--pass", "env:P12_PASS", "--out", "out.pem")
    assert result.code == 0, result.err
    written = x509.load_pem_x509_certificates((tmp_path / "out.pem").read_bytes())
    assert written == [made.leaf.cert, made.inter.cert]


@pytest.mark.parametrize("form", [form for form, keyed in FORMS.items() if keyed])
def test_bundle_p12_takes_the_key_from_the_cert_file(
    cli: Callable[..., Run], made: Made, tmp_path: Path, form: str
) -> None:
    """bundle --p12 without --key: the key in the combined PEM or PKCS#12 goes in; nothing stays."""
    before = listing(tmp_path)
    result = cli("bundle", "--cert", form, "--pass", "env:P12_PASS", "--p12", "out.p12")
    assert result.code == 0, result.err
    assert listing(tmp_path) == sorted([*before, "out.p12"])
    assert (tmp_path / "out.p12").stat().st_mode & 0o777 == 0o600
    data = (tmp_path / "out.p12").read_bytes()
    key, cert, extra = pkcs12.load_key_and_certificates(data, PASSPHRASE.encode())
    assert cert == made.leaf.cert
    assert extra == [made.inter.cert]
    assert key is not None
    assert key.public_key() == made.leaf.cert.public_key()


def test_bundle_from_a_pfx_serves_over_tls(
    cli: Callable[..., Run], made: Made, tmp_path: Path
) -> None:
    """The PEM bundle made from a .pfx, with the key the .pfx held, passes a real TLS handshake."""
    assert (
        cli("bundle", "--cert", "full.pfx", "--pass", "env:P12_PASS", "--out", "fc.pem").code == 0
    )
    result = cli("check", "--cert", "full.pfx", "--pass", "env:P12_PASS", "--json")
    (message,) = [
        f["message"] for f in json.loads(result.out)["findings"] if f["check"] == "key-unencrypted"
    ]
    run_sh(message[message.index("(umask 077") :], tmp_path)
    with s_server(tmp_path / "fc.pem", tmp_path / "full.key", tmp_path / "fc.pem") as port:
        assert handshake(port, HOST, cafile=tmp_path / "root.pem") is None
    assert made.leaf.cert == x509.load_pem_x509_certificates((tmp_path / "fc.pem").read_bytes())[0]


def test_bundle_p12_print_runs_as_printed(
    cli: Callable[..., Run], made: Made, tmp_path: Path
) -> None:
    """bundle --p12 --print from a .pfx runs as printed, its key in a scratch folder."""
    result = cli("bundle", "--cert", "full.pfx", "--pass", "env:P12_PASS", "--p12", "re.p12",
                 "--print")  # fmt: skip
    assert result.code == 0, result.err
    assert '-nocerts -nodes -out "$work"/key.pem' in result.out
    assert PASSPHRASE not in result.out
    run_sh(result.out, tmp_path)
    key, cert, extra = pkcs12.load_key_and_certificates(
        (tmp_path / "re.p12").read_bytes(), PASSPHRASE.encode()
    )
    assert (cert, extra) == (made.leaf.cert, [made.inter.cert])
    assert key is not None


@pytest.mark.parametrize("form", ["full.pfx", "full-der.p7b", "leaf.der"])
def test_check_print_runs_as_printed(
    cli: Callable[..., Run], made: Made, tmp_path: Path, form: str
) -> None:
    """check --print for a non-PEM file: the PEM copies openssl verify needs, made by openssl."""
    del made
    chain = ["--chain", "chain.p7b"] if form == "leaf.der" else []
    result = cli("check", "--cert", form, *chain, "--pass", "env:P12_PASS", "--ca-file",
                 "root.der", "--print")  # fmt: skip
    assert result.code == 0, result.err
    done = run_sh(result.out, tmp_path)
    assert ": OK" in done.stdout


@pytest.mark.parametrize("form", [form for form, keyed in FORMS.items() if keyed])
def test_bundle_says_the_key_is_left_out_and_key_out_writes_it(
    cli: Callable[..., Run], made: Made, tmp_path: Path, form: str
) -> None:
    """From a .pfx or a combined PEM: the PEM holds no key, said; --key-out writes it, 0600."""
    left = cli("bundle", "--cert", form, "--pass", "env:P12_PASS", "--out", "fc.pem")
    assert left.code == 0, left.err
    assert f"the key in {form} is not in fc.pem" in left.err
    assert "--key-out FILE" in left.err
    assert b"PRIVATE KEY" not in (tmp_path / "fc.pem").read_bytes()
    both = cli("bundle", "--cert", form, "--pass", "env:P12_PASS", "--out", "full.pem",
               "--key-out", "server.key", "--force")  # fmt: skip
    assert both.code == 0, both.err
    assert "is not in" not in both.err
    key_file = tmp_path / "server.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = serialization.load_pem_private_key(key_file.read_bytes(), None)
    assert key.public_key() == made.leaf.cert.public_key()
    with s_server(tmp_path / "full.pem", key_file, tmp_path / "full.pem") as port:
        assert handshake(port, HOST, cafile=tmp_path / "root.pem") is None


@pytest.mark.parametrize("form", ["combined.pem", "full.pfx"])
def test_bundle_print_with_key_out_makes_what_bundle_makes(
    cli: Callable[..., Run], made: Made, tmp_path: Path, form: str
) -> None:
    """bundle --out --key-out --print | sh: the same PEM bundle and the same key file, 0600."""
    del made
    args = ["bundle", "--cert", form, "--pass", "env:P12_PASS"]
    assert cli(*args, "--out", "run.pem", "--key-out", "run.key").code == 0
    script = cli(*args, "--out", "sh.pem", "--key-out", "sh.key", "--print")
    assert script.code == 0, script.err
    assert PASSPHRASE not in script.out
    run_sh(script.out, tmp_path)
    assert (tmp_path / "sh.pem").read_bytes() == (tmp_path / "run.pem").read_bytes()
    assert (tmp_path / "sh.key").read_bytes() == (tmp_path / "run.key").read_bytes()
    assert (tmp_path / "sh.key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("broken", "words"),
    [
        ({"ends": NOW - timedelta(days=1)}, "Broken Issuing expired"),
        ({"is_ca": False}, "Broken Issuing issued a certificate of the chain but is not a CA"),
    ],
    ids=["expired", "ca-false"],
)
def test_bundle_refuses_a_chain_clients_refuse(
    cli: Callable[..., Run], tmp_path: Path, broken: dict[str, Any], words: str
) -> None:
    """An expired or CA:FALSE intermediate: exit 1 naming it, nothing written; --force writes."""
    root = make_ca("Broken Root")
    inter = make_ca("Broken Issuing", root, **broken)
    leaf = make_leaf(inter, [HOST], cn=HOST)
    write(tmp_path, "leaf.pem", leaf.pem())
    write(tmp_path, "chain.pem", inter.pem(), root.pem())
    before = listing(tmp_path)
    for form in ([], ["--print"]):
        refused = cli("bundle", "--cert", "leaf.pem", "--chain", "chain.pem", "--out", "fc.pem",
                      *form)  # fmt: skip
        assert refused.code == 1, refused.err
        assert words in refused.err
        assert "clients refuse this chain" in refused.err
        assert listing(tmp_path) == before
    forced = cli("bundle", "--cert", "leaf.pem", "--chain", "chain.pem", "--out", "fc.pem",
                 "--force")  # fmt: skip
    assert forced.code == 0, forced.err
    assert words in forced.err
    assert x509.load_pem_x509_certificates((tmp_path / "fc.pem").read_bytes()) == [
        leaf.cert,
        inter.cert,
    ]
