"""
--print on a .pfx: the printed script, run with sh, makes what the run makes.

Two files that need the script to open the .pfx as flow-ssl did: one with the empty
passphrase (while --pass names another source), and an RC2-40 one (OpenSSL 3 reads
it only with -legacy). Results are compared with cryptography, run against script.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.helpers import SYSTEM_OPENSSL, openssl, requires_openssl, run_sh
from tests.pki import make_ca, make_leaf, write

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.helpers import Run

pytestmark = requires_openssl
PASSPHRASE = "s3cret phrase"  # noqa: S105 - a test passphrase
HOST = "p12-script.example.com"


def _make_pfx(tmp_path: Path, kind: str) -> str:
    """leaf, key and chain in a .pfx: with the empty passphrase, or RC2-40 (3.x -legacy)."""
    inter = make_ca("P12 Script CA")
    leaf = make_leaf(inter, [HOST], cn=HOST)
    write(tmp_path, "leaf.pem", leaf.pem())
    write(tmp_path, "leaf.key", leaf.key_pem())
    write(tmp_path, "chain.pem", inter.pem())
    passout, extra, system = {
        "empty": ("pass:", [], False),
        "rc2": ("env:P12_PASS", ["-legacy"], True),
    }[kind]
    openssl("pkcs12", "-export", "-inkey", "leaf.key", "-in", "leaf.pem", "-certfile",
            "chain.pem", "-passout", passout, *extra, "-out", "in.pfx", cwd=tmp_path,
            system=system)  # fmt: skip
    return "in.pfx"


def _fingerprints(certs: list[x509.Certificate]) -> list[str]:
    return [cert.fingerprint(hashes.SHA256()).hex(":").upper() for cert in certs]


def _p12(path: Path) -> tuple[bytes, x509.Certificate | None, list[x509.Certificate]]:
    """A .p12's key (its public half, DER), certificate and extra certificates."""
    key, cert, extra = pkcs12.load_key_and_certificates(path.read_bytes(), PASSPHRASE.encode())
    assert key is not None
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return public, cert, extra


@pytest.mark.parametrize(
    "kind",
    [
        "empty",
        pytest.param(
            "rc2",
            marks=pytest.mark.skipif(
                SYSTEM_OPENSSL is None, reason="needs the machine's OpenSSL 3 to write RC2-40"
            ),
        ),
    ],
)
def test_pfx_print_scripts_make_what_the_run_makes(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """inspect, check and bundle --p12 on a .pfx: the script's result is the run's result."""
    monkeypatch.setenv("P12_PASS", PASSPHRASE)
    pfx = _make_pfx(tmp_path, kind)
    given = ["--pass", "env:P12_PASS"]

    ran = cli("inspect", pfx, *given, "--json")
    assert ran.code == 0, ran.err
    shown = cli("inspect", pfx, *given, "--print")
    assert shown.code == 0, shown.err
    printed = x509.load_pem_x509_certificates(run_sh(shown.out, tmp_path).stdout.encode())
    assert _fingerprints(printed) == [item["sha256_fingerprint"] for item in json.loads(ran.out)]

    checked = cli("check", "--cert", pfx, *given, "--ca-file", "chain.pem", "--json")
    found = {f["check"]: f["status"] for f in json.loads(checked.out)["findings"]}
    assert (found["chain-verifies"], found["key-matches-cert"]) == ("pass", "pass")
    script = cli("check", "--cert", pfx, *given, "--ca-file", "chain.pem", "--print")
    assert script.code == 0, script.err
    assert ": OK" in run_sh(script.out, tmp_path).stdout

    bundled = cli("bundle", "--cert", pfx, *given, "--p12", "run.p12")
    assert bundled.code == 0, bundled.err
    script = cli("bundle", "--cert", pfx, *given, "--p12", "script.p12", "--print")
    assert script.code == 0, script.err
    run_sh(script.out, tmp_path)
    made, wanted = _p12(tmp_path / "script.p12"), _p12(tmp_path / "run.p12")
    assert made == wanted
    assert wanted[1] is not None
    assert wanted[1].subject.rfc4514_string() == f"CN={HOST}"
    for name in ("run.p12", "script.p12"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
