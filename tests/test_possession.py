"""A key an operator gives must sign for its certificate: a damaged key is refused everywhere."""

from __future__ import annotations

import json
import re
import ssl
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


@pytest.fixture(scope="module", params=["another private part", "another public half"])
def damaged(request: pytest.FixtureRequest) -> tuple[Issued, Issued, bytes, str]:
    """
    A root, a leaf, a damaged key for it, and the words that name the damage: the leaf's
    public half beside another key's private part, or the other way round.
    """
    root = make_ca(f"Possession {request.param}")
    leaf = make_leaf(root, [HOST])
    other = ec.generate_private_key(ec.SECP256R1())
    if request.param == "another private part":
        return root, leaf, damaged_key(other, leaf.key), "is not the key of"
    return root, leaf, damaged_key(leaf.key, other), "the public half stored beside it"


def test_check_of_a_damaged_key_is_not_ready(
    cli: Callable[..., Run], tmp_path: Path, damaged: tuple[Issued, Issued, bytes, str]
) -> None:
    """check: a key whose two halves are not both the leaf's fails key-matches-cert."""
    root, leaf, key, words = damaged
    write(tmp_path, "leaf.crt", leaf.pem())
    write(tmp_path, "root.crt", root.pem())
    write(tmp_path, "leaf.key", key)
    result = cli("check", "--cert", "leaf.crt", "--key", "leaf.key", "--ca-file", "root.crt",
                 "--host", HOST, "--json")  # fmt: skip
    assert result.code == 1, result.err
    (matched,) = [f for f in json.loads(result.out)["findings"] if f["check"] == "key-matches-cert"]
    assert matched["status"] == "fail"
    assert words in matched["message"]


def test_bundle_key_out_refuses_a_damaged_key(
    cli: Callable[..., Run], tmp_path: Path, damaged: tuple[Issued, Issued, bytes, str]
) -> None:
    """bundle --key-out: the damaged key in the combined file is not written out."""
    _root, leaf, key, words = damaged
    write(tmp_path, "combined.pem", leaf.pem(), key)
    result = cli("bundle", "--cert", "combined.pem", "--out", "fc.pem", "--key-out", "srv.key")
    assert result.code == 2, result.err
    assert words in result.err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["combined.pem"]


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


@pytest.fixture(scope="module")
def mislabelled() -> tuple[Issued, Issued, bytes]:
    """A root, a leaf under it, and the leaf's own private key beside another key's public half."""
    root = make_ca("Possession Mislabelled Root")
    leaf = make_leaf(root, [HOST])
    return root, leaf, damaged_key(leaf.key, ec.generate_private_key(ec.SECP256R1()))


def test_renew_same_key_never_certifies_another_keys_public_half(
    cli: Callable[..., Run], tmp_path: Path, mislabelled: tuple[Issued, Issued, bytes]
) -> None:
    """renew --same-key: refused before openssl runs; the live pair is untouched."""
    _root, leaf, damaged = mislabelled
    write(tmp_path, "leaf.crt", leaf.pem())
    write(tmp_path, "leaf.key", damaged)
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    result = cli("renew", "leaf.crt", "--key", "leaf.key", "--same-key", "--subj")
    assert result.code == 2, result.err
    assert "another key's" in result.err
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


def test_a_key_written_with_a_compressed_point_is_still_the_certificates(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """A key file whose point is stored compressed holds the same key: ready, as servers agree."""
    from tests.helpers import openssl

    openssl("req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-pkeyopt", "ec_param_enc:named_curve", "-keyout", "whole.key", "-out", "leaf.crt",
            "-subj", f"/CN={HOST}", "-days", "30", cwd=tmp_path)  # fmt: skip
    openssl("ec", "-in", "whole.key", "-conv_form", "compressed", "-out", "leaf.key", cwd=tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "leaf.crt", tmp_path / "leaf.key")  # the server's view
    result = cli("check", "--cert", "leaf.crt", "--key", "leaf.key", "--json")
    (matched,) = [f for f in json.loads(result.out)["findings"] if f["check"] == "key-matches-cert"]
    assert matched["status"] == "pass", matched


def test_an_openssl_server_refuses_a_key_whose_stored_public_half_is_another_keys(
    tmp_path: Path, mislabelled: tuple[Issued, Issued, bytes]
) -> None:
    """What the check's failure stands for: OpenSSL loads no such pair (key values mismatch)."""
    _root, leaf, key = mislabelled
    write(tmp_path, "leaf.crt", leaf.pem())
    write(tmp_path, "leaf.key", key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with pytest.raises(ssl.SSLError, match=r"KEY_VALUES_MISMATCH|key values mismatch"):
        context.load_cert_chain(tmp_path / "leaf.crt", tmp_path / "leaf.key")
