"""Go's crypto/tls client (tests/clients/tlsclient.go), built once per test session."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

# CI installs the Go and GnuTLS clients and sets this, so their tests run there.
REQUIRE_CLIENTS = os.environ.get("FLOW_SSL_REQUIRE_CLIENTS") == "1"


@pytest.fixture(scope="session", name="go_client")
def go_client_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/clients/tlsclient.go, built once (skipped where Go is missing, unless CI)."""
    go = shutil.which("go")
    if go is None:
        if REQUIRE_CLIENTS:
            pytest.fail("go is not installed but FLOW_SSL_REQUIRE_CLIENTS=1")
        pytest.skip("needs Go (CI installs it)")
    out = tmp_path_factory.mktemp("go") / "tlsclient"
    source = Path(__file__).parent / "clients" / "tlsclient.go"
    env = {**os.environ, "GOCACHE": str(out.parent / "cache"), "GOPATH": str(out.parent / "gopath")}
    subprocess.run([go, "build", "-o", str(out), str(source)], check=True, env=env,
                   capture_output=True)  # fmt: skip
    return out


def need_gnutls() -> None:
    """Skip where gnutls-cli is missing (fail in CI, which installs it)."""
    if shutil.which("gnutls-cli") is None:
        if REQUIRE_CLIENTS:
            pytest.fail("gnutls-cli is not installed but FLOW_SSL_REQUIRE_CLIENTS=1")
        pytest.skip("needs gnutls-cli (CI installs it)")
