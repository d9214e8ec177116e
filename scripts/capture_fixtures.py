"""
Capture how every openssl build prints the fixture certificates, for parser tests without binaries.

``tests/data/certificates.pem`` and ``tests/data/requests/*.pem`` are the inputs
(made once with ``--make``: the local openssl, cryptography and a few of the
cryptography project's vectors). For the local openssl and each wrapper in
../shared/openssl/bin, this writes ``tests/data/<version>/``:

- ``certificates.txt``: ``openssl pkcs7 -inform DER -print_certs -text`` of them all,
  what flow-ssl runs (the PKCS#7 is made with ``crl2pkcs7 -nocrl``);
- ``<request>.txt``: ``openssl req -noout -text -inform DER`` of each CSR;
- ``rfc2253.txt``: ``x509 -noout -text -nameopt RFC2253,-esc_msb`` of the first
  certificate with escapes (the parser's name grammar).

Each file's first line records the version (``# OpenSSL 3.0.19 ...``). Usage:
``.venv/bin/python scripts/capture_fixtures.py [--make] [--bin ../shared/openssl/bin]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
CERTIFICATES = DATA / "certificates.pem"
REQUESTS = DATA / "requests"
NAMEOPT = ["-nameopt", "RFC2253,-esc_msb"]
# From the cryptography project's vectors (x509/...): shapes openssl's text makes hard.
VECTORS = (
    "bigoid.pem",  # an unknown extension whose dump breaks lines, before basicConstraints
    "v1_cert.pem",  # no extensions; inner and outer signature algorithms differ
    "unique_identifier.pem",  # a BIT STRING in the subject (dumped as #hex)
    "custom/negative_serial.pem",
    "custom/all_supported_names.pem",  # every name type, two of each
    "custom/ec_no_named_curve.pem",  # explicit curve parameters
    "custom/mismatch_inner_outer_sig_algorithm.der",
)
REQUEST_VECTORS = ("requests/challenge.pem", "requests/san_rsa_sha1.pem")


def _openssl(binary: str, *args: str, cwd: Path, stdin: bytes = b"") -> bytes:
    done = subprocess.run([binary, *args], cwd=cwd, input=stdin, capture_output=True, check=True)
    return done.stdout


def _made_by_openssl(work: Path) -> list[bytes]:
    """Certificates of every key type, made by the local openssl."""
    subj = ["-subj", "/C=DE/O=Fixture/CN=fixture.example.com", "-days", "3650"]
    keys = {
        "rsa": ["-newkey", "rsa:2048"],
        "ec-p256": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "ec-p384": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
        "ec-p521": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"],
        "ec-k256": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp256k1"],
        "ed25519": ["-newkey", "ed25519"],
        "ed448": ["-newkey", "ed448"],
    }
    made = []
    for name, newkey in keys.items():
        _openssl("openssl", "req", "-x509", "-nodes", *newkey, "-keyout", f"{name}.key",
                 "-out", f"{name}.pem", *subj, "-addext",
                 "subjectAltName=DNS:fixture.example.com,IP:10.0.0.1,IP:2001:db8::1",
                 "-addext", "extendedKeyUsage=serverAuth,clientAuth,1.2.3.4",
                 "-addext", "keyUsage=critical,digitalSignature,keyCertSign", cwd=work)  # fmt: skip
        made.append((work / f"{name}.pem").read_bytes())
    _openssl("openssl", "genpkey", "-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048",
             "-out", "pss.key", cwd=work)  # fmt: skip
    _openssl("openssl", "dsaparam", "-out", "dsa.param", "2048", cwd=work)
    _openssl("openssl", "genpkey", "-paramfile", "dsa.param", "-out", "dsa.key", cwd=work)
    for name in ("pss", "dsa"):
        _openssl("openssl", "req", "-x509", "-key", f"{name}.key", "-out", f"{name}.pem",
                 *subj, cwd=work)  # fmt: skip
        made.append((work / f"{name}.pem").read_bytes())
        _openssl("openssl", "req", "-new", "-key", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}.example.com", cwd=work)  # fmt: skip
        (REQUESTS / f"{name}.pem").write_bytes((work / f"{name}.csr").read_bytes())
    _openssl("openssl", "req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-384", "-keyout", "k.pem", "-out", "escapes.pem", "-days", "3650",
             "-utf8", "-subj", "/C=DE/ST=東京都/L=München/O= Acme, Inc. /OU=R\\/D\\+x/CN=a\\\\b=c"
             "/emailAddress=x@example.com", "-addext",
             "subjectAltName=DNS:a.example.com,email:x@example.com,URI:https://example.com/",
             cwd=work)  # fmt: skip
    return [(work / "escapes.pem").read_bytes(), *made]


def _made_by_cryptography() -> tuple[list[bytes], bytes]:
    """A certificate whose SAN values imitate openssl's separators and lines; a CSR with them."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import AttributeOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    forged = (
        "good.example.com\n            X509v3 Basic Constraints: critical\n                CA:TRUE"
    )
    san = x509.SubjectAlternativeName([
        x509.DNSName("good.example.com, DNS:evil.example.com"), x509.DNSName(forged)
    ])  # fmt: skip
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile.example.com")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x7357)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(san, critical=False)
        .sign(key, hashes.SHA256())
    )
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(name)
        .add_extension(san, critical=False)
        .add_attribute(AttributeOID.CHALLENGE_PASSWORD, b"not a secret")
        .sign(key, hashes.SHA256())
    )
    return [cert.public_bytes(serialization.Encoding.PEM)], csr.public_bytes(
        serialization.Encoding.PEM
    )


def make() -> None:
    """Write the fixture inputs (certificates.pem, requests/*.pem)."""
    import cryptography_vectors
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    vectors = Path(cryptography_vectors.__file__).parent / "x509"
    REQUESTS.mkdir(parents=True, exist_ok=True)
    pems: list[bytes] = []
    with tempfile.TemporaryDirectory() as folder:
        pems += _made_by_openssl(Path(folder))
    hostile, hostile_csr = _made_by_cryptography()
    pems += hostile
    (REQUESTS / "hostile.pem").write_bytes(hostile_csr)
    for name in VECTORS:
        data = (vectors / name).read_bytes()
        cert = (
            x509.load_pem_x509_certificate(data)
            if data.startswith(b"-----")
            else x509.load_der_x509_certificate(data)
        )
        pems.append(cert.public_bytes(serialization.Encoding.PEM))
    for name in REQUEST_VECTORS:
        shutil.copyfile(vectors / name, REQUESTS / Path(name).name)
    CERTIFICATES.write_bytes(b"".join(pems))


def capture(binary: str) -> Path:
    """Write ``tests/data/<version>/`` for one openssl binary; returns the folder."""
    version = _openssl(binary, "version", cwd=DATA).decode().strip()
    flavour, number = version.split()[:2]
    folder = DATA / f"{flavour.lower()}-{number}"
    folder.mkdir(exist_ok=True)
    header = f"# {version}\n".encode()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        pkcs7 = _openssl("openssl", "crl2pkcs7", "-nocrl", "-certfile", str(CERTIFICATES),
                         "-outform", "DER", cwd=work)  # fmt: skip
        printed = _openssl(binary, "pkcs7", "-inform", "DER", "-print_certs", "-text",
                           cwd=work, stdin=pkcs7)  # fmt: skip
        (folder / "certificates.txt").write_bytes(header + printed)
        first = _openssl("openssl", "x509", "-outform", "DER", "-in", str(CERTIFICATES), cwd=work)
        text = _openssl(binary, "x509", "-noout", "-text", "-inform", "DER", *NAMEOPT,
                        cwd=work, stdin=first)  # fmt: skip
        (folder / "rfc2253.txt").write_bytes(header + text)
        for request in sorted(REQUESTS.glob("*.pem")):
            der = _openssl("openssl", "req", "-outform", "DER", "-in", str(request), cwd=work)
            text = _openssl(binary, "req", "-noout", "-text", "-inform", "DER",
                            cwd=work, stdin=der)  # fmt: skip
            (folder / f"{request.stem}.txt").write_bytes(header + text)
    return folder


def main() -> None:
    """Make the inputs if asked, then capture every openssl's text of them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1] if __doc__ else None)
    parser.add_argument("--make", action="store_true", help="remake the fixture inputs first")
    parser.add_argument("--bin", type=Path, default=ROOT.parent / "shared" / "openssl" / "bin")
    args = parser.parse_args()
    if args.make:
        make()
    binaries = ["openssl", *(str(p) for p in sorted(args.bin.glob("openssl-*")))]
    for binary in binaries:
        print(f"{binary}: {capture(binary).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
