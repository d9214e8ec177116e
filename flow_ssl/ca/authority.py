"""
A company CA: its folder opened and vetted, the rules every signing by it follows, and
its part in a run (its lock, its serial, its log: the run loop's CA hooks).

``ca init`` (init.py) makes one; ``ca sign`` (sign.py) and ``ca issue`` (issue.py)
sign with one. Each operation is a list of steps (openssl commands plus the small
files between them), so ``--print`` shows the very sequence that runs, and results
are read back and checked before anything is put in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl.ca.folder import (
    Folder,
    locked,
    log_issued,
    read_serial,
    refuse_links,
    reserve_serial,
)
from flow_ssl.check import readiness
from flow_ssl.core.errors import InvalidInputError, OpenSSLError, OpenSSLFailedError
from flow_ssl.make import inputs
from flow_ssl.openssl import runner
from flow_ssl.openssl.commands.base import WORK, Command, scratch
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
    from contextlib import AbstractContextManager

    from flow_ssl.core.models import Finding, ParsedCertificate, SanEntry
    from flow_ssl.openssl.features import OpenSSL
    from flow_ssl.openssl.script.steps import Step

ROOT_DAYS = 3650
ISSUING_DAYS = 1825
LEAF_DAYS = 397
DEFAULT_CA_KEY = "ec:P-384"
# What `check` says of the key: nothing to say when a CSR is signed (its key stays with it).
_KEY_CHECKS = frozenset({"key-unencrypted", "key-matches-cert"})
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


def digest_for(algorithm: str, size: int | None) -> str:
    """The signature hash that matches the CA key's strength."""
    if algorithm == "ec" and size and size > 256:
        return "sha384" if size <= 384 else "sha512"
    return "sha256"


@dataclass(frozen=True)
class CA:
    """
    An existing CA folder, its certificate, and how to unlock its key (``passin``, given
    with the option ``source_field`` names).

    A run signed by it calls its hooks (make/run.py's ``Issuer``): vet, lock, reserve,
    and record once in place.
    """

    folder: Folder
    cert: ParsedCertificate
    passin: str | None = None
    source_field: str = "ca_pass"

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

    def vet(self) -> None:
        """
        Before the lock: a damaged serial file, or a key its pass source does not open,
        stops the run with no serial taken.

        Raises:
            InvalidInputError: a damaged serial file, or a pass source that gives nothing.
            OpenSSLError: the passphrase is wrong.
        """
        read_serial(self.folder)
        unlock(self)

    def locked(self) -> AbstractContextManager[None]:
        """The folder's lock (see ``folder.locked``)."""
        return locked(self.folder)

    def reserve(self) -> str:
        """The next serial, the serial file moved past it (under the lock, before signing)."""
        return reserve_serial(self.folder)

    def reserved_note(self, serial: str) -> Note:
        """What ``reserve`` did, for the steps shown before a run."""
        return Note(f"serial {serial} reserved: {self.folder.serial} now holds the next one")

    def signs(self, step: Step) -> bool:
        """A step signs with this CA when it reads the CA's key (``-CAkey``)."""
        return isinstance(step, Command) and str(self.folder.key) in step.argv

    def record(self, cert: ParsedCertificate) -> None:
        """Log the certificate as issued, in place at its ``source``."""
        log_issued(self.folder, cert, Path(cert.source))


def unlock(ca: CA) -> None:
    """
    Make sure the CA's key opens with its pass source, before a serial is taken.

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
        said = exc.output
    else:
        return
    if "Error getting passwords" in said:
        raise InvalidInputError(
            f"{ca.passin} gives no passphrase (openssl: "
            f"{said.strip().splitlines()[0] if said.strip() else 'no answer'})",
            field=ca.source_field,
            joiner=": ",
        )
    raise OpenSSLError(
        f"wrong passphrase for {ca.folder.key} (from {ca.passin}); nothing was signed",
        hint=crlf_hint(ca.passin) or "give the pass source that holds the CA key's passphrase",
    )


# The key identifiers every certificate a CA signs gets (as its config's sections say).
_KEY_IDS = [("subjectKeyIdentifier", "hash"), ("authorityKeyIdentifier", "keyid:always")]
SERVER_EXTENSIONS = "server.cnf"


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
    return CA(folder=folder, cert=cert, passin=passin, source_field=source_field)


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


def read_back(
    fullchain: Path,
    ca: CA,
    names: tuple[SanEntry, ...],
    *,
    key: Path | None,
    shown_as: Path,
    key_shown_as: Path | None = None,
) -> tuple[ParsedCertificate, list[Finding]]:
    """
    The new leaf, and the same checks as ``flow-ssl check`` on its full chain.

    One read of the chain gives both (the leaf is its first certificate);
    only this CA's root is trusted. Without a key (a CSR signed), nothing is said of
    one; a staged key is named by ``key_shown_as``, where it is put.
    """
    report = readiness.check(
        fullchain,
        key=key,
        ca_file=ca.folder.root_cert(),
        hosts=tuple(entry.value.replace("*", "host", 1) for entry in names),
    )
    leaf = report.certificates[0]
    leaf.source = str(shown_as)
    kept = _READINESS_KEPT if key is not None else _READINESS_KEPT - _KEY_CHECKS
    findings = [f for f in report.findings if f.check in kept]
    if key is not None and key_shown_as is not None:
        staged, final = str(key), str(key_shown_as)
        findings = [
            f.model_copy(update={"message": f.message.replace(staged, final)}) for f in findings
        ]
    return leaf, findings


def default_outputs(stem_from: str) -> tuple[Path, Path]:
    """``<name>.crt`` and ``<name>.fullchain.pem`` for a CN or a CSR file's stem."""
    return Path(f"{stem_from}.crt"), Path(f"{stem_from}.fullchain.pem")
