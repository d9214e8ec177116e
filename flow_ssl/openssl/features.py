"""
What one openssl binary is and can do, read from what it prints.

Pure: the runner runs the probe once per binary and hands the text here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flow_ssl.core.errors import OpenSSLTooOldError

OPENSSL_ENV = "FLOW_SSL_OPENSSL"

# First version of each flavour with a feature (openssl-behaviour.md, section G).
FEATURES: dict[str, dict[str, tuple[int, int, int]]] = {
    "-addext": {"OpenSSL": (1, 1, 1), "LibreSSL": (3, 1, 0)},
    "-copy_extensions": {"OpenSSL": (3, 0, 0)},
    "-CA": {"OpenSSL": (3, 0, 0)},
    "storeutl": {"OpenSSL": (1, 1, 1)},
}

_VERSION = re.compile(r"^(OpenSSL|LibreSSL|BoringSSL)\s+(\d+)\.(\d+)\.(\d+)")


def parse_version(text: str) -> tuple[str, tuple[int, int, int]]:
    """``OpenSSL 3.0.19 27 Jan 2026`` becomes ``("OpenSSL", (3, 0, 19))``."""
    match = _VERSION.match(text.strip())
    if not match:
        return "unknown", (0, 0, 0)
    major, minor, patch = (int(part) for part in match.group(2, 3, 4))
    return match.group(1), (major, minor, patch)


@dataclass(frozen=True)
class OpenSSL:
    """The openssl binary in use, its version, and what it can do."""

    path: str
    flavour: str
    version: tuple[int, int, int]
    text: str

    def supports(self, feature: str) -> bool:
        """Whether this openssl has a feature from FEATURES."""
        since = FEATURES[feature].get(self.flavour)
        return since is not None and self.version >= since

    def require(self, needs: tuple[str, ...]) -> None:
        """
        Refuse, before running anything, what this openssl cannot run.

        Raises:
            OpenSSLTooOldError: naming the version and the missing capability.
        """
        for feature in needs:
            if not self.supports(feature):
                wanted = " or ".join(
                    f"{flavour} {'.'.join(map(str, since))}"
                    for flavour, since in FEATURES[feature].items()
                )
                raise OpenSSLTooOldError(
                    f"{self.text} at {self.path} has no {feature} (needs {wanted})",
                    hint=f"install a newer openssl or point {OPENSSL_ENV} at one",
                )


def from_version_text(path: str, text: str) -> OpenSSL:
    """The binary at ``path`` as its ``openssl version`` line describes it."""
    flavour, version = parse_version(text)
    return OpenSSL(path=path, flavour=flavour, version=version, text=text)


# What flow-ssl does instead when a feature is missing (README: supported versions).
FALLBACKS = {
    "-CA": "company CA: signed with openssl x509 -req (no req -CA)",
    "storeutl": "bundles: read with crl2pkcs7 | pkcs7 -print_certs (no storeutl)",
}


def fallbacks_in_use(openssl: OpenSSL) -> list[str]:
    """The fallbacks this openssl needs, in words."""
    return [text for feature, text in FALLBACKS.items() if not openssl.supports(feature)]
