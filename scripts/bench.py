"""
The performance table: what flow-ssl costs over the openssl (and imports) it cannot avoid.

Each row runs flow-ssl and its baseline alternately, in the same run, and takes
medians, so a busy machine slows both sides alike. Not a test: CI does not run
it. Usage: ``make bench`` or ``python scripts/bench.py [--runs 7] [--hosts 24]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

FLOW_SSL = [sys.executable, "-m", "flow_ssl"]
SUBJECT = ["--country", "US", "--org", "My Company"]
USED_FLOOR = "import typer.main\nfrom pydantic import BaseModel\nclass A(BaseModel):\n    x: int"
SYSTEM_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")


@dataclass
class Row:
    """One line of the table."""

    what: str
    ours: float
    baseline: float
    baseline_name: str
    kind: str  # "ratio" (ours / baseline) or "delta" (ours - baseline, in ms)
    target: float | None

    def value(self) -> float:
        """The ratio, or the difference in milliseconds."""
        if self.kind == "ratio":
            return self.ours / self.baseline
        return (self.ours - self.baseline) * 1000

    def shown(self) -> str:
        """The value with its unit."""
        return f"{self.value():.2f}x" if self.kind == "ratio" else f"{self.value():+.0f} ms"

    def verdict(self) -> str:
        """Whether the target is met."""
        if self.target is None:
            return ""
        return "ok" if self.value() <= self.target else "MISSED"

    def target_text(self) -> str:
        """The target with its unit."""
        if self.target is None:
            return "-"
        return f"<= {self.target:g}x" if self.kind == "ratio" else f"<= {self.target:g} ms"


def _run(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def side_by_side(
    ours: list[str], baseline: list[str], cwd: Path, runs: int, *, warmup: bool = True
) -> tuple[float, float]:
    """Median seconds of each command, run alternately."""
    if warmup:
        _run(ours, cwd)
        _run(baseline, cwd)
    mine, theirs = [], []
    for _ in range(runs):
        mine.append(_run(ours, cwd))
        theirs.append(_run(baseline, cwd))
    return statistics.median(mine), statistics.median(theirs)


def _median(fn: Callable[[], float], runs: int) -> float:
    return statistics.median(fn() for _ in range(runs))


def startup_rows(work: Path, runs: int) -> list[Row]:
    """--version and --print against importing typer and pydantic (the floor)."""
    floor = [sys.executable, "-c", "import typer, pydantic"]
    # pydantic imports lazily: BaseModel and one model class are what any user of it pays.
    used = [sys.executable, "-c", USED_FLOOR]
    print_argv = [*FLOW_SSL, "selfsigned", "--cn", "flow.mycompany.com", *SUBJECT, "--print"]
    version, floor_a = side_by_side([*FLOW_SSL, "--version"], floor, work, runs)
    printed, floor_b = side_by_side(print_argv, floor, work, runs)
    printed_again, floor_c = side_by_side(print_argv, used, work, runs)
    bare = "import typer, pydantic"
    return [
        Row("start-up: --version", version, floor_a, bare, "ratio", None),
        Row("start-up: selfsigned --print", printed, floor_b, bare, "ratio", 1.35),
        Row(
            "start-up: selfsigned --print",
            printed_again,
            floor_c,
            "typer.main + 1 model",
            "ratio",
            None,
        ),
    ]


def _raw_req(key: str, out: Path) -> list[str]:
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if key == "ec:P-256" else [
        "-newkey", key]  # fmt: skip
    return ["openssl", "req", "-x509", "-nodes", "-days", "365", *newkey,
            "-keyout", str(out / "raw.key"), "-out", str(out / "raw.crt"),
            "-subj", "/C=US/O=My Company/CN=flow.mycompany.com",
            "-addext", "subjectAltName=DNS:flow.mycompany.com",
            "-addext", "basicConstraints=critical,CA:FALSE",
            "-addext", "keyUsage=critical,digitalSignature",
            "-addext", "extendedKeyUsage=serverAuth"]  # fmt: skip


def prompt_rows(work: Path, runs: int) -> list[Row]:
    """Answering the prompts against -subj against the bare openssl command."""
    rows = []
    for key in ("ec:P-256", "rsa:2048"):
        # RSA key generation varies by hundreds of ms (a random prime search): more runs.
        key_runs = runs * 3 if key.startswith("rsa") else runs
        base = [
            *FLOW_SSL,
            "selfsigned",
            "--cn",
            "flow.mycompany.com",
            *SUBJECT,
            "--key",
            key,
            "--force",
        ]
        prompts, subj = side_by_side(base, [*base, "--subj"], work, key_runs)
        subj_again, raw = side_by_side([*base, "--subj"], _raw_req(key, work), work, key_runs)
        rows += [
            Row(f"prompts vs --subj ({key})", prompts, subj, "--subj", "delta", 60),
            Row(f"--subj vs raw openssl ({key})", subj_again, raw, "openssl req", "ratio", None),
        ]
    return rows


# The openssl builds the bundle rows run on: this machine's, and LibreSSL 3.3.6 (macOS's)
# where the shared builds are (../shared/openssl/bin, as make test-matrix).
LIBRESSL = (
    Path(__file__).resolve().parent.parent.parent / "shared/openssl/bin/openssl-libressl-3.3.6"
)


def _has_storeutl(binary: str) -> bool:
    """Whether the build has storeutl (LibreSSL exits 0 on an unknown command: read the text)."""
    done = subprocess.run(
        [binary, "storeutl", "-help"], capture_output=True, text=True, check=False
    )
    return "invalid command" not in (done.stdout + done.stderr).lower()


def _openssl_prints(binary: str, path: Path) -> list[str]:
    """openssl's own printing of every certificate of a file: storeutl, else crl2pkcs7 | pkcs7."""
    if _has_storeutl(binary):
        return [binary, "storeutl", "-noout", "-text", "-certs", str(path)]
    line = (
        f"{shlex.quote(binary)} crl2pkcs7 -nocrl -certfile {shlex.quote(str(path))} | "
        f"{shlex.quote(binary)} pkcs7 -print_certs -text -noout"
    )
    return ["sh", "-c", line]


def inspect_row(work: Path, runs: int) -> list[Row]:
    """
    A large bundle: flow-ssl's cost per certificate against openssl's own printing of it.

    The bundle is the system's roots four times (468 certificates with Mozilla's 117 roots).
    The cost per certificate is (time for the bundle - time for its first certificate) /
    (count - 1), for flow-ssl and for openssl alike, so start-up costs cancel out; shown
    per 100 certificates. Run on this machine's openssl and on LibreSSL 3.3.6 if present.
    """
    source = next((Path(p) for p in SYSTEM_BUNDLES if Path(p).is_file()), None)
    if source is None:
        return []
    text = source.read_text(errors="replace")
    bundle = work / "bundle.pem"
    bundle.write_text(text * 4)
    first = text[: text.index("-----END CERTIFICATE-----") + 26]
    single = work / "single.pem"
    single.write_text(first[first.index("-----BEGIN CERTIFICATE-----") :])
    count = bundle.read_text().count("-----BEGIN CERTIFICATE-----")
    binaries = [shutil.which("openssl") or "openssl"]
    if LIBRESSL.is_file():
        binaries.append(str(LIBRESSL))
    rows = []
    for binary in binaries:
        flow = ["env", f"FLOW_SSL_OPENSSL={binary}", *FLOW_SSL, "inspect", "--json"]
        ours_all, theirs_all = side_by_side(
            [*flow, str(bundle)], _openssl_prints(binary, bundle), work, runs
        )
        ours_one, theirs_one = side_by_side(
            [*flow, str(single)], _openssl_prints(binary, single), work, runs
        )
        per_100 = 100 / (count - 1)
        version = subprocess.run(
            [binary, "version"], capture_output=True, text=True, check=True
        ).stdout.split()[:2]
        rows.append(
            Row(
                f"inspect --json, per 100 certificates ({count}-cert bundle, {' '.join(version)})",
                (ours_all - ours_one) * per_100,
                (theirs_all - theirs_one) * per_100,
                "openssl's own -text of it",
                "ratio",
                4,
            )
        )
    return rows


def batch_rows(work: Path, runs: int, hosts: int) -> list[Row]:
    """One batch of N against N separate flow-ssl calls (and mkcert N times, if installed)."""
    names = [f"host{n}.mycompany.com" for n in range(hosts)]
    manifest = work / "hosts.toml"
    manifest.write_text(
        '[defaults]\nkey = "ec:P-256"\nsubj = true\nout_dir = "batch"\n'
        + "".join(f'[[cert]]\ncn = "{name}"\n' for name in names)
    )

    def one_batch() -> float:
        return _run([*FLOW_SSL, "batch", str(manifest), "--force"], work)

    def separate_calls() -> float:
        started = time.perf_counter()
        for name in names:
            subprocess.run(
                [*FLOW_SSL, "selfsigned", "--cn", name, "--key", "ec:P-256", "--subj", "--force"],
                cwd=work, check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
        return time.perf_counter() - started

    one_batch()
    batch_runs, call_runs = [], []
    for _ in range(max(3, runs // 2)):
        batch_runs.append(one_batch())
        call_runs.append(separate_calls())
    batch_time = statistics.median(batch_runs)
    rows = [
        Row(f"batch of {hosts} vs {hosts} calls", batch_time, statistics.median(call_runs),
            f"{hosts} x flow-ssl selfsigned --subj", "ratio", 0.5),
    ]  # fmt: skip
    mkcert = shutil.which("mkcert")
    if mkcert:
        # Its own CA in the scratch folder; never `mkcert -install` (it changes trust stores).
        env = {**os.environ, "CAROOT": str(work / "mkcert-ca")}

        def mkcert_calls() -> float:
            started = time.perf_counter()
            for name in names:
                subprocess.run([mkcert, "-ecdsa", name], cwd=work, env=env, check=True,
                               capture_output=True)  # fmt: skip
            return time.perf_counter() - started

        rows.append(Row(f"batch of {hosts} vs mkcert {hosts} times", batch_time,
                        _median(mkcert_calls, 3), "mkcert -ecdsa", "ratio", None))  # fmt: skip
    return rows


def machine() -> str:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        model = [line for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        if model:
            cpu = model[0].split(":", 1)[1].strip()
    openssl = subprocess.run(["openssl", "version"], capture_output=True, text=True, check=True)
    return (
        f"{cpu}, {os.cpu_count()} cores; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; {openssl.stdout.strip()}"
    )


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| measurement | flow-ssl | baseline | | result | target | |",
        "|---|---:|---:|---|---:|---:|---|",
    ]
    lines += [
        f"| {r.what} | {r.ours * 1000:.0f} ms | {r.baseline * 1000:.0f} ms | {r.baseline_name} "
        f"| {r.shown()} | {r.target_text()} | {r.verdict()} |"
        for r in rows
    ]
    return "\n".join(lines)


def main() -> int:
    """Measure and print the table (a missed target is named under it, not an error)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="runs per median (default 7)")
    parser.add_argument("--hosts", type=int, default=24, help="certificates in the batch row")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flow-ssl-bench-") as folder:
        work = Path(folder)
        rows = startup_rows(work, args.runs)
        rows += prompt_rows(work, args.runs)
        rows += inspect_row(work, args.runs)
        rows += batch_rows(work, args.runs, args.hosts)
    print(f"Measured {time.strftime('%Y-%m-%d')} on {machine()}; medians of {args.runs} runs.\n")
    print(table(rows))
    missed = [r.what for r in rows if r.verdict() == "MISSED"]
    if missed:
        print(f"\nMissed: {'; '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
