"""
A CA folder's ``ca.cnf``: the extension sections openssl reads with ``-config``, and the
part ``openssl ca`` reads (its index, its CRL number), written from one set of values.

Every certificate the CA signs gets the extensions of one section, the same on every
openssl build: with ``req -CA`` openssl reads the section itself; where ``x509 -req``
signs instead (OpenSSL 1.1.1, LibreSSL), flow-ssl writes the same values into an
extension file. The ``openssl ca`` part names the folder's files relative to the folder
(``dir = .``), so an operator can ask openssl in the folder
(``openssl ca -config ca.cnf -status SERIAL``); flow-ssl's own ``openssl ca`` runs get
the same section with the folder's absolute path.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from flow_ssl.core import name_constraints
from flow_ssl.openssl.commands.config import SUBJECT_SECTION

if TYPE_CHECKING:
    from collections.abc import Sequence

Values = list[tuple[str, str]]

# The root: signs issuing CAs (and, without one, servers directly).
ROOT_CA: Values = [
    ("basicConstraints", "critical, CA:TRUE"),
    ("keyUsage", "critical, keyCertSign, cRLSign"),
    ("subjectKeyIdentifier", "hash"),
]
# An issuing CA under the root: signs servers only (pathlen:0).
ISSUING_CA: Values = [
    ("basicConstraints", "critical, CA:TRUE, pathlen:0"),
    ("keyUsage", "critical, keyCertSign, cRLSign"),
    ("subjectKeyIdentifier", "hash"),
    ("authorityKeyIdentifier", "keyid:always"),
]
# A TLS server: its names, basicConstraints, keyUsage and extendedKeyUsage are given per
# certificate (-addext, or the extension file).
SERVER: Values = [
    ("subjectKeyIdentifier", "hash"),
    ("authorityKeyIdentifier", "keyid:always"),
]
CA_SECTION = "flow_ssl_ca"
CRL_SECTION = "crl_ext"
DEFAULT_CRL_DAYS = 30
_CDP = "crlDistributionPoints"
# openssl's config syntax: a backslash escapes the next character; unescaped, '#' starts
# a comment, '$' a variable, and quotes are dropped.
_SPECIAL = re.compile(r"""([\\$#"'])""")


def escape(value: str) -> str:
    """A value (a path, a URL) as openssl's config reads it back unchanged."""
    return _SPECIAL.sub(r"\\\1", value)


def crl_point(url: str) -> tuple[str, str]:
    """The CRL Distribution Point extension for ``url``."""
    return _CDP, f"URI:{escape(url)}"


def _section(name: str, values: Values, why: str) -> str:
    width = max(len(key) for key, _ in values)
    lines = [f"# {why}", f"[ {name} ]", *(f"{key:<{width}} = {value}" for key, value in values)]
    return "\n".join(lines) + "\n"


def ca_part(folder: str, digest: str) -> str:
    """
    What ``openssl ca`` reads: the index, the CA's key and certificate, the CRL number and
    the CRL's extensions; ``folder`` is ``.`` in the folder's own ca.cnf.
    """
    values = [
        ("dir", escape(folder)),
        ("database", "$dir/index.txt"),
        ("new_certs_dir", "$dir/certs"),
        ("certificate", "$dir/ca.crt"),
        ("private_key", "$dir/ca.key"),
        ("serial", "$dir/serial"),
        ("crlnumber", "$dir/crlnumber"),
        ("default_md", digest),
        ("default_crl_days", str(DEFAULT_CRL_DAYS)),
        # Two certificates for one subject (a renewal) are allowed, as flow-ssl issues them.
        ("unique_subject", "no"),
        ("crl_extensions", CRL_SECTION),
    ]
    return "\n".join(
        [
            f"[ ca ]\ndefault_ca = {CA_SECTION}\n",
            _section(CA_SECTION, values, "the CA's records, for openssl ca (-status, -gencrl)"),
            _section(CRL_SECTION, [("authorityKeyIdentifier", "keyid:always")], "every CRL's"),
        ]
    )


def render(
    *,
    digest: str,
    permits: Sequence[tuple[name_constraints.Kind, str]] = (),
    crl_url: str | None = None,
) -> str:
    """
    A new CA's ca.cnf: its subject questions, its ``openssl ca`` part, and one extension
    section per kind of certificate (the root's name constraints; the CRL Distribution
    Point of everything it signs).
    """
    root = [*ROOT_CA]
    if permits:
        root.append(("nameConstraints", name_constraints.openssl_value(permits)))
    signed_extra = [crl_point(crl_url)] if crl_url else []
    head = (
        "# flow-ssl certificate authority. openssl reads this file with -config; each\n"
        "# extension section below is the complete set of extensions one kind of\n"
        "# certificate gets. Nothing a certificate request asks for is copied.\n"
        "# In this folder: openssl ca -config ca.cnf -status SERIAL\n\n"
        "[ req ]\ndistinguished_name = subject\nstring_mask        = utf8only\n"
    )
    return "\n".join(
        [
            head,
            SUBJECT_SECTION,
            ca_part(".", digest),
            _section("root_ca", root, "The root: signs issuing CAs (and, without one, servers)."),
            _section(
                "issuing_ca",
                [*ISSUING_CA, *signed_extra],
                "An issuing CA under the root: signs servers only (pathlen:0).",
            ),
            _section(
                "server",
                [*SERVER, *signed_extra],
                "A TLS server. subjectAltName, basicConstraints (CA:FALSE), keyUsage and\n"
                "# extendedKeyUsage (serverAuth) are given with -addext, per certificate.",
            ),
        ]
    )


def run_config(folder: str, digest: str) -> str:
    """``-config`` for flow-ssl's own ``openssl ca`` runs: the same part, the folder's path."""
    return "# flow-ssl: openssl ca's records for this run\n" + ca_part(folder, digest)


def has_ca_part(text: str) -> bool:
    """Whether a ca.cnf already tells ``openssl ca`` where the records are."""
    return re.search(r"^\s*\[\s*ca\s*\]", text, re.MULTILINE) is not None


def crl_url(text: str) -> str | None:
    """The CRL Distribution Point a ca.cnf gives what it signs (its [ server ] section's)."""
    section = re.search(
        r"^\s*\[\s*server\s*\]\s*$(.*?)(?=^\s*\[|\Z)", text, re.MULTILINE | re.DOTALL
    )
    if section is None:
        return None
    found = re.search(rf"^\s*{_CDP}\s*=\s*URI:(.*?)\s*$", section.group(1), re.MULTILINE)
    return re.sub(r"\\(.)", r"\1", found.group(1)) if found else None
