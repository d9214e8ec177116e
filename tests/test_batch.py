"""batch: a manifest validated first, made in parallel, idempotent; checked with cryptography."""

from __future__ import annotations

import ipaddress
import json
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.helpers import growth, listing, load_cert, load_csr, requires_openssl, run_sh

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.helpers import Run

pytestmark = requires_openssl


def _hosts(count: int) -> list[tuple[str, list[str]]]:
    """One name, several names, wildcards and IPs, like a real fleet."""
    hosts: list[tuple[str, list[str]]] = []
    for number in range(count):
        shape = number % 4
        if shape == 0:
            hosts.append((f"flow{number}.mycompany.com", []))
        elif shape == 1:
            hosts.append((f"flow{number}.mycompany.com", [f"analytics{number}.mycompany.com"]))
        elif shape == 2:
            hosts.append((f"*.site{number}.mycompany.com", [f"site{number}.mycompany.com"]))
        else:
            hosts.append((f"10.0.{number}.1", [f"host{number}.mycompany.com"]))
    return hosts


def _manifest(hosts: list[tuple[str, list[str]]], extra: str = "") -> str:
    text = '[defaults]\ncountry = "US"\norg = "My Company"\nkey = "ec:P-256"\nout_dir = "certs"\n'
    text += extra
    for cn, sans in hosts:
        text += f'\n[[cert]]\ncn = "{cn}"\n'
        if sans:
            text += "san = [" + ", ".join(f'"{s}"' for s in sans) + "]\n"
    return text


def _names(cert: x509.Certificate) -> list[str]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return san.get_values_for_type(x509.DNSName) + [
        str(ip) for ip in san.get_values_for_type(x509.IPAddress)
    ]


def _stem(cn: str) -> str:
    return cn.replace("*.", "wildcard.", 1)


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_24_hosts_then_a_rerun_changes_nothing(cli: Callable[..., Run], tmp_path: Path) -> None:
    """24 hosts of every shape are made; a re-run skips them all, touching nothing."""
    hosts = _hosts(24)
    (tmp_path / "hosts.toml").write_text(_manifest(hosts))
    result = cli("batch", "hosts.toml", "--jobs", "2")
    assert result.code == 0, result.err
    assert "24 made, 0 skipped, 0 failed" in result.out
    for cn, sans in hosts:
        cert = load_cert(tmp_path / "certs" / f"{_stem(cn)}.crt")
        canonical = [str(ipaddress.ip_address(cn))] if cn[0].isdigit() else [cn]
        dns_first = sorted([*canonical, *sans], key=lambda n: n[0].isdigit())
        assert _names(cert) == dns_first
        key_file = tmp_path / "certs" / f"{_stem(cn)}.key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        key = serialization.load_pem_private_key(key_file.read_bytes(), None)
        assert key.public_key() == cert.public_key()
        assert cert.subject.rfc4514_string() == f"CN={cn},O=My Company,C=US"
    before = _snapshot(tmp_path / "certs")
    again = cli("batch", "hosts.toml")
    assert again.code == 0
    assert "0 made, 24 skipped, 0 failed" in again.out
    assert _snapshot(tmp_path / "certs") == before


def test_modes_csr_and_ca_in_one_manifest(cli: Callable[..., Run], tmp_path: Path) -> None:
    """One manifest mixes CA-issued certificates (distinct serials) and a CSR."""
    assert cli("ca", "init", "--dir", "ca", "--name", "Batch Root").code == 0
    (tmp_path / "hosts.toml").write_text(
        '[defaults]\nkey = "ec:P-256"\nmode = "ca"\nca_dir = "ca"\nout_dir = "out"\n'
        '[[cert]]\ncn = "a.mycompany.com"\n'
        '[[cert]]\ncn = "b.mycompany.com"\n'
        '[[cert]]\ncn = "c.mycompany.com"\nmode = "csr"\n'
    )
    result = cli("batch", "hosts.toml", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert [e["status"] for e in data["entries"]] == ["made"] * 3
    root = load_cert(tmp_path / "ca" / "ca.crt")
    serials = set()
    for name in ("a", "b"):
        cert = load_cert(tmp_path / "out" / f"{name}.mycompany.com.crt")
        cert.verify_directly_issued_by(root)
        serials.add(cert.serial_number)
        assert (tmp_path / "out" / f"{name}.mycompany.com.fullchain.pem").is_file()
    assert len(serials) == 2
    csr = load_csr(tmp_path / "out" / "c.mycompany.com.csr")
    assert csr.is_signature_valid
    assert not (tmp_path / "out" / "c.mycompany.com.crt").exists()


A = '[[cert]]\ncn = "a.example.com"\n'
INVALID = [
    (
        A + '[[cert]]\ncn = "b.example.com"\nsan = ["bad name"]\n',
        "[[cert]] #2 (b.example.com): san: ",
    ),
    (A + 'colour = "blue"\n', "#1 (a.example.com): unknown field 'colour'"),
    (A + 'days = "ten"\n', "#1 (a.example.com): days: must be a whole number, not 'ten'"),
    (A + "ca_pass = 5\n", "#1 (a.example.com): ca_pass: must be a string"),
    (A + 'subj = "yes"\n', "subj: must be true or false, not 'yes'"),
    (A + 'mode = "self"\n', "mode: 'self': choose 'selfsigned', 'csr' or 'ca'"),
    (A + 'org = "A"\norganization = "B"\n', "org and organization are one field"),
    ('[defaults]\ncountry = "USA"\n' + A + A.replace("a.", "b."), "[defaults]: country: 'USA'"),
    (A + 'key = "dsa:1024"\n', "key 'dsa:1024' is not offered"),
    (A + 'mode = "ca"\n', "mode 'ca' needs ca_dir"),
    (A + 'mode = "ca"\nca_dir = "none"\n', "ca_dir none: there is no CA folder"),
    ('[[cert]]\nsan = ["a.example.com"]\n', "#1: cn is required"),
    ('[defaults]\ncn = "a.example.com"\n' + A, "[defaults]: cn belongs"),
    (A + A, "#1 and #2 both write"),
    ("[[cert]]\ncn = a.example.com\n", "is not valid TOML"),
    (A + "san = " + "[" * 5000 + "]" * 5000 + "\n", "hosts.toml is nested too deeply"),
    (A + "san = " + "[" * 300 + "]" * 300 + "\n", "hosts.toml is nested too deeply"),
    (A + "san." + "a." * 4000 + "b = 1\n", "hosts.toml is nested too deeply"),
    ("[" + "a." * 4000 + "b]\n" + A, "hosts.toml is nested too deeply"),
    (A + "days = " + "9" * 5000 + "\n", "hosts.toml holds a number thousands of digits long"),
    ("[defaults]\n", "no [[cert]] entries"),
    ('[hosts]\ncn = "a"\n' + A, "unknown table 'hosts'"),
    ("cert = [1]\n", "cert must be [[cert]] tables"),
]


@pytest.mark.parametrize(("manifest", "expected"), INVALID)
def test_invalid_manifest_writes_nothing(
    cli: Callable[..., Run], tmp_path: Path, manifest: str, expected: str
) -> None:
    """Any invalid manifest is exit 2 with one line naming the entry and field (or table)."""
    (tmp_path / "hosts.toml").write_text(manifest)
    before = listing(tmp_path)
    result = cli("batch", "hosts.toml")
    assert result.code == 2, result.err
    assert expected in result.err
    assert "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert listing(tmp_path) == before


def test_every_mistake_of_a_manifest_is_named_in_one_run(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """Three mistakes in two entries: exit 2, a count, then one line each; nothing written."""
    (tmp_path / "hosts.toml").write_text(
        '[defaults]\nkey = "ec:P-256"\n'
        '[[cert]]\ncn = "a.example.com"\ndays = "ten"\ncolour = "blue"\n'
        '[[cert]]\ncn = "b.example.com"\nsan = ["ok.example.com", "bad name"]\n'
        '[[cert]]\ncn = "c.example.com"\n'
    )
    before = listing(tmp_path)
    result = cli("batch", "hosts.toml", "--json")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert lines[0] == "flow-ssl: hosts.toml: 3 problems"
    assert lines[1].startswith("  [[cert]] #1 (a.example.com): days: must be a whole number")
    assert lines[2].startswith("  [[cert]] #1 (a.example.com): unknown field 'colour'")
    assert lines[3].startswith("  [[cert]] #2 (b.example.com): san: 'bad name' is not a valid")
    assert len(lines) == 4
    error = json.loads(result.out)["error"]
    assert error == {
        "exit_code": 2,
        "message": "hosts.toml: 3 problems",
        "problems": [line.strip() for line in lines[1:]],
    }
    assert listing(tmp_path) == before


def test_a_refused_value_is_named_once_not_followed_up(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """A cn of the wrong type is that one problem, not also 'cn is required'; a default's once."""
    (tmp_path / "hosts.toml").write_text(
        '[defaults]\nca_dir = 5\nmode = "ca"\n[[cert]]\ncn = 7\n[[cert]]\ncn = "b.example.com"\n'
    )
    result = cli("batch", "hosts.toml")
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        "flow-ssl: hosts.toml: 2 problems",
        "  [defaults]: ca_dir: must be a string, not 5",
        "  [[cert]] #1: cn: must be a string, not 7",
    ]


def test_a_passphrase_of_the_wrong_type_is_not_repeated(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """ca_pass given as a list (the passphrase itself, by mistake): named, its value never shown."""
    (tmp_path / "hosts.toml").write_text('[defaults]\nca_pass = ["hunter2"]\n' + A)
    result = cli("batch", "hosts.toml", "--json")
    assert result.code == 2
    assert "[defaults]: ca_pass: must be a string" in result.err
    assert "hunter2" not in result.err + result.out


def test_one_failing_entry_does_not_stop_the_others(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """One entry failing leaves the others made, its files as they were; the error says which."""
    hosts = _hosts(4)
    (tmp_path / "hosts.toml").write_text(_manifest(hosts))
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "flow1.mycompany.com.key").write_text("an operator's old key\n")
    result = cli("batch", "hosts.toml")
    assert result.code == 1
    assert "3 made, 0 skipped, 1 failed" in result.out
    failed = next(line for line in result.out.splitlines() if "FAIL" in line)
    assert "flow1.mycompany.com" in failed
    assert "already exists" in failed
    assert (tmp_path / "certs" / "flow1.mycompany.com.key").read_text() == "an operator's old key\n"
    assert not (tmp_path / "certs" / "flow1.mycompany.com.crt").exists()
    assert (tmp_path / "certs" / "flow0.mycompany.com.crt").is_file()
    assert result.err.strip().splitlines()[-1] == (
        "flow-ssl: 1 of 4 entries failed: #2 flow1.mycompany.com"
    )
    again = cli("batch", "hosts.toml", "--json")
    assert again.code == 1
    data = json.loads(again.out)
    assert [entry["status"] for entry in data["entries"]] == ["skipped", "failed", *["skipped"] * 2]
    assert data["error"] == {
        "exit_code": 1,
        "message": "1 of 4 entries failed: #2 flow1.mycompany.com",
    }


def test_printed_script_makes_the_same_certificates(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """batch --script writes nothing; under sh it makes what flow-ssl counts as done."""
    hosts = _hosts(4)
    (tmp_path / "hosts.toml").write_text(_manifest(hosts))
    result = cli("batch", "hosts.toml", "--script")
    assert result.code == 0
    assert listing(tmp_path) == ["hosts.toml"]
    lines = result.out.splitlines()
    assert lines[0] == "#!/bin/sh"
    assert "set -eu" in lines[:3]
    assert result.out.count("openssl req -x509") == len(hosts)
    run_sh(result.out, tmp_path)
    for cn, sans in hosts:
        cert = load_cert(tmp_path / "certs" / f"{_stem(cn)}.crt")
        assert set(sans) <= set(_names(cert))
    # What the script made counts as done.
    assert "0 made, 4 skipped" in cli("batch", "hosts.toml").out


def test_jobs_must_be_positive(cli: Callable[..., Run], tmp_path: Path) -> None:
    """--jobs 0 is refused, naming --jobs."""
    (tmp_path / "hosts.toml").write_text(_manifest(_hosts(1)))
    result = cli("batch", "hosts.toml", "--jobs", "0")
    assert result.code == 2
    assert "--jobs" in result.err


def test_deep_dotted_keys_are_refused_before_they_cost(tmp_path: Path) -> None:
    """Dotted keys 4x deeper cost about 4x to refuse, not 16x (the TOML reader is quadratic)."""
    from flow_ssl.core.errors import InvalidInputError
    from flow_ssl.make.inputs import read_toml

    def refused(depth: int) -> Callable[[], None]:
        path = tmp_path / f"deep-{depth}.toml"
        path.write_text(A + "san." + "a." * depth + "b = 1\n")

        def read() -> None:
            with pytest.raises(InvalidInputError, match="nested too deeply"):
                read_toml(path, "manifest")

        return read

    assert growth(refused(2_000), refused(8_000)) < 8
