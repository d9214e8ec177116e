"""
The part of openssl's ``-text`` after the key: extension blocks and CSR attributes.

Read on a best-effort basis, for text alone (``parse_text`` without the DER):
openssl prints these values raw, so a value holding a line break or ``, DNS:``
can imitate any line; flow-ssl's reader takes them from the DER (``der``).
One grammar for every version: 1.1.1 and LibreSSL prefix key ids with
``keyid:``, LibreSSL 4 drops the blank after a header's colon, 1.1.1 and
LibreSSL indent a CSR's ``Requested Extensions`` by 8, 3.x by 12.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flow_ssl.core.models import BasicConstraints, SubjectAltNames
from flow_ssl.openssl.read import oids

if TYPE_CHECKING:
    from flow_ssl.core.models import ParsedCertificate

_SAN_SPLIT = re.compile(
    r", (?=(?:DNS|IP Address|email|URI|DirName|Registered ID|othername|EdiPartyName|"
    r"X400Name|IP address):)"
)


@dataclass
class Block:
    """An extension header line and its value lines."""

    name: str
    critical: bool
    lines: list[str] = field(default_factory=list)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def read_tail(lines: list[str]) -> tuple[list[Block], list[str]]:
    """
    Extension blocks and CSR attribute names after the key (best effort; see the docstring).

    A header is a line at the section's own indent ending in ':' or ': critical';
    every other line until the outer ``Signature Algorithm:`` belongs to the block
    above it, however it is indented: an unknown extension's dump may break lines.
    """
    blocks: list[Block] = []
    attributes: list[str] = []
    ext_indent: int | None = None
    attr_indent: int | None = None
    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        depth = _indent(line)
        if depth == 4 and stripped.startswith("Signature Algorithm:"):
            break
        if stripped in {"X509v3 extensions:", "Requested Extensions:"}:
            ext_indent = depth + 4
            continue
        if ext_indent is not None:
            trimmed = line.rstrip()
            if depth == ext_indent and trimmed.endswith((":", ": critical")):
                name, _, flag = trimmed.rpartition(":")
                blocks.append(Block(name.strip(), flag.strip() == "critical"))
            elif blocks:
                blocks[-1].lines.append(stripped)
            continue
        if stripped == "Attributes:":
            attr_indent = depth + 4
        elif attr_indent is not None and depth == attr_indent and ":" in stripped:
            attributes.append(stripped.split(":", 1)[0].strip())
    return blocks, attributes


def _canonical_ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return text.strip()


def _parse_san(value: str) -> SubjectAltNames:
    """
    Split openssl's one-line SAN: ambiguous when a value holds ``, DNS:`` (see ``der``).

    Best effort, for text alone; flow-ssl reads the SAN from the DER.
    """
    san = SubjectAltNames()
    for entry in _SAN_SPLIT.split(value.strip()):
        prefix, _, rest = entry.partition(":")
        if prefix == "DNS":
            san.dns.append(rest)
        elif prefix in {"IP Address", "IP address"}:
            san.ip.append(_canonical_ip(rest))
        elif prefix == "email":
            san.email.append(rest)
        elif prefix == "URI":
            san.uri.append(rest)
    return san


def _parse_basic_constraints(value: str, *, critical: bool) -> BasicConstraints:
    parts = [p.strip() for p in value.split(",")]
    ca = "CA:TRUE" in parts
    path = next((p.split(":", 1)[1] for p in parts if p.startswith("pathlen:")), None)
    return BasicConstraints(
        ca=ca, path_length=int(path) if path and path.isdigit() else None, critical=critical
    )


def _key_id(value: str) -> str:
    """``keyid:AB:CD`` (1.1.1, LibreSSL) or ``AB:CD`` (3.0+) -> ``abcd``."""
    return value.strip().removeprefix("keyid:").replace(":", "").lower()


def _usages(value: str, names: dict[str, str]) -> list[str]:
    """Usage words -> short names; an OID printed dotted (unknown to that version) named too."""
    words = [word.strip() for word in value.split(",")]
    return [names.get(word) or oids.EKU_NAMES.get(word, word) for word in words if word]


def apply_extensions(parsed: ParsedCertificate, blocks: list[Block]) -> None:
    """Set the SAN, constraints, usages and key ids the blocks give (the first of each)."""
    ski = aki = None
    seen: set[str] = set()
    for block in blocks:
        if block.name in seen:  # an extension twice (1.1.1's req -x509): the first, as the DER
            continue
        seen.add(block.name)
        value = " ".join(block.lines)
        if block.name == "X509v3 Subject Alternative Name":
            parsed.subject_alt_names = _parse_san(value)
        elif block.name == "X509v3 Basic Constraints":
            parsed.basic_constraints = _parse_basic_constraints(value, critical=block.critical)
        elif block.name == "X509v3 Key Usage":
            parsed.key_usage = _usages(value, oids.KEY_USAGE_WORDS)
        elif block.name == "X509v3 Extended Key Usage":
            parsed.extended_key_usage = _usages(value, oids.EKU_BY_LONG_NAME)
        elif block.name == "X509v3 Subject Key Identifier" and block.lines:
            ski = _key_id(block.lines[0])
        elif block.name == "X509v3 Authority Key Identifier" and block.lines:
            aki = _key_id(block.lines[0])
    parsed.subject_key_id = ski
    parsed.authority_key_id = aki
