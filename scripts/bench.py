"""
The performance table: what flow-ssl costs over the openssl (and imports) it cannot avoid.

Each row runs flow-ssl and its baseline alternately, in the same run, and takes
medians, so a busy machine slows both sides alike. Not a test: CI does not run
it. Usage: ``make bench`` or ``python scripts/bench.py [--runs 7] [--hosts 24 200]``.
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
SYSTEM_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
# The floor any typer + pydantic tool pays: a minimal app with one command whose options
# build and validate one pydantic model, then print it.
FLOOR_APP = """
import typer
from pydantic import BaseModel, Field
class Request(BaseModel):
    cn: str = Field(min_length=1, max_length=64)
    country: str = Field(default="", max_length=2)
    org: str = ""
    days: int = Field(default=365, ge=1, le=36500)
app = typer.Typer(pretty_exceptions_show_locals=False)
@app.command()
def selfsigned(
    cn: str = typer.Option(..., "--cn"),
    country: str = typer.Option("", "--country"),
    org: str = typer.Option("", "--org"),
    days: int = typer.Option(365, "--days"),
    print_only: bool = typer.Option(False, "--print"),
) -> None:
    print(Request(cn=cn, country=country, org=org, days=days).model_dump_json())
app()
"""
FLOOR = [sys.executable, "-c", FLOOR_APP, "--cn", "flow.mycompany.com", *SUBJECT, "--print"]
FLOOR_NAME = "minimal typer + pydantic app"


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


def alternately(timers: list[Callable[[], float]], runs: int) -> list[float]:
    """Median seconds of each timer, run in turn (one warm-up round first)."""
    for timer in timers:
        timer()
    times: list[list[float]] = [[] for _ in timers]
    for _ in range(runs):
        for spent, timer in zip(times, timers, strict=True):
            spent.append(timer())
    return [statistics.median(spent) for spent in times]


def side_by_side(ours: list[str], baseline: list[str], cwd: Path, runs: int) -> tuple[float, float]:
    """Median seconds of each command, run alternately."""
    mine, theirs = alternately([lambda: _run(ours, cwd), lambda: _run(baseline, cwd)], runs)
    return mine, theirs


def startup_rows(work: Path, runs: int) -> list[Row]:
    """--version and --print against the minimal typer + pydantic app (the floor)."""
    print_argv = [*FLOW_SSL, "selfsigned", "--cn", "flow.mycompany.com", *SUBJECT, "--print"]
    version, floor_a = side_by_side([*FLOW_SSL, "--version"], FLOOR, work, runs)
    printed, floor_b = side_by_side(print_argv, FLOOR, work, runs)
    return [
        Row("start-up: --version", version, floor_a, FLOOR_NAME, "ratio", None),
        Row("start-up: selfsigned --print", printed, floor_b, FLOOR_NAME, "ratio", 1.25),
    ]


def _raw_req(out: Path) -> list[str]:
    """The one openssl process a self-signed EC certificate needs."""
    return [
        "openssl", "req", "-x509", "-nodes", "-days", "365",
        "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-keyout", str(out / "raw.key"), "-out", str(out / "raw.crt"),
        "-subj", "/C=US/O=My Company/CN=flow.mycompany.com",
        "-addext", "subjectAltName=DNS:flow.mycompany.com",
        "-addext", "basicConstraints=critical,CA:FALSE",
        "-addext", "keyUsage=critical,digitalSignature",
        "-addext", "extendedKeyUsage=serverAuth",
    ]  # fmt: skip


def making_rows(work: Path, runs: int) -> list[Row]:
    """
    One EC certificate made, read back and proved: against the floor app, against the floor
    plus one raw openssl req (what any wrapper must pay), and answering the prompts vs -subj.
    """
    base = [*FLOW_SSL, "selfsigned", "--cn", "flow.mycompany.com", *SUBJECT, "--key", "ec:P-256"]
    subj = [*base, "--subj", "--force"]
    prompts = [*base, "--force"]
    made, prompted, floor, raw = alternately(
        [
            lambda: _run(subj, work),
            lambda: _run(prompts, work),
            lambda: _run(FLOOR, work),
            lambda: _run(_raw_req(work), work),
        ],
        runs,
    )
    return [
        Row("selfsigned --subj (ec:P-256)", made, floor, FLOOR_NAME, "ratio", 1.5),
        Row("selfsigned --subj (ec:P-256)", made, floor + raw, "floor + openssl req", "delta", 60),
        Row("prompts vs --subj (ec:P-256)", prompted, made, "--subj", "delta", 60),
    ]


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
    """
    A batch of N EC certificates (one job per core, as by default) against mkcert run N times,
    where mkcert is installed (its own CA in the scratch folder: never ``mkcert -install``).
    """
    mkcert = shutil.which("mkcert")
    if mkcert is None:
        return []
    env = {**os.environ, "CAROOT": str(work / "mkcert-ca")}
    names = [f"host{n}.mycompany.com" for n in range(hosts)]
    manifest = work / f"hosts-{hosts}.toml"
    manifest.write_text(
        '[defaults]\nkey = "ec:P-256"\nsubj = true\nout_dir = "batch"\n'
        + "".join(f'[[cert]]\ncn = "{name}"\n' for name in names)
    )
    jobs = os.cpu_count() or 1

    def one_batch() -> float:
        return _run([*FLOW_SSL, "batch", str(manifest), "--force", "--jobs", str(jobs)], work)

    def mkcert_calls() -> float:
        started = time.perf_counter()
        for name in names:
            subprocess.run(
                [mkcert, "-ecdsa", name], cwd=work, env=env, check=True, capture_output=True
            )
        return time.perf_counter() - started

    batch_time, mkcert_time = alternately([one_batch, mkcert_calls], max(3, runs // 2))
    target = 1.0 if hosts < 100 else 0.6
    return [
        Row(
            f"batch of {hosts} ({jobs} jobs) vs mkcert {hosts} times",
            batch_time,
            mkcert_time,
            "mkcert -ecdsa",
            "ratio",
            target,
        )
    ]


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
    parser.add_argument(
        "--hosts", type=int, nargs="*", default=[24, 200], help="certificates per batch row"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flow-ssl-bench-") as folder:
        work = Path(folder)
        rows = startup_rows(work, args.runs)
        rows += making_rows(work, args.runs)
        rows += inspect_row(work, args.runs)
        for hosts in args.hosts:
            rows += batch_rows(work, args.runs, hosts)
    print(f"Measured {time.strftime('%Y-%m-%d')} on {machine()}; medians of {args.runs} runs.\n")
    print(table(rows))
    missed = [r.what for r in rows if r.verdict() == "MISSED"]
    if missed:
        print(f"\nMissed: {'; '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
