"""
The subject, as openssl's prompts ask it and as ``-subj`` gives it: one set of rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flow_ssl.core.errors import InvalidInputError
from flow_ssl.core.models import CARRIED_TYPES_OPENSSL_ONLY
from flow_ssl.openssl.commands.base import Arg, Prompt

if TYPE_CHECKING:
    from flow_ssl.core.models import Subject

# Labels of the stock openssl.cnf prompts (1.0.2 to 3.x, Debian, LibreSSL), matched
# by text rather than position: after a re-prompt, counting would shift every answer.
SUBJECT_PROMPTS: tuple[tuple[str, str], ...] = (
    ("country", r"^Country Name"),
    ("state", r"^State or Province Name"),
    ("locality", r"^Locality Name"),
    ("organization", r"^Organization Name"),
    ("organizational_unit", r"^Organizational Unit Name"),
    ("common_name", r"^Common Name"),
    ("email", r"^Email Address"),
)
# Asked only for a CSR (by the stock config). Answered '.', left blank: no challenge
# password is sent to the CA (it would travel in the clear), no company name added.
CSR_EXTRA_PROMPTS: tuple[tuple[str, str], ...] = (
    ("challenge_password", r"challenge password"),
    ("company_name", r"optional company name"),
)
BLANK_ANSWER = "."


def escape_subj_value(value: str) -> str:
    """
    Escape one value for openssl's ``-subj /type=value/...`` syntax.

    ``\\`` first, then ``/`` (the separator) and ``+`` (a multi-valued RDN in 3.x,
    literal in 1.x; escaped it is literal everywhere). ``=`` after the first and
    ``, ; " # < >`` are literal in -subj.
    """
    return value.replace("\\", "\\\\").replace("/", "\\/").replace("+", "\\+")


def format_subj(subject: Subject) -> str:
    """The whole ``-subj`` argument, in prompt order, blanks left out."""
    return "".join(f"/{kind}={escape_subj_value(value)}" for kind, value in subject.attributes())


def subject_prompts(subject: Subject, *, csr: bool) -> tuple[Prompt, ...]:
    """
    The answers for openssl's DN prompts, and with ``csr`` a CSR's extra attributes.

    ``csr`` only where the stock config asks for them: flow-ssl's own config
    (commands.config) asks for no extra attributes.

    Raises:
        InvalidInputError: the subject is an old one to carry exactly, which the seven
            questions cannot give (about the field ``subj``).
    """
    if subject.exact is not None:
        raise InvalidInputError(
            "is needed: openssl's questions cannot give this subject exactly", field="subj"
        )
    prompts = [
        Prompt(name, label, getattr(subject, name) or BLANK_ANSWER)
        for name, label in SUBJECT_PROMPTS
    ]
    if csr:
        prompts += [Prompt(name, label, BLANK_ANSWER) for name, label in CSR_EXTRA_PROMPTS]
    return tuple(prompts)


def subject_args(subject: Subject) -> list[Arg]:
    """``-subj`` (and ``-utf8`` for non-ASCII values): the subject without prompts."""
    subj = format_subj(subject)
    sources = (
        (("subj", subj),)  # an old subject carried whole: no option gave its values
        if subject.exact is not None
        else tuple(
            (name, value)
            for name, _ in SUBJECT_PROMPTS
            if (value := getattr(subject, name, None)) is not None
        )
    )
    args = [Arg(("-subj", subj), "the subject, instead of the questions", sources)]
    if not subject.is_ascii():
        args.append(utf8_arg())
    return args


def subject_needs(subject: Subject) -> tuple[str, ...]:
    """The openssl features giving this subject needs (attribute names LibreSSL lacks)."""
    kinds = {kind for kind, _ in subject.attributes()}
    return ("subj-ev-names",) if kinds & CARRIED_TYPES_OPENSSL_ONLY else ()


def utf8_arg() -> Arg:
    """``-utf8``: without it openssl reads input as Latin-1 and double-encodes UTF-8."""
    return Arg(("-utf8",), "read the subject as UTF-8, so non-ASCII values arrive intact")
