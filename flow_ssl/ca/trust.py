"""
How to make each kind of client trust a company root: the commands, never run.

Changing a machine's trust store is the operator's decision, taken on each
client, so flow-ssl only prints what to type there. Pure: no I/O.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from flow_ssl.openssl.commands.base import powershell_quote


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


def instructions(name: str) -> list[Instructions]:
    """
    The install commands for a root named ``name`` (its CN), copied to the client
    as ``file_name(name)`` in the current folder.

    Each system's own tool is used, so the root lands where that system's
    clients look: the distribution bundle, the System keychain, the Windows
    machine store, or an NSS database.
    """
    local = file_name(name)
    quoted = shlex.quote(local)
    return [
        Instructions(
            "Debian, Ubuntu",
            (
                f"sudo cp {quoted} /usr/local/share/ca-certificates/{local}",
                "sudo update-ca-certificates",
            ),
            "the file name must end in .crt",
        ),
        Instructions(
            "RHEL, Fedora, Rocky, Alma",
            (
                f"sudo cp {quoted} /etc/pki/ca-trust/source/anchors/{local}",
                "sudo update-ca-trust extract",
            ),
        ),
        Instructions(
            "SUSE",
            (f"sudo cp {quoted} /etc/pki/trust/anchors/{local}", "sudo update-ca-certificates"),
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
                    f"Import-Certificate -FilePath {powershell_quote(local)} "
                    "-CertStoreLocation Cert:\\LocalMachine\\Root"
                ),
            ),
        ),
        *_java(name, local),
        Instructions(
            "Containers (curl, Python's ssl, Go and other OpenSSL clients read SSL_CERT_FILE)",
            (_container_line(quoted),),
            "it replaces the image's own roots: for public sites too, mount the image's bundle "
            "with this root appended; Python requests: REQUESTS_CA_BUNDLE; Node: "
            "NODE_EXTRA_CA_CERTS (added to its own); Java: the keytool lines, in the image",
        ),
        Instructions(
            "Firefox, Chromium on Linux (NSS; certutil from libnss3-tools or nss-tools)",
            (f'certutil -d "sql:$HOME/.pki/nssdb" -A -t C,, -n {shlex.quote(name)} -i {quoted}',),
            "Firefox profiles have their own database: use -d sql:<profile folder>, or set "
            "security.enterprise_roots.enabled to true in about:config to use the system's roots",
        ),
    ]


# keytool asks for the store's password when it is not given, and with no terminal to
# answer it adds nothing yet exits 0: the password is always given, from the environment.
_KEYTOOL_CHECK = (
    "STOREPASS: the store's password, changeit unless changed; keytool exits 0 even when "
    "it added nothing, so look for 'Certificate was added to keystore'; an alias in use is "
    "an error (keytool -delete first); restart Java applications after"
)


def _java(name: str, local: str) -> list[Instructions]:
    """Java trusts only its own truststore (cacerts), never the system's."""
    tail = f"-alias {slug(name)} -file {shlex.quote(local)} -noprompt"
    sudo = "sudo --preserve-env=STOREPASS keytool -importcert"
    return [
        Instructions(
            "Java 9 and later (the JDK's truststore; the repository and ticketing servers)",
            (
                "export STOREPASS=changeit",
                f"{sudo} -cacerts -storepass:env STOREPASS {tail}",
            ),
            _KEYTOOL_CHECK,
        ),
        Instructions(
            "Java 8 (no -cacerts: the file; a JRE's is $JAVA_HOME/lib/security/cacerts)",
            (
                "export STOREPASS=changeit",
                (
                    f'{sudo} -keystore "$JAVA_HOME/jre/lib/security/cacerts" '
                    f"-storepass:env STOREPASS {tail}"
                ),
            ),
            _KEYTOOL_CHECK,
        ),
    ]


def _container_line(quoted: str) -> str:
    inside = f"/etc/ssl/certs/{quoted}"
    return f'docker run -v "$PWD"/{quoted}:{inside}:ro -e SSL_CERT_FILE={inside} IMAGE'


def file_name(name: str) -> str:
    """What the root is called on each client (``acme-internal-root-ca.crt``)."""
    return f"{slug(name)}.crt"
