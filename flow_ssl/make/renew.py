"""
``renew``: a new certificate (or CSR) with an old one's subject and names, nothing retyped.

The old certificate is read like any other; its subject and every name (IPs
included) become the request. A self-signed certificate stays self-signed; one a
public CA issued becomes a new key and CSR for that CA (only it can issue it
again); ``--ca-dir`` has the company CA issue it. A new pair made at once takes the
old names, the old files kept as backups beside them; a key and CSR waiting for a CA
go beside the live pair (``NAME.next.key``, ``NAME.next.csr``: check/pending.py), which
stays a matching pair until the new certificate is installed. What renew changes it
says (a SAN's trailing dot, a CA:TRUE certificate becoming a server's); a CA's own
certificate it refuses (``ca init`` makes CAs).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import ValidationError

from flow_ssl import files
from flow_ssl.ca.authority import LEAF_DAYS, open_ca
from flow_ssl.ca.issue import IssuePlan
from flow_ssl.check import keyfindings, readiness
from flow_ssl.check.pending import NEXT, next_files, stem_of
from flow_ssl.core.errors import InvalidInputError
from flow_ssl.core.keys import KEY_NAMES
from flow_ssl.core.models import (
    DEFAULT_DAYS,
    CertRequest,
    KeySpec,
    Notice,
)
from flow_ssl.core.names import classify
from flow_ssl.make import generate, inputs
from flow_ssl.make.renew_subject import carried_subject
from flow_ssl.openssl import keymatch
from flow_ssl.openssl.read import pem, reader

if TYPE_CHECKING:
    from flow_ssl.core.models import ParsedCertificate
    from flow_ssl.openssl.read.reader import Loaded

Mode = Literal["selfsigned", "csr", "ca"]


@dataclass(frozen=True)
class Asked:
    """What the operator asked of the renewal."""

    cert: Path
    passin: str | None = None  # a PKCS#12's passphrase source
    key: Path | None = None
    csr: bool = False
    ca_dir: Path | None = None
    ca_pass: str | None = None
    same_key: bool = False
    days: int | None = None
    keyout: Path | None = None
    out: Path | None = None
    use_subj: bool = False


@dataclass
class Renewal:
    """
    The plan a renewal runs (the single commands' own), and what to tell the operator:
    warnings, the files that wait for a CA (``waiting``: written only with --force when
    they exist), and what to do when the CA answers (``next_step``).
    """

    mode: Mode
    plan: generate.Plan | IssuePlan
    old: ParsedCertificate
    notices: list[Notice] = field(default_factory=list)
    waiting: list[Path] = field(default_factory=list)
    next_step: str | None = None

    @property
    def request(self) -> CertRequest:
        """The request made from the old certificate."""
        return self.plan.request


def plan_renewal(asked: Asked) -> Renewal:
    """
    Read the old certificate and plan its renewal.

    Raises:
        InvalidInputError: not a certificate, names flow-ssl cannot take, a key that
            is missing or not the certificate's, or an unusable CA folder.
    """
    if asked.same_key and asked.keyout is not None:
        raise InvalidInputError(
            "goes with a new key; --same-key keeps the certificate's key where it is "
            "(--key names it)",
            field="keyout",
        )
    inputs.check_pass_source(asked.passin, "pass")
    loaded = reader.load(asked.cert, passin=asked.passin)
    if any(item.kind != "certificate" for item in loaded.items):
        raise InvalidInputError(
            f"{asked.cert} is a certificate request; renew takes the certificate"
        )
    old = readiness.certificates(asked.cert, passin=asked.passin)[0]
    _refuse_a_ca(old, asked.cert)
    notices: list[Notice] = []
    mode = _mode(asked, old, notices)
    key_path = _key_path(asked)
    if asked.same_key:
        _check_same_key(key_path, asked.cert, loaded, old)
    request = _request(old, asked, mode, notices)
    notices += _changes(old, asked.cert)
    stem = stem_of(asked.cert)
    existing = key_path if asked.same_key else None
    if mode == "csr":
        # Only the CA can make the certificate: the live key stays with the live certificate.
        next_key, next_csr = next_files(asked.cert)
        keyout = existing or asked.keyout or next_key
        csr = asked.out or next_csr
        request_plan = generate.Plan(
            request=request,
            key_path=keyout,
            out_path=csr,
            x509=False,
            use_subj=asked.use_subj,
            existing_key=existing,
        )
        notices += generate.name_notices(request_plan)
        plan: generate.Plan | IssuePlan = request_plan
        waiting = [path for path in (next_key, next_csr) if path in {keyout, csr}]
        after = _when_the_ca_answers(keyout, csr, live=(asked.cert, key_path))
        renewal = Renewal(mode, plan, old, notices, waiting, after)
    else:
        # Only PEM is replaced by PEM: beside a DER, .pfx or .p7b the new one is NAME.crt
        # (NAME.pem where the old binary file is NAME.crt), the old file left as it was.
        new_cert = (
            asked.cert if loaded.form == "pem" else _beside(asked.cert, stem, loaded.form, notices)
        )
        keyout = asked.keyout or key_path
        if mode == "ca":
            assert asked.ca_dir is not None  # noqa: S101 - mode ca comes from --ca-dir
            authority = replace(open_ca(asked.ca_dir, passin=asked.ca_pass), renews=old.serial)
            plan = IssuePlan(
                ca=authority,
                request=request,
                key_path=keyout,
                out=asked.out or new_cert,
                fullchain=Path(f"{stem}.fullchain.pem"),
                use_subj=asked.use_subj,
                existing_key=existing,
            )
        else:
            plan = generate.Plan(
                request=request,
                key_path=keyout,
                out_path=asked.out or new_cert,
                x509=True,
                use_subj=asked.use_subj,
                existing_key=existing,
            )
        renewal = Renewal(mode, plan, old, notices)
    if existing is not None:
        _never_over_the_key(plan, existing)
    return renewal


def _when_the_ca_answers(key: Path, csr: Path, *, live: tuple[Path, Path]) -> str:
    """The one line that says what to do with the CA's answer."""
    certificate = Path(f"{stem_of(csr)}.crt")
    found = key.name.endswith(f"{NEXT}.key") and key.parent == certificate.parent
    check = f"flow-ssl check --cert {certificate}" + ("" if found else f" --key {key}")
    cert, live_key = live
    return (
        f"When the CA answers, save its certificate as {certificate}, check it ({check}) and "
        f"install it with {key}; until then {cert} and {live_key} stay the installed pair."
    )


def _refuse_a_ca(old: ParsedCertificate, cert: Path) -> None:
    """
    A CA's own certificate is not renewed as a server's (what renew makes).

    Raises:
        InvalidInputError: ``old`` is a CA that may sign certificates (keyCertSign).
    """
    constraints = old.basic_constraints
    if constraints is None or not constraints.ca:
        return
    if old.key_usage and "keyCertSign" in old.key_usage:
        raise InvalidInputError(
            f"{cert} is a CA certificate (CA:TRUE, keyCertSign): renew makes server "
            "certificates, which would not sign what it signed; make a new CA with flow-ssl "
            "ca init (its clients must then trust the new one)"
        )


def _changes(old: ParsedCertificate, cert: Path) -> list[Notice]:
    """What the new certificate gives differently from the old one, said."""
    changed = []
    constraints = old.basic_constraints
    if constraints is not None and constraints.ca:
        changed.append(
            Notice(
                "",
                f"{cert} is marked CA:TRUE (openssl's stock settings make a self-signed "
                "certificate so): the new one is a server certificate (CA:FALSE, serverAuth), "
                "as clients require",
            )
        )
    for name in old.subject_alt_names.dns:
        try:
            _, canonical = classify(name)
        except ValueError:
            continue  # refused as the request is built, naming it
        if canonical != name:
            why = "ends in a dot" if name.endswith(".") else "has capitals"
            changed.append(
                Notice(
                    "",
                    f"its SAN name {name!r} {why}: the new one names {canonical} "
                    "(the form clients ask for)",
                )
            )
    return changed


_FORMS = {"der": "DER", "pkcs7": "PKCS#7", "pkcs12": "PKCS#12"}


def _beside(cert: Path, stem: Path, form: str, notices: list[Notice]) -> Path:
    """Where the PEM certificate renewing a binary one goes: said, so nobody looks for it."""
    new = Path(f"{stem}.crt")
    if new == cert:
        new = Path(f"{stem}.pem")
    notices.append(
        Notice("", f"{cert} is {_FORMS[form]}: the new certificate is PEM, in {new} ({cert} stays)")
    )
    return new


def _never_over_the_key(plan: generate.Plan | IssuePlan, key: Path) -> None:
    """--same-key reads the key it certifies: no output may land on it, even with --force."""
    for output in plan.outputs():
        if _same_file(output.path, key):
            raise InvalidInputError(
                f"{output.path} is the key the new certificate is for; --same-key reads it "
                "and never writes it (even with --force): give another file name",
                field="out" if output.field == "out" else None,
            )


def _same_file(one: Path, other: Path) -> bool:
    """The same file: by resolved path, or the same inode (a hard link)."""
    try:
        return one.resolve() == other.resolve() or (
            one.exists() and other.exists() and one.samefile(other)
        )
    except (OSError, RuntimeError):  # a symlink loop: check_outputs names it
        return False


def _mode(asked: Asked, old: ParsedCertificate, notices: list[Notice]) -> Mode:
    if asked.csr and asked.ca_dir is not None:
        raise InvalidInputError("choose one: a CSR for a CA, or the company CA in --ca-dir")
    if asked.ca_dir is not None:
        return "ca"
    if asked.csr:
        return "csr"
    if old.self_signed:
        return "selfsigned"
    issuer = old.names_text(issuer=True) or "its CA"
    notices.append(
        Notice(
            "",
            f"{asked.cert} was issued by {issuer}: only that CA can issue it again, so this "
            "makes a new key and a CSR to send it (--ca-dir DIR if it is your company CA)",
        )
    )
    return "csr"


def _key_path(asked: Asked) -> Path:
    """The key beside the certificate: --key, else the certificate's name with .key."""
    if asked.key is not None:
        return asked.key
    return Path(f"{stem_of(asked.cert)}.key")


def _check_same_key(key: Path, cert: Path, loaded: Loaded, old: ParsedCertificate) -> None:
    """The key to certify again exists, is unencrypted and is the old certificate's."""
    if not key.is_file():
        opened = loaded.opened
        if opened is not None and opened.keys:
            copy = keyfindings.p12_key_copy(opened, cert, key)
            raise InvalidInputError(
                f"{key} does not exist: the key is inside {cert}, and openssl certifies a key "
                f"file. Write it out, only you can read it: {copy}; then renew again (the "
                "server's console needs that key file too)",
                field="same_key",
                joiner=": ",
            )
        raise InvalidInputError(
            f"{key} does not exist: give the certificate's key with --key",
            field="same_key",
            joiner=": ",
        )
    keys = pem.private_keys(files.read_input(key, "a key file"))
    if not keys:
        raise InvalidInputError(f"{key} holds no PEM private key", field="key", joiner=": ")
    if keys[0].encrypted:
        raise InvalidInputError(
            f"{key} is passphrase-protected; a server key must not be (write an unencrypted "
            "copy first: flow-ssl check prints the command)",
            field="key",
        )
    # The key against the certificate as read (from a .pfx, a .p7b or DER too), on stdin.
    matched = keymatch.key_matches(
        keys[0], old.der, passin=None, key_name=str(key), cert_name=str(cert)
    )
    if matched.status != "pass":  # the finding's words: another key, or a damaged one
        raise InvalidInputError(matched.message, field="key", joiner=": ")


def _request(
    old: ParsedCertificate, asked: Asked, mode: Mode, notices: list[Notice]
) -> CertRequest:
    """The old subject and names as a request (days and key for the new certificate)."""
    san = old.subject_alt_names
    others = [*(f"email:{value}" for value in san.email), *(f"URI:{value}" for value in san.uri)]
    if others:
        raise InvalidInputError(
            f"{asked.cert} also names {', '.join(others)} in its SAN, which flow-ssl does not "
            "write (it certifies host names and IPs); it drops no name: make the new request "
            "with openssl itself"
        )
    names = [*san.dns, *san.ip]
    days = asked.days or (LEAF_DAYS if mode == "ca" else DEFAULT_DAYS)
    try:
        request = CertRequest(
            subject=carried_subject(old, asked.cert, names, notices, use_subj=asked.use_subj),
            names=tuple(names),
            key=_key_spec(old, asked, notices),
            days=days,
        )
    except ValidationError as exc:
        raise _not_carried(exc, asked.cert) from None
    return request


# What the old certificate holds that a request field validates (never a renew option).
_OLD_PARTS = {
    "names": "SAN",
    "common_name": "CN",
    "email": "emailAddress",
    "country": "C",
    "state": "ST",
    "locality": "L",
    "organization": "O",
    "organizational_unit": "OU",
}


def _not_carried(exc: ValidationError, cert: Path) -> InvalidInputError:
    """A value of the old certificate the new request refuses, said as the certificate's."""
    refused = inputs.validation_error(exc)
    location = [str(part) for part in exc.errors()[0]["loc"]]
    if not location or location[0] not in {"names", "subject"}:
        return refused  # --days, --key: the operator's own options
    part = _OLD_PARTS.get(location[-1] if location[0] == "subject" else "names", location[-1])
    return InvalidInputError(
        f"{cert}: its {part} cannot be carried over: {refused.message}. flow-ssl drops no "
        "name: make the new request with openssl itself, or with flow-ssl csr/selfsigned"
    )


def _key_spec(old: ParsedCertificate, asked: Asked, notices: list[Notice]) -> KeySpec:
    """The old key's type, if flow-ssl makes it; else the default (said so)."""
    key = old.public_key
    name = f"rsa:{key.bits}" if key.algorithm == "rsa" else f"ec:{key.curve}"
    if name in KEY_NAMES:
        return KeySpec.model_validate({"name": name})
    if asked.same_key:
        raise InvalidInputError(
            f"the old key is {key.algorithm} {key.curve or key.bits}: flow-ssl certifies RSA "
            "2048+ and EC P-256/P-384 keys only; renew with a new key",
            field="same_key",
            joiner=": ",
        )
    notices.append(
        Notice(
            "", f"the old key is {key.algorithm} {key.curve or key.bits}: the new one is rsa:2048"
        )
    )
    return KeySpec()
