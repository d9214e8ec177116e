"""Validation of what the operator asks for: every rule has a clear message."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from flow_ssl.core.models import CertRequest, KeySpec, SanEntry, Subject


def test_country_is_stored_upper_case() -> None:
    """A two-letter country is accepted in any case and stored upper-case."""
    assert Subject(common_name="a.example.com", country="us").country == "US"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("country", "USA", "two-letter"),
        ("country", "U1", "two-letter"),
        ("country", "Ü1", "two-letter"),
        ("organization", "Acme\nInc", "control"),
        ("organization", "tab\there", "control"),
        ("organization", "   ", "blank"),
        ("organization", ".", "leave blank"),
        ("organization", "x" * 65, "at most 64"),
        ("locality", "x" * 129, "at most 128"),
        ("email", "not-an-address", "e-mail"),
        ("email", "admin@localhost", "e-mail"),
        ("email", "a@b@c.com", "e-mail"),
        ("email", "x" * 60 + "@b.com", "64"),
        ("common_name", "foo.*.example.com", "wildcard"),
    ],
)
def test_subject_rejects(field: str, value: str, reason: str) -> None:
    """Each invalid value is refused with a message naming the problem."""
    fields = {"common_name": "flow.mycompany.com", field: value}
    with pytest.raises(ValidationError, match=reason):
        Subject(**fields)


def test_non_ascii_values_are_kept() -> None:
    """Zürich and 東京 are valid subject values and mark the subject as non-ASCII."""
    subject = Subject(common_name="a.example.com", locality="Zürich", organization="東京")
    assert subject.locality == "Zürich"
    assert not subject.is_ascii()


def test_names_start_with_cn_without_duplicates() -> None:
    """The CN always leads the SAN list; repeated and differently-cased names collapse."""
    request = CertRequest(
        subject=Subject(common_name="flow.mycompany.com"),
        names=("FLOW.mycompany.com", "a.mycompany.com", "a.mycompany.com", "10.0.0.1"),
    )
    assert [n.openssl() for n in request.names] == [
        "DNS:flow.mycompany.com",
        "DNS:a.mycompany.com",
        "IP:10.0.0.1",
    ]


def test_days_must_be_positive() -> None:
    """Zero days is refused."""
    with pytest.raises(ValidationError):
        CertRequest(subject=Subject(common_name="a.example.com"), days=0)


def test_long_validity_warns() -> None:
    """Over 825 days is allowed but warns about Apple platforms."""
    request = CertRequest(subject=Subject(common_name="a.example.com"), days=826)
    assert any("Apple" in w.message and w.field == "days" for w in request.warnings())
    assert CertRequest(subject=Subject(common_name="a.example.com"), days=825).warnings() == []


@pytest.mark.parametrize("name", ["rsa:1024", "rsa:8192", "ec:P-521", "dsa:2048", "ed25519"])
def test_weak_or_unknown_keys_are_refused(name: str) -> None:
    """Only the five offered key types construct."""
    with pytest.raises(ValidationError):
        KeySpec.model_validate({"name": name})


def test_san_entry_kinds() -> None:
    """An IP becomes IP:, a name DNS:."""
    assert SanEntry.parse("::1").openssl() == "IP:::1"
    assert SanEntry.parse("*.x.example.com").openssl() == "DNS:*.x.example.com"


def test_every_bad_name_is_refused_on_its_own() -> None:
    """Each bad SAN is its own error, at its place in the list, so all are named in one run."""
    with pytest.raises(ValidationError) as refused:
        CertRequest(
            subject=Subject(common_name="flow.mycompany.com"),
            names=("bad name", "ok.mycompany.com", "*.*.mycompany.com"),
        )
    errors = refused.value.errors()
    assert [error["loc"] for error in errors] == [("names", 0), ("names", 2)]
    assert "'bad name'" in errors[0]["msg"]
    assert "wildcard" in errors[1]["msg"]


@pytest.mark.parametrize(
    ("extra", "status"), [(0, "pass"), (1, "pass"), (-1, "pass"), (2, "fail"), (86400, "fail")]
)
def test_validity_allows_the_second_openssl_s_clock_ticks_and_no_more(
    extra: int, status: str
) -> None:
    """openssl reads the clock twice: a second off is the days asked; two seconds is not."""
    from datetime import datetime, timedelta, timezone

    from flow_ssl.core.models import ParsedCertificate, PublicKeyInfo
    from flow_ssl.core.request_checks import validity_matches

    start = datetime(2026, 12, 8, tzinfo=timezone.utc)
    cert = ParsedCertificate(
        kind="certificate",
        source="x.crt",
        public_key=PublicKeyInfo(algorithm="ec"),
        not_before=start,
        not_after=start + timedelta(days=30, seconds=extra),
    )
    assert validity_matches(30, cert).status == status
