"""The command builder: exact renders, quoting, -subj escaping, prompts."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from flow_ssl.ca import config
from flow_ssl.ca.authority import CA, signing_steps
from flow_ssl.ca.folder import Folder
from flow_ssl.core.models import (
    CertRequest,
    KeySpec,
    ParsedCertificate,
    PublicKeyInfo,
    SanEntry,
    Subject,
)
from flow_ssl.make.generate import Plan
from flow_ssl.openssl.commands import make as commands
from flow_ssl.openssl.commands.base import WORK, Command
from flow_ssl.openssl.commands.make import server_extension_values
from flow_ssl.openssl.commands.subject import escape_subj_value
from flow_ssl.openssl.features import OpenSSL, from_version_text
from flow_ssl.openssl.script.render import render_script
from flow_ssl.openssl.script.steps import Chmod, Note, WriteFile

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
    """EC keys: -pkeyopt for the curve, by name (LibreSSL 3.3.6), keyUsage without encipherment."""
    argv = _selfsigned(_request(key=KeySpec(name="ec:P-384"))).argv
    assert argv[6:12] == (
        "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384",
        "-pkeyopt", "ec_param_enc:named_curve",
    )  # fmt: skip
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
    assert extra == {"challenge_password": ".", "company_name": "."}


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


def _openssl(version: str, req_help: str = " -addext val\n -CA infile\n") -> OpenSSL:
    return from_version_text("/usr/bin/openssl", version, ask=lambda _: req_help)


OPENSSL_3 = _openssl("OpenSSL 3.0.19 27 Jan 2026")
OPENSSL_111 = _openssl("OpenSSL 1.1.1w  11 Sep 2023", " -addext val\n")
LIBRESSL = _openssl("LibreSSL 3.3.6", " -addext key=value\n")


def _plan(request: CertRequest, *, x509: bool = True, use_subj: bool = True) -> Plan:
    return Plan(request, Path("k.key"), Path("c.crt"), x509=x509, use_subj=use_subj)


def test_openssl_3_needs_no_config_of_flow_ssls() -> None:
    """On 3.x the plan is the one command; with --subj both forms are that one line."""
    steps = _plan(_request()).steps(OPENSSL_3)
    assert len(steps) == 1
    line = "MSYS_NO_PATHCONV=1 " + steps[0].render()  # type: ignore[union-attr]
    assert render_script(steps) == render_script(steps, form="print") == line


@pytest.mark.parametrize("openssl", [OPENSSL_111, LIBRESSL], ids=["1.1.1", "libressl"])
@pytest.mark.parametrize("x509", [True, False], ids=["selfsigned", "csr"])
def test_where_addext_adds_req_gets_flow_ssls_config(openssl: OpenSSL, x509: bool) -> None:
    """1.1.1 and LibreSSL: a config with the questions only, no challenge password, no v3_ca."""
    steps = _plan(_request(), x509=x509, use_subj=False).steps(openssl)
    note, config, command = steps[:3]
    assert isinstance(note, Note)
    assert isinstance(config, WriteFile)
    assert isinstance(command, Command)
    assert config.path == f"{WORK}/request.cnf"
    assert command.argv[command.argv.index("-config") + 1] == config.path
    assert "attributes" not in config.text
    assert "_default" not in config.text
    assert ("x509_extensions    = keyids" in config.text) is x509
    assert [p.field for p in command.prompts][-1] == "email"  # no challenge password asked
    keys_private = openssl is OPENSSL_111
    assert (steps[3:] == [Chmod("k.key", field="keyout")]) is not keys_private


def test_literal_is_the_vendors_command_on_every_version() -> None:
    """--literal gets no config of flow-ssl's, even on 1.1.1: the vendor's line as it is."""
    for openssl in (OPENSSL_3, OPENSSL_111):
        (command,) = _plan(_request(literal=True), use_subj=False).steps(openssl)
        assert isinstance(command, Command)
        assert command.render() == (
            "openssl req -x509 -nodes -days 365 -newkey rsa:2048 -keyout k.key -out c.crt"
        )


def test_a_script_answers_from_a_here_document_and_keeps_the_line_whole() -> None:
    """Prompts: a { } group fed by a here-document; the delimiter never matches an answer."""
    subject = Subject(common_name="a.example.com", organization="FLOW_SSL_EOF")
    command = _selfsigned(_request(subject=subject, literal=True))
    script = render_script([command])
    lines = script.splitlines()
    assert lines[:3] == ["{", command.render(), "} <<'FLOW_SSL_EOF_1'"]
    assert lines[3:11] == [
        ".",
        ".",
        ".",
        "FLOW_SSL_EOF",
        ".",
        "a.example.com",
        ".",
        "FLOW_SSL_EOF_1",
    ]
    assert "set -eu" not in lines


def test_a_script_of_several_steps_stops_at_the_first_failure() -> None:
    """set -eu first; a scratch folder made with mktemp and removed on exit."""
    steps = _plan(_request()).steps(OPENSSL_111)
    lines = render_script(steps, heading="heading").splitlines()
    assert lines[:4] == [
        "# heading",
        "set -eu",
        "work=$(mktemp -d)",
        "trap 'rm -rf \"$work\"' EXIT",
    ]
    assert "cat > \"$work\"/request.cnf <<'FLOW_SSL_EOF'" in lines


def _ca() -> CA:
    return CA(
        folder=Folder(Path("ca")),
        cert=ParsedCertificate(
            kind="certificate",
            source="ca/ca.crt",
            public_key=PublicKeyInfo(algorithm="ec", bits=384),
        ),
    )


def test_signing_falls_back_to_x509_req_with_the_same_extensions() -> None:
    """No req -CA: x509 -req with an extension file holding exactly the -addext extensions."""
    names = (SanEntry.parse("a.example.com"), SanEntry.parse("10.0.0.1"))
    signer = _ca().signer("0A")
    extra = server_extension_values(names, key_algorithm="rsa")
    (modern,) = signing_steps(
        OPENSSL_3,
        signer,
        csr="r.csr",
        out="c.crt",
        days=30,
        section="server",
        base=config.SERVER,
        extra=extra,
    )
    assert isinstance(modern, Command)
    assert modern.argv[:2] == ("openssl", "req")
    added = [modern.argv[i + 1] for i, t in enumerate(modern.argv) if t == "-addext"]
    extfile, fallback = signing_steps(
        OPENSSL_111,
        signer,
        csr="r.csr",
        out="c.crt",
        days=30,
        section="server",
        base=config.SERVER,
        extra=extra,
    )
    assert isinstance(extfile, WriteFile)
    assert isinstance(fallback, Command)
    assert fallback.render() == (
        "openssl x509 -req -in r.csr -CA ca/ca.crt -CAkey ca/ca.key "
        '-extfile "$work"/server.cnf -extensions server -set_serial 0x0A -days 30 '
        "-sha384 -out c.crt"
    )
    body = [line.replace(" ", "") for line in extfile.text.splitlines()]
    assert [line for line in body if not line.startswith(("#", "["))] == [
        "subjectKeyIdentifier=hash",
        "authorityKeyIdentifier=keyid:always",
        *added,
    ]
    (issuing,) = signing_steps(
        OPENSSL_111,
        signer,
        csr="r.csr",
        out="c.crt",
        days=30,
        section="issuing_ca",
        base=config.ISSUING_CA,
    )
    assert isinstance(issuing, Command)
    assert "-extfile ca/ca.cnf -extensions issuing_ca" in issuing.render()
