"""
--shell powershell: values reach openssl intact in every PowerShell, or are refused by field.

The vectors are the hard cases (quotes of five kinds, ", trailing backslashes, --%);
tests/psmodel.py models PowerShell's tokenizer and native argument passing (5.1, 7 Legacy,
7.3+ Standard).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from flow_ssl.core.errors import InvalidInputError
from flow_ssl.openssl.commands.base import (
    WORK,
    Arg,
    Command,
    PowerShellRefusalError,
    powershell_here_string_problem,
    powershell_problem,
    powershell_quote,
)
from flow_ssl.openssl.script.render import render_script
from flow_ssl.openssl.script.steps import Note, Step, WriteFile
from tests.psmodel import received, scan_single_quoted

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.helpers import Run


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ("O'Brien", "'O''Brien'"),  # V1
        ("x\u2019; calc.exe; #", "'x\u2019\u2019; calc.exe; #'"),  # V2: the injection
        ("\u2018", "'\u2018\u2018'"),  # V3
        ("\u2019", "'\u2019\u2019'"),  # V4
        ("\u201a", "'\u201a\u201a'"),  # V5
        ("\u201b", "'\u201b\u201b'"),  # V6
        ("'\u2019", "'''\u2019\u2019'"),  # V7
        ("C:\\certs\\", "C:\\certs\\"),  # V11: bare is safe
        ("C:\\Program Files\\OpenSSL\\ca.pem", "'C:\\Program Files\\OpenSSL\\ca.pem'"),  # V13
        ("a b", "'a b'"),  # V14
        ("$x", "'$x'"),  # V15
        ("a`nb", "'a`nb'"),  # V16
        ("@x", "'@x'"),  # V17
        ("-x", "-x"),  # V18
        ("-a.b", "'-a.b'"),  # V19: bare, PowerShell would split it
        ("100%", "'100%'"),  # V22
        ("\u201cx\u201d", "'\u201cx\u201d'"),  # V23
        ("Z\u00fcrich", "'Z\u00fcrich'"),  # V24 (Ñ is refused: see below)
        ("-name:value", "'-name:value'"),
        ("rsa:2048", "rsa:2048"),
        ("/CN=x", "'/CN=x'"),
        ("0x8A", "'0x8A'"),
        ("365", "365"),
    ],
)
def test_powershell_renders_each_vector_and_it_arrives_intact(value: str, rendered: str) -> None:
    """Each accepted vector renders as the spec says and reaches openssl unchanged in every mode."""
    assert powershell_quote(value) == rendered
    assert set(map(tuple, received(rendered).values())) == {("-a", value, "-b")}


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ('/O=Acme "Inc"/CN=x', "double quote"),  # V8
        ('/O=\\"Big Inc\\"/CN=x', "double quote"),  # V9
        ('a\\"b', "double quote"),  # V10
        ("C:\\My Certs\\", "ends with a backslash"),  # V12
        ("", "empty"),  # V20
        ("--%", "stop-parsing"),  # V21
        ("a\tb", "control character"),
        ("a\x7fb", "control character"),
        ("\u00d1o\u00f1o", "reads as a quote"),  # Ñ is C3 91: 0x91 is U+2018 in Windows-1252
        ("Wroc\u0142aw", "reads as a quote"),  # ł is C5 82: 0x82 is U+201A
    ],
)
def test_powershell_refuses_what_no_rendering_carries(value: str, why: str) -> None:
    """Values no single rendering passes intact in 5.1 and 7 are refused, saying why."""
    problem = powershell_problem(value)
    assert problem is not None
    assert why in problem
    with pytest.raises(PowerShellRefusalError):
        powershell_quote(value)


@given(
    st.text(alphabet=st.sampled_from("a\\\" \t'\u2019\u2018\u201a\u201b$`@-\u00a0%:/="), max_size=6)
)
@example("x\u2019; calc.exe; #")
def test_whatever_powershell_accepts_arrives_intact(value: str) -> None:
    """Any value the renderer accepts reaches openssl unchanged in 5.1, 7 Legacy and 7.3+."""
    try:
        rendered = powershell_quote(value)
    except PowerShellRefusalError:
        return
    assert set(map(tuple, received(rendered).values())) == {("-a", value, "-b")}


@given(st.text(alphabet=st.sampled_from("a'\u2019 \u00fc\u00d1\u0142\u0151\u00e9;"), max_size=6))
@example("x\u0142;calc;\u0142")
def test_a_script_read_as_windows_1252_cannot_break_out(value: str) -> None:
    """Windows PowerShell 5.1 reads a BOM-less script as Windows-1252: no string ends early."""
    try:
        rendered = powershell_quote(value, literal=True)
    except PowerShellRefusalError:
        return
    misread = rendered.encode("utf-8").decode("cp1252", errors="replace")
    assert scan_single_quoted(misread)[1] == ""


def test_a_refusal_names_the_field_the_value_came_from() -> None:
    """-subj carries several fields; the refusal names the one whose value is at fault."""
    subj = Arg(
        ("-subj", '/O=Acme "Inc"/CN=a.example.com'),
        sources=(("organization", 'Acme "Inc"'), ("common_name", "a.example.com")),
    )
    command = Command(args=(Arg(("openssl", "req")), subj))
    with pytest.raises(InvalidInputError) as caught:
        command.render("powershell")
    assert caught.value.field == "organization"
    assert "PowerShell cannot pass it" in str(caught.value)
    assert command.render("posix").endswith("'/O=Acme \"Inc\"/CN=a.example.com'")


def test_here_strings_refuse_a_line_that_would_end_them() -> None:
    """A line starting with any of the five quotes then @ would end @'...'@ early."""
    for quote in "'\u2018\u2019\u201a\u201b":
        assert powershell_here_string_problem(f"ok\n{quote}@ oops") is not None
    assert powershell_here_string_problem("ok\n '@ indented\n@'") is None
    with pytest.raises(InvalidInputError):
        render_script([WriteFile("a.cnf", "x = 1\n'@ oops\n", field="dir")], "powershell")


def test_a_powershell_script_stops_on_failure_and_removes_its_scratch_folder() -> None:
    """Several steps: each openssl is checked, and $work is removed in a finally block."""
    steps: list[Step] = [
        Note("two steps"),
        WriteFile(f"{WORK}/a.cnf", "x = 1\n"),
        Command(args=(Arg(("openssl", "req")), Arg(("-config", f"{WORK}/a.cnf")))),
    ]
    script = render_script(steps, "powershell")
    lines = script.splitlines()
    assert "$ErrorActionPreference = 'Stop'" in lines
    assert lines[-3:] == ["} finally {", "Remove-Item -LiteralPath $work -Recurse -Force", "}"]
    assert 'openssl req -config "$work/a.cnf"' in lines
    assert 'if ($LASTEXITCODE -ne 0) { throw "openssl exited with $LASTEXITCODE" }' in lines
    assert "@'\nx = 1\n'@ | Set-Content -Encoding ascii -LiteralPath \"$work/a.cnf\"" in script


def test_cli_renders_the_injection_as_a_literal(cli: Callable[..., Run]) -> None:
    """--org with a right single quote stays inside its string; answers go in a here-string."""
    value = "x\u2019; calc.exe; #"
    subj = cli("selfsigned", "--cn", "a.example.com", "--org", value, "--subj", "--print",
               "--shell", "powershell")  # fmt: skip
    assert subj.code == 0, subj.err
    assert "'/O=x\u2019\u2019; calc.exe; #/CN=a.example.com'" in subj.out
    prompts = cli("selfsigned", "--cn", "a.example.com", "--org", value, "--print",
                  "--shell", "powershell")  # fmt: skip
    assert prompts.code == 0, prompts.err
    assert f"@'\n.\n.\n.\n{value}\n.\na.example.com\n.\n'@ |\nopenssl req" in prompts.out


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--org", 'Acme "Inc"', "--subj"], "--org"),
        (["--ou", "'@ end", "--org", "Acme"], "--ou"),
        (["--keyout", "C:\\My Keys\\"], "--keyout"),
    ],
)
def test_cli_refuses_by_flag_what_powershell_cannot_carry(
    cli: Callable[..., Run], args: list[str], flag: str
) -> None:
    """Exit 2 with one line naming the flag and --shell powershell; posix renders it fine."""
    result = cli("selfsigned", "--cn", "a.example.com", *args, "--print", "--shell", "powershell")
    assert result.code == 2
    assert result.err.startswith(f"flow-ssl: {flag}: ")
    assert "--shell powershell" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert cli("selfsigned", "--cn", "a.example.com", *args, "--print").code == 0


def test_a_script_with_non_ascii_says_how_to_save_it(cli: Callable[..., Run]) -> None:
    """Zürich passes intact only from a file PowerShell 5.1 reads as UTF-8: the script says so."""
    args = ("selfsigned", "--cn", "a.example.com", "--subj", "--print", "--shell", "powershell")
    with_umlaut = cli(*args, "--locality", "Z\u00fcrich")
    assert with_umlaut.code == 0, with_umlaut.err
    assert "save this script as UTF-8 with a BOM" in with_umlaut.out.splitlines()[0]
    assert "UTF-8 with a BOM" not in cli(*args, "--locality", "Zurich").out


def test_a_powershell_print_is_the_commands_as_a_person_types_them() -> None:
    """--print --shell powershell: no stop preference, throw or try; the scratch folder removed."""
    steps: list[Step] = [
        Note("two steps"),
        WriteFile(f"{WORK}/a.cnf", "x = 1\n"),
        Command(args=(Arg(("openssl", "req")), Arg(("-config", f"{WORK}/a.cnf")))),
    ]
    lines = render_script(steps, "powershell", form="print").splitlines()
    assert not [line for line in lines if "ErrorActionPreference" in line or "throw" in line]
    assert "try {" not in lines
    assert lines[-2:] == [
        'openssl req -config "$work/a.cnf"',
        "Remove-Item -LiteralPath $work -Recurse -Force",
    ]
