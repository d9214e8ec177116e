"""
``renew``: the old certificate's subject, whole, as the new request's.

In openssl's seven questions where they can say it exactly; else (an attribute
repeated or of another type, another order, a value the questions would change)
exactly as it was, given with ``-subj``. Nothing is dropped or changed unsaid: a
subject neither can give again is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from pydantic import ValidationError

from flow_ssl.core.errors import InvalidInputError
from flow_ssl.core.models import Notice, Subject, check_carried
from flow_ssl.core.names import classify
from flow_ssl.openssl.read import x509

if TYPE_CHECKING:
    from pathlib import Path

    from flow_ssl.core.models import ParsedCertificate

# The subject attributes openssl asks for (the request's seven fields), as it names them,
# in the order it asks them.
_FIELDS = {
    "C": "country",
    "ST": "state",
    "L": "locality",
    "O": "organization",
    "OU": "organizational_unit",
    "CN": "common_name",
    "emailAddress": "email",
}


def carried_subject(
    old: ParsedCertificate, cert: Path, names: list[str], notices: list[Notice], *, use_subj: bool
) -> Subject:
    """
    The old subject as the new request's (a CN that is no host name replaced, said so).

    Raises:
        InvalidInputError: no host name to renew for; a subject only -subj can give,
            without ``use_subj`` (about the field ``subj``); or one -subj cannot give either.
    """
    pairs = [(attribute.type, attribute.value) for attribute in old.subject]
    _host_cn(pairs, cert, names, notices)
    _check_layout(old, cert)
    if any("\ufffd" in value for _, value in pairs):  # bytes no decoder takes (1.1.1 reads on)
        _cannot_carry(cert, "a value that does not decode as text")
    _check_types(pairs, cert)  # before --subj is advised: it must be able to give them
    fields: dict[str, str] = {}
    for kind, value in pairs:
        name = _FIELDS.get(kind)
        if name is not None and name not in fields:
            fields[name] = value
    kinds = [kind for kind, _ in pairs]
    asks = [kind for kind in _FIELDS if _FIELDS[kind] in fields]
    if kinds == asks:
        try:
            plain = Subject(**fields)
        except ValidationError as exc:
            error = exc.errors()[0]
            kind = next(k for k, name in _FIELDS.items() if name == error["loc"][0])
            reason = f"its {kind}: {str(error['msg']).removeprefix('Value error, ')}"
        else:
            if plain.attributes() == pairs:
                return plain
            reason = "openssl's questions would change " + ", ".join(
                f"{kind}={was!r} to {now!r}"
                for (kind, was), (_, now) in zip(pairs, plain.attributes(), strict=True)
                if was != now
            )
    else:
        beyond = _beyond_prompts(pairs)
        reason = (
            f"its subject holds {', '.join(beyond)}, which openssl's questions cannot give"
            if beyond
            else f"openssl's questions give {', '.join(asks)} in this order, its subject "
            f"holds {', '.join(kinds)}"
        )
    if not use_subj:
        raise InvalidInputError(
            f"is needed to renew {cert}: {reason}; with --subj the whole subject is "
            "carried as it is",
            field="subj",
        )
    return Subject(common_name=fields["common_name"], exact=tuple(pairs))


def _beyond_prompts(pairs: list[tuple[str, str]]) -> list[str]:
    """The attributes openssl's questions cannot give: repeated ones, other types."""
    seen: set[str] = set()
    beyond = []
    for kind, value in pairs:
        if kind not in _FIELDS:
            beyond.append(f"{kind}={value}")
        elif kind in seen:
            beyond.append(f"a second {kind} ({kind}={value})")
        seen.add(kind)
    return beyond


def _host_cn(
    pairs: list[tuple[str, str]], cert: Path, names: list[str], notices: list[Notice]
) -> None:
    """The CN must be a host name: else the first name of the SAN takes its place (said so)."""
    at = next((i for i, (kind, _) in enumerate(pairs) if kind == "CN"), None)
    if at is not None and _is_host(pairs[at][1]):
        return
    if not names:
        raise InvalidInputError(f"{cert} names no host: neither its CN nor its SAN")
    if at is None:
        notices.append(Notice("", f"{cert} has no CN: the new one has CN={names[0]}"))
        # Where openssl asks it: before the e-mail address, if any; else last.
        at = next((i for i, (kind, _) in enumerate(pairs) if kind == "emailAddress"), len(pairs))
        pairs.insert(at, ("CN", names[0]))
        return
    notices.append(
        Notice("", f"its CN {pairs[at][1]!r} is not a host name: the new CN is {names[0]}")
    )
    pairs[at] = ("CN", names[0])


def _check_layout(old: ParsedCertificate, cert: Path) -> None:
    """
    Refuse a subject built in a way flow-ssl cannot build again (rather than change it).
    A value that is not text never gets here: the reader refuses it (Go does).

    Raises:
        InvalidInputError: a multi-valued RDN.
    """
    rdns = x509.subject_layout(old.der)
    if len(set(rdns)) != len(rdns):
        _cannot_carry(cert, "a multi-valued RDN (several attributes in one), which flow-ssl splits")


def _check_types(pairs: list[tuple[str, str]], cert: Path) -> None:
    """Refuse an attribute -subj cannot give (rather than drop it)."""
    for kind, value in pairs:
        try:
            check_carried(kind, value)
        except ValueError as exc:
            _cannot_carry(cert, str(exc))


def _cannot_carry(cert: Path, problem: str) -> NoReturn:
    raise InvalidInputError(
        f"the subject of {cert} cannot be given again exactly: {problem}. flow-ssl drops "
        "no part of a subject: make the new request with openssl itself, or with "
        "flow-ssl csr/selfsigned and the subject you choose"
    )


def _is_host(text: str) -> bool:
    try:
        classify(text)
    except ValueError:
        return False
    return True
