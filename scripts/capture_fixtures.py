"""
Regenerate tests/data/*.txt: ``openssl x509|req -noout -text`` captured with the local openssl.

Each capture records the openssl version on its first line (``# OpenSSL 3.0.19 ...``),
so fixtures from several versions can live side by side. Run: .venv/bin/python
scripts/capture_fixtures.py (needs openssl; writes only under tests/data).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
NAMEOPT = ["-nameopt", "RFC2253,-esc_msb"]


def _openssl(*args: str, cwd: Path) -> str:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return result.stdout


def main() -> None:
    """Make a few unusual certificates and CSRs and capture how openssl prints them."""
    version = _openssl("version", cwd=DATA).strip()
    tag = version.split()[1]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        cases = {
            "utf8-escapes": [
                "req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384",
                "-keyout", "k.pem", "-out", "c.pem", "-days", "10", "-utf8", "-subj",
                ("/C=DE/ST=東京都/L=München/O= Acme, Inc. /OU=R\\/D\\+x/CN=a\\\\b=c"
                "/emailAddress=x@example.com"),
                "-addext", ("subjectAltName=DNS:a.example.com,IP:10.0.0.1,IP:2001:db8::1,"
                "email:x@example.com,URI:https://example.com/"),
                "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
                "-addext", "extendedKeyUsage=serverAuth,clientAuth,1.2.3.4",
            ],
            "ed25519": [
                "req", "-x509", "-nodes", "-newkey", "ed25519", "-keyout", "k.pem",
                "-out", "c.pem", "-days", "1", "-subj", "/CN=ed.example.com",
            ],
        }  # fmt: skip
        for name, argv in cases.items():
            _openssl(*argv, cwd=work)
            text = _openssl("x509", "-noout", "-text", *NAMEOPT, "-in", "c.pem", cwd=work)
            (DATA / f"{name}-{tag}.txt").write_text(f"# {version}\n{text}")
            (DATA / f"{name}.pem").write_text((work / "c.pem").read_text())


if __name__ == "__main__":
    main()
