"""
The cryptography project's X.509 vectors and the PKITS certificates, read by flow-ssl.

Every file cryptography reads must read the same in flow-ssl, field by field. flow-ssl
reads the DER itself, so the reading is the same whatever openssl is installed; openssl
is the oracle where cryptography refuses a file. The exceptions are listed with their reasons.
"""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path
from typing import Any

import cryptography_vectors
import pytest
from cryptography import x509

from flow_ssl.core.errors import InvalidInputError
from flow_ssl.openssl.read import reader
from tests.helpers import openssl, requires_openssl
from tests.oracle import differences, request_differences

VECTORS = Path(cryptography_vectors.__file__).parent / "x509"
CERTIFICATE_FILES = sorted(
    path.relative_to(VECTORS).as_posix()
    for folder in (VECTORS, VECTORS / "custom", VECTORS / "ed25519", VECTORS / "ed448")
    for path in folder.iterdir()
    if path.suffix in {".pem", ".der"} and "crl" not in path.name
)
REQUEST_FILES = sorted(f"requests/{p.name}" for p in (VECTORS / "requests").iterdir())
PKITS = VECTORS / "PKITS_data" / "certs"

# cryptography cannot read these files' extensions (its own limits or their damage);
# everything else is compared.
EXTENSIONS_CRYPTOGRAPHY_REFUSES = {
    "badssl-sct-anonymous-sig.der": "an SCT list with an anonymous signature",
    "badssl-sct-none-hash.der": "an SCT list with hash 'none'",
    "custom/cp_invalid.pem": "a policy qualifier with the wrong OID",
    "custom/cp_invalid2.der": "a policy qualifier with the wrong OID",
    "custom/empty-eku.pem": "an empty extendedKeyUsage",
    "custom/inhibit_any_policy_negative.pem": "a negative inhibitAnyPolicy",
    "custom/invalid-sct-length.der": "a damaged SCT list",
    "custom/invalid-sct-version.der": "an SCT of an unknown version",
    "custom/malformed-ian.pem": "a malformed otherName",
    "custom/malformed-san.pem": "a malformed otherName",
    "custom/nc_invalid_ip4_netmask.der": "a name constraint with a bad netmask",
    "custom/nc_invalid_ip_netmask.pem": "a name constraint with a bad netmask",
    "custom/two_basic_constraints.pem": "basicConstraints twice (flow-ssl reads the first)",
    "san_edipartyname.der": "an ediPartyName",
    "san_x400address.der": "an x400Address",
    "wosign-bc-invalid.pem": "a path length on a non-CA",
    "requests/two_basic_constraints.pem": "basicConstraints twice",
    "requests/zero-element-attribute.pem": "an attribute with no value",
}
# cryptography refuses these certificates whole; openssl reads them, so flow-ssl must too.
CRYPTOGRAPHY_REFUSES = {
    "custom/dsa_null_alg_params.pem": "DSA parameters encoded as NULL",
    "custom/ecdsa_null_alg.pem": "an ECDSA signature algorithm with NULL parameters",
    "requests/bad-version.pem": "CSR version 2",
}
# OpenSSL 3 refuses these (so flow-ssl does, on every build: exit 2 naming what is wrong).
OPENSSL_REFUSES = {
    "custom/invalid_utf8_common_name.pem": "invalid UTF-8 in a UTF8String",
    "custom/long-form-name-attribute.pem": "a long-form length inside a name",
    "custom/name_attribute_unsupported_tag.pem": "a name value of a non-string type",
    "badasn1time.pem": "a malformed time",
}
# Not DER, or against RFC 5280's version rules: openssl reads them, Go or Chrome do not,
# cryptography refuses them too (whole, or their extensions); flow-ssl refuses them whole.
NOT_DER = {
    "custom/invalid_version.pem": "version 8",
    "ed25519/ed25519-rfc8410.pem": "critical flag FALSE written out",
    "requests/freeipa-bad-critical.pem": "critical flag FALSE written out",
}
# Strict DER, but Go (the admin console) refuses them: a name value of a type it does not
# read, an iPAddress name constraint of the wrong length. openssl and cryptography read
# them; flow-ssl refuses them whole, on every build.
GO_REFUSES = {
    "custom/nc_ip_invalid_length.pem": "nameConstraints holds an iPAddress of 33 octets",
    "scottishpower-bitstring-dn.pem": "a name holds a BIT STRING at byte 151",
    "unique_identifier.pem": "a name holds a BIT STRING at byte 151",
}
# Not certificates or CSRs at all.
NEITHER = {
    "cryptography-scts-tbs-precert.der": "a bare TBSCertificate, unsigned",
}
# Where flow-ssl must read differently from cryptography, and why.
EXPECTED = {
    # Explicit curve parameters: openssl names no curve (clients refuse such keys, RFC 5480);
    # cryptography matches them to P-256.
    "custom/ec_no_named_curve.pem": ["key curve: None != 'P-256'"],
    # RSASSA-PSS with no parameters at all: cryptography calls them invalid; flow-ssl takes
    # RFC 4055's defaults (SHA-1), so check fails the signature as clients do.
    "custom/rsa_pss_cert_no_sig_params.der": ["signature hash: 'sha1' != 'invalid parameters'"],
}


def _load(name: str) -> list[x509.Certificate] | list[x509.CertificateSigningRequest]:
    data = (VECTORS / name).read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # negative serials, on purpose
        if name.startswith("requests/"):
            pem = b"-----BEGIN" in data
            return [x509.load_pem_x509_csr(data) if pem else x509.load_der_x509_csr(data)]
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]


def _openssl_serial(path: Path) -> int:
    """The serial openssl itself prints for the file (the oracle where cryptography refuses)."""
    data = path.read_bytes()
    pem = b"-----BEGIN" in data
    printed = openssl("x509", "-noout", "-serial", "-inform", "PEM" if pem else "DER", stdin=data)
    return int(printed.decode().strip().split("=", 1)[1], 16)


def _refused(name: str) -> str | None:
    """Why flow-ssl refuses a file, or None when it reads it."""
    try:
        reader.read_file(VECTORS / name)
    except InvalidInputError as exc:
        return exc.message
    return None


@requires_openssl
@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")
@pytest.mark.filterwarnings("ignore:Attribute's length:UserWarning")  # bad_country.pem
@pytest.mark.parametrize("name", CERTIFICATE_FILES + REQUEST_FILES)
def test_vector_reads_like_cryptography(name: str) -> None:
    """Each vector reads as cryptography reads it, or is refused for the reason listed."""
    if name in NEITHER:
        refusal = _refused(name)
        assert refusal is not None
        assert "not a valid" in refusal or "not a certificate" in refusal
        return
    if name in OPENSSL_REFUSES:
        refusal = _refused(name)
        assert refusal is not None
        assert "is not a valid certificate" in refusal, refusal
        return
    if name in NOT_DER:
        refusal = _refused(name)
        assert refusal is not None
        assert NOT_DER[name] in refusal, refusal
        with pytest.raises((ValueError, x509.InvalidVersion)):  # cryptography refuses it too
            [loaded.extensions for loaded in _load(name)]
        return
    if name in GO_REFUSES:
        refusal = _refused(name)
        assert refusal is not None
        assert GO_REFUSES[name] in refusal, refusal
        assert _load(name)  # cryptography reads it: only the rule Go keeps refuses it
        return
    if name in CRYPTOGRAPHY_REFUSES:
        (parsed,) = reader.read_file(VECTORS / name)
        if parsed.kind == "certificate":
            assert int(parsed.serial or "", 16) == _openssl_serial(VECTORS / name)
        return
    expected = _load(name)
    parsed_all = reader.read_file(VECTORS / name)
    assert len(parsed_all) == len(expected)
    extensions = name not in EXTENSIONS_CRYPTOGRAPHY_REFUSES
    for parsed, theirs in zip(parsed_all, expected, strict=True):
        if isinstance(theirs, x509.CertificateSigningRequest):
            found = request_differences(parsed, theirs, extensions=extensions)
        else:
            assert isinstance(theirs, x509.Certificate)
            found = differences(parsed, theirs, extensions=extensions)
        assert found == EXPECTED.get(name, [])


# PKITS certificates cryptography refuses: DSA keys that inherit their parameters.
PKITS_CRYPTOGRAPHY_REFUSES = {
    "DSAParametersInheritedCACert.crt",
    "ValidDSAParameterInheritanceTest5EE.crt",
}


@requires_openssl
@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")
def test_pkits_in_one_bundle_no_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PKITS's 405 certificates in one file: no openssl process, every one exact."""
    paths = sorted(PKITS.glob("*.crt"))
    bundle = tmp_path / "pkits.pem"
    bundle.write_text("".join(reader.to_pem(path.read_bytes()) for path in paths))
    calls: list[str] = []
    real_popen = subprocess.Popen

    def counting_popen(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        calls.append(argv[1])
        return real_popen(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", counting_popen)
    parsed = reader.read_file(bundle)
    assert calls == []
    assert len(parsed) == len(paths) > 400
    found = {}
    for path, ours in zip(paths, parsed, strict=True):
        if path.name in PKITS_CRYPTOGRAPHY_REFUSES:
            assert int(ours.serial or "", 16) == _openssl_serial(path)
            continue
        found[path.name] = differences(ours, x509.load_der_x509_certificate(path.read_bytes()))
    assert {name: diff for name, diff in found.items() if diff} == {}
