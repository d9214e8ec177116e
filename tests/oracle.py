"""Compare flow-ssl's parse with cryptography's, field by field, and make unusual certificates."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

if TYPE_CHECKING:
    from flow_ssl.core.models import ParsedCertificate

SHORT_NAMES = {
    NameOID.COUNTRY_NAME: "C",
    NameOID.STATE_OR_PROVINCE_NAME: "ST",
    NameOID.LOCALITY_NAME: "L",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.COMMON_NAME: "CN",
    NameOID.EMAIL_ADDRESS: "emailAddress",
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.DOMAIN_COMPONENT: "DC",
    NameOID.USER_ID: "UID",
    NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier",
    NameOID.STREET_ADDRESS: "street",
    NameOID.BUSINESS_CATEGORY: "businessCategory",
    NameOID.JURISDICTION_COUNTRY_NAME: "jurisdictionC",
    NameOID.POSTAL_CODE: "postalCode",
}


def _name(name: x509.Name) -> list[tuple[str, str]]:
    return [
        (SHORT_NAMES.get(a.oid, a.oid.dotted_string), str(a.value))
        for rdn in name.rdns
        for a in rdn
    ]


def _key(cert: x509.Certificate) -> tuple[str, int | None, str | None]:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa", key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        curves = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
        return "ec", key.key_size, curves.get(key.curve.name, key.curve.name)
    if isinstance(key, dsa.DSAPublicKey):
        return "dsa", key.key_size, None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519", None, None
    if isinstance(key, ed448.Ed448PublicKey):
        return "ed448", None, None
    return type(key).__name__, None, None


def differences(parsed: ParsedCertificate, cert: x509.Certificate) -> list[str]:
    """Every field where flow-ssl's reading disagrees with cryptography's."""
    found = []

    def same(label: str, ours: object, theirs: object) -> None:
        if ours != theirs:
            found.append(f"{label}: {ours!r} != {theirs!r}")

    same("subject", [(a.type, a.value) for a in parsed.subject], _name(cert.subject))
    same("issuer", [(a.type, a.value) for a in parsed.issuer or []], _name(cert.issuer))
    serial = parsed.serial or ""
    same("serial", -int(serial[1:], 16) if serial.startswith("-") else int(serial, 16),
         cert.serial_number)  # fmt: skip
    same("not_before", parsed.not_before, cert.not_valid_before_utc)
    same("not_after", parsed.not_after, cert.not_valid_after_utc)
    algorithm, bits, curve = _key(cert)
    same("key algorithm", parsed.public_key.algorithm, algorithm)
    if bits is not None:
        same("key bits", parsed.public_key.bits, bits)
    same("key curve", parsed.public_key.curve, curve)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = san.get_values_for_type(x509.DNSName)
        ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        dns, ips = [], []
    same("dns", parsed.subject_alt_names.dns, dns)
    same("ip", parsed.subject_alt_names.ip, ips)
    try:
        ca: bool | None = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        ca = None
    same("ca", parsed.basic_constraints.ca if parsed.basic_constraints else None, ca)
    fingerprint = ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))
    same("fingerprint", parsed.sha256_fingerprint, fingerprint)
    return found


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
    keys: list[CertificateIssuerPrivateKeyTypes] = [
        ec.generate_private_key(ec.SECP384R1()),
        ed25519.Ed25519PrivateKey.generate(),
        ed448.Ed448PrivateKey.generate(),
        dsa.generate_private_key(2048),
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
