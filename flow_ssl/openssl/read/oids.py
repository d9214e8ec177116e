"""
Object identifiers and the names OpenSSL 3 gives them: the one table flow-ssl names OIDs by.

Names are what OpenSSL 3 prints (obj_mac.h): short names for name attributes and
extended key usages, long names for signature algorithms (``x509 -text``'s words);
an OID not listed here is shown dotted, as openssl shows one it does not know.
flow-ssl reads the DER itself, so the names do not depend on the openssl in use
(LibreSSL 3.3.6 has no ``organizationIdentifier``, 1.1.1 no ML-DSA).
"""

from __future__ import annotations


def _table(arcs: dict[str, str]) -> dict[str, str]:
    """``{"2.5.4": "3 CN 4 SN"}`` -> ``{"2.5.4.3": "CN", "2.5.4.4": "SN"}``."""
    table: dict[str, str] = {}
    for arc, pairs in arcs.items():
        words = pairs.split()
        for number, name in zip(words[::2], words[1::2], strict=True):
            table[f"{arc}.{number}" if arc else number] = name
    return table


def _lines(arcs: dict[str, str]) -> dict[str, str]:
    """``{"1.3.101": "112 ED25519"}`` -> ``{"1.3.101.112": "ED25519"}``: one name a line."""
    table: dict[str, str] = {}
    for arc, lines in arcs.items():
        for line in lines.strip().splitlines():
            number, name = line.strip().split(" ", 1)
            table[f"{arc}.{number}"] = name
    return table


# Attribute types of names (subject, issuer) and of CSR attributes.
NAME_TYPES = _table(
    {
        "2.5.4": (
            "3 CN 4 SN 5 serialNumber 6 C 7 L 8 ST 9 street 10 O 11 OU 12 title 13 description "
            "14 searchGuide 15 businessCategory 16 postalAddress 17 postalCode 18 postOfficeBox "
            "19 physicalDeliveryOfficeName 20 telephoneNumber 21 telexNumber "
            "22 teletexTerminalIdentifier 23 facsimileTelephoneNumber 24 x121Address "
            "25 internationaliSDNNumber 26 registeredAddress 27 destinationIndicator "
            "28 preferredDeliveryMethod 29 presentationAddress 30 supportedApplicationContext "
            "31 member 32 owner 33 roleOccupant 34 seeAlso 35 userPassword 36 userCertificate "
            "37 cACertificate 38 authorityRevocationList 39 certificateRevocationList "
            "40 crossCertificatePair 41 name 42 GN 43 initials 44 generationQualifier "
            "45 x500UniqueIdentifier 46 dnQualifier 47 enhancedSearchGuide 48 protocolInformation "
            "49 distinguishedName 50 uniqueMember 51 houseIdentifier 52 supportedAlgorithms "
            "53 deltaRevocationList 54 dmdName 65 pseudonym 72 role 97 organizationIdentifier "
            "98 c3 99 n3 100 dnsName"
        ),
        "1.2.840.113549.1.9": (
            "1 emailAddress 2 unstructuredName 3 contentType 4 messageDigest 5 signingTime "
            "6 countersignature 7 challengePassword 8 unstructuredAddress "
            "9 extendedCertificateAttributes 14 extReq 15 SMIME-CAPS 20 friendlyName 21 localKeyID"
        ),
        "0.9.2342.19200300.100.1": (
            "1 UID 2 textEncodedORAddress 3 mail 4 info 5 favouriteDrink 6 roomNumber 7 photo "
            "8 userClass 9 host 10 manager 11 documentIdentifier 12 documentTitle "
            "13 documentVersion 14 documentAuthor 15 documentLocation 20 homeTelephoneNumber "
            "21 secretary 22 otherMailbox 23 lastModifiedTime 24 lastModifiedBy 25 DC 26 aRecord "
            "27 pilotAttributeType27 28 mXRecord 29 nSRecord 30 sOARecord 31 cNAMERecord "
            "37 associatedDomain 38 associatedName 39 homePostalAddress 40 personalTitle "
            "41 mobileTelephoneNumber 42 pagerTelephoneNumber 43 friendlyCountryName 44 uid "
            "45 organizationalStatus 46 janetMailbox 47 mailPreferenceOption 48 buildingName "
            "49 dSAQuality 50 singleLevelQuality 51 subtreeMinimumQuality "
            "52 subtreeMaximumQuality 53 personalSignature 54 dITRedirect 55 audio "
            "56 documentPublisher"
        ),
        "1.3.6.1.4.1.311.60.2.1": "1 jurisdictionL 2 jurisdictionST 3 jurisdictionC",
        "1.2.643": "3.131.1.1 INN 100.1 OGRN 100.3 SNILS 100.5 OGRNIP",
        "1.3.6.1.4.1.311.2.1": "14 msExtReq",
    }
)

# Extended key usages: OID -> openssl's short name.
EKU_NAMES = _table(
    {
        "1.3.6.1.5.5.7.3": (
            "1 serverAuth 2 clientAuth 3 codeSigning 4 emailProtection 5 ipsecEndSystem "
            "6 ipsecTunnel 7 ipsecUser 8 timeStamping 9 OCSPSigning 10 DVCS 17 ipsecIKE "
            "21 secureShellClient 22 secureShellServer"
        ),
        "2.5.29.37": "0 anyExtendedKeyUsage",
        "1.3.6.1.4.1.311.2.1": "21 msCodeInd 22 msCodeCom",
        "1.3.6.1.4.1.311.10.3": "1 msCTLSign 3 msSGC 4 msEFS",
        "1.3.6.1.4.1.311.20.2": "2 msSmartcardLogin",
        "2.16.840.1.113730.4": "1 nsSGC",
    }
)

# keyUsage bits, in bit order (RFC 5280 4.2.1.3).
KEY_USAGE_BITS = (
    "digitalSignature",
    "nonRepudiation",
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
    "keyCertSign",
    "cRLSign",
    "encipherOnly",
    "decipherOnly",
)

# ML-DSA and SLH-DSA (OpenSSL 3.5+): signature algorithms, and the keys that make them.
_POST_QUANTUM = """
        17 ML-DSA-44
        18 ML-DSA-65
        19 ML-DSA-87
        20 SLH-DSA-SHA2-128s
        21 SLH-DSA-SHA2-128f
        22 SLH-DSA-SHA2-192s
        23 SLH-DSA-SHA2-192f
        24 SLH-DSA-SHA2-256s
        25 SLH-DSA-SHA2-256f
        26 SLH-DSA-SHAKE-128s
        27 SLH-DSA-SHAKE-128f
        28 SLH-DSA-SHAKE-192s
        29 SLH-DSA-SHAKE-192f
        30 SLH-DSA-SHAKE-256s
        31 SLH-DSA-SHAKE-256f"""

# Signature algorithms: the long name x509 -text prints (``sha256WithRSAEncryption``).
SIGNATURES = _lines(
    {
        "1.2.840.113549.1.1": """
        2 md2WithRSAEncryption
        3 md4WithRSAEncryption
        4 md5WithRSAEncryption
        5 sha1WithRSAEncryption
        10 rsassaPss
        11 sha256WithRSAEncryption
        12 sha384WithRSAEncryption
        13 sha512WithRSAEncryption
        14 sha224WithRSAEncryption
        15 sha512-224WithRSAEncryption
        16 sha512-256WithRSAEncryption""",
        "1.2.840.113549.2": "5 md5",
        "1.3.14.3.2": """
        3 md5WithRSA
        13 dsaWithSHA
        15 shaWithRSAEncryption
        27 dsaWithSHA1-old
        29 sha1WithRSA""",
        "1.2.840.10040.4": "3 dsaWithSHA1",
        "1.2.840.10045.4": "1 ecdsa-with-SHA1\n2 ecdsa-with-Recommended\n3 ecdsa-with-Specified",
        "1.2.840.10045.4.3": """
        1 ecdsa-with-SHA224
        2 ecdsa-with-SHA256
        3 ecdsa-with-SHA384
        4 ecdsa-with-SHA512""",
        "2.16.840.1.101.3.4.3": """
        1 dsa_with_SHA224
        2 dsa_with_SHA256
        3 dsa_with_SHA384
        4 dsa_with_SHA512
        5 dsa_with_SHA3-224
        6 dsa_with_SHA3-256
        7 dsa_with_SHA3-384
        8 dsa_with_SHA3-512
        9 ecdsa_with_SHA3-224
        10 ecdsa_with_SHA3-256
        11 ecdsa_with_SHA3-384
        12 ecdsa_with_SHA3-512
        13 RSA-SHA3-224
        14 RSA-SHA3-256
        15 RSA-SHA3-384
        16 RSA-SHA3-512"""
        + _POST_QUANTUM,
        "1.3.101": "112 ED25519\n113 ED448",
        "1.3.36.3.3.1": "2 ripemd160WithRSA",
        "2.5.8.3": "100 mdc2WithRSA",
        "1.2.156.10197.1": "501 SM2-with-SM3",
        "1.2.643.2.2": """
        3 GOST R 34.11-94 with GOST R 34.10-2001
        4 GOST R 34.11-94 with GOST R 34.10-94""",
        "1.2.643.7.1.1.3": """
        2 GOST R 34.10-2012 with GOST R 34.11-2012 (256 bit)
        3 GOST R 34.10-2012 with GOST R 34.11-2012 (512 bit)""",
    }
)
RSASSA_PSS = "1.2.840.113549.1.1.10"
MGF1 = "1.2.840.113549.1.1.8"  # the mask generation function RSASSA-PSS parameters name

# Hash algorithms, by openssl's short name: the one inside RSASSA-PSS parameters.
HASHES = _table(
    {
        "1.3.14.3.2": "26 sha1",
        "1.2.840.113549.2": "2 md2 4 md4 5 md5",
        "2.16.840.1.101.3.4.2": (
            "1 sha256 2 sha384 3 sha512 4 sha224 5 sha512-224 6 sha512-256 7 sha3-224 8 sha3-256 "
            "9 sha3-384 10 sha3-512"
        ),
    }
)
SHA1 = "1.3.14.3.2.26"

# Public key algorithms: flow-ssl's name (rsa, ec, ...), else openssl's long name in lower case.
RSA, EC, DSA = "1.2.840.113549.1.1.1", "1.2.840.10045.2.1", "1.2.840.10040.4.1"
# Keys whose parameters start with the prime P, whose bits are the key's size.
PRIME_FIRST = {DSA, "1.2.840.113549.1.3.1", "1.2.840.10046.2.1"}  # DSA, DH, X9.42 DH
# An RSA key marked for PSS alone (id-RSASSA-PSS) keeps openssl's name: Go cannot load
# it and Chrome's BoringSSL reads no such key, so it is not the "rsa" clients accept.
KEY_ALGORITHMS = {
    RSA: "rsa",
    RSASSA_PSS: "rsassapss",
    EC: "ec",
    DSA: "dsa",
    "1.3.101.112": "ed25519",
    "1.3.101.113": "ed448",
    **{
        oid: name.lower()
        for oid, name in _lines(
            {
                "1.3.101": "110 X25519\n111 X448",
                "1.2.840.113549.1": "3.1 dhKeyAgreement\n1.7 rsaesOaep",
                "1.2.840.10046.2": "1 X9.42 DH",
                "1.3.14.3.2": "12 dsaEncryption-old",
                "1.2.156.10197.1": "301 sm2",
                "1.2.643.2.2": "19 GOST R 34.10-2001\n20 GOST R 34.10-94",
                "1.2.643.7.1.1.1": """
                1 GOST R 34.10-2012 with 256 bit modulus
                2 GOST R 34.10-2012 with 512 bit modulus""",
                "2.16.840.1.101.3.4.3": _POST_QUANTUM,
                "2.16.840.1.101.3.4.4": "1 ML-KEM-512\n2 ML-KEM-768\n3 ML-KEM-1024",
            }
        ).items()
    },
}

# Named curves: OID -> (the name x509 -text gives: NIST's where it has one, else openssl's
# short name; and the size it prints, the bits of the group's order, as OpenSSL 3 does).
_CURVES = {
    "1.3.132.0": (
        "6 secp112r1 112 7 secp112r2 110 28 secp128r1 128 29 secp128r2 126 9 secp160k1 161 "
        "8 secp160r1 161 30 secp160r2 161 31 secp192k1 192 32 secp224k1 225 33 P-224 224 "
        "10 secp256k1 256 34 P-384 384 35 P-521 521 4 sect113r1 113 5 sect113r2 113 "
        "22 sect131r1 131 23 sect131r2 131 1 K-163 163 2 sect163r1 162 15 B-163 163 "
        "24 sect193r1 193 25 sect193r2 193 26 K-233 232 27 B-233 233 3 sect239k1 238 "
        "16 K-283 281 17 B-283 282 36 K-409 407 37 B-409 409 38 K-571 570 39 B-571 570"
    ),
    "1.2.840.10045.3.1": (
        "1 P-192 192 2 prime192v2 192 3 prime192v3 192 4 prime239v1 239 5 prime239v2 239 "
        "6 prime239v3 239 7 P-256 256"
    ),
    "1.2.840.10045.3.0": (
        "1 c2pnb163v1 163 2 c2pnb163v2 162 3 c2pnb163v3 162 4 c2pnb176v1 161 5 c2tnb191v1 191 "
        "6 c2tnb191v2 190 7 c2tnb191v3 189 10 c2pnb208w1 193 11 c2tnb239v1 238 "
        "12 c2tnb239v2 237 13 c2tnb239v3 236 16 c2pnb272w1 257 17 c2pnb304w1 289 "
        "18 c2tnb359v1 353 19 c2pnb368w1 353 20 c2tnb431r1 418"
    ),
    "2.23.43.1.4": (
        "1 wap-wsg-idm-ecid-wtls1 112 3 wap-wsg-idm-ecid-wtls3 163 4 wap-wsg-idm-ecid-wtls4 113 "
        "5 wap-wsg-idm-ecid-wtls5 163 6 wap-wsg-idm-ecid-wtls6 112 7 wap-wsg-idm-ecid-wtls7 161 "
        "8 wap-wsg-idm-ecid-wtls8 113 9 wap-wsg-idm-ecid-wtls9 161 10 wap-wsg-idm-ecid-wtls10 232 "
        "11 wap-wsg-idm-ecid-wtls11 233 12 wap-wsg-idm-ecid-wtls12 224"
    ),
    "1.3.36.3.3.2.8.1.1": (
        "1 brainpoolP160r1 160 2 brainpoolP160t1 160 3 brainpoolP192r1 192 "
        "4 brainpoolP192t1 192 5 brainpoolP224r1 224 6 brainpoolP224t1 224 "
        "7 brainpoolP256r1 256 8 brainpoolP256t1 256 9 brainpoolP320r1 320 "
        "10 brainpoolP320t1 320 11 brainpoolP384r1 384 12 brainpoolP384t1 384 "
        "13 brainpoolP512r1 512 14 brainpoolP512t1 512"
    ),
    "1.2.156.10197.1": "301 SM2 256",
}
CURVES = {
    f"{arc}.{number}": (name, int(bits))
    for arc, triples in _CURVES.items()
    for number, name, bits in zip(*[iter(triples.split())] * 3, strict=True)
}

SUBJECT_ALT_NAME = "2.5.29.17"
BASIC_CONSTRAINTS = "2.5.29.19"
KEY_USAGE = "2.5.29.15"
EXTENDED_KEY_USAGE = "2.5.29.37"
SUBJECT_KEY_ID = "2.5.29.14"
AUTHORITY_KEY_ID = "2.5.29.35"
NAME_CONSTRAINTS = "2.5.29.30"
# A CRL's number, and an entry's reason (RFC 5280 5.2.3, 5.3.1).
CRL_NUMBER = "2.5.29.20"
CRL_REASON = "2.5.29.21"
# What limits a CRL's scope, or makes it a delta (RFC 5280 5.2.4, 5.2.5), an entry's
# certificate issuer (5.3.3), and where a certificate says its CRL is (4.2.1.13).
DELTA_CRL_INDICATOR = "2.5.29.27"
ISSUING_DISTRIBUTION_POINT = "2.5.29.28"
CERTIFICATE_ISSUER = "2.5.29.29"
CRL_DISTRIBUTION_POINTS = "2.5.29.31"
# The critical extensions openssl's verify handles in a CRL and in its entries; any
# other critical one makes it refuse the whole CRL ("unhandled critical CRL extension").
CRL_HANDLED_CRITICAL = frozenset(
    {ISSUING_DISTRIBUTION_POINT, AUTHORITY_KEY_ID, DELTA_CRL_INDICATOR}
)
ENTRY_HANDLED_CRITICAL = frozenset({CERTIFICATE_ISSUER})
# A CSR's requested extensions: PKCS#9 extensionRequest, and Microsoft's older OID.
EXTENSION_REQUESTS = {"1.2.840.113549.1.9.14", "1.3.6.1.4.1.311.2.1.14"}
# PKCS#7 content types: data and signedData (a .p7b).
DATA = "1.2.840.113549.1.7.1"
SIGNED_DATA = "1.2.840.113549.1.7.2"


def name_type(oid: str) -> str:
    """The short name OpenSSL 3 prints for a name attribute, else the dotted OID."""
    return NAME_TYPES.get(oid, oid)
