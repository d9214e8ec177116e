"""
What one openssl binary is and can do, read from what it prints.

Pure: the runner runs the probe (``openssl version`` once per binary, and
``openssl CMD -help`` the first time a feature of CMD is asked about; answers an earlier
run learned come from ``probe_cache``) and hands the text here. Exit codes are
never trusted: LibreSSL 3.3.6 exits 0 on an invalid command, OpenSSL exits 0 and
LibreSSL 1 on ``-help``. What ``-help`` cannot show (how an option behaves) is
decided by version, from behaviour measured on each release.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from flow_ssl.core.errors import OpenSSLTooOldError

OPENSSL_ENV = "FLOW_SSL_OPENSSL"


@dataclass(frozen=True)
class Probe:
    """A feature that ``openssl COMMAND -help`` shows: the command, and the option if any."""

    command: str
    option: str | None = None
    words: str = ""

    def describe(self) -> str:
        """How a person names it: ``req -CA``, ``storeutl``."""
        return self.words or " ".join(filter(None, (self.command, self.option)))


Since = dict[str, tuple[int, int, int]]

# Each feature: read from the binary's own help (a Probe), or, for behaviour that
# -help cannot show, the first version of each flavour that has it.
FEATURES: dict[str, Probe | Since] = {
    "-addext": Probe("req", "-addext"),
    "-CA": Probe("req", "-CA"),
    "-copy_extensions": Probe("req", "-copy_extensions"),
    "storeutl": Probe("storeutl"),
    "x509 -ext": Probe("x509", "-ext"),
    "cms -nameopt": Probe("cms", "-nameopt"),
    "verify -verify_hostname": Probe("verify", "-verify_hostname"),
    # With -CAfile, OpenSSL's verify still loads the system's roots (the default folder,
    # and 3.x's default store) unless told not to: --ca-file must mean only those roots.
    "verify -no-CApath": Probe("verify", "-no-CApath"),
    "verify -no-CAstore": Probe("verify", "-no-CAstore"),
    # OpenSSL 3 reads RC2-40 PKCS#12 files (the 1.1.1 and LibreSSL default) only with
    # its legacy provider; 1.1.1 and LibreSSL read them as they are.
    "pkcs12 -legacy": Probe("pkcs12", "-legacy"),
    # A PKCS#12 integrity MAC of PBMAC1 (RFC 9579): 3.4 reads and writes it; older
    # versions and LibreSSL report any passphrase as wrong.
    "pkcs12 PBMAC1": Probe("pkcs12", "-pbmac1_pbkdf2", words="PKCS#12 files with a PBMAC1 MAC"),
    # `req -addext` replaces an extension the config's x509_extensions also sets.
    # OpenSSL 1.1.1 and LibreSSL add a second one instead (1.1.1's stock v3_ca plus
    # -addext basicConstraints gives two basicConstraints: Go and GnuTLS refuse it),
    # and a config's req_extensions gives a CSR two extension requests.
    "addext-replaces": {"OpenSSL": (3, 0, 0)},
    # `req -keyout` and `genpkey` create the key file 0600 (LibreSSL: the umask).
    "private-keyout": {"OpenSSL": (1, 1, 0)},
    # `req -subj` with jurisdictionC/ST/L and organizationIdentifier (an EV subject's):
    # LibreSSL does not know these names, and skips them with a warning.
    "subj-ev-names": {"OpenSSL": (1, 1, 0)},
    # `storeutl -passin` opens a PKCS#12 (and lists its X.509 certificates only): 3.0 and
    # later. 1.1.1's storeutl ignores -passin for PKCS#12 and prompts; LibreSSL has none.
    "storeutl-pkcs12": {"OpenSSL": (3, 0, 0)},
    # Ed25519 and Ed448 keys (pkey, x509 -pubkey, verify). LibreSSL 3.3.6 (macOS) reads
    # neither, 4.3 Ed25519 only (measured); its Ed25519 came with 3.7.0.
    "ed25519": {"OpenSSL": (1, 1, 1), "LibreSSL": (3, 7, 0)},
    "ed448": {"OpenSSL": (1, 1, 1)},
}
# Plain words for the refusal line.
_WORDS = {
    "addext-replaces": "-addext that replaces the config's extensions",
    "private-keyout": "private key files made 0600",
    "subj-ev-names": "subject names jurisdictionC/ST/L and organizationIdentifier (-subj)",
    "storeutl-pkcs12": "storeutl that opens a PKCS#12 with -passin",
    "ed25519": "Ed25519 keys",
    "ed448": "Ed448 keys",
}

_VERSION = re.compile(r"^(OpenSSL|LibreSSL|BoringSSL)\s+(\d+)\.(\d+)\.(\d+)")
# The first token of each help line: ` -CA infile  Issuer cert ...` (OpenSSL),
# ` -addext key=value  Additional ...` (LibreSSL). Never a substring test: "-CA"
# would match -CAkey, "-ext" -extfile. LibreSSL's "usage: req [-addext ext]" lines
# start with "usage:", so they are not read (each option has its own line too).
_OPTION = re.compile(r"^\s*(-[A-Za-z0-9_][A-Za-z0-9_-]*)", re.MULTILINE)
# 3.x/1.1.1: "Invalid command 'x'"; LibreSSL: "openssl:Error: 'x' is an invalid command."
_INVALID = re.compile(r"invalid command", re.IGNORECASE)


def parse_version(text: str) -> tuple[str, tuple[int, int, int]]:
    """``OpenSSL 3.0.19 27 Jan 2026`` becomes ``("OpenSSL", (3, 0, 19))``."""
    match = _VERSION.match(text.strip())
    if not match:
        return "unknown", (0, 0, 0)
    major, minor, patch = (int(part) for part in match.group(2, 3, 4))
    return match.group(1), (major, minor, patch)


def probe_commands() -> tuple[str, ...]:
    """The commands whose ``-help`` the probe reads, in a fixed order."""
    return tuple(sorted({probe.command for probe in FEATURES.values() if isinstance(probe, Probe)}))


def help_options(text: str) -> frozenset[str] | None:
    """The options a ``CMD -help`` text lists, or None when the command does not exist."""
    if not text.strip() or _INVALID.search(text):
        return None
    return frozenset(_OPTION.findall(text))


@dataclass(frozen=True)
class OpenSSL:
    """
    The openssl binary in use, its version, and what it can do.

    ``ask`` gives a command's ``-help`` text (stdout and stderr): the runner's, which runs
    ``openssl CMD -help`` the first time a feature of CMD is asked about, unless ``known``
    (what an earlier run learned: each command's options, None where it has none) answers;
    each new answer is kept for the life of this object and handed to ``learned``.
    ``assumed`` marks the profile made up for ``--print`` when no openssl was found.
    """

    path: str
    flavour: str
    version: tuple[int, int, int]
    text: str
    ask: Callable[[str], str] | None = field(default=None, compare=False, repr=False)
    assumed: bool = False
    known: dict[str, frozenset[str] | None] = field(default_factory=dict, compare=False, repr=False)
    learned: Callable[[dict[str, frozenset[str] | None]], None] | None = field(
        default=None, compare=False, repr=False
    )

    def options(self, command: str) -> frozenset[str] | None:
        """The options ``openssl COMMAND -help`` lists (asked once), None if it has no COMMAND."""
        if command not in self.known:
            self.known[command] = help_options(self.ask(command) if self.ask else "")
            if self.learned is not None:
                self.learned(self.known)
        return self.known[command]

    def supports(self, feature: str) -> bool:
        """Whether this openssl has a feature from FEATURES."""
        spec = FEATURES[feature]
        if isinstance(spec, Probe):
            if self.assumed:
                return True
            options = self.options(spec.command)
            if options is None:
                return False
            return spec.option is None or spec.option in options
        since = spec.get(self.flavour)
        return since is not None and self.version >= since

    def require(self, needs: tuple[str, ...]) -> None:
        """
        Refuse, before running anything, what this openssl cannot run.

        Raises:
            OpenSSLTooOldError: naming the version and the missing capability.
        """
        for feature in needs:
            if not self.supports(feature):
                raise OpenSSLTooOldError(
                    f"{self.text} ({self.path}) has no {describe(feature)}, and flow-ssl "
                    "knows no other openssl command that does this",
                    hint=f"install OpenSSL 1.1.1 or later, or point {OPENSSL_ENV} at one",
                )

    def cannot(self, what: str) -> OpenSSLTooOldError:
        """
        This openssl's limit, where another build would answer: ``what`` it cannot do, in
        words that follow its name (``read Ed25519 keys``).
        """
        return OpenSSLTooOldError(
            f"{self.name} ({self.path}) cannot {what}",
            hint=f"OpenSSL 1.1.1 or later can: point {OPENSSL_ENV} at one",
        )

    @property
    def name(self) -> str:
        """``OpenSSL 1.1.1``: flavour and version, for notes in scripts."""
        return f"{self.flavour} {'.'.join(map(str, self.version))}"


def describe(feature: str) -> str:
    """A feature in plain words: ``req -CA``."""
    spec = FEATURES[feature]
    return spec.describe() if isinstance(spec, Probe) else _WORDS.get(feature, feature)


def from_version_text(
    path: str,
    text: str,
    ask: Callable[[str], str] | None = None,
    *,
    known: dict[str, frozenset[str] | None] | None = None,
    learned: Callable[[dict[str, frozenset[str] | None]], None] | None = None,
) -> OpenSSL:
    """
    The binary at ``path`` as its ``version`` line describes it; ``ask`` gives its help,
    where ``known`` (an earlier run's answers) does not; ``learned`` keeps each new answer.
    """
    flavour, version = parse_version(text)
    return OpenSSL(
        path=path,
        flavour=flavour,
        version=version,
        text=text,
        ask=ask,
        known=dict(known or {}),
        learned=learned,
    )


def assumed_modern() -> OpenSSL:
    """
    What --print renders for when no openssl can be found: a modern OpenSSL 3.

    It has every feature (the script it renders says it assumed one).
    """
    return OpenSSL(
        path="openssl", flavour="OpenSSL", version=(3, 0, 0), text="OpenSSL 3", assumed=True
    )


# What flow-ssl does instead where a feature is missing (doctor lists those in use).
FALLBACKS = {
    "addext-replaces": "selfsigned/csr: flow-ssl's own req config (-addext would add to the "
    "system config's extensions)",
    "-CA": "company CA: signed with openssl x509 -req -extfile (no req -CA); ca issue as "
    "req -new then x509 -req",
    "private-keyout": "new keys: chmod 600 after openssl writes them (it follows the umask)",
    "storeutl-pkcs12": "PKCS#12: certificates from openssl pkcs12 alone, with no storeutl to "
    "cross-check them (a non-X.509 bag named like a whole certificate is not caught)",
}


def fallbacks_in_use(openssl: OpenSSL) -> list[str]:
    """The fallbacks this openssl needs, in words."""
    return [text for feature, text in FALLBACKS.items() if not openssl.supports(feature)]
