"""Compare flow-ssl's parse with cryptography's, field by field, and make unusual certificates."""

from __future__ import annotations

import ipaddress
import warnings
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from functools import cache
from ssl import _ssl  # type: ignore[attr-defined]
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:
    from collections.abc import Iterator

    from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

    from flow_ssl.core.models import ParsedCertificate


def short_name(oid: x509.ObjectIdentifier) -> str:
    """openssl's short name for an OID, from the libcrypto Python links (not flow-ssl's table)."""
    try:
        return str(_ssl.txt2obj(oid.dotted_string, name=False)[1])
    except ValueError:
        return oid.dotted_string


def long_name(oid: x509.ObjectIdentifier) -> str:
    """openssl's long name for an OID (what x509 -text prints for a signature algorithm)."""
    try:
        return str(_ssl.txt2obj(oid.dotted_string, name=False)[2])
    except ValueError:
        return oid.dotted_string


def _value(attribute: x509.NameAttribute[str | bytes]) -> str:
    """A name value as text; a non-string (a BIT STRING) as openssl dumps it: #, then its DER."""
    value = attribute.value
    if isinstance(value, bytes):
        tag = attribute._type.value
        return "#" + (bytes([tag, len(value)]) + value).hex().upper()
    return value


def name_pairs(name: x509.Name) -> list[tuple[str, str]]:
    """(openssl short type, value) for every attribute, in stored order."""
    return [(short_name(a.oid), _value(a)) for rdn in name.rdns for a in rdn]


_KEY_ALGORITHMS = {
    "1.2.840.113549.1.1.1": "rsa",
    "1.2.840.113549.1.1.10": "rsassapss",  # an RSA key for PSS alone: not rsaEncryption
    "1.2.840.10045.2.1": "ec",
    "1.2.840.10040.4.1": "dsa",
    "1.3.101.112": "ed25519",
    "1.3.101.113": "ed448",
}
_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


@contextmanager
def dsa_allowed() -> Iterator[None]:
    """Silence only cryptography 51's "DSA is deprecated" warning, only inside this block.

    Every public name of cryptography's dsa module warns (CryptographyDeprecationWarning) since 51.
    The corpus and the captured fixtures hold DSA keys on purpose, because openssl still reads them,
    so the oracle must read them too. Any other warning still fails the test.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="DSA is deprecated", category=CryptographyDeprecationWarning
        )
        yield


def _key(
    cert: x509.Certificate | x509.CertificateSigningRequest,
) -> tuple[str | None, int | None, str | None]:
    """(algorithm, bits, curve); None where cryptography cannot tell."""
    # A CSR has it too in the locked cryptography, though its stubs name it for certificates only.
    algorithm_oid = getattr(cert, "public_key_algorithm_oid", None)
    oid = algorithm_oid.dotted_string if algorithm_oid else ""
    try:
        with dsa_allowed():  # loading a DSA key warns too
            key = cert.public_key()
            if isinstance(key, dsa.DSAPublicKey):
                return "dsa", key.key_size, None
    except (ValueError, UnsupportedAlgorithm):
        return _KEY_ALGORITHMS.get(oid), None, None
    if isinstance(key, rsa.RSAPublicKey):
        return _KEY_ALGORITHMS.get(oid, "rsa"), key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ec", key.key_size, _CURVES.get(key.curve.name, key.curve.name)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519", None, None
    if isinstance(key, ed448.Ed448PublicKey):
        return "ed448", None, None
    return _KEY_ALGORITHMS.get(oid), None, None


def _pss_hash(cert: x509.Certificate | x509.CertificateSigningRequest) -> str | None:
    """The hash RSASSA-PSS parameters name, as cryptography reads them (None: not PSS)."""
    if cert.signature_algorithm_oid.dotted_string != "1.2.840.113549.1.1.10":
        return None
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return "unsupported"
    except ValueError:
        return "invalid parameters"
    return algorithm.name if algorithm else None


def _hex(data: bytes | None) -> str | None:
    return data.hex() if data is not None else None


def extension_fields(extensions: x509.Extensions) -> dict[str, object]:
    """The extension fields flow-ssl reports, as cryptography reads them."""

    def get(kind: type[x509.ExtensionType]) -> x509.Extension[x509.ExtensionType] | None:
        try:
            return extensions.get_extension_for_class(kind)
        except x509.ExtensionNotFound:
            return None

    found: dict[str, object] = {}
    san = get(x509.SubjectAlternativeName)
    names = san.value if san else None
    assert names is None or isinstance(names, x509.SubjectAlternativeName)
    found["dns"] = names.get_values_for_type(x509.DNSName) if names else []
    found["ip"] = [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] if names else []
    found["email"] = names.get_values_for_type(x509.RFC822Name) if names else []
    found["uri"] = names.get_values_for_type(x509.UniformResourceIdentifier) if names else []
    constraints = get(x509.BasicConstraints)
    if constraints is not None:
        value = constraints.value
        assert isinstance(value, x509.BasicConstraints)
        found["basic_constraints"] = (value.ca, value.path_length, constraints.critical)
    else:
        found["basic_constraints"] = None
    usage = get(x509.KeyUsage)
    found["key_usage"] = _key_usage(usage.value) if usage else []
    extended = get(x509.ExtendedKeyUsage)
    usages: x509.ExtensionType | list[x509.ObjectIdentifier] = extended.value if extended else []
    assert isinstance(usages, (list, x509.ExtendedKeyUsage))
    found["extended_key_usage"] = [short_name(oid) for oid in usages]
    ski = get(x509.SubjectKeyIdentifier)
    ski_value = ski.value if ski else None
    assert ski_value is None or isinstance(ski_value, x509.SubjectKeyIdentifier)
    found["subject_key_id"] = _hex(ski_value.digest) if ski_value else None
    aki = get(x509.AuthorityKeyIdentifier)
    aki_value = aki.value if aki else None
    assert aki_value is None or isinstance(aki_value, x509.AuthorityKeyIdentifier)
    found["authority_key_id"] = _hex(aki_value.key_identifier) if aki_value else None
    found["extensions"] = [(e.oid.dotted_string, e.critical) for e in extensions]
    found["name_constraints"] = _name_constraints(extensions)
    return found


def _key_usage(usage: x509.ExtensionType) -> list[str]:
    assert isinstance(usage, x509.KeyUsage)
    bits = [
        ("digitalSignature", usage.digital_signature),
        ("nonRepudiation", usage.content_commitment),
        ("keyEncipherment", usage.key_encipherment),
        ("dataEncipherment", usage.data_encipherment),
        ("keyAgreement", usage.key_agreement),
        ("keyCertSign", usage.key_cert_sign),
        ("cRLSign", usage.crl_sign),
    ]
    if usage.key_agreement:
        bits += [("encipherOnly", usage.encipher_only), ("decipherOnly", usage.decipher_only)]
    return [name for name, set_ in bits if set_]


def _name_constraints(extensions: x509.Extensions) -> object:
    """
    nameConstraints' DNS, IP, e-mail and URI subtrees, permitted then excluded, as
    cryptography reads them (None: none).
    """
    try:
        found = extensions.get_extension_for_class(x509.NameConstraints)
    except x509.ExtensionNotFound:
        return None
    value = found.value
    assert isinstance(value, x509.NameConstraints)

    def of(subtrees: object, kind: type[x509.GeneralName]) -> list[str]:
        names = subtrees if isinstance(subtrees, list) else []
        return [str(name.value) for name in names if isinstance(name, kind)]

    kinds = (x509.DNSName, x509.IPAddress, x509.RFC822Name, x509.UniformResourceIdentifier)
    subtrees = (value.permitted_subtrees, value.excluded_subtrees)
    return ([[of(held, kind) for kind in kinds] for held in subtrees], found.critical)


def _ours(parsed: ParsedCertificate) -> dict[str, object]:
    """The same fields, as flow-ssl parsed them."""
    bc = parsed.basic_constraints
    san = parsed.subject_alt_names
    nc = parsed.name_constraints
    return {
        "dns": san.dns,
        "ip": san.ip,
        "email": san.email,
        "uri": san.uri,
        "basic_constraints": (bc.ca, bc.path_length, bc.critical) if bc else None,
        "key_usage": parsed.key_usage,
        "extended_key_usage": parsed.extended_key_usage,
        "subject_key_id": parsed.subject_key_id,
        "authority_key_id": parsed.authority_key_id,
        "extensions": parsed.extensions,
        "name_constraints": (
            (
                [[held.dns, held.ip, held.email, held.uri] for held in (nc.permitted, nc.excluded)],
                nc.critical,
            )
            if nc
            else None
        ),
    }


class _Differences:
    def __init__(self) -> None:
        self.found: list[str] = []

    def same(self, label: str, ours: object, theirs: object) -> None:
        if ours != theirs:
            self.found.append(f"{label}: {ours!r} != {theirs!r}")


def differences(
    parsed: ParsedCertificate, cert: x509.Certificate, *, extensions: bool = True
) -> list[str]:
    """
    Every field where flow-ssl's reading disagrees with cryptography's.

    ``extensions=False`` for the few certificates whose extensions cryptography refuses.
    """
    diff = _Differences()
    diff.same("kind", parsed.kind, "certificate")
    diff.same("version", parsed.version, cert.version.value + 1)
    diff.same("subject", [(a.type, a.value) for a in parsed.subject], name_pairs(cert.subject))
    diff.same("issuer", [(a.type, a.value) for a in parsed.issuer or []], name_pairs(cert.issuer))
    serial = parsed.serial or ""
    diff.same("serial", -int(serial[1:], 16) if serial.startswith("-") else int(serial, 16),
              cert.serial_number)  # fmt: skip
    diff.same("signature", parsed.signature_algorithm, long_name(cert.signature_algorithm_oid))
    diff.same("signature hash", parsed.signature_hash, _pss_hash(cert))
    diff.same("not_before", parsed.not_before, cert.not_valid_before_utc)
    diff.same("not_after", parsed.not_after, cert.not_valid_after_utc)
    _same_key(diff, parsed, cert)
    if extensions:
        ours, theirs = _ours(parsed), extension_fields(cert.extensions)
        for label, value in theirs.items():
            diff.same(label, ours[label], value)
    fingerprint = ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))
    diff.same("fingerprint", parsed.sha256_fingerprint, fingerprint)
    return diff.found


def request_differences(
    parsed: ParsedCertificate, csr: x509.CertificateSigningRequest, *, extensions: bool = True
) -> list[str]:
    """Every field where flow-ssl's reading of a CSR disagrees with cryptography's."""
    diff = _Differences()
    diff.same("kind", parsed.kind, "csr")
    diff.same("subject", [(a.type, a.value) for a in parsed.subject], name_pairs(csr.subject))
    diff.same("signature", parsed.signature_algorithm, long_name(csr.signature_algorithm_oid))
    diff.same("signature hash", parsed.signature_hash, _pss_hash(csr))
    _same_key(diff, parsed, csr)
    if extensions:
        ours, theirs = _ours(parsed), extension_fields(csr.extensions)
        for label, value in theirs.items():
            diff.same(label, ours[label], value)
    return diff.found


def _same_key(
    diff: _Differences,
    parsed: ParsedCertificate,
    cert: x509.Certificate | x509.CertificateSigningRequest,
) -> None:
    algorithm, bits, curve = _key(cert)
    if algorithm is not None:
        diff.same("key algorithm", parsed.public_key.algorithm, algorithm)
    if bits is not None:
        diff.same("key bits", parsed.public_key.bits, bits)
    if algorithm == "ec":
        diff.same("key curve", parsed.public_key.curve, curve)


@cache
def unusual_certificates() -> list[x509.Certificate]:
    """Certificates that stress a text parser: string types, keys, names, extensions."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    bmp = x509.NameAttribute(
        NameOID.ORGANIZATION_NAME, "Bmp Ünïcode", _type=x509.name._ASN1Type.BMPString
    )
    t61 = x509.NameAttribute(NameOID.LOCALITY_NAME, "T61 town", _type=x509.name._ASN1Type.T61String)
    printable = x509.NameAttribute(
        NameOID.ORGANIZATIONAL_UNIT_NAME, "Printable", _type=x509.name._ASN1Type.PrintableString
    )
    subjects = [
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'München, "Zürich" + 東京 = \\x')]),
        x509.Name([bmp, t61, printable, x509.NameAttribute(NameOID.COMMON_NAME, "types.example")]),
        x509.Name([
            x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "com"),
            x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "example"),
            x509.NameAttribute(NameOID.USER_ID, "42"),
            x509.NameAttribute(NameOID.COMMON_NAME, " leading and trailing "),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, "ABC-123"),
        ]),
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "#hash;semi<less>")]),
        x509.Name([]),
    ]  # fmt: skip
    with dsa_allowed():
        dsa_key = dsa.generate_private_key(2048)
    keys: list[CertificateIssuerPrivateKeyTypes] = [
        ec.generate_private_key(ec.SECP384R1()),
        ed25519.Ed25519PrivateKey.generate(),
        ed448.Ed448PrivateKey.generate(),
        dsa_key,
        ec.generate_private_key(ec.SECP256K1()),
    ]
    serials = [1, 4096, 2**63 + 5, 2**159 - 1, 127]
    ipv6 = x509.IPAddress(ipaddress.ip_address("2001:db8::1"))
    ipv4 = x509.IPAddress(ipaddress.ip_address("10.0.0.1"))
    directory = x509.DirectoryName(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Dir, Name")])
    )
    sans: list[list[x509.GeneralName]] = [
        [x509.DNSName("xn--mnchen-3ya.example"), x509.DNSName("*.wild.example")],
        [ipv6, ipv4],
        [x509.RFC822Name("x@example.com"), x509.UniformResourceIdentifier("https://a, b/")],
        [x509.DNSName("a.example"), directory],
        [],
    ]
    certificates = []
    for number, (subject, key, serial, san) in enumerate(
        zip(subjects, keys, serials, sans, strict=True)
    ):
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Issuer {number}")]))
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(now - timedelta(days=number))
            .not_valid_after(now + timedelta(days=100 + number))
            .add_extension(
                x509.BasicConstraints(ca=number % 2 == 0, path_length=None), critical=True
            )
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        algorithm = (
            None
            if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey))
            else hashes.SHA256()
        )
        certificates.append(builder.sign(key, algorithm))
    return certificates
