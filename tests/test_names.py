"""Host names, wildcards and IPs: validation and RFC 6125 matching."""

from __future__ import annotations

import pytest

from flow_ssl.core import names


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("flow.mycompany.com", ("dns", "flow.mycompany.com")),
        ("Flow.MyCompany.com.", ("dns", "flow.mycompany.com")),
        ("*.mycompany.com", ("dns", "*.mycompany.com")),
        ("localhost", ("dns", "localhost")),
        ("10.0.0.1", ("ip", "10.0.0.1")),
        ("2001:DB8:0:0:0:0:0:1", ("ip", "2001:db8::1")),
        ("[::1]", ("ip", "::1")),
        ("xn--mnchen-3ya.de", ("dns", "xn--mnchen-3ya.de")),
    ],
)
def test_classify_accepts(text: str, expected: tuple[str, str]) -> None:
    """Valid names come back canonical: lower-case DNS, standard IP text."""
    assert names.classify(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("foo.*.mycompany.com", "left-most"),
        ("*.*.x.com", "left-most"),
        ("f*o.x.com", "left-most"),
        ("*.com", "too broad"),
        ("-bad.example.com", "hyphen"),
        ("bad_.example.com", "label"),
        ("a..b.com", "label"),
        ("münchen.de", "punycode"),
        ("999.1.1.1", "IP address"),
        ("", "empty"),
        ("a" * 64 + ".com", "label"),
    ],
)
def test_classify_rejects(text: str, reason: str) -> None:
    """Invalid names are refused with a reason that says what is wrong."""
    with pytest.raises(ValueError, match=reason):
        names.classify(text)


def test_common_name_length_limit() -> None:
    """A CN longer than openssl's 64-character limit is refused with a way out."""
    long_name = ("a" * 30 + ".") * 2 + "example.com"
    with pytest.raises(ValueError, match="SAN"):
        names.validate_common_name(long_name)
    assert names.validate_common_name("a" * 60 + ".com") == "a" * 60 + ".com"


@pytest.mark.parametrize(
    ("pattern", "host", "expected"),
    [
        ("flow.mycompany.com", "flow.mycompany.com", True),
        ("flow.mycompany.com", "FLOW.mycompany.com", True),
        ("flow.mycompany.com", "other.mycompany.com", False),
        ("*.mycompany.com", "flow.mycompany.com", True),
        ("*.mycompany.com", "mycompany.com", False),
        ("*.mycompany.com", "a.b.mycompany.com", False),
        ("*.mycompany.com", "flow.mycompany.org", False),
        ("10.0.0.1", "10.0.0.1", True),
        ("10.0.0.1", "10.0.0.2", False),
        ("::1", "0:0:0:0:0:0:0:1", True),
        # A SAN ending in a dot is no valid pattern to Go or OpenSSL: it covers nothing.
        ("flow.mycompany.com.", "flow.mycompany.com", False),
        ("*.mycompany.com.", "flow.mycompany.com", False),
        ("flow.mycompany.com", "flow.mycompany.com.", True),
        ("flow.mycompany.com.", "FLOW.mycompany.com.", True),
    ],
)
def test_matches(pattern: str, host: str, expected: bool) -> None:
    """A wildcard covers exactly one left-most label; IPs match only themselves."""
    kind = names.classify(pattern)[0]
    assert names.matches(pattern, kind, host) is expected


@pytest.mark.parametrize(
    ("pattern", "host", "expected"),
    [
        ("*.com", "example.com", False),
        ("*.com.", "example.com", False),
        ("*.co.uk", "example.co.uk", True),
        ("*.example.co.uk", "www.example.co.uk", True),
    ],
)
def test_a_wildcard_over_one_label_covers_nothing(pattern: str, host: str, expected: bool) -> None:
    """*.com (a certificate's, never flow-ssl's input) covers no host, as OpenSSL and Python."""
    assert names.matches(pattern, "dns", host) is expected


def test_ip_entry_does_not_match_dns_host() -> None:
    """An IP SAN never covers a DNS name, and the other way round."""
    assert not names.matches("10.0.0.1", "ip", "flow.mycompany.com")
    assert not names.matches("flow.mycompany.com", "dns", "10.0.0.1")


@pytest.mark.parametrize(
    ("cn", "stem"),
    [("*.mycompany.com", "wildcard.mycompany.com"), ("flow.mycompany.com", "flow.mycompany.com")],
)
def test_default_file_stem(cn: str, stem: str) -> None:
    """Default file names turn a leading '*.' into 'wildcard.'."""
    assert names.default_file_stem(cn) == stem
