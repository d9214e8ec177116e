"""
SHA-1 hidden in RSASSA-PSS parameters: read from the signature's parameters, and judged.

A certificate signed with rsassaPss names its hash inside the algorithm's parameters
(SHA-1 when they name none, RFC 4055); Python and Go refuse SHA-1 there as anywhere.
Certificates are made by each openssl build that can make one (``x509 -req -sha1
-sigopt rsa_padding_mode:pss``); cryptography reads the hash independently.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from flow_ssl.openssl.read import reader
from tests.helpers import SYSTEM_OPENSSL, requires_openssl

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.helpers import Run

BUILDS = Path(os.environ.get("OPENSSL_BIN", Path(__file__).parents[2] / "shared/openssl/bin"))
WRAPPERS = sorted(map(str, BUILDS.glob("openssl-*"))) if BUILDS.is_dir() else []
MAKERS = [binary for binary in (SYSTEM_OPENSSL, *WRAPPERS) if binary]
EXTENSIONS = {
    "leaf": "subjectAltName=DNS:pss.example.com\nextendedKeyUsage=serverAuth\n"
    "basicConstraints=critical,CA:FALSE\n",
    "ca": "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One RSA key for the root, one for an issuing CA, one for leaves (made once: slow)."""
    folder = tmp_path_factory.mktemp("keys")
    made = {}
    for role in ("root", "issuing", "leaf"):
        key = rsa.generate_private_key(65537, 2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        made[role] = folder / f"{role}.key"
        made[role].write_bytes(key)
    return made


class _Maker:
    """One openssl build making requests and certificates in a folder, with the given keys."""

    def __init__(self, binary: str, folder: Path, keys: dict[str, Path]) -> None:
        self.binary = binary
        self.folder = folder
        self.keys = keys
        self.serial = 0

    def run(self, *args: str) -> None:
        done = subprocess.run(
            [self.binary, *args], cwd=self.folder, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            pytest.skip(f"{Path(self.binary).name} cannot make it: {done.stderr.strip()[-200:]}")

    def root(self, name: str) -> None:
        (self.folder / "ca.cnf").write_text(EXTENSIONS["ca"])
        shutil.copyfile(self.keys["root"], self.folder / f"{name}.key")
        made = ["-key", f"{name}.key", "-subj", f"/CN={name}", "-out", f"{name}.pem"]
        self.run("req", "-x509", "-new", "-days", "30", *made)

    def signed(self, name: str, issuer: str, kind: str, *options: str) -> None:
        """``name``.pem for a new key, signed by ``issuer`` with ``options`` (-sha1, -sigopt)."""
        (self.folder / f"{kind}.cnf").write_text(EXTENSIONS[kind])
        shutil.copyfile(
            self.keys["issuing" if kind == "ca" else "leaf"], self.folder / f"{name}.key"
        )
        made = ["-key", f"{name}.key", "-subj", f"/CN={name}", "-out", f"{name}.csr"]
        self.run("req", "-new", *made)
        self.serial += 1
        signer = ["-CA", f"{issuer}.pem", "-CAkey", f"{issuer}.key"]
        signed = ["-set_serial", str(self.serial), "-days", "20", "-extfile", f"{kind}.cnf"]
        self.run(
            "x509", "-req", "-in", f"{name}.csr", *signer, *signed, *options, "-out", f"{name}.pem"
        )


def _pss(digest: str, salt: int) -> tuple[str, ...]:
    return (f"-{digest}", "-sigopt", "rsa_padding_mode:pss", "-sigopt", f"rsa_pss_saltlen:{salt}")


def _findings(cli: Callable[..., Run], *args: str) -> dict[str, dict[str, str]]:
    result = cli("check", "--ca-file", "root.pem", "--host", "pss.example.com", "--json", *args)
    assert result.code in {0, 1}, result.err
    return {f["check"]: f for f in json.loads(result.out)["findings"]}


@requires_openssl
@pytest.mark.skipif(not MAKERS, reason="no openssl builds to make certificates with")
@pytest.mark.parametrize("maker", MAKERS, ids=lambda path: Path(str(path)).name)
def test_sha1_inside_pss_parameters_fails_signature_hash(
    cli: Callable[..., Run], tmp_path: Path, keys: dict[str, Path], maker: str
) -> None:
    """A leaf or an issuer signed rsassaPss with SHA-1 fails signature-hash; SHA-256 passes."""
    make = _Maker(maker, tmp_path, keys)
    make.root("root")
    make.signed("pss.example.com", "root", "leaf", *_pss("sha1", 20))
    leaf = x509.load_pem_x509_certificate((tmp_path / "pss.example.com.pem").read_bytes())
    assert leaf.signature_hash_algorithm is not None
    assert leaf.signature_hash_algorithm.name == "sha1"  # cryptography, independently
    (parsed,) = reader.read_file(tmp_path / "pss.example.com.pem")
    assert (parsed.signature_algorithm, parsed.signature_hash) == ("rsassaPss", "sha1")
    found = _findings(cli, "--cert", "pss.example.com.pem")
    assert found["signature-hash"]["status"] == "fail"
    assert (
        "the certificate is signed with rsassaPss using SHA1" in found["signature-hash"]["message"]
    )

    make.signed("pss.example.com", "root", "leaf", *_pss("sha256", 32))
    found = _findings(cli, "--cert", "pss.example.com.pem")
    assert found["signature-hash"] == {
        "check": "signature-hash",
        "status": "pass",
        "message": "signed with rsassaPss",
    }

    make.signed("issuing", "root", "ca", *_pss("sha1", 20))
    make.signed("pss.example.com", "issuing", "leaf", "-sha256")
    found = _findings(cli, "--cert", "pss.example.com.pem", "--chain", "issuing.pem")
    assert found["signature-hash"]["status"] == "fail"
    assert (
        "the issuer CN=issuing is signed with rsassaPss using SHA1"
        in (found["signature-hash"]["message"])
    )


@requires_openssl
@pytest.mark.skipif(SYSTEM_OPENSSL is None, reason="no OpenSSL to make PSS certificates with")
@pytest.mark.parametrize(
    ("options", "words"),
    [
        (("-sigopt", "rsa_mgf1_md:sha1", "-sigopt", "rsa_pss_saltlen:32"), "MGF1 with SHA1"),
        (("-sigopt", "rsa_pss_saltlen:20"), "a salt of 20 bytes"),
        (("-sigopt", "rsa_pss_saltlen:max"), "a salt of 222 bytes"),
    ],
    ids=["mgf1-sha1", "salt-20", "salt-max"],
)
def test_pss_whose_mask_or_salt_is_not_its_hash_s_fails_signature_hash(
    cli: Callable[..., Run],
    tmp_path: Path,
    keys: dict[str, Path],
    options: tuple[str, ...],
    words: str,
) -> None:
    """PSS SHA-256 with an MGF1-SHA-1 mask or a salt not 32 bytes (Go refuses it): fails."""
    assert SYSTEM_OPENSSL is not None
    make = _Maker(SYSTEM_OPENSSL, tmp_path, keys)
    make.root("root")
    make.signed(
        "pss.example.com", "root", "leaf", "-sha256", "-sigopt", "rsa_padding_mode:pss", *options
    )
    (parsed,) = reader.read_file(tmp_path / "pss.example.com.pem")
    assert parsed.signature_hash == "sha256"
    found = _findings(cli, "--cert", "pss.example.com.pem")
    assert found["chain-verifies"]["status"] == "pass"  # openssl itself takes it
    assert found["signature-hash"]["status"] == "fail"
    message = found["signature-hash"]["message"]
    assert f"the certificate is signed with rsassaPss using SHA256 and {words}" in message
    assert "Go" in message
