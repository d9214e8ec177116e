"""Helpers shared by the tests: results of CLI runs and the independent oracle."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from cryptography import x509

if TYPE_CHECKING:
    from pathlib import Path

OPENSSL = shutil.which("openssl")
requires_openssl = pytest.mark.skipif(OPENSSL is None, reason="needs the openssl binary")

# The vendor page's example subject.
VENDOR_SUBJECT = [
    "--country", "US", "--state", "Colorado", "--locality", "Denver",
    "--org", "My Company", "--ou", "Software Engineering", "--email", "admin@mycompany.com",
]  # fmt: skip


@dataclass
class Run:
    """One CLI run: exit code and what it printed."""

    code: int
    out: str
    err: str


def load_cert(path: Path) -> x509.Certificate:
    """Parse a PEM certificate with cryptography (the independent oracle)."""
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_csr(path: Path) -> x509.CertificateSigningRequest:
    """Parse a PEM CSR with cryptography."""
    return x509.load_pem_x509_csr(path.read_bytes())


def listing(folder: Path) -> list[str]:
    """Every file below a folder, hidden ones included (to prove nothing was left)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def fake_openssl(tmp_path: Path, body: str) -> Path:
    """A shell script standing in for openssl, to simulate what this machine cannot do."""
    folder = tmp_path / "fakebin"
    folder.mkdir(exist_ok=True)
    script = folder / "openssl"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return script
