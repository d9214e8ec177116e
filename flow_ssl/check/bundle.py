"""
``bundle``: the one file a server installs, leaf first then each issuer, as PEM or PKCS#12.

The order is found from the certificates themselves (issuer names and key ids),
whatever order the files came in and whatever their form (PEM, DER, PKCS#7,
PKCS#12); the root is left out unless asked for. A chain clients refuse (an issuer
expired, no CA, or not allowed to issue) is found before anything is written. The
PKCS#12 is made by openssl, then read back with openssl: every certificate and the
key must be the ones meant, or nothing is written. Its key is the one given, else
the one in the certificate's own file: a combined PEM is given to openssl as it is, a
PKCS#12's key is written by openssl into the private staging folder, and removed with
it. A PEM bundle holds certificates only: the key in the certificate's file is written
apart, unencrypted and 0600, when asked (``key_out``), by openssl.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl import files
from flow_ssl.check.keyfindings import readable
from flow_ssl.check.pending import waiting_key
from flow_ssl.check.readiness import certificates, planned_reads, read_certificates
from flow_ssl.core.errors import CheckFailedError, InvalidInputError
from flow_ssl.core.findings import finding, refuse_failures
from flow_ssl.core.install_checks import refused_anyway, unusable_issuer
from flow_ssl.core.issuers import Issuers
from flow_ssl.make.perform import perform
from flow_ssl.make.run import check_outputs, marked_key_note
from flow_ssl.openssl import keymatch, runner, verify
from flow_ssl.openssl.commands import pkcs12
from flow_ssl.openssl.commands import read as commands
from flow_ssl.openssl.commands.base import scratch
from flow_ssl.openssl.pass_source import non_ascii
from flow_ssl.openssl.read import keys, p12, pem, reader
from flow_ssl.openssl.script.render import openssl_for_print
from flow_ssl.openssl.script.steps import Chmod, Note, Step, WriteFile

if TYPE_CHECKING:
    from flow_ssl.check.readiness import Read
    from flow_ssl.core.models import Finding, ParsedCertificate
    from flow_ssl.openssl.features import OpenSSL

# Where a PKCS#12's key comes from: a PEM file holding it (--key, or a combined
# certificate file), or the PKCS#12 the certificate came in.
KeySource = Path | p12.Opened


def key_source(main: Read, key: Path | None) -> KeySource:
    """
    The key to put in a PKCS#12: ``key``, else the one in the certificate's file, else the
    key a renewal left waiting beside it (``NAME.next.key``) that is the leaf's.

    Raises:
        InvalidInputError: none gives a key (about the field ``key``).
    """
    if key is not None:
        return key
    if main.loaded.keys:
        return main.loaded.path
    if main.loaded.opened is not None and main.loaded.opened.keys:
        return main.loaded.opened
    waiting = waiting_key(main.loaded.path, main.certificates[0])
    if waiting is not None:
        return waiting
    raise InvalidInputError(
        f"is needed: {main.loaded.path} holds no private key to put in the PKCS#12, and "
        "no key beside it is its key",
        field="key",
    )


def planned(
    cert: Path,
    chain: tuple[Path, ...],
    *,
    target: Path,
    p12: Path | None,
    key: Path | None,
    passout: str | None,
    legacy: bool,
    include_root: bool,
    key_out: Path | None = None,
) -> tuple[Bundle, list[Step]]:
    """
    The bundle, and the steps ``bundle`` takes for it (``--print``): each file read, then
    the PEM flow-ssl writes (and the key apart) or openssl's PKCS#12.
    """
    steps: list[Step] = [
        *planned_reads((cert, *chain), passin=passout),
        Note("then flow-ssl orders the leaf, then each issuer (by name and key id)"),
    ]
    main = read_certificates(cert, passin=passout)
    bundle = build_bundle(main, chain, include_root=include_root, passin=passout)
    if p12 is None or passout is None:
        steps += [
            Note(f"and writes them to {target} as PEM"),
            WriteFile(str(target), bundle.pem(), "out"),
        ]
        if key_out is not None:
            steps += key_out_steps(main, key_out, passin=passout)
        return bundle, steps
    source = key_source(main, key)
    refuse_byte_wise_passphrase(openssl_for_print(), passout)
    return bundle, steps + p12_steps(
        bundle.certificates, key=source, out=p12, passout=passout, legacy=legacy
    )


@dataclass(frozen=True)
class Bundle:
    """
    The leaf and its issuers in order (the root too only when asked for), the
    certificates given that are on no path from the leaf, and every issuer found.
    """

    certificates: list[ParsedCertificate]
    left_out: list[ParsedCertificate] = field(default_factory=list)
    issuers: list[ParsedCertificate] = field(default_factory=list)

    def refused(self, now: datetime | None = None) -> str | None:
        """
        Why clients refuse this chain whatever roots they trust: an issuer that cannot issue,
        or a certificate holding what some client refuses (a critical extension, a name).
        """
        return unusable_issuer(self.issuers, now or datetime.now(timezone.utc)) or refused_anyway(
            [self.certificates[0], *self.issuers]
        )

    def pem(self) -> str:
        """The bundle as PEM, leaf first."""
        return "".join(reader.to_pem(c.der) for c in self.certificates)


def build_bundle(
    main: Read, chain: tuple[Path, ...], *, include_root: bool, passin: str | None = None
) -> Bundle:
    """
    Order leaf + issuers from any mix of files.

    ``main`` is the certificate's file (its first certificate is the leaf); ``passin``
    opens a chain file that is a PKCS#12.

    Raises:
        CheckFailedError: no given certificate issued the leaf.
    """
    leaf = main.certificates[0]
    pool: dict[str, ParsedCertificate] = {}
    chained = (c for path in chain for c in certificates(path, passin=passin))
    for candidate in [*main.certificates[1:], *chained]:
        if candidate.sha256_fingerprint != leaf.sha256_fingerprint:
            pool.setdefault(candidate.sha256_fingerprint or "", candidate)
    ordered = Issuers(pool.values()).chain_from(leaf)
    if pool and len(ordered) == 1:
        issuer = leaf.names_text(issuer=True)
        raise CheckFailedError(
            "none of the chain certificates issued the leaf; nothing was written",
            hint=f"the leaf's issuer is {issuer}",
        )
    taken = {c.sha256_fingerprint for c in ordered}
    left_out = [c for c in pool.values() if c.sha256_fingerprint not in taken]
    issuers = ordered[1:]
    if ordered[-1].self_signed and len(ordered) > 1 and not include_root:
        ordered.pop()  # on purpose, not "left out": servers should not send their root
    return Bundle(ordered, left_out, issuers)


def key_out_block(main: Read) -> tuple[pem.KeyBlock, str] | None:
    """
    The key in the certificate's own file (a combined PEM, a PKCS#12) and where it is,
    or None: what a PEM bundle leaves out.

    Raises:
        InvalidInputError: a PKCS#12 whose key openssl cannot read.
    """
    loaded = main.loaded
    if loaded.keys:
        return loaded.keys[0], str(loaded.path)
    if loaded.opened is not None and loaded.opened.keys:
        keys = p12.private_keys(loaded.opened)
        if keys:
            return keys[0], str(loaded.path)
    return None


def _key_out_source(
    block: pem.KeyBlock, where: str, leaf: ParsedCertificate, passin: str | None
) -> None:
    """
    The key to write apart: readable with ``passin`` when encrypted, and the leaf's.

    Raises:
        InvalidInputError: an encrypted key and no passphrase source (about ``pass``), or
            a key that is not the leaf's.
    """
    if block.encrypted and passin is None:
        raise InvalidInputError(
            f"is needed: the key in {where} is passphrase-protected, and the key file is "
            "written without one (the console needs it so)",
            field="pass",
        )
    matched = keymatch.key_matches(
        block,
        leaf.der,
        passin=passin if block.encrypted else None,
        key_name=where,
        cert_name="its leaf",
    )
    if matched.status != "pass":  # the finding's words: another key, or a damaged one
        raise InvalidInputError(matched.message)


def write_bundle(
    bundle: Bundle,
    out: Path,
    *,
    force: bool,
    key_out: Path | None = None,
    key: tuple[pem.KeyBlock, str] | None = None,
    passin: str | None = None,
) -> list[tuple[Path, Path]]:
    """
    The combined PEM file, leaf first, and (``key_out``) the key of the certificate's file
    apart, unencrypted and 0600, written by openssl; both put in place together. Returns
    the backups kept of replaced files.

    Raises:
        InvalidInputError: the key is encrypted without ``passin``, or not the leaf's.
    """
    outputs = [files.Output(out, field="out")]
    if key_out is not None:
        outputs.append(files.Output(key_out, secret=True, field="key_out"))
    check_outputs(outputs, force=force)
    if key_out is not None and key is not None:
        _key_out_source(*key, bundle.certificates[0], passin)
    kept: list[tuple[Path, Path]] = []
    with files.staged(outputs, kept) as staged:
        files.write_staged(staged[0], bundle.pem().encode("ascii"))
        if key_out is not None and key is not None:
            block, _ = key
            secret = passin if block.encrypted else None
            runner.run(
                commands.build_key_out_stdin(out=str(staged[1]), passin=secret), stdin=block.text
            )
            files.require_written([(staged[1], key_out)])
    return kept


def key_out_steps(main: Read, key_out: Path, *, passin: str | None) -> list[Step]:
    """
    What writes the key of the certificate's file apart (``--print``): openssl, as a run
    does; from a PKCS#12 through the script's private scratch folder.
    """
    loaded = main.loaded
    if loaded.opened is not None:
        opened = loaded.opened
        inside = scratch("key.pem")
        return [
            pkcs12.build_p12_key_out(
                str(loaded.path), passin=opened.passin, legacy=opened.legacy, out=inside
            ),
            Chmod(inside),
            commands.build_key_decrypted(inside, out=str(key_out)),
            Chmod(str(key_out), field="key_out"),
        ]
    encrypted = bool(loaded.keys and loaded.keys[0].encrypted)
    return [
        commands.build_key_decrypted(
            str(loaded.path), out=str(key_out), passin=passin if encrypted else None
        ),
        Chmod(str(key_out), field="key_out"),
    ]


def p12_steps(
    bundle: list[ParsedCertificate],
    *,
    key: KeySource,
    out: Path,
    passout: str,
    legacy: bool,
    folder: Path | None = None,
) -> list[Step]:
    """
    The leaf and chain as PEM files (a PKCS#12's key too) in ``folder``, or in the printed
    script's scratch folder, then ``openssl pkcs12 -export``; a script then makes the file
    0600, as a run does.
    """
    leaf_file, chain_file = _inputs(folder, out)
    steps: list[Step] = [WriteFile(leaf_file, reader.to_pem(bundle[0].der))]
    if len(bundle) > 1:
        steps.append(WriteFile(chain_file, "".join(reader.to_pem(c.der) for c in bundle[1:])))
    key_file = _key_file(key, folder, out)
    if isinstance(key, p12.Opened):
        steps += [
            pkcs12.build_p12_key_out(
                key.source, passin=key.passin, legacy=key.legacy, out=key_file
            ),
            Chmod(key_file),
        ]
    elif folder is not None:  # a run: the key block as flow-ssl read it (see _key_file)
        steps.append(WriteFile(key_file, _key_block(key)))
    else:
        steps += marked_key_note(key)
    name = bundle[0].subject_value("CN") or out.stem
    steps.append(
        pkcs12.build_p12_export(
            key=key_file,
            leaf=leaf_file,
            chain=chain_file if len(bundle) > 1 else None,
            name=name,
            passout=passout,
            out=str(out),
            legacy=legacy,
        )
    )
    if folder is None:
        steps.append(Chmod(str(out)))
    return steps


def _key_file(key: KeySource, folder: Path | None, out: Path) -> str:
    """
    The key file ``pkcs12 -export`` reads: a run's private copy of the key (a PEM file's
    key block as flow-ssl framed it, or a PKCS#12's key written out), never the file
    given, which may start with a UTF-8 byte-order mark OpenSSL 1.1.1 and LibreSSL
    cannot read past; a printed script's names the PEM file given.
    """
    if folder is not None:
        return str(folder / f"{out.name}.key.pem")
    return str(key) if isinstance(key, Path) else scratch("key.pem")


def _key_block(key: Path) -> str:
    """
    The first private key block of a PEM file (the one openssl reads), as text.

    Raises:
        InvalidInputError: the file holds none.
    """
    blocks = pem.private_keys(files.read_input(key, "a key file"))
    if not blocks:
        raise InvalidInputError(f"{key} is not a PEM private key", field="key")
    return blocks[0].text.decode("ascii", errors="replace")


def _inputs(folder: Path | None, out: Path) -> tuple[str, str]:
    """The leaf and chain PEM files ``openssl pkcs12`` reads: in ``folder``, or the scratch one."""
    if folder is None:
        return scratch("leaf.pem"), scratch("chain.pem")
    return str(folder / f"{out.name}.leaf.pem"), str(folder / f"{out.name}.chain.pem")


def write_p12(
    bundle: list[ParsedCertificate],
    *,
    key: KeySource,
    out: Path,
    passout: str,
    legacy: bool,
    force: bool,
) -> list[tuple[Path, Path]]:
    """
    Make the PKCS#12 (0600), read it back, and put it in place; returns the backup kept.

    Raises:
        InvalidInputError: the key is missing, encrypted, or not the leaf's.
        CheckFailedError: what openssl wrote is not the key and certificates meant.
    """
    if isinstance(key, Path):
        _check_key(key, field=None if str(key) == bundle[0].source else "key")
        readable(keys.key_algorithm(key.read_bytes()))  # _check_key read it: a key file
    readable(bundle[0].public_key.algorithm)
    refuse_byte_wise_passphrase(runner.find_openssl(), passout)
    kept: list[tuple[Path, Path]] = []
    check_outputs([files.Output(out, secret=True)], force=force)
    with files.staged([files.Output(out, secret=True)], kept) as (staged,):
        *prepare, export = p12_steps(
            bundle, key=key, out=staged, passout=passout, legacy=legacy, folder=staged.parent
        )
        # A full disk names the file asked for, never the staging files that go into it.
        perform(prepare, shown=lambda _staging: str(out))
        leaf_file = Path(_inputs(staged.parent, staged)[0])
        key_file = Path(_key_file(key, staged.parent, staged))
        if isinstance(key, p12.Opened):  # openssl wrote it, and may exit 0 on a full disk
            files.require_written([(key_file, out)])
        if verify.key_matches_cert(key_file, leaf_file).status != "pass":
            if isinstance(key, Path):
                raise InvalidInputError(f"{key} is not the key of {bundle[0].source}", field="key")
            raise InvalidInputError(f"the key in {key.source} is not the key of its leaf")
        perform([export])
        files.require_written([(staged, out)])
        refuse_failures(
            [
                _certificates_inside(staged, bundle, passout),
                verify.p12_key_matches_cert(staged, leaf_file, passin=passout),
            ],
            f"the PKCS#12 file {out}",
        )
    return kept


def refuse_byte_wise_passphrase(binary: OpenSSL, passout: str) -> None:
    """
    Refuse to make a PKCS#12 no other reader opens: LibreSSL takes a non-ASCII passphrase
    (``Zürich``) byte by byte where PKCS#12 wants it as UTF-16, so neither OpenSSL nor
    Python's cryptography opens its file (measured; Windows and Java read it as OpenSSL).

    Raises:
        OpenSSLTooOldError: LibreSSL and a non-ASCII passphrase, naming the build.
    """
    if binary.flavour == "LibreSSL" and non_ascii(passout):
        raise binary.cannot(
            f"make a PKCS#12 that other readers open with the non-ASCII passphrase in "
            f"{passout}: it encodes each of its UTF-8 bytes as a character, where OpenSSL, "
            "Windows, Java and Python's cryptography take the characters themselves; give an "
            "ASCII passphrase"
        )


def _check_key(key: Path, *, field: str | None) -> None:
    try:
        text = files.read_input(key, "a key file").decode("ascii", errors="replace")
    except InvalidInputError as exc:
        raise InvalidInputError(exc.message, field=field) from None
    if reader.is_encrypted_key(text):
        raise InvalidInputError(
            f"{key} is passphrase-protected; write an unencrypted copy first (flow-ssl check "
            "prints the openssl command)",
            field=field,
        )
    if "PRIVATE KEY-----" not in text:
        raise InvalidInputError(f"{key} is not a PEM private key", field=field)


def _certificates_inside(staged: Path, bundle: list[ParsedCertificate], passin: str) -> Finding:
    """``certificates``: the file holds the bundle's certificates, the leaf first."""
    printed = runner.run(pkcs12.build_p12_certificates(str(staged), passin=passin)).data
    found = [reader.fingerprint(item.der) for item in pem.frame(printed, str(staged)).items]
    wanted = [reader.fingerprint(cert.der) for cert in bundle]
    return finding(
        "certificates",
        sorted(found) == sorted(wanted) and found[:1] == wanted[:1],
        f"{len(found)} certificate(s), the leaf first",
        f"holds {len(found)} certificate(s), not the {len(wanted)} meant",
    )
