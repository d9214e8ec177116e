"""
``openssl pkcs12``: a .pfx/.p12 with key, leaf and chain for Windows and Java, and reading one back.

The algorithms are always named: left to its default, 1.1.1 and LibreSSL write
RC2-40 files that OpenSSL 3 cannot read without its legacy provider, and 3.x
writes AES files that Windows Server 2016 and Java 8 cannot read. Named, the
same file comes out of every version.
"""

from __future__ import annotations

from pathlib import PurePath

from flow_ssl.openssl.commands.base import OPENSSL, Arg, Command, command

# PBES2 with AES-256 and an HMAC-SHA256 MAC: what 1.1.1, 3.x and pyca/cryptography read.
MODERN = ("AES-256-CBC", "AES-256-CBC", "sha256")
# PKCS#12 PBE with 3DES and a SHA-1 MAC: what Windows Server 2016 and Java 8 still read.
LEGACY = ("PBE-SHA1-3DES", "PBE-SHA1-3DES", "sha1")


def build_p12_export(
    *, key: str, leaf: str, chain: str | None, name: str, passout: str, out: str, legacy: bool
) -> Command:
    """``openssl pkcs12 -export``: key, leaf and chain in one file, the passphrase from a source."""
    key_pbe, cert_pbe, mac = LEGACY if legacy else MODERN
    era = "old algorithms (3DES, SHA-1) for old Windows and Java" if legacy else "AES-256, SHA-256"
    args = [
        Arg((OPENSSL, "pkcs12"), "make a PKCS#12 (.pfx/.p12) file"),
        Arg(("-export",), "from a key and certificates"),
        Arg(("-inkey", key), "the private key"),
        Arg(("-in", leaf), "the server certificate"),
    ]
    if chain:
        args.append(Arg(("-certfile", chain), "the chain that goes with it (root left out)"))
    args += [
        Arg(("-name", name), "the friendly name Windows shows"),
        Arg(("-keypbe", key_pbe, "-certpbe", cert_pbe, "-macalg", mac), f"encrypted with {era}"),
        Arg(("-passout", passout), "the passphrase, from this source (never on the line itself)"),
        Arg(("-out", out), "write it here"),
    ]
    return command(*args)


def build_p12_certificates(path: str, *, passin: str) -> Command:
    """``openssl pkcs12 -nokeys``: the certificates inside, as PEM (to read one back)."""
    return command(
        Arg((OPENSSL, "pkcs12"), "read a PKCS#12 file"),
        Arg(("-in", path), "this one"),
        Arg(("-passin", passin), "its passphrase, from this source"),
        Arg(("-nokeys",), "print its certificates only"),
    )


def build_p12_public_key(
    path: str, *, passin: str, legacy: bool = False
) -> tuple[Command, Command]:
    """``openssl pkcs12 -nocerts -nodes | openssl pkey -pubout``: the key's public half."""
    return (
        command(
            Arg((OPENSSL, "pkcs12"), "read a PKCS#12 file"),
            Arg(("-in", path), "this one"),
            Arg(("-passin", passin), "its passphrase, from this source"),
            Arg(("-nocerts", "-nodes"), "print its key (to the next command only)"),
            *_legacy(legacy),
            needs=("pkcs12 -legacy",) if legacy else (),
        ),
        command(
            Arg((OPENSSL, "pkey"), "read that key"),
            Arg(("-pubout",), "and print only its public half"),
        ),
    )


def _legacy(legacy: bool) -> list[Arg]:
    if not legacy:
        return []
    return [Arg(("-legacy",), "with the legacy provider (RC2-40, the old default)")]


def build_p12_read(*, passin: str, legacy: bool, keys: bool = False) -> Command:
    """
    ``openssl pkcs12 -info``: a PKCS#12 on stdin, its certificates (or ``keys``) as PEM.

    ``-info`` names each bag on stderr, where no value the file holds is printed: the
    count of what openssl found, to hold against what it printed on stdout (a friendly
    name is printed raw, so it can imitate a PEM block). Keys come out unencrypted, so
    they go to a pipe, never a file.
    """
    what = (
        Arg(("-nocerts", "-nodes"), "print its private key, unencrypted (into a pipe)")
        if keys
        else Arg(("-nokeys",), "print its certificates only")
    )
    return command(
        Arg((OPENSSL, "pkcs12"), "read a PKCS#12 file, from stdin"),
        Arg(("-passin", passin), "its passphrase, from this source"),
        Arg(("-info",), "name each part on stderr (to count them)"),
        what,
        *_legacy(legacy),
        needs=("pkcs12 -legacy",) if legacy else (),
    )


def build_p12_store_certificates(path: str, *, passin: str, legacy: bool) -> Command:
    """
    ``openssl storeutl -certs FILE``: the X.509 certificates of a PKCS#12, as plain PEM.

    Its own PKCS#12 reader (OpenSSL 3.0 and later) takes X.509 bags only and prints no
    friendly name: what pkcs12 printed is held against it. It takes a path, not stdin;
    a relative one that starts with a dash or holds a colon is given as ``./`` + path
    (an option, a URI scheme otherwise).
    """
    uri = path
    if not PurePath(path).is_absolute() and (path.startswith("-") or ":" in path):
        uri = f"./{path}"
    provider = Arg(
        ("-provider", "legacy", "-provider", "default"),
        "with the legacy provider (RC2-40, the old default) and the default one",
    )
    return command(
        Arg((OPENSSL, "storeutl"), "list what a file holds, with openssl's own PKCS#12 reader"),
        Arg(("-passin", passin), "its passphrase, from this source"),
        *([provider] if legacy else []),
        Arg(("-certs",), "its X.509 certificates only, as PEM"),
        Arg((uri,), "this file"),
        needs=("storeutl-pkcs12",),
    )


def build_p12_show(
    path: str, *, passin: str | None, legacy: bool, out: str | None = None
) -> Command:
    """``openssl pkcs12 -in FILE -nokeys``: the certificates of a .pfx, as PEM (or into ``out``)."""
    args = [
        Arg((OPENSSL, "pkcs12"), "read a PKCS#12 file"),
        Arg(("-in", path), "this one"),
    ]
    if passin:
        args.append(Arg(("-passin", passin), "its passphrase, from this source"))
    args += [Arg(("-nokeys",), "print its certificates only"), *_legacy(legacy)]
    if out:
        args.append(Arg(("-out", out), "as PEM, into this file"))
    return command(*args, needs=("pkcs12 -legacy",) if legacy else ())


def build_p12_key_out(path: str, *, passin: str, legacy: bool, out: str) -> Command:
    """``openssl pkcs12 -nocerts -nodes -out KEY``: the key of a .pfx, unencrypted, into ``out``."""
    return command(
        Arg((OPENSSL, "pkcs12"), "read a PKCS#12 file"),
        Arg(("-in", path), "this one"),
        Arg(("-passin", passin), "its passphrase, from this source"),
        Arg(("-nocerts", "-nodes"), "its private key only, unencrypted"),
        *_legacy(legacy),
        Arg(("-out", out), "into this file (in a private folder)"),
        needs=("pkcs12 -legacy",) if legacy else (),
    )


def build_p12_key_copy(
    path: str, *, passin: str | None, legacy: bool, out: str
) -> tuple[Command, Command]:
    """``openssl pkcs12 -nocerts -nodes | openssl pkey -out KEY``: a .pfx key, unencrypted."""
    args = [Arg((OPENSSL, "pkcs12"), "read a PKCS#12 file"), Arg(("-in", path), "this one")]
    if passin:
        args.append(Arg(("-passin", passin), "its passphrase, from this source"))
    args += [Arg(("-nocerts", "-nodes"), "its private key only, unencrypted"), *_legacy(legacy)]
    return (
        command(*args, needs=("pkcs12 -legacy",) if legacy else ()),
        command(
            Arg((OPENSSL, "pkey"), "read that key"),
            Arg(("-out", out), "and write it alone, as PEM"),
        ),
    )
