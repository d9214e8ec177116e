"""
How a file's form is told and framed: PKCS#7 in every encoding, DER end to end, keys kept,
and a byte-order mark read where OpenSSL 3 (the server's) reads past it.

Files come from openssl (crl2pkcs7), from cryptography (an independent PKCS#7
writer) and by hand where a CA's odd file is needed (BER lengths, CMS labels, what
Notepad saves). OpenSSL 3's own PEM reader is the oracle for byte-order marks:
the system's ``openssl crl2pkcs7 -certfile`` and Python's ``ssl`` (linked to it).
"""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import NameOID

from flow_ssl.core.errors import InvalidInputError
from flow_ssl.openssl.read import containers, pem, reader
from tests.helpers import SYSTEM_OPENSSL, argv_spy, openssl, requires_openssl
from tests.pki import Issued, make_ca, make_leaf, write
from tests.test_formats_p12 import _indefinite

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.helpers import Run


@pytest.fixture
def chain(tmp_path: Path) -> list[Issued]:
    """leaf, intermediate, root (in that order); chain.pem holds them."""
    root = make_ca("Framing Root")
    inter = make_ca("Framing Issuing", root)
    leaf = make_leaf(inter, ["framing.example.com"])
    write(tmp_path, "chain.pem", leaf.pem(), inter.pem(), root.pem())
    return [leaf, inter, root]


def _fingerprints(result: Run) -> list[str]:
    assert result.code == 0, result.err
    return [item["sha256_fingerprint"] for item in json.loads(result.out)]


@requires_openssl
def test_a_ber_pkcs7_reads_like_its_der(
    cli: Callable[..., Run], tmp_path: Path, chain: list[Issued], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A BER .p7b (indefinite lengths) is read as its DER is, by flow-ssl alone (no openssl)."""
    der = openssl("crl2pkcs7", "-nocrl", "-certfile", "chain.pem", "-outform", "DER", cwd=tmp_path)
    ber = _indefinite(der, 4)
    assert ber[:2] == b"\x30\x80"
    assert ber.count(b"\x00\x00") >= 4
    (tmp_path / "der.p7b").write_bytes(der)
    (tmp_path / "ber.p7b").write_bytes(ber)
    armoured = base64.encodebytes(ber).decode()
    (tmp_path / "ber-pem.p7b").write_text(f"-----BEGIN PKCS7-----\n{armoured}-----END PKCS7-----\n")
    expected = _fingerprints(cli("inspect", "der.p7b", "--json"))
    assert len(expected) == len(chain)
    started = argv_spy(monkeypatch)
    assert _fingerprints(cli("inspect", "ber.p7b", "--json")) == expected
    assert _fingerprints(cli("inspect", "ber-pem.p7b", "--json")) == expected
    assert [argv for argv in started if argv[1] != "version"] == []


@pytest.mark.parametrize("label", ["PKCS7", "PKCS #7 SIGNED DATA", "CMS"])
def test_every_pkcs7_label_and_an_independent_writer(chain: list[Issued], label: str) -> None:
    """cryptography's PKCS#7 (its own order), under each label openssl writes, frames whole."""
    certs = [issued.cert for issued in chain]
    body = pkcs7.serialize_certificates(certs, serialization.Encoding.DER)
    armoured = base64.encodebytes(body).decode()
    text = f"Some text first\n-----BEGIN {label}-----\n{armoured}-----END {label}-----\n"
    framed = pem.frame(text.encode(), "p.p7b")
    assert framed.form == "pkcs7"
    assert not framed.ordered
    found = [x509.load_der_x509_certificate(i.der) for i in framed.items]
    assert sorted(c.serial_number for c in found) == sorted(c.serial_number for c in certs)
    assert pem.frame(body, "p.p7b").items == framed.items


@requires_openssl
def test_a_set_in_another_order_is_checked_leaf_first(
    cli: Callable[..., Run], tmp_path: Path, chain: list[Issued]
) -> None:
    """A .p7b storing the root first (cryptography does) is checked and bundled leaf first."""
    certs = [issued.cert for issued in chain]
    body = pkcs7.serialize_certificates(certs, serialization.Encoding.DER)
    stored = [x509.load_der_x509_certificate(i.der) for i in pem.frame(body, "p").items]
    assert stored[0] != certs[0]
    (tmp_path / "set.p7b").write_bytes(body)
    (tmp_path / "root.pem").write_bytes(chain[2].pem())
    result = cli("check", "--cert", "set.p7b", "--ca-file", "root.pem", "--json")
    found = {f["check"]: f["status"] for f in json.loads(result.out)["findings"]}
    assert found["chain-order"] == found["chain-verifies"] == "pass", result.out
    assert cli("bundle", "--cert", "set.p7b", "--out", "full.pem").code == 0
    written = x509.load_pem_x509_certificates((tmp_path / "full.pem").read_bytes())
    assert written == certs[:2]


def test_what_is_told_from_the_first_bytes(chain: list[Issued]) -> None:
    """A certificate, a CSR and a PKCS#7 are no PKCS#12; a PKCS#7 is no certificate."""
    cert = chain[0].cert.public_bytes(serialization.Encoding.DER)
    signed = pkcs7.serialize_certificates([chain[0].cert], serialization.Encoding.DER)
    assert not containers.looks_like_pkcs12(cert)
    assert not containers.looks_like_pkcs7(cert)
    assert containers.looks_like_pkcs7(signed)
    assert not containers.looks_like_pkcs12(signed)
    assert containers.looks_like_pkcs7(_indefinite(signed, 1))
    assert not containers.looks_like_pkcs12(b"\x30")


@requires_openssl
def test_der_certificates_end_to_end_and_trailing_bytes(
    cli: Callable[..., Run], tmp_path: Path, chain: list[Issued]
) -> None:
    """DER certificates one after another are each read; a newline after is fine, junk is not."""
    ders = [issued.cert.public_bytes(serialization.Encoding.DER) for issued in chain]
    (tmp_path / "two.der").write_bytes(ders[0] + ders[1] + b"\r\n")
    assert len(_fingerprints(cli("inspect", "two.der", "--json"))) == 2
    (tmp_path / "junk.der").write_bytes(ders[0] + b"junk")
    result = cli("inspect", "junk.der")
    assert result.code == 2
    assert "4 bytes after its DER certificate" in result.err


def test_a_pkcs7_without_certificates_is_refused(tmp_path: Path, chain: list[Issued]) -> None:
    """A PKCS#7 holding no certificate: exit 2 saying so (never an empty report)."""
    empty = pkcs7.serialize_certificates([chain[0].cert], serialization.Encoding.DER)
    # The same structure with its one certificate's tag changed to an attribute certificate's.
    cert = chain[0].cert.public_bytes(serialization.Encoding.DER)
    at = empty.index(cert)
    hollow = empty[:at] + b"\xa1" + empty[at + 1 :]
    path = tmp_path / "hollow.p7b"
    path.write_bytes(hollow)
    with pytest.raises(InvalidInputError, match="PKCS#7 with no certificate"):
        reader.split_file(path)


def test_keys_are_kept_with_their_encryption(chain: list[Issued]) -> None:
    """Private key blocks beside certificates are found whole; encrypted ones are marked."""
    plain = chain[0].key_pem()
    encrypted = chain[1].key_pem(b"pw")
    legacy = b"-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\n"
    legacy += b"AAAA\n-----END EC PRIVATE KEY-----\n"
    data = b"junk\n" + plain + chain[0].pem() + encrypted + legacy
    framed = pem.frame(data, "mixed.pem")
    assert [key.text for key in framed.keys] == [plain, encrypted, legacy]
    assert [key.encrypted for key in framed.keys] == [False, True, True]
    assert len(framed.items) == 1


BOM = b"\xef\xbb\xbf"


def _openssl_3() -> str:
    """The system's openssl, when it is OpenSSL 3 (the server's reader); else the test skips."""
    version = subprocess.run(
        [SYSTEM_OPENSSL or "openssl", "version"], capture_output=True, text=True, check=False
    ).stdout
    if not version.startswith("OpenSSL 3"):
        pytest.skip(f"the system openssl is {version.strip() or 'missing'}, not OpenSSL 3")
    return version


def _read_by_openssl_3(path: Path) -> list[bytes]:
    """The certificates OpenSSL 3's PEM reader finds in a file, in order (crl2pkcs7 -certfile)."""
    _openssl_3()
    der = openssl("crl2pkcs7", "-nocrl", "-certfile", str(path), "-outform", "DER", system=True)
    printed = openssl("pkcs7", "-inform", "DER", "-print_certs", stdin=der, system=True)
    found = x509.load_pem_x509_certificates(printed) if b"-----BEGIN" in printed else []
    return [cert.public_bytes(serialization.Encoding.DER) for cert in found]


def _variants(chain: list[Issued]) -> dict[str, bytes]:
    leaf, inter = chain[0].pem(), chain[1].pem()
    return {
        "bom-first": BOM + leaf + inter,
        "bom-and-crlf": BOM + (leaf + inter).replace(b"\n", b"\r\n"),
        "bom-before-second": leaf + BOM + inter,
        "bom-after-a-key": chain[0].key_pem() + BOM + leaf + inter,
        "bom-after-text": b"Notepad\n" + BOM + leaf + inter,
        "bom-alone-first": BOM + b"\n" + leaf + inter,
        "two-boms": BOM + BOM + leaf + inter,
    }


@pytest.mark.parametrize(
    "variant",
    [
        "bom-first",
        "bom-and-crlf",
        "bom-before-second",
        "bom-after-a-key",
        "bom-after-text",
        "bom-alone-first",
        "two-boms",
    ],
)
def test_a_byte_order_mark_is_read_as_openssl_3_reads_it(
    tmp_path: Path, chain: list[Issued], variant: str
) -> None:
    """Past a UTF-8 BOM flow-ssl finds the certificates OpenSSL 3 finds, in its order."""
    path = tmp_path / f"{variant}.pem"
    path.write_bytes(_variants(chain)[variant])
    theirs = _read_by_openssl_3(path)
    try:
        ours = [item.der for item in reader.split_file(path)[0]]
    except InvalidInputError:
        ours = []
    assert ours == theirs
    # The server's loader (SSL_CTX_use_certificate_chain_file, through Python's ssl): the
    # leaf is taken exactly when flow-ssl's first certificate is the leaf.
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    (tmp_path / "leaf.key").write_bytes(chain[0].key_pem())
    leaf = chain[0].cert.public_bytes(serialization.Encoding.DER)
    try:
        server.load_cert_chain(path, tmp_path / "leaf.key")
        loaded = True
    except ssl.SSLError:
        loaded = False
    assert loaded == (ours[:1] == [leaf])


@requires_openssl
def test_a_notepad_fullchain_gives_its_leaf_to_bundle_check_and_ca_sign(
    cli: Callable[..., Run], tmp_path: Path, chain: list[Issued]
) -> None:
    """A BOM first: bundle writes the leaf first, check judges the leaf, ca sign signs the CSR."""
    leaf, inter, root = chain
    (tmp_path / "notepad.pem").write_bytes(BOM + leaf.pem() + inter.pem())
    write(tmp_path, "root.pem", root.pem())
    result = cli("bundle", "--cert", "notepad.pem", "--out", "full.pem")
    assert result.code == 0, result.err
    written = x509.load_pem_x509_certificates((tmp_path / "full.pem").read_bytes())
    assert written == [leaf.cert, inter.cert]
    trusting = ["--ca-file", "root.pem", "--host", "framing.example.com", "--json"]
    result = cli("check", "--cert", "notepad.pem", *trusting)
    found = {f["check"]: f["status"] for f in json.loads(result.out)["findings"]}
    assert found["hostname"] == found["chain-verifies"] == found["chain-order"] == "pass"
    # A CSR saved with a BOM: openssl (1.1.1 and LibreSSL too) is given a copy without it.
    assert cli("ca", "init", "--dir", "ca", "--name", "Bom Root", "--key", "ec:P-256").code == 0
    request = _request("bom.example.com")
    (tmp_path / "bom.csr").write_bytes(BOM + request.public_bytes(serialization.Encoding.PEM))
    result = cli("ca", "sign", "bom.csr", "--dir", "ca", "--out", "bom.crt")
    assert result.code == 0, result.err
    signed = x509.load_pem_x509_certificate((tmp_path / "bom.crt").read_bytes())
    assert signed.public_key() == request.public_key()


@requires_openssl
def test_a_notepad_key_reaches_openssl_as_flow_ssl_read_it(
    cli: Callable[..., Run], tmp_path: Path, chain: list[Issued], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key behind a BOM: bundle --p12 and renew --same-key hold it; printed scripts warn."""
    leaf, inter, _ = chain
    write(tmp_path, "leaf.pem", leaf.pem())
    write(tmp_path, "inter.pem", inter.pem())
    (tmp_path / "notepad.key").write_bytes(BOM + leaf.key_pem())
    monkeypatch.setenv("PFX_PASS", "bundle-pass")
    given = ["--cert", "leaf.pem", "--chain", "inter.pem", "--key", "notepad.key"]
    printed = cli("bundle", *given, "--p12", "out.pfx", "--pass", "env:PFX_PASS", "--print")
    assert "# notepad.key starts with a UTF-8 byte-order mark" in printed.out
    made = cli("bundle", *given, "--p12", "out.pfx", "--pass", "env:PFX_PASS")
    assert made.code == 0, made.err
    key, cert, _ = pkcs12.load_key_and_certificates(
        (tmp_path / "out.pfx").read_bytes(), b"bundle-pass"
    )
    assert cert == leaf.cert
    assert key is not None
    assert key.public_key() == leaf.key.public_key()
    assert cli("ca", "init", "--dir", "ca", "--name", "Bom Root", "--key", "ec:P-256").code == 0
    for host, made_by in (("own.example.com", ()), ("company.example.com", ("--ca-dir", "ca"))):
        first = (
            cli("selfsigned", "--cn", host, "--subj")
            if not made_by
            else cli("ca", "issue", "--dir", "ca", "--cn", host, "--subj", "--key", "ec:P-256")
        )
        assert first.code == 0, first.err
        marked = BOM + (tmp_path / f"{host}.key").read_bytes()
        (tmp_path / f"{host}.key").write_bytes(marked)
        printed = cli("renew", f"{host}.crt", "--same-key", "--subj", *made_by, "--print")
        assert f"# {host}.key starts with a UTF-8 byte-order mark" in printed.out
        renewed = cli("renew", f"{host}.crt", "--same-key", "--subj", *made_by)
        assert renewed.code == 0, renewed.err
        new = x509.load_pem_x509_certificate((tmp_path / f"{host}.crt").read_bytes())
        kept = serialization.load_pem_private_key(marked[len(BOM) :], None)
        assert new.public_key() == kept.public_key()
        assert (tmp_path / f"{host}.key").read_bytes() == marked


def _request(name: str) -> x509.CertificateSigningRequest:
    key = ec.generate_private_key(ec.SECP256R1())
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )


@pytest.mark.parametrize("mark", [b"\xff\xfe", b"\xfe\xff"], ids=["utf-16-le", "utf-16-be"])
def test_utf16_text_is_refused_naming_its_byte_order_mark(
    cli: Callable[..., Run], tmp_path: Path, chain: list[Issued], mark: bytes
) -> None:
    """A PEM file saved as UTF-16 (no openssl reads it) is exit 2 saying so, not "not PEM"."""
    codec = "utf-16-le" if mark == b"\xff\xfe" else "utf-16-be"
    (tmp_path / "wide.pem").write_bytes(mark + chain[0].pem().decode().encode(codec))
    result = cli("inspect", "wide.pem")
    assert result.code == 2
    assert "UTF-16" in result.err
    assert "byte-order mark" in result.err
    assert _read_by_openssl_3(tmp_path / "wide.pem") == []
