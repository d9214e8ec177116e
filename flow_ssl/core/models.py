"""
Validated data: what the operator asks for, and what openssl made.

Every rule that can reject input lives here, so a request that constructs is one
openssl will accept and answer exactly.
"""

from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from flow_ssl.core import names
from flow_ssl.core.keys import KeyName

# Apple platforms refuse TLS server certificates valid for longer than this.
APPLE_MAX_DAYS = 825
DEFAULT_DAYS = 365


@dataclass(frozen=True)
class Notice:
    """Something that works but the operator should know, about one request field."""

    field: str
    message: str


def days_notice(days: int) -> Notice:
    """Why a server certificate valid over 825 days will be refused by Apple clients."""
    return Notice(
        "days",
        f"{days} is over {APPLE_MAX_DAYS}: Apple platforms (Safari, iOS, macOS) refuse "
        "TLS server certificates valid that long",
    )


def _printable_value(value: str) -> str:
    """Refuse what openssl cannot take verbatim: control characters, '.' alone, blanks."""
    for char in value:
        if unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"} and char != "\u00ad":
            raise ValueError(
                f"contains the control or unassigned character U+{ord(char):04X}; "
                "remove it (a pasted newline or tab is the usual cause)"
            )
    if not value.strip():
        raise ValueError("is blank; leave it out instead")
    if value == ".":
        raise ValueError("'.' means 'leave blank' to openssl; leave it out instead")
    return value


def _max_chars(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"is {len(value)} characters; openssl allows at most {limit}")
        return value

    return AfterValidator(check)


def _country(value: str) -> str:
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        raise ValueError(f"{value!r} is not a two-letter country code (like US or DE)")
    return value.upper()


def _email(value: str) -> str:
    local, at, domain = value.rpartition("@")
    if not at or not local or "@" in local or not value.isascii() or " " in value:
        raise ValueError(f"{value!r} is not an e-mail address (like admin@mycompany.com)")
    try:
        kind, _ = names.classify(domain)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an e-mail address: {exc}") from None
    if kind != "dns" or "*" in domain or "." not in domain:
        raise ValueError(f"{value!r} is not an e-mail address (like admin@mycompany.com)")
    if len(value) > 64:
        raise ValueError(f"{value!r} is longer than the 64 characters openssl allows")
    return value


Text = Annotated[str, AfterValidator(_printable_value)]

# Subject attribute types -subj gives on every supported openssl (LibreSSL included),
# beyond the seven the prompts ask; and those LibreSSL does not know (it skips them).
CARRIED_TYPES = frozenset(
    {
        "C",
        "ST",
        "L",
        "O",
        "OU",
        "CN",
        "emailAddress",
        "serialNumber",
        "DC",
        "UID",
        "title",
        "SN",
        "GN",
        "initials",
        "pseudonym",
        "generationQualifier",
        "dnQualifier",
        "street",
        "postalCode",
        "businessCategory",
        "description",
        "name",
        "role",
        "unstructuredName",
        "telephoneNumber",
        "mail",
    }
)
CARRIED_TYPES_OPENSSL_ONLY = frozenset(
    {"jurisdictionC", "jurisdictionST", "jurisdictionL", "organizationIdentifier"}
)


# openssl's string table (a_strnid.c, RFC 5280's upper bounds): the characters each type
# may hold, and the letters it must be (PrintableString, IA5String); others take UTF-8.
_SIZES = {
    "CN": (1, 64),
    "C": (2, 2),
    "L": (1, 128),
    "ST": (1, 128),
    "O": (1, 64),
    "OU": (1, 64),
    "emailAddress": (1, 128),
    "serialNumber": (1, 64),
    "mail": (1, 256),
    "jurisdictionC": (2, 2),
}
_PRINTABLE = frozenset(string.ascii_letters + string.digits + " '()+,-./:=?")
_PRINTABLE_ONLY = frozenset({"C", "serialNumber", "dnQualifier", "jurisdictionC"})
_ASCII_ONLY = frozenset({"emailAddress", "DC", "mail"})


def check_carried(kind: str, value: str) -> None:
    """
    Whether ``-subj`` can carry one attribute of an old subject exactly: a type it knows,
    and a value openssl's string table takes for it (else openssl stops half way).

    Raises:
        ValueError: an attribute type openssl cannot be given, or a value it cannot take.
    """
    if kind not in CARRIED_TYPES | CARRIED_TYPES_OPENSSL_ONLY:
        raise ValueError(f"{kind}={value}: openssl cannot be given a {kind} with -subj")
    try:
        _printable_value(value)
    except ValueError as exc:
        raise ValueError(f"{kind}={value!r} {exc}") from None
    least, most = _SIZES.get(kind, (1, 32768))
    if not least <= len(value) <= most:
        sizes = f"{least}" if least == most else f"{least} to {most}"
        raise ValueError(
            f"{kind}={value!r} is {len(value)} characters; openssl takes {sizes} for {kind}"
        )
    if kind in _PRINTABLE_ONLY and not set(value) <= _PRINTABLE:
        raise ValueError(
            f"{kind}={value!r}: openssl takes only A-Z, a-z, 0-9 and ' ()+,-./:=? there"
        )
    if kind in _ASCII_ONLY and not value.isascii():
        raise ValueError(f"{kind}={value!r}: openssl takes only ASCII there")


class Subject(BaseModel):
    """The seven Distinguished Name fields the vendor page asks for, in prompt order."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    country: Annotated[Text, AfterValidator(_country)] | None = None
    state: Annotated[Text, _max_chars(128)] | None = None
    locality: Annotated[Text, _max_chars(128)] | None = None
    organization: Annotated[Text, _max_chars(64)] | None = None
    organizational_unit: Annotated[Text, _max_chars(64)] | None = None
    common_name: Annotated[Text, AfterValidator(names.validate_common_name)]
    email: Annotated[Text, AfterValidator(_email)] | None = None
    # renew: the old subject exactly, in its order, where the seven fields cannot say it
    # (a repeated or other attribute, another order). Given with -subj only.
    exact: tuple[tuple[str, str], ...] | None = None

    @field_validator("exact")
    @classmethod
    def _carried(
        cls, value: tuple[tuple[str, str], ...] | None
    ) -> tuple[tuple[str, str], ...] | None:
        for kind, text in value or ():
            check_carried(kind, text)
        return value

    def attributes(self) -> list[tuple[str, str]]:
        """(short type, value) pairs: ``exact``, else in openssl's prompt order, blanks left out."""
        if self.exact is not None:
            return list(self.exact)
        pairs = [
            ("C", self.country),
            ("ST", self.state),
            ("L", self.locality),
            ("O", self.organization),
            ("OU", self.organizational_unit),
            ("CN", self.common_name),
            ("emailAddress", self.email),
        ]
        return [(kind, value) for kind, value in pairs if value is not None]

    def is_ascii(self) -> bool:
        """Whether openssl can take every value without ``-utf8``."""
        return all(value.isascii() for _, value in self.attributes())


class CASubject(Subject):
    """A CA's subject: the Common Name is a display name, not a host name."""

    common_name: Annotated[Text, _max_chars(64)]


class KeySpec(BaseModel):
    """A key type openssl generates and the admin console accepts."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: KeyName = "rsa:2048"

    @property
    def algorithm(self) -> Literal["rsa", "ec"]:
        """``rsa`` or ``ec``."""
        return "rsa" if self.name.startswith("rsa") else "ec"

    @property
    def bits(self) -> int:
        """Key size in bits (the curve size for EC)."""
        size = self.name.split(":")[1]
        return int(size) if self.algorithm == "rsa" else int(size.removeprefix("P-"))

    @property
    def curve(self) -> str | None:
        """The NIST curve name for EC keys."""
        return self.name.split(":")[1] if self.algorithm == "ec" else None


class SanEntry(BaseModel):
    """One Subject Alternative Name entry."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    kind: names.NameKind
    value: str

    @classmethod
    def parse(cls, text: str) -> SanEntry:
        """Validate a DNS name, wildcard or IP given on the command line."""
        kind, value = names.classify(text)
        return cls(kind=kind, value=value)

    def openssl(self) -> str:
        """The entry as openssl's ``subjectAltName`` syntax writes it."""
        return f"{'IP' if self.kind == 'ip' else 'DNS'}:{self.value}"


def _san_entry(value: object) -> object:
    """A name as typed (a string) -> its entry; an entry as it is."""
    return SanEntry.parse(value) if isinstance(value, str) else value


class CertRequest(BaseModel):
    """
    Everything needed for one key and certificate (or CSR).

    ``names`` always starts with the Common Name, then the extra SANs, without
    duplicates: modern clients read only the SAN.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    subject: Subject
    # Each name parsed on its own, so every bad one is named in one run.
    names: tuple[Annotated[SanEntry, BeforeValidator(_san_entry)], ...] = ()
    key: KeySpec = KeySpec()
    days: int = Field(default=DEFAULT_DAYS, ge=1, le=36500)
    literal: bool = False

    @model_validator(mode="after")
    def _cn_first_no_duplicates(self) -> CertRequest:
        cn = SanEntry.parse(self.subject.common_name)
        unique = {(entry.kind, entry.value): entry for entry in reversed((cn, *self.names))}
        ordered = dict.fromkeys((entry.kind, entry.value) for entry in (cn, *self.names))
        object.__setattr__(self, "names", tuple(unique[key] for key in ordered))
        return self

    def warnings(self) -> list[Notice]:
        """Things that work but an operator should know."""
        found = []
        if self.days > APPLE_MAX_DAYS:
            found.append(days_notice(self.days))
        return found


class NameAttribute(BaseModel):
    """One attribute of a subject or issuer, as stored."""

    model_config = ConfigDict(defer_build=True)

    type: str
    value: str


class PublicKeyInfo(BaseModel):
    """The public key's algorithm and size."""

    model_config = ConfigDict(defer_build=True)

    algorithm: str
    bits: int | None = None
    curve: str | None = None


class SubjectAltNames(BaseModel):
    """SAN entries by kind, in stored order."""

    model_config = ConfigDict(defer_build=True)

    dns: list[str] = Field(default_factory=list)
    ip: list[str] = Field(default_factory=list)
    email: list[str] = Field(default_factory=list)
    uri: list[str] = Field(default_factory=list)


class BasicConstraints(BaseModel):
    """The basicConstraints extension."""

    model_config = ConfigDict(defer_build=True)

    ca: bool
    path_length: int | None = None
    critical: bool = False


class NameSubtrees(BaseModel):
    """
    One list of a nameConstraints extension (permitted or excluded), by kind of name.

    IP networks as ``10.0.0.0/8`` (``address/mask`` when the mask is not a prefix);
    ``other`` holds what flow-ssl shows but does not judge (directory names, say).
    """

    model_config = ConfigDict(defer_build=True)

    dns: list[str] = Field(default_factory=list)
    ip: list[str] = Field(default_factory=list)
    email: list[str] = Field(default_factory=list)
    uri: list[str] = Field(default_factory=list)
    other: list[str] = Field(default_factory=list)

    def empty(self) -> bool:
        """Whether the list names nothing."""
        return not (self.dns or self.ip or self.email or self.uri or self.other)


class NameConstraints(BaseModel):
    """A CA's nameConstraints extension: the names it, and every CA below it, may sign for."""

    model_config = ConfigDict(defer_build=True)

    critical: bool = False
    permitted: NameSubtrees = Field(default_factory=NameSubtrees)
    excluded: NameSubtrees = Field(default_factory=NameSubtrees)


class ParsedCertificate(BaseModel):
    """One certificate or CSR, read from its DER (the fields ``openssl x509 -text`` shows)."""

    model_config = ConfigDict(defer_build=True)

    kind: Literal["certificate", "csr"]
    source: str
    index: int = 0
    version: int | None = None
    serial: str | None = None
    signature_algorithm: str | None = None
    issuer: list[NameAttribute] | None = None
    subject: list[NameAttribute] = Field(default_factory=list)
    not_before: datetime | None = None
    not_after: datetime | None = None
    # notBefore and notAfter where written as GeneralizedTime before 2050 (RFC 5280 wants
    # UTCTime through 2049; LibreSSL refuses the certificate).
    early_generalized_times: list[str] = Field(default_factory=list, exclude=True)
    public_key: PublicKeyInfo
    subject_alt_names: SubjectAltNames = Field(default_factory=SubjectAltNames)
    basic_constraints: BasicConstraints | None = None
    name_constraints: NameConstraints | None = None
    key_usage: list[str] = Field(default_factory=list)
    extended_key_usage: list[str] = Field(default_factory=list)
    self_signed: bool | None = None
    sha256_fingerprint: str | None = None
    # Internal: not part of the JSON contract.
    attributes: list[str] = Field(default_factory=list, exclude=True)
    subject_key_id: str | None = Field(default=None, exclude=True)
    authority_key_id: str | None = Field(default=None, exclude=True)
    # Every extension, in stored order: (OID, critical).
    extensions: list[tuple[str, bool]] = Field(default_factory=list, exclude=True)
    # The hash RSASSA-PSS parameters name (``sha256``; ``sha1`` when they name none).
    signature_hash: str | None = Field(default=None, exclude=True)
    # And the hash of their MGF1 mask (``sha1`` when none), and the salt length (20 when none).
    signature_mask_hash: str | None = Field(default=None, exclude=True)
    signature_salt_length: int | None = Field(default=None, exclude=True)
    der: bytes = Field(default=b"", exclude=True, repr=False)

    def issued(self, child: ParsedCertificate) -> bool:
        """Whether this certificate's subject (and key id, when both say) issued ``child``."""
        if child.issuer != self.subject:
            return False
        if child.authority_key_id and self.subject_key_id:
            return child.authority_key_id == self.subject_key_id
        return True

    def subject_value(self, kind: str) -> str | None:
        """The first value of one subject attribute type, if present."""
        return next((a.value for a in self.subject if a.type == kind), None)

    def names_text(self, *, issuer: bool = False) -> str:
        """Subject (or issuer) as ``C=US, O=..., CN=...`` in stored order, for messages."""
        return ", ".join(
            f"{a.type}={a.value}" for a in ((self.issuer or []) if issuer else self.subject)
        )


FindingStatus = Literal["pass", "warn", "fail"]


class Finding(BaseModel):
    """One result of one check."""

    model_config = ConfigDict(defer_build=True)

    check: str
    status: FindingStatus
    message: str
