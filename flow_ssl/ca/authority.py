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

from flow_ssl.ca.folder import Folder, refuse_links
from flow_ssl.check import readiness
from flow_ssl.core.errors import InvalidInputError, OpenSSLError, OpenSSLFailedError
from flow_ssl.core.findings import finding
from flow_ssl.make import inputs
from flow_ssl.openssl import runner
from flow_ssl.openssl.commands.base import WORK, scratch
from flow_ssl.openssl.commands.ca import (
    Signer,
    build_key_check,
    build_sign_csr,
    build_x509_sign,
)
from flow_ssl.openssl.commands.config import extension_file
from flow_ssl.openssl.commands.make import server_extension_values, server_extensions
from flow_ssl.openssl.pass_source import crlf_hint
from flow_ssl.openssl.read import kdf, reader
from flow_ssl.openssl.script.steps import Note, WriteFile

if TYPE_CHECKING:
    from flow_ssl.core.models import Finding, ParsedCertificate, SanEntry
    from flow_ssl.openssl.features import OpenSSL
    from flow_ssl.openssl.script.steps import Step

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


def unlock(ca: CA, *, field: str = "ca_pass") -> None:
    """
    Make sure the CA's key opens with its pass source, before a serial is taken.

    ``field`` names the option that gave the pass source.

    Raises:
        InvalidInputError: the pass source gives no passphrase (an unset variable, a
            missing file).
        OpenSSLError: the passphrase is wrong.
    """
    if ca.passin is None:
        return
    try:
        runner.run(build_key_check(str(ca.folder.key), passin=ca.passin))
    except OpenSSLFailedError as exc:
        if exc.returncode is None:  # stopped or timed out: it says nothing of the passphrase
            raise
        said = exc.output
    else:
        return
    if "Error getting passwords" in said:
        raise InvalidInputError(
            f"{ca.passin} gives no passphrase (openssl: "
            f"{said.strip().splitlines()[0] if said.strip() else 'no answer'})",
            field=field,
            joiner=": ",
        )
    raise OpenSSLError(
        f"wrong passphrase for {ca.folder.key} (from {ca.passin}); nothing was signed",
        hint=crlf_hint(ca.passin) or "give the pass source that holds the CA key's passphrase",
    )


# The key identifiers every certificate a CA signs gets (as its config's sections say).
_KEY_IDS = [("subjectKeyIdentifier", "hash"), ("authorityKeyIdentifier", "keyid:always")]
SERVER_EXTENSIONS = "server.cnf"


def reserved_note(ca: CA, serial: str) -> Note:
    """What ``reserve_serial`` did, for the steps shown before a run."""
    return Note(f"serial {serial} reserved: {ca.folder.serial} now holds the next one")


def no_req_ca_note(openssl: OpenSSL) -> Note:
    """Why a script signs with x509 -req (1.1.1, LibreSSL)."""
    return Note(
        f"{openssl.name} has no req -CA: the CA signs with openssl x509 -req, which "
        "takes the certificate's extensions from a file"
    )


def signing_steps(
    openssl: OpenSSL,
    signer: Signer,
    *,
    csr: str,
    out: str,
    days: int,
    section: str,
    server: tuple[tuple[SanEntry, ...], str] | None = None,
    work: str = WORK,
) -> list[Step]:
    """
    The CA signs ``csr``: ``req -CA`` where this openssl has it, else ``x509 -req``.

    ``server`` (names, key algorithm) adds the server extensions to ``section``'s:
    with -addext, or in an extension file for x509 -req. Either way the request's
    own extensions are never copied, and the certificate is the same.
    """
    if openssl.supports("-CA"):
        extra = server_extensions(server[0], key_algorithm=server[1]) if server else ()
        return [
            build_sign_csr(csr, out=out, signer=signer, section=section, days=days, extra=extra)
        ]
    if server is None:
        extfile, steps = signer.config, []
    else:
        names, algorithm = server
        values = [*_KEY_IDS, *server_extension_values(names, key_algorithm=algorithm)]
        extfile = scratch(SERVER_EXTENSIONS, work)
        steps = [WriteFile(extfile, extension_file(section, values))]
    return [
        *steps,
        build_x509_sign(csr, out=out, signer=signer, extfile=extfile, section=section, days=days),
    ]


def open_ca(
    path: Path, *, passin: str | None, field: str = "dir", source_field: str = "ca_pass"
) -> CA:
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
    refuse_links(folder, field=field)
    needed = (folder.key, folder.cert, folder.config, folder.serial)
    missing = [p.name for p in needed if not p.is_file()]
    if missing:
        raise InvalidInputError(
            f"{path} is not a flow-ssl CA folder: {', '.join(missing)} missing", field=field
        )
    inputs.check_pass_source(passin, source_field)
    key_text = folder.key.read_text(encoding="ascii", errors="replace")
    if passin is None and reader.is_encrypted_key(key_text):
        raise InvalidInputError(
            f"{folder.key} is passphrase-protected: give its pass source "
            "(env:VARIABLE or file:PATH)",
            field=source_field,
            joiner=": ",
        )
    kdf.refuse_costly_key(key_text.encode(), str(folder.key))
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
