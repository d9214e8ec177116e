"""The command builder: exact renders, quoting, -subj escaping, prompts."""

from __future__ import annotations

import shlex

import pytest

from flow_ssl.core.models import CertRequest, KeySpec, Subject
from flow_ssl.openssl.commands import make as commands
from flow_ssl.openssl.commands.base import Command
from flow_ssl.openssl.commands.subject import escape_subj_value

VENDOR_LINE = (
    "openssl req -x509 -nodes -days 365 -newkey rsa:2048 "
    "-keyout /apache2/certs/myserverkey.pem -out /apache2/certs/myservercert.pem"
)


def _request(**kwargs: object) -> CertRequest:
    subject = kwargs.pop("subject", Subject(common_name="flow.mycompany.com"))
    return CertRequest.model_validate({"subject": subject, **kwargs})


def _selfsigned(request: CertRequest, *, use_subj: bool = False) -> Command:
    return commands.build_req(
        request,
        keyout="/apache2/certs/myserverkey.pem",
        out="/apache2/certs/myservercert.pem",
        x509=True,
        use_subj=use_subj,
    )


def test_literal_is_the_vendor_command() -> None:
    """--literal renders the vendor page's command exactly."""
    assert _selfsigned(_request(literal=True)).render() == VENDOR_LINE


def test_default_adds_server_extensions() -> None:
    """Without --literal the vendor line is followed by the four -addext options."""
    line = _selfsigned(_request(names=("flow-analytics.mycompany.com", "10.1.2.3"))).render()
    assert line == (
        VENDOR_LINE
        + " -addext subjectAltName=DNS:flow.mycompany.com,DNS:flow-analytics.mycompany.com,"
        "IP:10.1.2.3 -addext basicConstraints=critical,CA:FALSE"
        " -addext keyUsage=critical,digitalSignature,keyEncipherment"
        " -addext extendedKeyUsage=serverAuth"
    )


def test_ec_key_renders_pkeyopt_and_no_key_encipherment() -> None:
    """EC keys use -pkeyopt for the curve and keyUsage without keyEncipherment."""
    argv = _selfsigned(_request(key=KeySpec(name="ec:P-384"))).argv
    assert argv[6:10] == ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384")
    assert "keyUsage=critical,digitalSignature" in argv


def test_wildcard_is_quoted_for_posix_and_powershell() -> None:
    """A '*' in the SAN must not be globbed by the shell it is pasted into."""
    command = _selfsigned(_request(subject=Subject(common_name="*.mycompany.com")))
    assert "'subjectAltName=DNS:*.mycompany.com'" in command.render("posix")
    assert "'subjectAltName=DNS:*.mycompany.com'" in command.render("powershell")
    assert shlex.split(command.render("posix")) == list(command.argv)


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("R/D", "R\\/D"),
        ("a+b", "a\\+b"),
        ("a\\b", "a\\\\b"),
        ("a=b", "a=b"),
        ("Acme, Inc.", "Acme, Inc."),
        ('say "hi"', 'say "hi"'),
        ("\\/+", "\\\\\\/\\+"),
    ],
)
def test_escape_subj_value(value: str, escaped: str) -> None:
    """Backslash, slash and plus are escaped; everything else is literal in -subj."""
    assert escape_subj_value(value) == escaped


def test_subj_order_and_utf8() -> None:
    """-subj lists fields in prompt order and -utf8 is added for non-ASCII values."""
    subject = Subject(common_name="a.example.com", country="CH", locality="Zürich", email="x@y.ch")
    argv = _selfsigned(_request(subject=subject), use_subj=True).argv
    assert argv[argv.index("-subj") + 1] == "/C=CH/L=Zürich/CN=a.example.com/emailAddress=x@y.ch"
    assert "-utf8" in argv
    assert "-utf8" not in _selfsigned(_request()).argv


def test_prompts_answer_blank_with_dot() -> None:
    """Blank fields are answered '.', so openssl's defaults (AU, Some-State) never sneak in."""
    prompts = _selfsigned(_request()).prompts
    answers = {p.field: p.answer for p in prompts}
    assert answers["country"] == "."
    assert answers["common_name"] == "flow.mycompany.com"
    assert len(prompts) == 7


def test_csr_has_extra_prompts_and_only_san() -> None:
    """A CSR answers the challenge password and company name blank and carries only the SAN."""
    command = commands.build_req(_request(), keyout="k", out="r.csr", x509=False, use_subj=False)
    assert command.render() == (
        "openssl req -new -nodes -newkey rsa:2048 -keyout k -out r.csr"
        " -addext subjectAltName=DNS:flow.mycompany.com"
    )
    extra = {p.field: p.answer for p in command.prompts[7:]}
    assert extra == {"challenge_password": "", "company_name": ""}


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("Country Name (2 letter code)", "country"),
        ("Organization Name (eg, company)", "organization"),
        ("Organizational Unit Name (eg, section)", "organizational_unit"),
        ("Common Name (e.g. server FQDN or YOUR name)", "common_name"),
        ("Common Name (eg, fully qualified host name)", "common_name"),
        ("A challenge password", "challenge_password"),
    ],
)
def test_prompt_labels_match_stock_configs(label: str, field: str) -> None:
    """Prompts are recognised by the stock labels of OpenSSL and LibreSSL configs."""
    command = commands.build_req(_request(), keyout="k", out="r", x509=False, use_subj=False)
    assert [p.field for p in command.prompts if p.matches(label)] == [field]


def test_powershell_quotes_commas_and_single_quotes() -> None:
    """PowerShell splits on ',' and needs '' for a quote inside single quotes."""
    subject = Subject(common_name="a.example.com", organization="O'Brien, Ltd")
    command = _selfsigned(_request(subject=subject), use_subj=True)
    rendered = command.render("powershell")
    assert "'/O=O''Brien, Ltd/CN=a.example.com'" in rendered
    assert "'subjectAltName=DNS:a.example.com'" not in rendered
    assert "'basicConstraints=critical,CA:FALSE'" in rendered
