"""
How to make each kind of client trust a company root: the commands, never run.

Changing a machine's trust store is the operator's decision, taken on each
client, so flow-ssl only prints what to type there. Pure: no I/O.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from flow_ssl.commands import powershell_quote


@dataclass(frozen=True)
class Instructions:
    """The commands for one kind of system."""

    system: str
    commands: tuple[str, ...]
    note: str = ""


def slug(name: str) -> str:
    """A file-name-safe form of the root's name (``Acme Root CA`` -> ``acme-root-ca``)."""
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return text or "company-root-ca"


def instructions(root: str, name: str) -> list[Instructions]:
    """
    The install commands for ``root`` (an absolute path) named ``name`` (its CN).

    Each system's own tool is used, so the root lands where that system's
    clients look: the distribution bundle, the System keychain, the Windows
    machine store, or an NSS database.
    """
    file_name = f"{slug(name)}.crt"
    quoted = shlex.quote(root)
    return [
        Instructions(
            "Debian, Ubuntu",
            (
                f"sudo cp {quoted} /usr/local/share/ca-certificates/{file_name}",
                "sudo update-ca-certificates",
            ),
            "the file name must end in .crt",
        ),
        Instructions(
            "RHEL, Fedora, Rocky, Alma, SUSE",
            (
                f"sudo cp {quoted} /etc/pki/ca-trust/source/anchors/{file_name}",
                "sudo update-ca-trust extract",
            ),
            "on SUSE: /etc/pki/trust/anchors/ and sudo update-ca-certificates",
        ),
        Instructions(
            "macOS",
            (
                (
                    "sudo security add-trusted-cert -d -r trustRoot "
                    f"-k /Library/Keychains/System.keychain {quoted}"
                ),
            ),
        ),
        Instructions(
            "Windows (PowerShell as Administrator)",
            (
                (
                    f"Import-Certificate -FilePath {powershell_quote(root)} "
                    "-CertStoreLocation Cert:\\LocalMachine\\Root"
                ),
            ),
        ),
        Instructions(
            "Firefox, Chromium on Linux (NSS; certutil from libnss3-tools or nss-tools)",
            (f'certutil -d "sql:$HOME/.pki/nssdb" -A -t C,, -n {shlex.quote(name)} -i {quoted}',),
            "Firefox profiles have their own database: use -d sql:<profile folder>, or set "
            "security.enterprise_roots.enabled to true in about:config to use the system's roots",
        ),
    ]
