"""
A company CA: its folder opened and vetted, the rules every signing by it follows, and
its part in a run (its lock, its serial, its log: the run loop's CA hooks).

``ca init`` (init.py) makes one; ``ca sign`` (sign.py) and ``ca issue`` (issue.py)
sign with one. Each operation is a list of steps (openssl commands plus the small
files between them), so ``--print`` shows the very sequence that runs, and results
are read back and checked before anything is put in place.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl.ca import config
from flow_ssl.ca.folder import (
    Folder,
    locked,
    next_serial,
    record_issued,
    refuse_control_characters,
    refuse_links,
    reserve_serial,
)
from flow_ssl.ca.records import Upgraded, bring_up_to_date
from flow_ssl.check import readiness
from flow_ssl.core import name_constraints, revocation
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
from flow_ssl.openssl.commands.make import addext
from flow_ssl.openssl.pass_source import crlf_hint
from flow_ssl.openssl.read import kdf, reader
from flow_ssl.openssl.script.steps import Note, WriteFile

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

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
    An existing CA folder, its certificate (and an issuing CA's root), the CRL
    Distribution Point its ca.cnf gives what it signs, and how to unlock its key
    (``passin``, given with the option ``source_field`` names).

    A run signed by it calls its hooks (make/run.py's ``Issuer``): vet, lock (bringing
    the records up to date), reserve, and record once in place.
    """

    folder: Folder
    cert: ParsedCertificate
    passin: str | None = None
    source_field: str = "ca_pass"
    root: ParsedCertificate | None = None
    crl_url: str | None = None
    # The serial a ``renew`` replaces with what this run signs (recorded in the log).
    renews: str | None = None
    # What bringing its records up to date did in this run, for the operator.
    said: list[str] = field(default_factory=list, compare=False, repr=False)

    @property
    def is_root(self) -> bool:
        """A self-signed CA (its leaves' full chain is the leaf alone)."""
        return bool(self.cert.self_signed)

    @property
    def digest(self) -> str:
        """The hash it signs with: as strong as its key."""
        key = self.cert.public_key
        return digest_for(key.algorithm, key.bits)

    @property
    def name(self) -> str:
        """Its CN, or its whole subject."""
        return self.cert.subject_value("CN") or self.cert.names_text()

    def signer(self, serial: str) -> Signer:
        """The -CA/-CAkey/-config options for signing with this CA."""
        return Signer(
            cert=str(self.folder.cert),
            key=str(self.folder.key),
            config=str(self.folder.config),
            serial=serial,
            digest=self.digest,
            passin=self.passin,
        )

    def chain(self) -> tuple[str, ...]:
        """What follows a leaf in its full chain: the issuing CA, never the root."""
        return () if self.is_root else (str(self.folder.cert),)

    def issuers(self) -> tuple[ParsedCertificate, ...]:
        """The CA and its root: both constrain the names of what it signs."""
        return (self.cert,) if self.root is None else (self.cert, self.root)

    def refuse_names(self, names: tuple[SanEntry, ...]) -> None:
        """
        Refuse, before anything is signed, names outside this CA's (or its root's) name
        constraints.

        Raises:
            InvalidInputError: naming the name and the permitted subtrees.
        """
        wanted = [(entry.kind, entry.value) for entry in names]
        refused = name_constraints.refusal(wanted, self.issuers())
        if refused is not None:
            raise InvalidInputError(
                refused, hint="a name-constrained CA signs only inside its names"
            )

    def max_days(self, now: datetime) -> int:
        """The longest validity this CA can give: none may outlive it."""
        assert self.cert.not_after is not None  # noqa: S101 - a parsed certificate has one
        return (self.cert.not_after - now) // timedelta(days=1)

    def vet(self) -> None:
        """
        Before the lock: a damaged serial file or index, or a key its pass source does not
        open, stops the run with no serial taken.

        Raises:
            InvalidInputError: a damaged serial file or index, or a pass source that gives
                nothing.
            OpenSSLError: the passphrase is wrong.
        """
        next_serial(self.folder)
        unlock(self)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """The folder's lock (see ``folder.locked``), its records brought up to date."""
        with locked(self.folder):
            upgraded = self.bring_up_to_date()
            if upgraded is not None:
                self.said.append(upgraded.said(self.folder))
            yield

    def bring_up_to_date(self) -> Upgraded | None:
        """
        Under the lock: an index made where there is none, expired entries marked.

        Raises:
            InvalidInputError: the log or index is damaged (nothing changed).
            WriteFailedError: the records could not be written (nothing changed).
        """
        return bring_up_to_date(self.folder, self.cert, self.digest)

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
        """Record the certificate as issued, in place at its ``source``: copy, index, log."""
        record_issued(self.folder, cert, Path(cert.source), renews=self.renews)


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


SERVER_EXTENSIONS = "server.cnf"
ISSUING_EXTENSIONS = "issuing.cnf"


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
    base: Sequence[tuple[str, str]],
    extra: Sequence[tuple[str, str]] = (),
    work: str = WORK,
) -> list[Step]:
    """
    The CA signs ``csr``: ``req -CA`` where this openssl has it, else ``x509 -req``.

    The certificate gets the extensions of ``section`` (``base``: the values ca.cnf gives
    it) and ``extra``, one for this certificate alone (its names, say), which replaces a
    section value of the same name: with -addext, or in an extension file for x509 -req.
    Either way the request's own extensions are never copied, and the certificate is
    the same.
    """
    if openssl.supports("-CA"):
        extra_args = tuple(addext(name, value) for name, value in extra)
        return [
            build_sign_csr(
                csr, out=out, signer=signer, section=section, days=days, extra=extra_args
            )
        ]
    if not extra:
        extfile, steps = signer.config, []
    else:
        merged = dict(base)
        merged.update(extra)
        name = SERVER_EXTENSIONS if section == "server" else ISSUING_EXTENSIONS
        extfile = scratch(name, work)
        steps = [WriteFile(extfile, extension_file(section, list(merged.items())))]
    return [
        *steps,
        build_x509_sign(csr, out=out, signer=signer, extfile=extfile, section=section, days=days),
    ]


def server_base(ca: CA) -> config.Values:
    """The [ server ] section's values, as this CA's ca.cnf gives them."""
    return [*config.SERVER, *([config.crl_point(ca.crl_url)] if ca.crl_url else [])]


def open_ca(
    path: Path,
    *,
    passin: str | None,
    field: str = "dir",
    source_field: str = "ca_pass",
    key_needed: bool = True,
) -> CA:
    """
    Load a CA folder made by ``ca init`` (``key_needed``: it will sign, so a locked key
    needs its pass source).

    Raises:
        InvalidInputError: no CA there, a file missing, not a CA, or a locked key without
            ``--ca-pass``.
    """
    refuse_control_characters(path, field=field)
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
    if key_needed and passin is None and reader.is_encrypted_key(key_text):
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
    root = reader.read_file(folder.root)[0] if folder.root.is_file() else None
    try:
        settings = folder.config.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{folder.config} cannot be read: {exc}", field=field) from None
    return CA(
        folder=folder,
        cert=cert,
        passin=passin,
        source_field=source_field,
        root=root,
        crl_url=config.crl_url(settings),
    )


def check_crl_url(url: str | None) -> str | None:
    """
    A ``--crl-url``, if given.

    Raises:
        InvalidInputError: about the field ``crl_url``.
    """
    if url is None:
        return None
    try:
        return revocation.check_url(url)
    except ValueError as exc:
        raise InvalidInputError(str(exc), field="crl_url", joiner=": ") from None


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
