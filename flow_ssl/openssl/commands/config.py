"""
The openssl config files flow-ssl writes, so that the system's openssl.cnf changes nothing.

Where ``-addext`` adds to the config's extensions instead of replacing them
(OpenSSL 1.1.1, LibreSSL), ``req`` gets one of these with ``-config``: the stock
questions without their defaults (no AU, no Some-State), no challenge password,
and no extension sections of its own. Where a version has no ``req -CA``, the CA
signs with ``x509 -req``, which takes a certificate's extensions from a file only.
"""

from __future__ import annotations

# The questions of the stock openssl.cnf (1.0.2 to 4.0), with no defaults: an
# empty answer leaves a field out, as "." does.
SUBJECT_SECTION = """\
[ subject ]
countryName            = Country Name (2 letter code)
countryName_min        = 2
countryName_max        = 2
stateOrProvinceName    = State or Province Name (full name)
localityName           = Locality Name (eg, city)
organizationName       = Organization Name (eg, company)
organizationalUnitName = Organizational Unit Name (eg, section)
commonName             = Common Name (e.g. server FQDN or YOUR name)
commonName_max         = 64
emailAddress           = Email Address
emailAddress_max       = 64
"""

# A self-signed certificate's key identifiers, as 3.x's stock v3_ca gives them
# (subjectKeyIdentifier first: 1.1.1 and LibreSSL need it before the AKI).
KEY_IDS_SECTION = "keyids"
_KEY_IDS = f"""
[ {KEY_IDS_SECTION} ]
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
"""


def request_config(*, self_signed: bool) -> str:
    """
    ``-config`` for ``req`` where -addext adds to a config's extensions.

    Only the subject's questions; a self-signed certificate also gets its key
    identifiers (the rest comes with -addext, as on every other version).
    """
    head = (
        "# flow-ssl: openssl's settings for this request only, so the system's\n"
        "# openssl.cnf adds no extensions, no defaults and no challenge password.\n"
        "[ req ]\n"
        "distinguished_name = subject\n"
        "string_mask        = utf8only\n"
    )
    if self_signed:
        head += f"x509_extensions    = {KEY_IDS_SECTION}\n"
    return head + "\n" + SUBJECT_SECTION + (_KEY_IDS if self_signed else "")


def extension_file(section: str, extensions: list[tuple[str, str]]) -> str:
    """``-extfile`` for ``x509 -req``: one section holding every extension, in order."""
    width = max(len(name) for name, _ in extensions)
    lines = [f"{name:<{width}} = {value}" for name, value in extensions]
    return (
        "# flow-ssl: the extensions of this one certificate (x509 -req -extfile)\n"
        f"[ {section} ]\n" + "\n".join(lines) + "\n"
    )
