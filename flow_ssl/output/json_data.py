"""
The JSON each command prints with ``--json``: every shape built here, from results. Pure.

Values are exact (JSON escapes what a terminal would act on); the keys are the
contract in design.md, which scripts depend on.
"""

from __future__ import annotations

import json
import unicodedata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime
    from pathlib import Path

    from flow_ssl.ca.crl import Published
    from flow_ssl.ca.index import Entry
    from flow_ssl.ca.inventory import Inventory
    from flow_ssl.ca.trust import Instructions
    from flow_ssl.core.models import Finding, Notice, ParsedCertificate
    from flow_ssl.core.revocation import RevocationList
    from flow_ssl.make.batch import Outcome
    from flow_ssl.openssl.commands.base import Command, Prompt, Shell

# Keys a CSR does not have (design.md: "certificate only").
_CERTIFICATE_ONLY = (
    "serial",
    "issuer",
    "not_before",
    "not_after",
)


def dumps(data: object) -> str:
    """
    The one JSON rendering: indented, UTF-8 kept as is, nothing a terminal would act on.

    json escapes C0 controls itself; DEL, the C1 controls and the invisible format
    characters (bidi overrides) are written as \\u escapes too: the same value once
    parsed, harmless when the JSON lands on a terminal.
    """
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return "\n".join(map(_inert, text.split("\n")))


def _inert(line: str) -> str:
    if line.isprintable():  # the common case, decided in C
        return line
    return "".join(_json_escape(c) if _acts_on_terminals(c) else c for c in line)


def _json_escape(char: str) -> str:
    """``\\uXXXX``, as a surrogate pair past the BMP (JSON has no longer escape)."""
    units = char.encode("utf-16-be")
    return "".join(
        f"\\u{int.from_bytes(units[i : i + 2], 'big'):04x}" for i in (0, 2)[: len(units) // 2]
    )


def _acts_on_terminals(char: str) -> bool:
    return unicodedata.category(char) in {"Cc", "Cf"} and char not in "\n\u00ad"


def parsed(cert: ParsedCertificate) -> dict[str, Any]:
    """A parsed certificate or CSR, as ``inspect --json`` lists it."""
    data: dict[str, Any] = cert.model_dump(mode="json")
    if cert.kind == "csr":
        for key in _CERTIFICATE_ONLY:
            data.pop(key, None)
    return data


def findings(items: Iterable[Finding]) -> list[dict[str, Any]]:
    """Findings as ``{"check", "status", "message"}``."""
    return [item.model_dump() for item in items]


def prompts(items: Iterable[Prompt]) -> list[dict[str, str]]:
    """The questions openssl asks and flow-ssl's answers."""
    return [{"field": p.field, "label": p.label, "answer": p.answer} for p in items]


def warnings(notices: Iterable[Notice], named: dict[str, str]) -> list[str]:
    """Warnings as the operator reads them, each field named as ``named`` says."""
    return [f"{named.get(n.field, n.field)}: {n.message}" for n in notices]


def report(ready: bool, items: Iterable[Finding]) -> dict[str, Any]:
    """``check`` and ``probe``: ``{"ready", "findings"}``."""
    return {"ready": ready, "findings": findings(items)}


def made(
    command: Command,
    *,
    subj: bool,
    files: dict[str, str],
    result: ParsedCertificate,
    found: Sequence[Finding],
    warned: list[str],
    backups: dict[str, str],
) -> dict[str, Any]:
    """``selfsigned`` / ``csr`` after a run."""
    return {
        "command": command.render(),
        "argv": list(command.argv),
        "mode": "subj" if subj else "prompts",
        "files": files,
        "backups": backups,
        "result": parsed(result),
        "findings": findings(found),
        "warnings": warned,
    }


def planned(
    command: Command, readback: Command, shell: Shell, *, script: str | None = None
) -> dict[str, Any]:
    """``selfsigned`` / ``csr`` with ``--print``: the command, and the whole script that runs."""
    data = {
        "command": command.render(shell),
        "argv": list(command.argv),
        "prompts": prompts(command.prompts),
        "readback": readback.render(shell),
    }
    return data if script is None else {**data, "script": script}


def script(steps: list[str], asked: Iterable[Prompt]) -> dict[str, Any]:
    """A ``--print`` script as JSON: its steps as rendered, and the answers it gives."""
    return {"steps": steps, "prompts": prompts(asked)}


def issued(
    serial: str,
    files: dict[str, str],
    result: ParsedCertificate,
    found: Sequence[Finding],
    warned: list[str],
    backups: dict[str, str],
) -> dict[str, Any]:
    """``ca sign`` / ``ca issue`` after a run."""
    return {
        "serial": serial.lower(),
        "files": files,
        "backups": backups,
        "result": parsed(result),
        "findings": findings(found),
        "warnings": warned,
    }


def ca_made(folder: Path, files: dict[str, str], cert: ParsedCertificate) -> dict[str, Any]:
    """``ca init`` after a run."""
    return {"dir": str(folder), "files": files, "certificate": parsed(cert)}


def _when(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def crl_data(crl: RevocationList) -> dict[str, Any]:
    """A CRL: its number, dates and entries (serials lower-case hex, as elsewhere)."""
    return {
        "number": crl.number,
        "this_update": _when(crl.this_update),
        "next_update": _when(crl.next_update),
        "revoked": [
            {"serial": f"{entry.serial:x}", "revoked_at": _when(entry.when), "reason": entry.reason}
            for entry in crl.revoked
        ],
    }


def entry_data(entry: Entry) -> dict[str, Any]:
    """An index entry: serial, subject, expiry, revocation."""
    return {
        "serial": entry.serial.lower(),
        "subject": entry.subject,
        "not_after": _when(entry.expires),
        "revoked_at": _when(entry.revoked_at),
        "reason": entry.reason,
    }


def published(made: Published, files: dict[str, str]) -> dict[str, Any]:
    """``ca revoke`` / ``ca crl`` after a run."""
    data: dict[str, Any] = {}
    if made.revoked is not None:
        data["revoked"] = entry_data(made.revoked)
    return {
        **data,
        "crl": crl_data(made.crl),
        "files": files,
        "backups": {str(old): str(kept) for old, kept in made.backups},
        "findings": findings(made.findings),
    }


def inventory(found: Inventory, folder: Path, *, expiring: bool) -> dict[str, Any]:
    """``ca list``: each certificate with its status and names, the CRL, the warnings."""
    data: dict[str, Any] = {
        "dir": str(folder),
        "certificates": [
            {
                **entry_data(item.entry),
                "names": list(item.names),
                "status": item.state,
                "ca": item.ca,
            }
            for item in found.listed
        ],
        "crl": crl_data(found.crl) if found.crl else None,
        "warnings": list(found.warnings),
    }
    if expiring:
        data["expiring"] = [item.entry.serial.lower() for item in found.expiring]
    return data


def bundled(out: Path, certificates: Iterable[ParsedCertificate]) -> dict[str, Any]:
    """``bundle`` after a run."""
    return {"out": str(out), "certificates": [parsed(c) for c in certificates]}


def trusted(
    root: Path, name: str, fingerprint: str | None, systems: Iterable[Instructions]
) -> dict[str, Any]:
    """``ca trust``: the root, what to call it on clients, and each system's commands."""
    from flow_ssl.ca.trust import file_name

    return {
        "root": str(root),
        "copy_as": file_name(name),
        "sha256_fingerprint": fingerprint,
        "systems": [
            {"system": s.system, "commands": list(s.commands), "note": s.note} for s in systems
        ],
    }


def batch_result(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """``batch``: the counts, and each entry's mode, status, files and message."""
    counts = {s: sum(o.status == s for o in outcomes) for s in ("made", "skipped", "failed")}
    return {
        **counts,
        "entries": [
            {
                "number": o.job.number,
                "cn": o.job.name,
                "mode": o.job.mode,
                "status": o.status,
                "files": [str(p) for p in o.job.outputs()],
                "message": o.message,
            }
            for o in outcomes
        ],
    }


def error(exit_code: int, message: str, problems: Sequence[str] = ()) -> dict[str, Any]:
    """What stdout carries when a ``--json`` run fails (``problems``: each, when several)."""
    said: dict[str, Any] = {"exit_code": exit_code, "message": message}
    if problems:
        said["problems"] = list(problems)
    return {"error": said}
