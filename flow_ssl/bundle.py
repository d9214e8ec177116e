"""
``bundle``: the one file a server installs, leaf first then each issuer, as PEM or PKCS#12.

The order is found from the certificates themselves (issuer names and key ids),
whatever order the files came in; the root is left out unless asked for. The
PKCS#12 is made by openssl, then read back with openssl: every certificate and the
key must be the ones meant, or nothing is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flow_ssl import files
from flow_ssl.core.errors import CheckFailedError, InvalidInputError
from flow_ssl.core.findings import finding, refuse_failures
from flow_ssl.openssl import reader, runner, verify
from flow_ssl.openssl.commands import pkcs12
from flow_ssl.openssl.script import Note, Step, WriteFile, perform
from flow_ssl.readiness import certificates

if TYPE_CHECKING:
    from flow_ssl.core.models import Finding, ParsedCertificate


def build_bundle(
    cert: Path, chain: tuple[Path, ...], *, include_root: bool
) -> tuple[list[ParsedCertificate], list[ParsedCertificate]]:
    """
    Order leaf + issuers from any mix of files; returns (bundle, left out).

    Raises:
        CheckFailedError: no given certificate issued the leaf.
    """
    leaf = certificates(cert)[0]
    pool: dict[str, ParsedCertificate] = {}
    for candidate in [*certificates(cert)[1:], *(c for p in chain for c in certificates(p))]:
        if candidate.sha256_fingerprint != leaf.sha256_fingerprint:
            pool.setdefault(candidate.sha256_fingerprint or "", candidate)
    ordered = [leaf]
    current = leaf
    while not current.self_signed:
        parent = next((c for c in pool.values() if c.issued(current) and c not in ordered), None)
        if parent is None:
            break
        ordered.append(parent)
        current = parent
    if pool and len(ordered) == 1:
        issuer = ", ".join(f"{a.type}={a.value}" for a in leaf.issuer or [])
        raise CheckFailedError(
            "none of the chain certificates issued the leaf; nothing was written",
            hint=f"the leaf's issuer is {issuer}",
        )
    left_out = [c for c in pool.values() if c not in ordered]
    if ordered[-1].self_signed and len(ordered) > 1 and not include_root:
        ordered.pop()  # on purpose, not "left out": servers should not send their root
    return ordered, left_out


def write_bundle(
    bundle: list[ParsedCertificate], out: Path, *, force: bool
) -> list[tuple[Path, Path]]:
    """The combined PEM file, leaf first; returns the backup kept of a replaced file."""
    kept: list[tuple[Path, Path]] = []
    text = "".join(reader.to_pem(c.der) for c in bundle)
    files.write_text(files.Output(out), text, force=force, backups=kept)
    return kept


def p12_steps(
    bundle: list[ParsedCertificate],
    *,
    key: Path,
    out: Path,
    passout: str,
    legacy: bool,
    folder: Path | None = None,
) -> list[Step]:
    """The leaf and chain as PEM files, then ``openssl pkcs12 -export`` (in ``folder``)."""
    leaf_file, chain_file = _inputs(folder or out.parent, out)
    steps: list[Step] = [WriteFile(str(leaf_file), reader.to_pem(bundle[0].der))]
    if len(bundle) > 1:
        steps.append(WriteFile(str(chain_file), "".join(reader.to_pem(c.der) for c in bundle[1:])))
    name = bundle[0].subject_value("CN") or out.stem
    steps.append(
        pkcs12.build_p12_export(
            key=str(key),
            leaf=str(leaf_file),
            chain=str(chain_file) if len(bundle) > 1 else None,
            name=name,
            passout=passout,
            out=str(out),
            legacy=legacy,
        )
    )
    if folder is None:
        steps.append(Note(f"then remove {leaf_file.name} and {chain_file.name}; keep {out} 0600"))
    return steps


def _inputs(folder: Path, out: Path) -> tuple[Path, Path]:
    """The leaf and chain PEM files that ``openssl pkcs12`` reads, beside the output."""
    return folder / f"{out.name}.leaf.pem", folder / f"{out.name}.chain.pem"


def write_p12(
    bundle: list[ParsedCertificate],
    *,
    key: Path,
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
    _check_key(key)
    kept: list[tuple[Path, Path]] = []
    files.check_outputs([files.Output(out, secret=True)], force=force)
    with files.staged([files.Output(out, secret=True)], kept) as (staged,):
        steps = p12_steps(
            bundle, key=key, out=staged, passout=passout, legacy=legacy, folder=staged.parent
        )
        perform([step for step in steps if isinstance(step, WriteFile)])
        leaf_file, _ = _inputs(staged.parent, staged)
        if verify.key_matches_cert(key, leaf_file).status != "pass":
            raise InvalidInputError(f"{key} is not the key of {bundle[0].source}", field="key")
        perform([step for step in steps if not isinstance(step, WriteFile)])
        files.require_written([(staged, out)])
        refuse_failures(
            [
                _certificates_inside(staged, bundle, passout),
                verify.p12_key_matches_cert(staged, leaf_file, passin=passout),
            ],
            f"the PKCS#12 file {out}",
        )
    return kept


def _check_key(key: Path) -> None:
    try:
        text = key.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise InvalidInputError(f"{key} cannot be read: {exc.strerror}", field="key") from None
    if reader.is_encrypted_key(text):
        raise InvalidInputError(
            f"{key} is passphrase-protected; write an unencrypted copy first (flow-ssl check "
            "prints the openssl command)",
            field="key",
        )
    if "PRIVATE KEY-----" not in text:
        raise InvalidInputError(f"{key} is not a PEM private key", field="key")


def _certificates_inside(staged: Path, bundle: list[ParsedCertificate], passin: str) -> Finding:
    """``certificates``: the file holds the bundle's certificates, the leaf first."""
    printed = runner.run(pkcs12.build_p12_certificates(str(staged), passin=passin)).data
    inside = staged.parent / "inside.pem"
    files.write_staged(inside, printed)
    found = [reader.fingerprint(item.der) for item in reader.split_file(inside)[0]]
    wanted = [reader.fingerprint(cert.der) for cert in bundle]
    return finding(
        "certificates",
        sorted(found) == sorted(wanted) and found[:1] == wanted[:1],
        f"{len(found)} certificate(s), the leaf first",
        f"holds {len(found)} certificate(s), not the {len(wanted)} meant",
    )
