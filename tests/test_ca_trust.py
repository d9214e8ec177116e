"""ca trust's lines, run where they can be: keytool against copies of a JDK truststore."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives import hashes

from tests.golang import REQUIRE_CLIENTS
from tests.helpers import load_cert, requires_openssl
from tests.tls import s_server

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.helpers import Run

pytestmark = requires_openssl
SUDO = "sudo --preserve-env=STOREPASS "


def _java_home() -> Path:
    """The installed JDK's home (skipped where there is none, unless CI)."""
    from pathlib import Path

    java, keytool = shutil.which("java"), shutil.which("keytool")
    if java is None or keytool is None:
        if REQUIRE_CLIENTS:
            pytest.fail("java and keytool are not installed but FLOW_SSL_REQUIRE_CLIENTS=1")
        pytest.skip("needs java and keytool")
    shown = subprocess.run(
        [java, "-XshowSettings:properties", "-version"], capture_output=True, text=True, check=True
    )
    found = re.search(r"^\s*java\.home = (.+)$", shown.stderr, re.MULTILINE)
    assert found is not None
    return Path(found.group(1))


@pytest.fixture
def trusted(cli: Callable[..., Run], tmp_path: Path) -> dict[str, list[str]]:
    """A root CA, its file copied as ca trust says, and ca trust's commands by system."""
    assert cli("ca", "init", "--dir", "ca", "--name", "Acme Root CA", "--key", "ec:P-256").code == 0
    data = json.loads(cli("ca", "trust", "--dir", "ca", "--json").out)
    shutil.copy(tmp_path / "ca" / "ca.crt", tmp_path / data["copy_as"])
    return {system["system"].split(" (")[0]: system["commands"] for system in data["systems"]}


def _listed(keytool_home: Path, store: Path) -> str:
    """The SHA-256 fingerprint the store holds under the root's alias."""
    done = subprocess.run(
        [
            "keytool",
            f"-J-Djava.home={keytool_home}",
            "-list",
            "-keystore",
            str(store),
            "-storepass",
            "changeit",
            "-alias",
            "acme-root-ca",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"\(SHA-256\): ([0-9A-F:]+)", done.stdout)
    assert found is not None, done.stdout
    return found.group(1)


def _run(lines: list[str], cwd: Path, env: dict[str, str]) -> str:
    script = "\n".join(line.removeprefix(SUDO) for line in lines)
    done = subprocess.run(
        ["sh", "-ec", script],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout + done.stderr


@pytest.mark.slow
def test_the_java_lines_add_the_root_to_a_jdk_truststore(
    trusted: dict[str, list[str]], tmp_path: Path
) -> None:
    """Both keytool lines (Java 9+ -cacerts, Java 8 -keystore) add the root, never prompting."""
    home = _java_home()
    real = (home / "lib" / "security" / "cacerts").resolve()
    before = real.read_bytes()
    shown = load_cert(tmp_path / "ca" / "ca.crt").fingerprint(hashes.SHA256()).hex(":").upper()
    # Java 9+: the same JDK, its cacerts a copy (keytool follows java.home to it).
    copy = tmp_path / "jdk"
    subprocess.run(["cp", "-as", f"{home}/.", str(copy)], check=True)
    (copy / "lib" / "security" / "cacerts").unlink()
    shutil.copy(real, copy / "lib" / "security" / "cacerts")
    modern = [
        line.replace("keytool ", f"keytool -J-Djava.home={copy} ", 1)
        for line in trusted["Java 9 and later"]
    ]
    said = _run(modern, tmp_path, {})
    assert "Certificate was added to keystore" in said
    assert _listed(copy, copy / "lib" / "security" / "cacerts") == shown
    # Java 8: the store file under $JAVA_HOME/jre.
    old = tmp_path / "jdk8" / "jre" / "lib" / "security"
    old.mkdir(parents=True)
    shutil.copy(real, old / "cacerts")
    said = _run(trusted["Java 8"], tmp_path, {"JAVA_HOME": str(tmp_path / "jdk8")})
    assert "Certificate was added to keystore" in said
    assert _listed(copy, old / "cacerts") == shown
    assert real.read_bytes() == before


def test_the_container_line_makes_clients_trust_the_root(
    cli: Callable[..., Run], trusted: dict[str, list[str]], tmp_path: Path
) -> None:
    """SSL_CERT_FILE as the container line sets it: Python's default context trusts the root."""
    (line,) = trusted["Containers"]
    assert "-e SSL_CERT_FILE=/etc/ssl/certs/acme-root-ca.crt" in line
    assert '-v "$PWD"/acme-root-ca.crt:/etc/ssl/certs/acme-root-ca.crt:ro' in line
    made = cli("ca", "issue", "--dir", "ca", "--cn", "flow.mycompany.com", "--subj")
    assert made.code == 0, made.err
    client = (
        "import socket, ssl, sys\n"
        "context = ssl.create_default_context()\n"
        "with socket.create_connection(('127.0.0.1', int(sys.argv[1]))) as raw:\n"
        "    context.wrap_socket(raw, server_hostname='flow.mycompany.com').close()\n"
    )
    with s_server(tmp_path / "flow.mycompany.com.crt", tmp_path / "flow.mycompany.com.key") as port:
        env = {**os.environ, "SSL_CERT_FILE": str(tmp_path / "acme-root-ca.crt")}
        done = subprocess.run(
            [sys.executable, "-c", client, str(port)], env=env, capture_output=True, check=False
        )
        assert done.returncode == 0, done.stderr
        env.pop("SSL_CERT_FILE")
        refused = subprocess.run(
            [sys.executable, "-c", client, str(port)], env=env, capture_output=True, check=False
        )
        assert b"CERTIFICATE_VERIFY_FAILED" in refused.stderr
