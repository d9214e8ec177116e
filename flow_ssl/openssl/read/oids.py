"""
Object identifiers and the names openssl gives them, fixed here so every version reads alike.

Older builds print an OID they do not know in dotted form (LibreSSL 3.3.6 has no
``organizationIdentifier``); flow-ssl names it as OpenSSL 3 does, whatever the
version in use. The names are openssl's short names (obj_mac.h).
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


# Attribute types of names (subject, issuer) and of CSR attributes.
NAME_TYPES = _table({
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
})  # fmt: skip

# Extended key usages: OID -> (short name, the long name x509 -text prints).
_EKU = {
    "1.3.6.1.5.5.7.3.1": ("serverAuth", "TLS Web Server Authentication"),
    "1.3.6.1.5.5.7.3.2": ("clientAuth", "TLS Web Client Authentication"),
    "1.3.6.1.5.5.7.3.3": ("codeSigning", "Code Signing"),
    "1.3.6.1.5.5.7.3.4": ("emailProtection", "E-mail Protection"),
    "1.3.6.1.5.5.7.3.5": ("ipsecEndSystem", "IPSec End System"),
    "1.3.6.1.5.5.7.3.6": ("ipsecTunnel", "IPSec Tunnel"),
    "1.3.6.1.5.5.7.3.7": ("ipsecUser", "IPSec User"),
    "1.3.6.1.5.5.7.3.8": ("timeStamping", "Time Stamping"),
    "1.3.6.1.5.5.7.3.9": ("OCSPSigning", "OCSP Signing"),
    "1.3.6.1.5.5.7.3.10": ("DVCS", "dvcs"),
    "1.3.6.1.5.5.7.3.17": ("ipsecIKE", "ipsec Internet Key Exchange"),
    "1.3.6.1.5.5.7.3.21": ("secureShellClient", "SSH Client"),
    "1.3.6.1.5.5.7.3.22": ("secureShellServer", "SSH Server"),
    "2.5.29.37.0": ("anyExtendedKeyUsage", "Any Extended Key Usage"),
    "1.3.6.1.4.1.311.2.1.21": ("msCodeInd", "Microsoft Individual Code Signing"),
    "1.3.6.1.4.1.311.2.1.22": ("msCodeCom", "Microsoft Commercial Code Signing"),
    "1.3.6.1.4.1.311.10.3.1": ("msCTLSign", "Microsoft Trust List Signing"),
    "1.3.6.1.4.1.311.10.3.3": ("msSGC", "Microsoft Server Gated Crypto"),
    "1.3.6.1.4.1.311.10.3.4": ("msEFS", "Microsoft Encrypted File System"),
    "1.3.6.1.4.1.311.20.2.2": ("msSmartcardLogin", "Microsoft Smartcard Login"),
    "2.16.840.1.113730.4.1": ("nsSGC", "Netscape Server Gated Crypto"),
}
EKU_NAMES = {oid: short for oid, (short, _) in _EKU.items()}
EKU_BY_LONG_NAME = {long: short for short, long in _EKU.values()}

# keyUsage bits, in bit order (RFC 5280 4.2.1.3), and the words x509 -text prints.
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
KEY_USAGE_WORDS = {
    "Digital Signature": "digitalSignature",
    "Non Repudiation": "nonRepudiation",
    "Content Commitment": "nonRepudiation",
    "Key Encipherment": "keyEncipherment",
    "Data Encipherment": "dataEncipherment",
    "Key Agreement": "keyAgreement",
    "Certificate Sign": "keyCertSign",
    "CRL Sign": "cRLSign",
    "Encipher Only": "encipherOnly",
    "Decipher Only": "decipherOnly",
}

SUBJECT_ALT_NAME = "2.5.29.17"
BASIC_CONSTRAINTS = "2.5.29.19"
NAME_CONSTRAINTS = "2.5.29.30"
KEY_USAGE = "2.5.29.15"
EXTENDED_KEY_USAGE = "2.5.29.37"
SUBJECT_KEY_ID = "2.5.29.14"
AUTHORITY_KEY_ID = "2.5.29.35"
# A CSR's requested extensions: PKCS#9 extensionRequest, and Microsoft's older OID.
EXTENSION_REQUESTS = {"1.2.840.113549.1.9.14", "1.3.6.1.4.1.311.2.1.14"}


def name_type(oid: str) -> str:
    """The short name openssl 3 prints for a name attribute, else the dotted OID."""
    return NAME_TYPES.get(oid, oid)
