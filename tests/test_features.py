"""What an openssl can do, read from what it prints (never from its exit code)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from flow_ssl.core.errors import OpenSSLTooOldError
from flow_ssl.openssl import features, runner
from tests.helpers import OPENSSL, fake_openssl, requires_openssl

if TYPE_CHECKING:
    from pathlib import Path

# Help lines as each version prints them (captured from the builds in ../shared/openssl).
OPENSSL_3_REQ = """Usage: req [options]
General options:
 -help                 Display this summary
 -CA infile            Issuer cert to use for signing a cert, implies -x509
 -CAkey val            Issuer private key to use with -CA; default is -CA arg
 -copy_extensions val  copy extensions from request when using -x509
 -addext val           Additional cert extension key=value pair (may be given more than once)
"""
OPENSSL_111_REQ = """Usage: req [options]
Valid options are:
 -x509               Output a x509 structure instead of a cert request
 -addext val         Additional cert extension key=value pair (may be given more than once)
"""
LIBRESSL_REQ = """usage: req [-addext ext] [-asn1-kludge] [-batch] [-config file]
    [-verbose] [-verify] [-x509]
 -addext key=value  Additional certificate extension (may be repeated)
 -CAfile file       not a -CA option: another token
"""
LIBRESSL_INVALID = (
    "openssl:Error: 'storeutl' is an invalid command.\n\nStandard commands\nasn1parse\n"
)


def _binary(helps: dict[str, str], version: str = "OpenSSL 3.0.19 27 Jan 2026") -> features.OpenSSL:
    return features.from_version_text("/bin/openssl", version, ask=lambda c: helps.get(c, ""))


def test_options_are_whole_tokens_in_every_help_format() -> None:
    """-CA is not -CAkey or -CAfile; LibreSSL's 'usage: [...]' lines are not options."""
    assert _binary({"req": OPENSSL_3_REQ}).supports("-CA")
    assert not _binary({"req": OPENSSL_111_REQ}).supports("-CA")
    libressl = _binary({"req": LIBRESSL_REQ}, "LibreSSL 3.3.6")
    assert libressl.supports("-addext")
    assert not libressl.supports("-CA")
    assert not libressl.supports("-copy_extensions")


def test_an_invalid_command_is_read_from_the_text_not_the_exit_code() -> None:
    """LibreSSL 3.3.6 exits 0 on an invalid command: its words say it is missing."""
    assert not _binary({"storeutl": LIBRESSL_INVALID}, "LibreSSL 3.3.6").supports("storeutl")
    assert _binary({"storeutl": "Usage: storeutl [options] uri\n"}).supports("storeutl")
    assert not _binary({}).supports("storeutl")


def test_behaviour_help_cannot_show_goes_by_version() -> None:
    """-addext replaces config extensions from OpenSSL 3.0; LibreSSL's keys follow the umask."""
    assert _binary({}, "OpenSSL 3.0.19 27 Jan 2026").supports("addext-replaces")
    assert not _binary({}, "OpenSSL 1.1.1w  11 Sep 2023").supports("addext-replaces")
    assert not _binary({}, "LibreSSL 4.3.2").supports("addext-replaces")
    assert not _binary({}, "LibreSSL 4.3.2").supports("private-keyout")
    assert _binary({}, "OpenSSL 1.1.1w  11 Sep 2023").supports("private-keyout")


def test_a_refusal_names_the_version_and_the_capability() -> None:
    """One line: which openssl, what it lacks."""
    old = _binary({"req": "usage: req [-batch]\n"}, "LibreSSL 2.8.3")
    with pytest.raises(OpenSSLTooOldError) as caught:
        old.require(("-addext",))
    assert str(caught.value).startswith("LibreSSL 2.8.3 (/bin/openssl) has no req -addext")


def test_help_is_asked_once_per_command() -> None:
    """The probe runs each command's -help at most once per binary."""
    asked: list[str] = []

    def ask(command: str) -> str:
        asked.append(command)
        return OPENSSL_3_REQ

    binary = features.from_version_text("/bin/openssl", "OpenSSL 3.5.9", ask=ask)
    assert binary.supports("-CA")
    assert binary.supports("-addext")
    assert binary.supports("-copy_extensions")
    assert asked == ["req"]


def test_the_assumed_openssl_for_print_has_everything() -> None:
    """--print with no openssl installed renders for a modern OpenSSL 3, and says so."""
    assumed = features.assumed_modern()
    assert assumed.assumed
    assert all(assumed.supports(name) for name in features.FEATURES)


@requires_openssl
def test_the_probe_of_the_openssl_under_test(tmp_path: Path) -> None:
    """The binary under test has the features measured on its release (versions.md, section 0)."""
    found = runner.find_openssl()
    have = {name for name in features.FEATURES if found.supports(name)}
    if found.flavour == "LibreSSL":
        assert have == {"-addext", *(["ed25519"] if found.version >= (3, 7, 0) else [])}
    elif found.version >= (3, 4, 0):
        assert have == set(features.FEATURES)
    elif found.version >= (3, 0, 0):
        assert have == set(features.FEATURES) - {"pkcs12 PBMAC1"}
    else:
        assert found.version[:2] == (1, 1)
        assert have == {
            "-addext",
            "storeutl",
            "x509 -ext",
            "verify -verify_hostname",
            "private-keyout",
            "subj-ev-names",
            "verify -no-CApath",
            "ed25519",
            "ed448",
        }
    del tmp_path


@requires_openssl
def test_the_probe_ignores_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An openssl that exits 0 on an invalid command, and 1 on -help, is still read right."""
    fake = fake_openssl(
        tmp_path,
        'if [ "$1" = version ]; then echo "LibreSSL 3.3.6"; exit 0; fi\n'
        'if [ "$1" = storeutl ]; then\n'
        "  echo \"openssl:Error: 'storeutl' is an invalid command.\" >&2; exit 0\n"
        "fi\n"
        f'"{OPENSSL}" "$@"; exit 1\n',
    )
    monkeypatch.setenv("FLOW_SSL_OPENSSL", str(fake))
    found = runner.find_openssl()
    assert found.text == "LibreSSL 3.3.6"
    assert not found.supports("storeutl")
    assert found.supports("-addext")
