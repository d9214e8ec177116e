"""A key an operator gives must sign for its certificate: a damaged key is refused everywhere."""

from __future__ import annotations

import json
import re
import subprocess
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.helpers import requires_openssl, run_sh
from tests.pki import Issued, damaged_key, make_ca, make_leaf, write

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.helpers import Run

pytestmark = requires_openssl

HOST = "flow.mycompany.com"


@pytest.fixture(scope="module")
def issued() -> tuple[Issued, Issued, bytes]:
    """A root, a leaf under it, and a damaged key claiming the leaf's public half."""
    root = make_ca("Possession Root")
    leaf = make_leaf(root, [HOST])
    return root, leaf, damaged_key(ec.generate_private_key(ec.SECP256R1()), leaf.key)


def test_check_of_a_damaged_key_is_not_ready(
    cli: Callable[..., Run], tmp_path: Path, issued: tuple[Issued, Issued, bytes]
) -> None:
    """check: a key whose stored public half is the leaf's but whose private part is not fails."""
    root, leaf, damaged = issued
    write(tmp_path, "leaf.crt", leaf.pem())
    write(tmp_path, "root.crt", root.pem())
    write(tmp_path, "leaf.key", damaged)
    result = cli("check", "--cert", "leaf.crt", "--key", "leaf.key", "--ca-file", "root.crt",
                 "--host", HOST, "--json")  # fmt: skip
    assert result.code == 1, result.err
    found = {item["check"]: item["status"] for item in json.loads(result.out)["findings"]}
    assert found["key-matches-cert"] == "fail"


def test_bundle_key_out_refuses_a_damaged_key(
    cli: Callable[..., Run], tmp_path: Path, issued: tuple[Issued, Issued, bytes]
) -> None:
    """bundle --key-out: the damaged key in the combined file is not written out."""
    _root, leaf, damaged = issued
    write(tmp_path, "combined.pem", leaf.pem(), damaged)
    result = cli("bundle", "--cert", "combined.pem", "--out", "fc.pem", "--key-out", "srv.key")
    assert result.code == 2, result.err
    assert "is not the key of its leaf" in result.err
    assert not (tmp_path / "srv.key").exists()
    assert not (tmp_path / "fc.pem").exists()


def test_bundle_p12_refuses_a_damaged_key(
    cli: Callable[..., Run],
    tmp_path: Path,
    issued: tuple[Issued, Issued, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """bundle --p12 --key: a damaged key file is not packed."""
    _root, leaf, damaged = issued
    monkeypatch.setenv("P12_PASS", "possession")
    write(tmp_path, "leaf.crt", leaf.pem())
    write(tmp_path, "leaf.key", damaged)
    result = cli("bundle", "--cert", "leaf.crt", "--key", "leaf.key", "--p12", "o.p12",
                 "--pass", "env:P12_PASS")  # fmt: skip
    assert result.code == 2, result.err
    assert "is not the key of" in result.err
    assert not (tmp_path / "o.p12").exists()


def test_renew_same_key_refuses_a_damaged_key(
    cli: Callable[..., Run], tmp_path: Path, issued: tuple[Issued, Issued, bytes]
) -> None:
    """renew --same-key: a damaged key is not certified again."""
    _root, leaf, damaged = issued
    write(tmp_path, "leaf.crt", leaf.pem())
    write(tmp_path, "leaf.key", damaged)
    result = cli("renew", "leaf.crt", "--key", "leaf.key", "--same-key", "--subj", "--csr")
    assert result.code == 2, result.err
    assert "is not the key of leaf.crt" in result.err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["leaf.crt", "leaf.key"]


def test_a_damaged_waiting_key_is_not_taken_for_the_answer(
    cli: Callable[..., Run], tmp_path: Path, issued: tuple[Issued, Issued, bytes]
) -> None:
    """check of a CA's answer: a waiting NAME.next.key that is damaged is not its key."""
    root, leaf, damaged = issued
    write(tmp_path, "site.next.crt", leaf.pem())
    write(tmp_path, "site.next.key", damaged)
    write(tmp_path, "root.crt", root.pem())
    result = cli("check", "--cert", "site.next.crt", "--ca-file", "root.crt", "--host", HOST,
                 "--json")  # fmt: skip
    found = {item["check"]: item["status"] for item in json.loads(result.out)["findings"]}
    assert found["key-matches-cert"] != "pass", result.out


def test_check_print_proves_the_key_as_a_run_does(
    cli: Callable[..., Run], tmp_path: Path, issued: tuple[Issued, Issued, bytes]
) -> None:
    """check --print: the key signs a challenge the certificate verifies; a damaged key fails."""
    root, leaf, damaged = issued
    write(tmp_path, "leaf.crt", leaf.pem())
    write(tmp_path, "root.crt", root.pem())
    write(tmp_path, "good.key", leaf.key_pem())
    write(tmp_path, "bad.key", damaged)
    for key, proven in (("good.key", True), ("bad.key", False)):
        printed = cli("check", "--cert", "leaf.crt", "--key", key, "--ca-file", "root.crt",
                      "--print")  # fmt: skip
        assert printed.code == 0, printed.err
        assert "pkey -pubout" not in printed.out
        try:
            done = run_sh(printed.out, tmp_path)
            said = done.stdout + done.stderr
        except subprocess.CalledProcessError as exc:  # the last step's exit code, by build
            said = exc.stdout + exc.stderr
        assert ("Signature Verified Successfully" in said) is proven, said


def test_check_print_of_an_ed25519_key_compares_what_openssl_derives(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """check --print, Ed25519: the key's derived public key is printed beside the certificate's."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from flow_ssl.openssl import runner

    if not runner.find_openssl().supports("ed25519"):
        pytest.skip("this openssl reads no Ed25519 key (LibreSSL before 3.7): check is exit 3")
    root = make_ca("Possession Ed Root")
    leaf = make_leaf(root, [HOST], key=ed25519.Ed25519PrivateKey.generate())
    other = make_leaf(root, [HOST], key=ed25519.Ed25519PrivateKey.generate())
    write(tmp_path, "leaf.crt", leaf.pem())
    write(tmp_path, "root.crt", root.pem())
    write(tmp_path, "good.key", leaf.key_pem())
    write(tmp_path, "other.key", other.key_pem())
    for key, same in (("good.key", True), ("other.key", False)):
        printed = cli("check", "--cert", "leaf.crt", "--key", key, "--ca-file", "root.crt",
                      "--print")  # fmt: skip
        assert printed.code == 0, printed.err
        assert "pkeyutl" not in printed.out  # it signs with no Ed25519 key on 1.1.1 or LibreSSL
        said = run_sh(printed.out, tmp_path).stdout
        keys = re.findall(r"-----BEGIN PUBLIC KEY-----[^-]*-----END PUBLIC KEY-----", said)
        assert len(keys) == 2, said
        assert (keys[0] == keys[1]) is same, said
