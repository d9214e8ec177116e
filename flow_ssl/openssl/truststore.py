"""
The roots an openssl verifies against when flow-ssl gives it no --ca-file.

OpenSSL takes SSL_CERT_FILE / SSL_CERT_DIR when set, else cert.pem and certs/ in
its OPENSSLDIR; LibreSSL ignores the variables and reads OPENSSLDIR/cert.pem only
(/private/etc/ssl/cert.pem on macOS).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from flow_ssl.core.errors import OpenSSLError
from flow_ssl.openssl import runner
from flow_ssl.openssl.commands.info import build_version_dir

_OPENSSLDIR = re.compile(r'^OPENSSLDIR:\s*"?([^"\n]*)"?\s*$', re.MULTILINE)


@dataclass(frozen=True)
class TrustStore:
    """Where the default roots are, why there, and whether they exist."""

    file: Path | None
    folder: Path | None
    source: str

    @property
    def exists(self) -> bool:
        """Whether any of it is there to verify against."""
        return bool((self.file and self.file.is_file()) or (self.folder and self.folder.is_dir()))


def default_store() -> TrustStore:
    """
    The trust store the openssl in use verifies against by default.

    Raises:
        OpenSSLError: openssl is missing or does not say its OPENSSLDIR.
    """
    openssl = runner.find_openssl()
    printed = runner.run(build_version_dir()).stdout
    found = _OPENSSLDIR.search(printed)
    if found is None:
        raise OpenSSLError(f"{openssl.text} does not say its OPENSSLDIR ('version -d')")
    base = Path(found.group(1))
    if openssl.flavour == "LibreSSL":
        return TrustStore(base / "cert.pem", None, f"LibreSSL's OPENSSLDIR ({base})")
    file_env, dir_env = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    return TrustStore(
        Path(file_env) if file_env else base / "cert.pem",
        Path(dir_env) if dir_env else base / "certs",
        "SSL_CERT_FILE/SSL_CERT_DIR" if file_env or dir_env else f"OPENSSLDIR ({base})",
    )
