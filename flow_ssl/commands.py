"""
Pure builders: a request becomes a Command (argv plus the prompts it will ask).

What is shown to the operator is rendered from the same argv that runs, so the
line on screen is the line that runs. Nothing here executes, reads or prints.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from flow_ssl.models import CertRequest, KeySpec, SanEntry, Subject

Shell = Literal["posix", "powershell"]


@dataclass(frozen=True)
class Arg:
    """One option with its values, and what it means in plain words (for --explain)."""

    tokens: tuple[str, ...]
    why: str = ""


@dataclass(frozen=True)
class Prompt:
    """
    One interactive question openssl asks, recognised by its label, and our answer.

    ``answer`` is sent as typed; ``"."`` tells openssl to leave the field blank
    (an empty line would take the config's default, such as ``AU``).
    """

    field: str
    label: str
    answer: str

    @property
    def display(self) -> str:
        """The question as a person reads it."""
        return self.label.strip("^").capitalize()

    def matches(self, label: str) -> bool:
        """Whether a label openssl printed is this question."""
        return re.search(self.label, label, re.IGNORECASE) is not None


@dataclass(frozen=True)
class Command:
    """An openssl invocation as data: argv, the prompts it asks, and what it needs."""

    args: tuple[Arg, ...]
    prompts: tuple[Prompt, ...] = ()
    needs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = field(default=())

    @property
    def argv(self) -> tuple[str, ...]:
        """The exact argv, ``openssl`` first."""
        return tuple(token for arg in self.args for token in arg.tokens)

    def render(self, shell: Shell = "posix") -> str:
        """One copy-pasteable line for the given shell."""
        if shell == "powershell":
            return " ".join(powershell_quote(token) for token in self.argv)
        return shlex.join(self.argv)

    def explain(self, shell: Shell = "posix") -> list[tuple[str, str]]:
        """Each option rendered on its own, with its plain-words meaning."""
        rendered = []
        for arg in self.args:
            text = " ".join(
                powershell_quote(t) if shell == "powershell" else shlex.quote(t) for t in arg.tokens
            )
            rendered.append((text, arg.why))
        return rendered


_POWERSHELL_SAFE = re.compile(r"^[A-Za-z0-9_./:=-]+$")


def powershell_quote(token: str) -> str:
    """Quote for PowerShell: single quotes are literal there; a ' is doubled."""
    if _POWERSHELL_SAFE.match(token) and not token.startswith("@"):
        return token
    return "'" + token.replace("'", "''") + "'"


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
# Asked only for a CSR. Answered with an empty line: no challenge password is sent
# to the CA (it would travel in the clear) and no company name is added.
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
    """The answers for openssl's DN prompts (and a CSR's extra attributes)."""
    prompts = [
        Prompt(name, label, getattr(subject, name) or BLANK_ANSWER)
        for name, label in SUBJECT_PROMPTS
    ]
    if csr:
        prompts += [Prompt(name, label, "") for name, label in CSR_EXTRA_PROMPTS]
    return tuple(prompts)


def _newkey(key: KeySpec) -> tuple[Arg, ...]:
    if key.algorithm == "rsa":
        return (Arg(("-newkey", key.name), f"make a new {key.bits}-bit RSA private key"),)
    return (
        Arg(("-newkey", "ec"), "make a new elliptic-curve (EC) private key"),
        Arg(
            ("-pkeyopt", f"ec_paramgen_curve:{key.curve}"),
            f"on the NIST curve {key.curve}",
        ),
    )


def server_extensions(
    names: tuple[SanEntry, ...], *, key_algorithm: str, csr: bool = False
) -> tuple[Arg, ...]:
    """
    The -addext options that make a modern end-entity server certificate.

    Shared by selfsigned, csr, ca sign and ca issue, so every certificate
    flow-ssl makes for a server carries the same extensions.
    """
    san = ",".join(entry.openssl() for entry in names)
    args = [
        Arg(
            ("-addext", f"subjectAltName={san}"),
            "the names clients check: every name, the Common Name included "
            "(Chrome, Apple and Go ignore the Common Name)",
        )
    ]
    if csr:
        return tuple(args)
    usage = "digitalSignature,keyEncipherment" if key_algorithm == "rsa" else "digitalSignature"
    args += [
        Arg(
            ("-addext", "basicConstraints=critical,CA:FALSE"),
            "a server certificate, not a certificate authority",
        ),
        Arg(("-addext", f"keyUsage=critical,{usage}"), "what the key may be used for"),
        Arg(
            ("-addext", "extendedKeyUsage=serverAuth"),
            "for TLS servers (Apple platforms require this)",
        ),
    ]
    return tuple(args)


def build_req(
    request: CertRequest,
    *,
    keyout: str,
    out: str,
    x509: bool,
    use_subj: bool,
    openssl: str = "openssl",
) -> Command:
    """
    ``openssl req`` for a self-signed certificate (``x509``) or a CSR.

    Without ``request.literal`` this is the vendor's command followed by the
    extensions modern clients need; with it, the vendor's command verbatim.
    """
    args: list[Arg] = [Arg((openssl, "req"), "make a certificate request (or certificate)")]
    if x509:
        args.append(Arg(("-x509",), "make a self-signed certificate instead of a request"))
    else:
        args.append(Arg(("-new",), "make a new certificate signing request (CSR)"))
    args.append(
        Arg(("-nodes",), "do not encrypt the private key: the server must read it unattended")
    )
    if x509:
        args.append(Arg(("-days", str(request.days)), f"valid for {request.days} days from now"))
    args += _newkey(request.key)
    args.append(Arg(("-keyout", keyout), "write the private key here"))
    out_what = "certificate" if x509 else "request (CSR) to send to the CA"
    args.append(Arg(("-out", out), f"write the {out_what} here"))
    if use_subj:
        args.append(
            Arg(("-subj", format_subj(request.subject)), "the subject, instead of the questions")
        )
    if not request.subject.is_ascii():
        args.append(Arg(("-utf8",), "read the subject as UTF-8, so non-ASCII values arrive intact"))
    extensions: tuple[Arg, ...] = ()
    if not request.literal:
        extensions = server_extensions(
            request.names, key_algorithm=request.key.algorithm, csr=not x509
        )
        args += extensions
    return Command(
        args=tuple(args),
        prompts=() if use_subj else subject_prompts(request.subject, csr=not x509),
        needs=("-addext",) if extensions else (),
        outputs=(keyout, out),
    )


def build_x509_text(path: str, *, der: bool = False, openssl: str = "openssl") -> Command:
    """The vendor page's check: ``openssl x509 -noout -text -in FILE``."""
    args = [
        Arg((openssl, "x509"), "read a certificate"),
        Arg(("-noout",), "do not print it back as PEM"),
        Arg(("-text",), "print every field in words"),
        Arg(("-in", path), "the certificate file"),
    ]
    if der:
        args.append(Arg(("-inform", "DER"), "the file is binary DER, not PEM"))
    return Command(args=tuple(args))


def build_req_text(path: str, *, der: bool = False, openssl: str = "openssl") -> Command:
    """``openssl req -noout -text -in FILE`` for a CSR."""
    args = [
        Arg((openssl, "req"), "read a certificate signing request"),
        Arg(("-noout",), "do not print it back as PEM"),
        Arg(("-text",), "print every field in words"),
        Arg(("-in", path), "the request file"),
    ]
    if der:
        args.append(Arg(("-inform", "DER"), "the file is binary DER, not PEM"))
    return Command(args=tuple(args))


# Added to the commands flow-ssl runs for parsing (never to the one shown): a pinned
# name format, since the default changed in 3.2 (oneline -> unescaped utf8). RFC2253
# escapes ',' '+' and friends with '\', and -esc_msb keeps UTF-8 raw; it lists the
# name in reverse order, which the parser undoes.
PARSE_NAMEOPT = ("-nameopt", "RFC2253,-esc_msb")


def for_parsing(command: Command) -> Command:
    """The same command with a pinned, unambiguous name format."""
    pinned = Arg(PARSE_NAMEOPT, "print names in one fixed, escaped format (for flow-ssl's parser)")
    return Command(args=(*command.args, pinned), prompts=command.prompts)


def build_pubkey_from_key(
    path: str, *, passin: str | None = None, openssl: str = "openssl"
) -> Command:
    """``openssl pkey -pubout``: the public half of a private key, as PEM."""
    source = (
        Arg(("-passin", passin), "the key's passphrase, from this source")
        if passin
        else Arg(("-passin", "pass:"), "never wait for a passphrase (an encrypted key fails)")
    )
    return Command(
        args=(
            Arg((openssl, "pkey"), "read a private key"),
            Arg(("-in", path), "the key file"),
            Arg(("-pubout",), "print its public key"),
            source,
        )
    )


def build_pubkey_from_cert(path: str, *, openssl: str = "openssl") -> Command:
    """``openssl x509 -pubkey -noout``: a certificate's public key, as PEM."""
    return Command(
        args=(
            Arg((openssl, "x509"), "read a certificate"),
            Arg(("-in", path), "the certificate file"),
            Arg(("-pubkey",), "print its public key"),
            Arg(("-noout",), "and nothing else"),
        )
    )


def build_req_verify(path: str, *, openssl: str = "openssl") -> Command:
    """``openssl req -verify``: check a CSR's self-signature."""
    return Command(
        args=(
            Arg((openssl, "req"), "read a certificate signing request"),
            Arg(("-in", path), "the request file"),
            Arg(("-verify",), "check that it is signed by its own key"),
            Arg(("-noout",), "print nothing else"),
        )
    )


def build_storeutl_text(path: str, *, openssl: str = "openssl") -> Command:
    """``openssl storeutl -noout -text -certs FILE``: every certificate of a bundle at once."""
    return Command(
        args=(
            Arg((openssl, "storeutl"), "read every object in a file"),
            Arg(("-noout",), "do not print them back as PEM"),
            Arg(("-text",), "print every field in words"),
            Arg(("-certs",), "certificates only"),
            Arg((path,), "the bundle file"),
        )
    )


def build_crl2pkcs7(path: str, *, openssl: str = "openssl") -> Command:
    """``openssl crl2pkcs7 -nocrl -certfile FILE -outform DER``: a bundle as one PKCS#7."""
    return Command(
        args=(
            Arg((openssl, "crl2pkcs7"), "wrap certificates in one PKCS#7 structure"),
            Arg(("-nocrl",), "no revocation list"),
            Arg(("-certfile", path), "every certificate of this file, in file order"),
            Arg(("-outform", "DER"), "as binary DER"),
        )
    )


def build_cms_print(*, openssl: str = "openssl") -> Command:
    """
    ``openssl cms -cmsout -print -noout -inform DER -nameopt ...`` reading stdin.

    The one printer of many certificates that honours -nameopt: storeutl and
    pkcs7 -print_certs always print names in the legacy, ambiguous form.
    """
    return Command(
        args=(
            Arg((openssl, "cms"), "read a CMS/PKCS#7 structure"),
            Arg(("-cmsout", "-print", "-noout"), "print its fields, not its encoding"),
            Arg(("-inform", "DER"), "binary DER on stdin"),
            Arg(PARSE_NAMEOPT, "names in one fixed, escaped format"),
        )
    )


def build_verify(
    leaf: str,
    *,
    untrusted: tuple[str, ...],
    ca_file: str | None,
    purpose: str | None = "sslserver",
    openssl: str = "openssl",
) -> Command:
    """``openssl verify -purpose sslserver``: does the chain reach a trusted root?"""
    args = [Arg((openssl, "verify"), "check a certificate's chain of signatures")]
    if purpose:
        args.append(Arg(("-purpose", purpose), "as a TLS server certificate"))
    if ca_file:
        args.append(Arg(("-CAfile", ca_file), "trusting only these roots"))
    args += [
        Arg(("-untrusted", path), "intermediates to build the chain from") for path in untrusted
    ]
    args.append(Arg((leaf,), "the server certificate"))
    return Command(args=tuple(args))


def build_pubkey_from_csr(path: str, *, openssl: str = "openssl") -> Command:
    """``openssl req -pubkey -noout``: a CSR's public key, as PEM."""
    return Command(
        args=(
            Arg((openssl, "req"), "read a certificate signing request"),
            Arg(("-in", path), "the request file"),
            Arg(("-pubkey",), "print its public key"),
            Arg(("-noout",), "and nothing else"),
        )
    )


# --- a company CA -------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """
    The CA that signs: its files, the serial it gives next, and its digest.

    ``passin`` is an openssl pass source (``env:VAR`` or ``file:PATH``), never
    the passphrase itself.
    """

    cert: str
    key: str
    config: str
    serial: str
    digest: str = "sha256"
    passin: str | None = None


def _signer_args(signer: Signer, *, section: str, days: int) -> list[Arg]:
    args = [
        Arg(("-CA", signer.cert), "sign with this CA certificate"),
        Arg(("-CAkey", signer.key), "and the CA's private key (it stays in the CA folder)"),
    ]
    if signer.passin:
        args.append(Arg(("-passin", signer.passin), "the CA key's passphrase, from this source"))
    args += [
        Arg(("-config", signer.config), "the CA's own settings, not the system's openssl.cnf"),
        Arg(("-extensions", section), f"the extensions of its [{section}] section"),
        Arg(("-set_serial", f"0x{signer.serial}"), "a serial number this CA has not used"),
        Arg(("-days", str(days)), f"valid for {days} days from now"),
        Arg((f"-{signer.digest}",), f"sign with {signer.digest.upper()}"),
    ]
    return args


def build_genpkey(
    key: KeySpec, out: str, *, passout: str | None = None, openssl: str = "openssl"
) -> Command:
    """``openssl genpkey``: a new private key, encrypted when a pass source is given."""
    if key.algorithm == "rsa":
        args = [
            Arg((openssl, "genpkey"), "make a new private key"),
            Arg(("-algorithm", "RSA"), "an RSA key"),
            Arg(("-pkeyopt", f"rsa_keygen_bits:{key.bits}"), f"of {key.bits} bits"),
        ]
    else:
        args = [
            Arg((openssl, "genpkey"), "make a new private key"),
            Arg(("-algorithm", "EC"), "an elliptic-curve (EC) key"),
            Arg(("-pkeyopt", f"ec_paramgen_curve:{key.curve}"), f"on the NIST curve {key.curve}"),
        ]
    if passout:
        args += [
            Arg(("-aes-256-cbc",), "encrypt the key with AES-256"),
            Arg(("-pass", passout), "with the passphrase from this source"),
        ]
    args.append(Arg(("-out", out), "write the private key here"))
    return Command(args=tuple(args), outputs=(out,))


def _subject_args(subject: Subject) -> list[Arg]:
    args = [Arg(("-subj", format_subj(subject)), "the subject")]
    if not subject.is_ascii():
        args.append(Arg(("-utf8",), "read the subject as UTF-8, so non-ASCII values arrive intact"))
    return args


def _ca_request_head(
    subject: Subject, *, key: str, config: str, passin: str | None, openssl: str, root: bool
) -> list[Arg]:
    """``openssl req`` for an existing key, the subject, and the CA's own config."""
    args = [Arg((openssl, "req"), "make a certificate" if root else "make a certificate request")]
    if root:
        args.append(Arg(("-x509",), "self-signed: this is the root everyone will trust"))
    args += [
        Arg(("-new",), "from a new request"),
        Arg(("-key", key), "for this private key"),
    ]
    if passin:
        args.append(Arg(("-passin", passin), "the key's passphrase, from this source"))
    args += _subject_args(subject)
    args.append(Arg(("-config", config), "the CA's own settings, not the system's openssl.cnf"))
    return args


def build_root_ca(
    subject: Subject,
    *,
    key: str,
    out: str,
    config: str,
    serial: str,
    days: int,
    digest: str,
    passin: str | None = None,
    openssl: str = "openssl",
) -> Command:
    """``openssl req -x509 -new -key``: a self-signed root with the [root_ca] extensions."""
    args = _ca_request_head(
        subject, key=key, config=config, passin=passin, openssl=openssl, root=True
    )
    args += [
        Arg(("-extensions", "root_ca"), "the extensions of its [root_ca] section"),
        Arg(("-set_serial", f"0x{serial}"), "a random serial number"),
        Arg(("-days", str(days)), f"valid for {days} days from now"),
        Arg((f"-{digest}",), f"sign with {digest.upper()}"),
        Arg(("-out", out), "write the certificate here"),
    ]
    return Command(args=tuple(args), outputs=(out,))


def build_ca_csr(
    subject: Subject,
    *,
    key: str,
    out: str,
    config: str,
    passin: str | None = None,
    openssl: str = "openssl",
) -> Command:
    """``openssl req -new -key``: the request an issuing CA sends to its root."""
    args = _ca_request_head(
        subject, key=key, config=config, passin=passin, openssl=openssl, root=False
    )
    args.append(Arg(("-out", out), "write the request here"))
    return Command(args=tuple(args), outputs=(out,))


def build_sign_csr(
    csr: str,
    *,
    out: str,
    signer: Signer,
    section: str,
    days: int,
    extra: tuple[Arg, ...] = (),
    openssl: str = "openssl",
) -> Command:
    """
    ``openssl req -in CSR -CA ... -CAkey ...``: the CA signs a request.

    ``-copy_extensions none``: nothing the request asks for is copied (a CSR
    asking for CA:TRUE must not get it); the extensions are the section's
    plus ``extra``.
    """
    args = [
        Arg((openssl, "req"), "read a certificate request"),
        Arg(("-in", csr), "this one"),
        *_signer_args(signer, section=section, days=days),
        Arg(("-copy_extensions", "none"), "copy none of the extensions the request asks for"),
        *extra,
        Arg(("-out", out), "write the certificate here"),
    ]
    return Command(args=tuple(args), needs=("-CA",), outputs=(out,))


def with_signer(command: Command, signer: Signer, *, days: int) -> Command:
    """A ``req -x509`` key + certificate command, signed by a CA instead of by itself."""
    args = [arg for arg in command.args if arg.tokens[0] != "-days"]
    out_at = next(i for i, arg in enumerate(args) if arg.tokens[0] == "-out")
    args[out_at:out_at] = _signer_args(signer, section="server", days=days)
    return Command(
        args=tuple(args),
        prompts=command.prompts,
        needs=(*command.needs, "-CA"),
        outputs=command.outputs,
    )


def build_s_client(connect: str, *, servername: str | None, openssl: str = "openssl") -> Command:
    """``openssl s_client -connect ADDR:PORT -servername HOST -showcerts``: what a server sends."""
    args = [
        Arg((openssl, "s_client"), "connect as a TLS client"),
        Arg(("-connect", connect), "to this address and port"),
    ]
    if servername:
        args.append(Arg(("-servername", servername), "asking for this name (SNI)"))
    args.append(Arg(("-showcerts",), "print every certificate the server sends, in order"))
    return Command(args=tuple(args))
