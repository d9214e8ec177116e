"""
Certificates, CSRs and CRLs read from their DER: every field flow-ssl reports, no openssl.
Pure.

Names and values come whole from the encoding, so nothing a certificate holds can
imitate another field (openssl prints values raw: a dNSName may hold ``, DNS:`` or
a line break). Fields are named as OpenSSL 3 names them (``oids``); a certificate
OpenSSL 3 would not load (a name value it cannot decode) is refused here too, so
what flow-ssl reports is what the server sees. So is one that is not strict DER, or
breaks RFC 5280's version rules (extensions in a v1 certificate, a "v4"): openssl
loads those, but Go (the admin console) and Chrome refuse them. So is well-formed DER
Go refuses to parse: a compressed EC point, a name value of a string type Go does not
read, an iPAddress of the wrong length.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timezone
from typing import TYPE_CHECKING, TypedDict

from flow_ssl.core.models import (
    BasicConstraints,
    NameAttribute,
    NameConstraints,
    NameSubtrees,
    ParsedCertificate,
    PublicKeyInfo,
    SubjectAltNames,
)
from flow_ssl.openssl.read import oids
from flow_ssl.openssl.read.asn1 import (
    BOOLEAN,
    GENERALIZED_TIME,
    INTEGER,
    OCTET_STRING,
    OID,
    SEQUENCE,
    SET,
    UTC_TIME,
    ASN1Error,
    Element,
    context,
    parse_der,
    parse_whole,
)

if TYPE_CHECKING:
    from flow_ssl.core.revocation import CrlScope, RevocationList, Revoked

# The string types Go (the admin console) reads in a name: UTF8String, BMPString, and
# the one-byte NumericString, PrintableString, T61String and IA5String. Go refuses a
# certificate holding any other (openssl loads it), so flow-ssl does too.
_UTF8_STRING, _BMP_STRING = 0x0C, 0x1E
_ONE_BYTE_STRINGS = {0x12, 0x13, 0x14, 0x16}
_OTHER_STRINGS = {
    0x03: "a BIT STRING",
    0x15: "a VideotexString",
    0x19: "a GraphicString",
    0x1A: "a VisibleString",
    0x1B: "a GeneralString",
    0x1C: "a UniversalString",
}
_UNCOMPRESSED = 0x04  # an EC point's first byte in the one form Go reads (SEC 1 2.3.3)
_ENUMERATED = 0x0A
_UTC_TIME_ENDS = 2050  # RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime after
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def read_certificate(der: bytes, *, source: str = "", index: int = 0) -> ParsedCertificate:
    """
    Every field of a certificate (not its fingerprint, which the reader adds).

    Raises:
        ASN1Error: not a certificate's structure, or a field OpenSSL 3 refuses.
    """
    outer = _three_parts(der, "certificate", strict=True)
    fields = outer[0].expect(SEQUENCE, "tbsCertificate").children()
    stored = 0
    if fields and fields[0].tag == context(0):  # [0] EXPLICIT version, DEFAULT v1
        stored = _explicit(fields[0], "version").expect(INTEGER, "version").integer()
        if stored == 0:
            raise ASN1Error("not DER: version v1 written out (DER leaves a default out)")
        fields = fields[1:]
    if len(fields) < 6:
        raise ASN1Error("tbsCertificate is too short")
    validity = fields[3].expect(SEQUENCE, "validity").children()
    if len(validity) != 2:
        raise ASN1Error("validity holds two times")
    wrapper = _optional_fields(fields[6:], stored)
    extensions = _extensions(_explicit(wrapper, "extensions")) if wrapper else []
    serial = fields[0].expect(INTEGER, "serial").integer()
    parsed = ParsedCertificate.model_construct(
        kind="certificate",
        source=source,
        index=index,
        version=stored + 1,
        serial=("-" if serial < 0 else "") + _whole_bytes(abs(serial)),
        issuer=_name(fields[2]),
        subject=_name(fields[4]),
        not_before=_time(validity[0]),
        not_after=_time(validity[1]),
        early_generalized_times=[
            name
            for name, time in zip(("notBefore", "notAfter"), validity, strict=True)
            if time.tag == GENERALIZED_TIME and _time(time).year < _UTC_TIME_ENDS
        ],
        attributes=[],
        **_shared(outer[1], fields[5], extensions),
    )
    parsed.self_signed = _self_signed(parsed)
    return parsed


def _optional_fields(optional: list[Element], version: int) -> Element | None:
    """
    The extensions' wrapper among what follows the key, by RFC 5280's rules: the unique
    ids ``[1]`` and ``[2]`` only from v2, the extensions ``[3]`` only in v3, each at
    most once and in that order.

    Raises:
        ASN1Error: a version above v3, or a field its version does not allow.
    """
    if not 0 <= version <= 2:  # v1 to v3, stored as 0 to 2
        raise ASN1Error(f"version {version + 1} (X.509 has v1 to v3)")
    tags = [field.tag for field in optional]
    allowed = [context(1, constructed=False), context(2, constructed=False), context(3)]
    if tags != sorted(set(tags)) or not set(tags) <= set(allowed):
        raise ASN1Error(
            "tbsCertificate holds fields after the key other than its ids and extensions"
        )
    if optional and optional[-1].tag == context(3) and version != 2:
        raise ASN1Error(f"a v{version + 1} certificate holding extensions (only v3 may)")
    if optional and optional[0].tag != context(3) and version == 0:
        raise ASN1Error("a v1 certificate holding unique ids (only v2 and v3 may)")
    return optional[-1] if optional and optional[-1].tag == context(3) else None


def read_request(der: bytes, *, source: str = "", index: int = 0) -> ParsedCertificate:
    """
    Every field of a CSR: subject, key, requested extensions and attribute names.

    Raises:
        ASN1Error: not a CSR's structure, or a field OpenSSL 3 refuses.
    """
    outer = _three_parts(der, "certificate request", strict=True)
    fields = outer[0].expect(SEQUENCE, "certificationRequestInfo").children()
    if len(fields) < 3:
        raise ASN1Error("certificationRequestInfo is too short")
    extensions: list[tuple[str, bool, bytes]] = []
    attributes: list[str] = []
    held = fields[3] if len(fields) > 3 and fields[3].tag == context(0) else None
    for attribute in held or ():
        parts = attribute.expect(SEQUENCE, "attribute").children()
        if len(parts) != 2:
            raise ASN1Error("an attribute has a type and a set of values")
        oid = parts[0].oid()
        if oid in oids.EXTENSION_REQUESTS:
            for value in parts[1].expect(SET, "attribute values").children()[:1]:
                extensions += _extensions(value)
        else:
            attributes.append(oids.name_type(oid))
    return ParsedCertificate.model_construct(
        kind="csr",
        source=source,
        index=index,
        version=1 if fields[0].expect(INTEGER, "version").integer() == 0 else None,
        subject=_name(fields[1]),
        attributes=attributes,
        self_signed=False,  # a CSR's signature only proves it holds the key
        **_shared(outer[1], fields[2], extensions),
    )


def read_crl(der: bytes) -> RevocationList:
    """
    A CRL: its issuer, this and next update, CRL number, issuer key id, and each entry
    with its reason.

    Raises:
        ASN1Error: not a CRL's structure.
    """
    from flow_ssl.core.revocation import RevocationList  # only the CA and check --crl read CRLs

    outer = _three_parts(der, "CRL", strict=True)
    fields = outer[0].expect(SEQUENCE, "tbsCertList").children()
    if fields and fields[0].tag == INTEGER:  # the version, present in a v2 CRL
        if fields[0].integer() != 1:
            raise ASN1Error("a CRL version other than v2 written out (RFC 5280: v1 has none)")
        fields = fields[1:]
    if len(fields) < 3:
        raise ASN1Error("tbsCertList is too short")
    read = RevocationList(
        issuer=_name(fields[1]), this_update=_time(fields[2], "the CRL"), next_update=None
    )
    for part in fields[3:]:
        if part.tag in {UTC_TIME, GENERALIZED_TIME}:
            read.next_update = _time(part, "the CRL")
        elif part.tag == SEQUENCE:
            read.revoked = [_revoked(entry) for entry in part]
        elif part.tag == context(0):  # [0] EXPLICIT crlExtensions
            for oid, critical, value in _extensions(_explicit(part, "crlExtensions")):
                if critical and oid not in oids.CRL_HANDLED_CRITICAL:
                    read.unhandled.append(oid)
                if oid == oids.CRL_NUMBER:
                    number = parse_der(value, "cRLNumber").expect(INTEGER, "cRLNumber")
                    read.number = number.integer()
                elif oid == oids.AUTHORITY_KEY_ID:
                    read.authority_key_id = _authority_key_identifier(value)
                elif oid == oids.DELTA_CRL_INDICATOR:
                    base = parse_der(value, "deltaCRLIndicator").expect(INTEGER, "base number")
                    read.delta_base = base.integer()
                elif oid == oids.ISSUING_DISTRIBUTION_POINT:
                    read.scope = _issuing_distribution_point(value)
    read.unhandled += [
        f"{oid} (in the entry of serial {_whole_bytes(abs(entry.serial)).upper()})"
        for entry in read.revoked
        for oid in entry.unhandled
    ]
    read.der = der
    return read


def _revoked(entry: Element) -> Revoked:
    """
    One revoked certificate: its serial, when, the reason if the entry gives one, and
    the critical extensions openssl does not handle (for which it refuses the CRL).
    """
    from flow_ssl.core.revocation import REASON_NAMES, Revoked

    parts = entry.expect(SEQUENCE, "revoked certificate").children()
    if len(parts) < 2:
        raise ASN1Error("a revoked certificate has a serial and a date")
    reason, unhandled = None, []
    for oid, critical, value in _extensions(parts[2]) if len(parts) > 2 else []:
        if critical and oid not in oids.ENTRY_HANDLED_CRITICAL:
            unhandled.append(oid)
        if oid == oids.CRL_REASON:
            code = parse_der(value, "reason").expect(_ENUMERATED, "reason").integer()
            reason = REASON_NAMES.get(code, str(code))
    serial = parts[0].expect(INTEGER, "serial").integer()
    when = _time(parts[1], "the CRL")
    return Revoked(serial=serial, when=when, reason=reason, unhandled=tuple(unhandled))


def _issuing_distribution_point(value: bytes) -> CrlScope:
    """
    issuingDistributionPoint (RFC 5280 5.2.5): the distribution point a CRL covers, and
    what else narrows it (each BOOLEAN is DEFAULT FALSE, so DER writes only a TRUE one).
    """
    from flow_ssl.core.revocation import CrlScope

    flags: set[int] = set()
    points: tuple[tuple[bytes, str], ...] = ()
    top = parse_der(value, "issuingDistributionPoint")
    for part in top.expect(SEQUENCE, "issuingDistributionPoint"):
        if part.tag == context(0):
            points = _point_names(part)
        else:
            flags.add(part.tag & 0x1F)
    return CrlScope(
        points=tuple(name for name, _ in points),
        shown=tuple(text for _, text in points),
        only_user=1 in flags,
        only_ca=2 in flags,
        some_reasons=3 in flags,
        indirect=4 in flags,
        only_attribute=5 in flags,
    )


def _point_names(point: Element) -> tuple[tuple[bytes, str], ...]:
    """
    A DistributionPointName's names, each as its DER (to compare, as openssl does) and as
    text: a fullName's GeneralNames, or the relative name whole.
    """
    chosen = _explicit(point, "distributionPoint")
    if chosen.tag != context(0):  # nameRelativeToCRLIssuer
        return ((chosen.encoded, "a name relative to the CRL's issuer"),)
    return tuple(
        (
            name.encoded,
            _ia5(name.content) if name.tag == 0x86 else f"a name of kind [{name.tag & 0x1F}]",
        )
        for name in chosen
    )


def distribution_points(der: bytes) -> frozenset[bytes]:
    """
    The names a certificate's crlDistributionPoints give for its CRL, each as its DER:
    what an issuingDistributionPoint must name for its CRL to cover the certificate.

    Raises:
        ASN1Error: not a certificate's structure.
    """
    fields = _three_parts(der, "certificate")[0].children()
    wrapper = fields[-1] if fields and fields[-1].tag == context(3) else None
    found: set[bytes] = set()
    for oid, _, value in _extensions(_explicit(wrapper, "extensions")) if wrapper else []:
        if oid == oids.CRL_DISTRIBUTION_POINTS:
            top = parse_der(value, "crlDistributionPoints")
            for point in top.expect(SEQUENCE, "crlDistributionPoints"):
                for part in point.expect(SEQUENCE, "distribution point"):
                    if part.tag == context(0):
                        found.update(name for name, _ in _point_names(part))
    return frozenset(found)


def is_request(der: bytes) -> bool:
    """
    Whether DER of unknown kind is a CSR rather than a certificate.

    A CSR's info holds a version, a name, a key and attributes (3 or 4 elements);
    a certificate's at least six (a v1 one has no version to tell it by).
    """
    try:
        info = next(iter(parse_whole(der, "certificate")))
        return len(info.children()) < 6
    except (ASN1Error, StopIteration):
        return False


def subject_layout(der: bytes) -> list[int]:
    """
    How a certificate's subject is built: for each attribute, as ``read_certificate``
    lists them, the RDN it is in (two in one RDN: a multi-valued RDN).

    Raises:
        ASN1Error: not a certificate's structure.
    """
    fields = _three_parts(der, "certificate")[0].children()
    subject = fields[5 if fields and fields[0].tag == context(0) else 4]
    return [
        at
        for at, rdn in enumerate(subject.expect(SEQUENCE, "name"))
        for _ in rdn.expect(SET, "name")
    ]


def public_key_info(der: bytes) -> bytes:
    """
    A certificate's or CSR's SubjectPublicKeyInfo, as stored (to hold against a key's).

    Raises:
        ASN1Error: not a certificate's or CSR's structure.
    """
    fields = _three_parts(der, "certificate")[0].children()
    if len(fields) < 6:  # a CSR: version, subject, key
        return fields[2].expect(SEQUENCE, "public key").encoded
    return fields[6 if fields[0].tag == context(0) else 5].expect(SEQUENCE, "public key").encoded


def signed_parts(der: bytes) -> tuple[bytes, bytes]:
    """
    What a certificate's issuer signed (its tbsCertificate, as encoded) and the signature.

    Raises:
        ASN1Error: not a certificate's structure.
    """
    signed, _, signature = _three_parts(der, "certificate")
    return signed.encoded, signature.bits()


def _three_parts(der: bytes, what: str, *, strict: bool = False) -> list[Element]:
    """What is signed, the signature algorithm and the signature; ``strict``: DER checked."""
    top = parse_der(der, what) if strict else parse_whole(der, what)
    parts = top.expect(SEQUENCE, what).children()
    if len(parts) != 3:
        raise ASN1Error(f"a {what} has three parts")
    return parts


def _explicit(wrapper: Element, what: str) -> Element:
    """The one element an EXPLICIT tag holds."""
    inside = wrapper.children()
    if len(inside) != 1:
        raise ASN1Error(f"the {what} wrapper holds no single element")
    return inside[0]


class _Shared(TypedDict):
    """What a certificate and a CSR both hold, read from the DER."""

    signature_algorithm: str
    signature_hash: str | None
    signature_mask_hash: str | None
    signature_salt_length: int | None
    public_key: PublicKeyInfo
    extensions: list[tuple[str, bool]]
    subject_alt_names: SubjectAltNames
    basic_constraints: BasicConstraints | None
    key_usage: list[str]
    extended_key_usage: list[str]
    subject_key_id: str | None
    authority_key_id: str | None
    name_constraints: NameConstraints | None


def _shared(signature: Element, key: Element, extensions: list[tuple[str, bool, bytes]]) -> _Shared:
    """
    The signature algorithm, the key and the extensions' fields. The models are built
    unvalidated (each value is made here) with every list given: a default list costs
    pydantic a signature lookup per certificate.
    """
    algorithm, pss = _signature(signature)
    public_key = _public_key(key)
    first: dict[str, tuple[bool, bytes]] = {}
    for oid, critical, value in extensions:
        first.setdefault(oid, (critical, value))  # the first of each, as openssl reads them
    san = first.get(oids.SUBJECT_ALT_NAME)
    constraints = first.get(oids.BASIC_CONSTRAINTS)
    usage = first.get(oids.KEY_USAGE)
    extended = first.get(oids.EXTENDED_KEY_USAGE)
    ski = first.get(oids.SUBJECT_KEY_ID)
    aki = first.get(oids.AUTHORITY_KEY_ID)
    names = first.get(oids.NAME_CONSTRAINTS)
    try:
        return {
            "signature_algorithm": algorithm,
            "signature_hash": pss[0] if pss else None,
            "signature_mask_hash": pss[1] if pss else None,
            "signature_salt_length": pss[2] if pss else None,
            "public_key": public_key,
            "extensions": [(oid, critical) for oid, critical, _ in extensions],
            "subject_alt_names": _subject_alt_names(san[1] if san else None),
            "basic_constraints": (
                _basic_constraints(constraints[1], critical=constraints[0]) if constraints else None
            ),
            "key_usage": _key_usage(usage[1]) if usage else [],
            "extended_key_usage": _extended_key_usage(extended[1]) if extended else [],
            "subject_key_id": _key_identifier(ski[1]) if ski else None,
            "authority_key_id": _authority_key_identifier(aki[1]) if aki else None,
            "name_constraints": (_name_constraints(names[1], critical=names[0]) if names else None),
        }
    except ASN1Error as exc:
        raise ASN1Error(f"a malformed extension ({exc})") from None


def _algorithm(identifier: Element, what: str) -> list[Element]:
    """An AlgorithmIdentifier's OID and parameters (if any)."""
    parts = identifier.expect(SEQUENCE, what).children()
    if not parts:
        raise ASN1Error(f"a {what} with no OID")
    return parts


def _whole_bytes(value: int) -> str:
    """Lower-case hex of a non-negative number, in whole bytes (as ``x509 -serial``)."""
    digits = format(value, "x")
    return "0" * (len(digits) % 2) + digits


def _signature(algorithm: Element) -> tuple[str, tuple[str, str, int] | None]:
    """The signature algorithm's long name, and for RSASSA-PSS what its parameters name."""
    parts = _algorithm(algorithm, "signature algorithm")
    oid = parts[0].oid()
    name = oids.SIGNATURES.get(oid, oid)
    if oid != oids.RSASSA_PSS:
        return name, None
    return name, _pss(parts[1] if len(parts) > 1 else None)


def _pss(parameters: Element | None) -> tuple[str, str, int]:
    """
    What RSASSA-PSS parameters name (RFC 4055): the hash (``[0]``), the hash of the MGF1
    mask (``[1]``; another mask function by its OID) and the salt length (``[2]``), each
    SHA-1, SHA-1 and 20 when absent.

    Raises:
        ASN1Error: parameters that are not RSASSA-PSS-params.
    """
    hashed, mask, salt = oids.SHA1, oids.SHA1, 20
    if parameters is not None and parameters.tag == SEQUENCE:
        for part in parameters:
            if part.tag == context(0):
                hashed = _algorithm(_explicit(part, "hash"), "hash algorithm")[0].oid()
            elif part.tag == context(1):
                function = _algorithm(_explicit(part, "mask"), "mask generation algorithm")
                mask = function[0].oid()
                if mask == oids.MGF1 and len(function) > 1:
                    mask = _algorithm(function[1], "mask hash algorithm")[0].oid()
            elif part.tag == context(2):
                salt = _explicit(part, "salt length").expect(INTEGER, "salt length").integer()
    elif parameters is not None:
        raise ASN1Error("RSASSA-PSS parameters that are not a SEQUENCE")
    return oids.HASHES.get(hashed, hashed), oids.HASHES.get(mask, mask), salt


def _text(value: Element) -> str:
    """
    A name's value as text, as ``-nameopt RFC2253,-esc_msb`` shows it.

    Raises:
        ASN1Error: a value of a type Go does not read (UniversalString, VisibleString, a
            BIT STRING, a tag of another class...), or text that does not decode.
    """
    content = value.content
    if value.tag == _UTF8_STRING:
        try:
            return content.decode("utf-8")
        except UnicodeDecodeError:
            raise ASN1Error("a name's UTF8String is not valid UTF-8") from None
    if value.tag == _BMP_STRING:
        if len(content) % 2:
            raise ASN1Error("a name's BMPString is not whole characters")
        return content.decode("utf-16-be", errors="replace")
    if value.tag in _ONE_BYTE_STRINGS:
        return content.decode("latin-1")
    held = _OTHER_STRINGS.get(value.tag, f"a value tagged {value.tag:#04x}")
    raise ASN1Error(
        f"a name holds {held} at byte {value.start}, not a string type Go (the admin "
        "console) reads: UTF8String, PrintableString, IA5String, BMPString, T61String or "
        "NumericString"
    )


def _name(name: Element) -> list[NameAttribute]:
    """A Name, attribute by attribute in stored order (RDN sets flattened)."""
    attributes = []
    for rdn in name.expect(SEQUENCE, "name"):
        for pair in rdn.expect(SET, "name"):
            parts = pair.expect(SEQUENCE, "name attribute").children()
            if len(parts) != 2:
                raise ASN1Error("a name attribute has a type and a value")
            attributes.append(
                NameAttribute.model_construct(
                    type=oids.name_type(parts[0].oid()), value=_text(parts[1])
                )
            )
    return attributes


def _time(element: Element, holder: str = "its validity") -> datetime:
    """
    A UTCTime or GeneralizedTime in its one DER form (X.690 11.7, RFC 5280 4.1.2.5): in
    UTC (``Z``), with seconds, no fraction. openssl loads other forms (an offset, no
    seconds) but its verify refuses them ("format error", each build in its own words), as
    Go and Chrome do. ``holder`` names what holds it, for the error.

    Raises:
        ASN1Error: another form, or an impossible date ("Bad time value").
    """
    if element.tag not in {UTC_TIME, GENERALIZED_TIME}:
        raise ASN1Error(f"{holder} holds something other than a time")
    utc = element.tag == UTC_TIME
    form = "YYMMDDHHMMSSZ" if utc else "YYYYMMDDHHMMSSZ"
    text = element.content
    if len(text) != len(form) or text[-1:] != b"Z" or not text[:-1].isdigit():
        raise ASN1Error(f"not DER: {holder} holds a time not written as {form}")
    digits = text[:-1].decode("ascii")
    century, rest = (2, digits[2:]) if utc else (4, digits[4:])
    year = int(digits[:century])
    if utc:
        year += 2000 if year < _UTC_TIME_ENDS - 2000 else 1900
    month, day, hour, minute, second = (int(rest[at : at + 2]) for at in range(0, 10, 2))
    days = _MONTH_DAYS[month - 1] + (month == 2 and _leap(year)) if 1 <= month <= 12 else 0
    if not (year and 1 <= day <= days and hour < 24 and minute < 60 and second < 60):
        raise ASN1Error(f"{holder} holds an impossible time")
    return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _public_key(spki: Element) -> PublicKeyInfo:
    """
    The key's algorithm and size as openssl prints them: RSA the modulus' bits, EC its
    curve (NIST's name, else openssl's) and the bits of the curve's order, DSA and DH the
    bits of P; no size where openssl prints none (Ed25519) or cannot read the key.
    """
    parts = spki.expect(SEQUENCE, "public key").children()
    if len(parts) != 2:
        raise ASN1Error("a public key has an algorithm and a value")
    algorithm = _algorithm(parts[0], "public key algorithm")
    oid = algorithm[0].oid()
    parameters = algorithm[1] if len(algorithm) > 1 else None
    name = oids.KEY_ALGORITHMS.get(oid, oid)
    if name == "ec":
        _uncompressed(parts[1])
    bits, curve = None, None
    try:
        if oid in {oids.RSA, oids.RSASSA_PSS}:
            modulus = parse_whole(parts[1].bits(), "RSA key").children()[0]
            bits = abs(modulus.expect(INTEGER, "modulus").integer()).bit_length()
        elif name == "ec" and parameters is not None and parameters.tag == OID:
            curve, bits = oids.CURVES.get(parameters.oid(), (None, None))
        elif name == "ec" and parameters is not None and parameters.tag == SEQUENCE:
            order = parameters.children()[4]  # explicit: version, field, curve, base, order
            bits = abs(order.expect(INTEGER, "curve order").integer()).bit_length()
        elif oid in oids.PRIME_FIRST and parameters is not None and parameters.tag == SEQUENCE:
            bits = abs(parameters.children()[0].expect(INTEGER, "P").integer()).bit_length()
    except (ASN1Error, IndexError):
        bits, curve = None, None  # openssl cannot load such a key either: it prints no size
    return PublicKeyInfo.model_construct(algorithm=name, bits=bits, curve=curve)


def _uncompressed(point: Element) -> None:
    """
    Refuse an EC public key whose point is not in the uncompressed form (``04``, X, Y):
    openssl loads a compressed one (``02``/``03``, X), Go (the admin console) does not.

    Raises:
        ASN1Error: another form, naming it and where the key is.
    """
    form = point.bits()[:1]
    if form != bytes([_UNCOMPRESSED]):
        kind = "compressed" if form in {b"\x02", b"\x03"} else "not in the uncompressed form"
        raise ASN1Error(
            f"the EC public key at byte {point.start} is {kind}: Go (the admin console) "
            "reads only an uncompressed point (04, X, Y)"
        )


def _extensions(extensions: Element) -> list[tuple[str, bool, bytes]]:
    """Each extension: its OID, whether critical, and its value's DER."""
    found = []
    for extension in extensions.expect(SEQUENCE, "extensions"):
        parts = extension.expect(SEQUENCE, "extension").children()
        if len(parts) not in {2, 3}:
            raise ASN1Error("an extension with the wrong number of parts")
        critical = len(parts) == 3  # DER writes the flag only when TRUE
        if critical and parts[1].expect(BOOLEAN, "critical").content != b"\xff":
            raise ASN1Error("not DER: an extension's critical flag FALSE written out")
        value = parts[-1].expect(OCTET_STRING, "extension value").content
        found.append((parts[0].oid(), critical, value))
    return found


def _subject_alt_names(value: bytes | None) -> SubjectAltNames:
    """GeneralNames -> the DNS, IP, e-mail and URI entries, each value whole."""
    san = SubjectAltNames.model_construct(dns=[], ip=[], email=[], uri=[])
    if value is None:
        return san
    by_kind = {0x82: san.dns, 0x81: san.email, 0x86: san.uri}
    for name in parse_der(value, "subjectAltName").expect(SEQUENCE, "subjectAltName"):
        if name.tag in by_kind:
            by_kind[name.tag].append(_ia5(name.content))
        elif name.tag == 0x87:
            san.ip.append(_ip(name.content))
    return san


def _ia5(content: bytes) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def _ip(content: bytes) -> str:
    """
    An iPAddress name: 4 octets (IPv4) or 16 (IPv6).

    Raises:
        ASN1Error: any other length (openssl shows it as ``<invalid>``; Go refuses it).
    """
    if len(content) not in {4, 16}:
        raise ASN1Error(f"subjectAltName holds an iPAddress of {len(content)} octets, not 4 or 16")
    return str(ipaddress.ip_address(content))


def _basic_constraints(value: bytes, *, critical: bool) -> BasicConstraints:
    """BasicConstraints: CA or not, and the path length."""
    ca, path = False, None
    for part in parse_der(value, "basicConstraints").expect(SEQUENCE, "basicConstraints"):
        if part.tag == BOOLEAN:
            ca = part.content not in {b"", b"\x00"}
        elif part.tag == INTEGER:
            path = part.integer()
    return BasicConstraints.model_construct(ca=ca, path_length=path, critical=critical)


def _key_usage(value: bytes) -> list[str]:
    """The keyUsage bits set, by name (in bit order)."""
    content = parse_der(value, "keyUsage").bits()
    return [
        name
        for index, name in enumerate(oids.KEY_USAGE_BITS)
        if index // 8 < len(content) and content[index // 8] & (0x80 >> (index % 8))
    ]


def _extended_key_usage(value: bytes) -> list[str]:
    """The extended key usages, by openssl's short name (else the dotted OID)."""
    usages = parse_der(value, "extendedKeyUsage").expect(SEQUENCE, "extendedKeyUsage")
    return [oids.EKU_NAMES.get(oid, oid) for oid in (part.oid() for part in usages)]


def _key_identifier(value: bytes) -> str:
    """subjectKeyIdentifier: lower-case hex."""
    return parse_der(value, "subjectKeyIdentifier").expect(OCTET_STRING, "key id").content.hex()


def _authority_key_identifier(value: bytes) -> str | None:
    """authorityKeyIdentifier's keyIdentifier ([0]), lower-case hex, if present."""
    top = parse_der(value, "authorityKeyIdentifier").expect(SEQUENCE, "authorityKeyIdentifier")
    key_id = next((part for part in top if part.tag == context(0, constructed=False)), None)
    return key_id.content.hex() if key_id else None


def _name_constraints(value: bytes, *, critical: bool) -> NameConstraints:
    """The subtrees a CA may name (permitted) and may not (excluded), by kind of name."""
    found = NameConstraints.model_construct(
        critical=critical, permitted=_no_subtrees(), excluded=_no_subtrees()
    )
    top = parse_der(value, "nameConstraints").expect(SEQUENCE, "nameConstraints")
    for subtrees in top:
        if subtrees.tag not in {context(0), context(1)}:
            raise ASN1Error("nameConstraints holds neither permitted nor excluded subtrees")
        kept = found.permitted if subtrees.tag == context(0) else found.excluded
        for subtree in subtrees:
            parts = subtree.expect(SEQUENCE, "subtree").children()
            if not parts:
                raise ASN1Error("an empty name constraint")
            _add_subtree(kept, parts[0])
    return found


def _no_subtrees() -> NameSubtrees:
    return NameSubtrees.model_construct(dns=[], ip=[], email=[], uri=[], other=[])


def _add_subtree(subtrees: NameSubtrees, base: Element) -> None:
    """One subtree's base name, filed by kind; a kind flow-ssl does not judge, as hex."""
    by_kind = {0x82: subtrees.dns, 0x81: subtrees.email, 0x86: subtrees.uri}
    if base.tag in by_kind:
        by_kind[base.tag].append(_ia5(base.content))
    elif base.tag == 0x87:
        subtrees.ip.append(_network(base.content))
    else:
        subtrees.other.append(f"[{base.tag & 0x1F}] {base.content.hex()}")


def _network(content: bytes) -> str:
    """
    An address and mask (RFC 5280 4.2.1.10) as ``10.0.0.0/8``, or ``address/mask`` when
    the mask is not a prefix.

    Raises:
        ASN1Error: not 8 octets (IPv4) or 32 (IPv6): Go refuses the certificate.
    """
    if len(content) not in {8, 32}:
        raise ASN1Error(
            f"nameConstraints holds an iPAddress of {len(content)} octets, not 8 or 32 "
            "(an address and its mask)"
        )
    half = len(content) // 2
    mask = int.from_bytes(content[half:], "big")
    prefix = mask.bit_count()
    contiguous = mask == ((1 << prefix) - 1) << (half * 8 - prefix)
    shown_mask = prefix if contiguous else ipaddress.ip_address(content[half:])
    return f"{ipaddress.ip_address(content[:half])}/{shown_mask}"


def _self_signed(parsed: ParsedCertificate) -> bool:
    """Issuer is subject, and the key ids agree when both are given."""
    ski, aki = parsed.subject_key_id, parsed.authority_key_id
    return parsed.issuer == parsed.subject and (aki is None or ski is None or aki == ski)
