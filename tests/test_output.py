"""What reaches a person: rich's colour and progress on a terminal only, every value escaped."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from tests.helpers import requires_openssl
from tests.pki import make_ca, make_leaf, write

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.helpers import Run

# Clear the screen and home the cursor, inside a certificate's Common Name.
HOSTILE = "Acme\x1b[2J\x1b[H"
# Select Graphic Rendition (colour, bold): the only escape sequences colour may add.
_SGR = re.compile(rb"\x1b\[[0-9;]*m")


def _on_a_terminal(args: list[str], cwd: Path, **env: str) -> tuple[int, bytes]:
    """Run flow-ssl with stdout and stderr on a pseudo-terminal; its exit code and output."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "flow_ssl", *args],
        cwd=cwd, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower,
        env={**os.environ, "TERM": "xterm-256color", **env},
    )  # fmt: skip
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal's other side is closed: flow-ssl has ended
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    return process.wait(timeout=60), seen


def _expiring_hostile_cert(folder: Path) -> Path:
    """A certificate 9 days from its end whose CN would clear the screen."""
    root = make_ca("Output Root CA")
    leaf = make_leaf(root, ["flow.mycompany.com"], cn=HOSTILE, days=10)
    return write(folder, "leaf.pem", leaf.pem())


@requires_openssl
def test_a_terminal_gets_colour_and_the_values_stay_escaped(tmp_path: Path) -> None:
    """inspect on a terminal: the expiry in bold red (rich), a hostile CN escaped, nothing more."""
    cert = _expiring_hostile_cert(tmp_path)
    code, seen = _on_a_terminal(["inspect", str(cert)], tmp_path)
    assert code == 0, seen
    assert b"\x1b[1;31m9 days left" in seen
    assert b"(!)" not in seen
    assert b"CN=Acme\\x1b[2J\\x1b[H" in seen
    assert _SGR.sub(b"", seen).count(b"\x1b") == 0


@requires_openssl
@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}])
def test_no_colour_where_it_is_not_wanted(tmp_path: Path, env: dict[str, str]) -> None:
    """NO_COLOR, or a terminal without colour: plain text, the expiry marked (!) instead."""
    cert = _expiring_hostile_cert(tmp_path)
    code, seen = _on_a_terminal(["inspect", str(cert)], tmp_path, **env)
    assert code == 0, seen
    assert b"\x1b" not in seen
    assert b"9 days left (!)" in seen


@requires_openssl
def test_a_pipe_gets_plain_text(cli: Callable[..., Run], tmp_path: Path) -> None:
    """Not a terminal: no colour, no escape sequence, the expiry marked (!)."""
    result = cli("inspect", str(_expiring_hostile_cert(tmp_path)))
    assert result.code == 0, result.err
    assert "\x1b" not in result.out
    assert "9 days left (!)" in result.out


@requires_openssl
def test_batch_progress_is_a_bar_on_a_terminal_and_lines_elsewhere(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """A terminal gets rich's bar (cleared after); a pipe one line per finished entry."""
    hosts = "".join(f'[[cert]]\ncn = "h{n}.example.com"\n' for n in range(3))
    (tmp_path / "hosts.toml").write_text('[defaults]\nkey = "ec:P-256"\nsubj = true\n' + hosts)
    code, seen = _on_a_terminal(["batch", "hosts.toml"], tmp_path)
    assert code == 0, seen
    assert b"3/3" in seen
    assert b"3 made, 0 skipped, 0 failed" in seen
    assert b"\xe2\x94\x81" in seen  # the bar's line drawing, as rich draws it
    piped = cli("batch", "hosts.toml", "--force")
    assert piped.code == 0, piped.err
    said = [line.split() for line in piped.err.strip().splitlines()]
    assert [words[:2] for words in said] == [
        ["[1/3]", "made"],
        ["[2/3]", "made"],
        ["[3/3]", "made"],
    ]
    assert sorted(words[2] for words in said) == [f"h{n}.example.com" for n in range(3)]
    assert "\x1b" not in piped.err + piped.out


@pytest.mark.parametrize(
    ("args", "absent"),
    [
        (["--version"], ["rich", "pydantic"]),
        (["selfsigned", "--cn", "a.example.com", "--print"], ["rich"]),
        (["selfsigned", "--cn", "a.example.com", "--print", "--json"], ["rich"]),
    ],
)
def test_quick_paths_load_no_more_than_they_need(args: list[str], absent: list[str]) -> None:
    """--version loads neither rich nor pydantic; --print never rich (start-up time)."""
    probe = (
        "import json, sys\n"
        "from flow_ssl.cli.app import main\n"
        f"code = main({args!r})\n"
        "loaded = sorted({name.split('.')[0] for name in sys.modules})\n"
        "print(json.dumps([code, loaded]), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    code, loaded = json.loads(done.stderr.strip().splitlines()[-1])
    assert code == 0, done.stderr
    assert not set(absent) & set(loaded)


def test_typer_never_shows_local_variables() -> None:
    """Typer's pretty tracebacks stay off and would never print locals (passphrases)."""
    from flow_ssl.cli.app import app

    assert app.pretty_exceptions_enable is False
    assert app.pretty_exceptions_show_locals is False
