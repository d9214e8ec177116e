"""
A company CA: its folder opened and vetted, and the rules every signing by it follows.

``ca init`` (ca_init.py) makes one; ``ca sign`` (ca_sign.py) and ``ca issue``
(ca_issue.py) sign with one. Each operation is a list of steps (openssl
commands plus the small files between them), so ``--print`` shows the very
sequence that runs, and results are read back and checked before anything is
put in place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl import inputs, readiness
from flow_ssl.cafolder import Folder
from flow_ssl.core.errors import InvalidInputError
from flow_ssl.core.findings import finding
from flow_ssl.openssl import reader
from flow_ssl.openssl.commands.ca import Signer

if TYPE_CHECKING:
    from flow_ssl.core.models import Finding, ParsedCertificate, SanEntry
    from flow_ssl.openssl.script import Step

ROOT_DAYS = 3650
ISSUING_DAYS = 1825
LEAF_DAYS = 397
DEFAULT_CA_KEY = "ec:P-384"
# What `check` adds to the comparison with the request (validity-period is left
# out: --days over Apple's limit is allowed, with a warning before the run).
_READINESS_KEPT = frozenset(
    {
        "key-unencrypted",
        "key-matches-cert",
        "chain-order",
        "chain-complete",
        "chain-verifies",
        "hostname",
        "key-strength",
        "signature-hash",
    }
)
# Called with the exact steps (final paths, the serial taken) before they run.
Announce = Callable[[list["Step"]], None]


def digest_for(algorithm: str, size: int | None) -> str:
    """The signature hash that matches the CA key's strength."""
    if algorithm == "ec" and size and size > 256:
        return "sha384" if size <= 384 else "sha512"
    return "sha256"


@dataclass(frozen=True)
class CA:
    """An existing CA folder, its certificate, and how to unlock its key."""

    folder: Folder
    cert: ParsedCertificate
    passin: str | None = None

    @property
    def is_root(self) -> bool:
        """A self-signed CA (its leaves' full chain is the leaf alone)."""
        return bool(self.cert.self_signed)

    def signer(self, serial: str) -> Signer:
        """The -CA/-CAkey/-config options for signing with this CA."""
        key = self.cert.public_key
        return Signer(
            cert=str(self.folder.cert),
            key=str(self.folder.key),
            config=str(self.folder.config),
            serial=serial,
            digest=digest_for(key.algorithm, key.bits),
            passin=self.passin,
        )

    def chain(self) -> tuple[str, ...]:
        """What follows a leaf in its full chain: the issuing CA, never the root."""
        return () if self.is_root else (str(self.folder.cert),)

    def max_days(self, now: datetime) -> int:
        """The longest validity this CA can give: none may outlive it."""
        assert self.cert.not_after is not None  # noqa: S101 - a parsed certificate has one
        return (self.cert.not_after - now) // timedelta(days=1)


def open_ca(path: Path, *, passin: str | None, field: str = "dir") -> CA:
    """
    Load a CA folder made by ``ca init``.

    Raises:
        InvalidInputError: no CA there, a file missing, not a CA, or a locked key without
            ``--ca-pass``.
    """
    folder = Folder(path)
    if not path.is_dir():
        raise InvalidInputError(
            f"{path}: there is no CA folder there",
            field=field,
            hint=f"make one: flow-ssl ca init --dir {path} --name 'My Company Root CA'",
        )
    needed = (folder.key, folder.cert, folder.config, folder.serial)
    missing = [p.name for p in needed if not p.is_file()]
    if missing:
        raise InvalidInputError(
            f"{path} is not a flow-ssl CA folder: {', '.join(missing)} missing", field=field
        )
    inputs.check_pass_source(passin, "ca_pass")
    key_text = folder.key.read_text(encoding="ascii", errors="replace")
    if passin is None and reader.is_encrypted_key(key_text):
        raise InvalidInputError(
            f"{folder.key} is passphrase-protected: give its pass source "
            "(env:VARIABLE or file:PATH)",
            field="ca_pass",
            joiner=": ",
        )
    cert = reader.read_file(folder.cert)[0]
    if cert.kind != "certificate" or not (cert.basic_constraints and cert.basic_constraints.ca):
        raise InvalidInputError(f"{folder.cert} is not a CA certificate")
    return CA(folder=folder, cert=cert, passin=passin)


def check_days(days: int, issuer: CA | None) -> None:
    """
    Refuse a validity openssl cannot give, or one that outlives the issuing CA.

    Raises:
        InvalidInputError: about the field ``days``.
    """
    if not 1 <= days <= 36500:
        raise InvalidInputError(f"{days}: give a number of days from 1 to 36500", field="days")
    if issuer is None:
        return
    most = issuer.max_days(datetime.now(timezone.utc))
    if days > most:
        raise InvalidInputError(
            f"{days}: the CA {issuer.folder.path} expires in {most} days, and nothing "
            f"it signs may outlive it; give {most} or less",
            field="days",
        )


@dataclass
class Issued:
    """What a signing made, and the findings that accepted it."""

    cert: ParsedCertificate
    serial: str
    findings: list[Finding]
    backups: list[tuple[Path, Path]] = field(default_factory=list)


def serial_finding(serial: str, cert: ParsedCertificate) -> Finding:
    """``serial``: the certificate carries the serial reserved for it."""
    return finding(
        "serial",
        int(serial, 16) == int(cert.serial or "0", 16),
        f"serial {serial}",
        f"serial is {cert.serial}, expected {serial}",
    )


def read_back(
    fullchain: Path, ca: CA, names: tuple[SanEntry, ...], *, key: Path | None, shown_as: Path
) -> tuple[ParsedCertificate, list[Finding]]:
    """
    The new leaf, and the same checks as ``flow-ssl check`` on its full chain.

    One read of the chain gives both (the leaf is its first certificate);
    only this CA's root is trusted.
    """
    report = readiness.check(
        fullchain,
        key=key,
        ca_file=ca.folder.root_cert(),
        hosts=tuple(entry.value.replace("*", "host", 1) for entry in names),
    )
    leaf = report.certificates[0]
    leaf.source = str(shown_as)
    return leaf, [f for f in report.findings if f.check in _READINESS_KEPT]


def default_outputs(stem_from: str) -> tuple[Path, Path]:
    """``<name>.crt`` and ``<name>.fullchain.pem`` for a CN or a CSR file's stem."""
    return Path(f"{stem_from}.crt"), Path(f"{stem_from}.fullchain.pem")
