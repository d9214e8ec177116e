"""
check --crl says "not revoked" only from a CRL clients use that covers the leaf: one they
refuse warns as an expired one does, and one that cannot speak for the leaf says why.
"""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ObjectIdentifier

from tests.helpers import OPENSSL, requires_openssl
from tests.pki import NOW, Issued, make_ca, make_leaf, write

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.helpers import Run

pytestmark = requires_openssl

HOST = "a.mycompany.com"
OWN_POINT = "http://crl.mycompany.com/root.crl"
CHECK = (
    *("check", "--cert", "leaf.pem", "--ca-file", "root.pem"),
    *("--host", HOST, "--crl", "given.crl", "--json"),
)
UNKNOWN = x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00")


def _scope(**narrowed: object) -> x509.IssuingDistributionPoint:
    """An issuingDistributionPoint that narrows the CRL as told (all else absent)."""
    fields: dict[str, object] = {
        "full_name": None,
        "relative_name": None,
        "only_contains_user_certs": False,
        "only_contains_ca_certs": False,
        "only_some_reasons": None,
        "indirect_crl": False,
        "only_contains_attribute_certs": False,
    }
    fields.update(narrowed)
    return x509.IssuingDistributionPoint(**fields)  # type: ignore[arg-type]


def _crl(
    signer: Issued,
    *,
    extensions: list[tuple[x509.ExtensionType, bool]] | None = None,
    starts: timedelta = timedelta(hours=-1),
    listed: tuple[int, x509.ExtensionType, bool] | None = None,
) -> bytes:
    """A CRL ``signer`` signed, current unless ``starts`` is ahead, as PEM."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(signer.cert.subject)
        .last_update(NOW + starts)
        .next_update(NOW + starts + timedelta(days=30))
        .add_extension(x509.CRLNumber(2), critical=False)
    )
    for extension, critical in extensions or []:
        builder = builder.add_extension(extension, critical=critical)
    if listed is not None:
        serial, entry_extension, critical = listed
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(NOW - timedelta(hours=2))
            .add_extension(entry_extension, critical=critical)
        )
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(signer.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


# Each case: the CRL (given the root and the leaf), the crl and revocation statuses, what
# the revocation line says, and whether openssl verify -crl_check refuses the leaf with it
# (None: the builds differ).
CASES: dict[str, tuple[Callable[[Issued, Issued], bytes], str, str, str, bool | None]] = {
    "an unknown critical extension": (
        lambda root, _: _crl(root, extensions=[(UNKNOWN, True)]),
        "warn",
        "warn",
        "holds a critical extension clients do not handle (1.3.6.1.4.1.55555.1",
        True,
    ),
    "an unknown critical entry extension on the leaf's entry": (
        lambda root, leaf: _crl(root, listed=(leaf.cert.serial_number, UNKNOWN, True)),
        "warn",
        "warn",
        "it lists the leaf, but clients cannot read that as revoked either",
        True,
    ),
    "a thisUpdate ahead": (
        lambda root, _: _crl(root, starts=timedelta(days=5)),
        "warn",
        "warn",
        "is not valid until",
        True,
    ),
    "onlyContainsCACerts": (
        lambda root, _: _crl(root, extensions=[(_scope(only_contains_ca_certs=True), True)]),
        "pass",
        "warn",
        "covers CA certificates only",
        True,
    ),
    "onlySomeReasons": (
        lambda root, _: _crl(
            root,
            extensions=[
                (_scope(only_some_reasons=frozenset({x509.ReasonFlags.key_compromise})), True)
            ],
        ),
        "pass",
        "warn",
        "covers some revocation reasons only",
        True,
    ),
    "onlyContainsAttributeCerts": (
        lambda root, _: _crl(root, extensions=[(_scope(only_contains_attribute_certs=True), True)]),
        "pass",
        "warn",
        "covers attribute certificates only",
        True,
    ),
    "another distribution point": (
        lambda root, _: _crl(
            root,
            extensions=[
                (_scope(full_name=[x509.UniformResourceIdentifier("http://other/x.crl")]), True)
            ],
        ),
        "pass",
        "warn",
        "covers only the distribution point http://other/x.crl",
        True,
    ),
    "a delta CRL alone": (
        lambda root, _: _crl(root, extensions=[(x509.DeltaCRLIndicator(1), True)]),
        "pass",
        "warn",
        "is a delta CRL, which lists only what changed since CRL number 1",
        None,  # builds differ: 3.0 and older read it as a whole CRL, 3.5 on refuse it
    ),
    "the leaf's own distribution point": (
        lambda root, _: _crl(
            root,
            extensions=[(_scope(full_name=[x509.UniformResourceIdentifier(OWN_POINT)]), True)],
        ),
        "pass",
        "pass",
        "not revoked (the CRL of Use Root)",
        False,
    ),
    "a removeFromCRL entry for the leaf": (
        lambda root, leaf: _crl(
            root,
            listed=(
                leaf.cert.serial_number,
                x509.CRLReason(x509.ReasonFlags.remove_from_crl),
                False,
            ),
        ),
        "pass",
        "pass",
        "not revoked (the CRL of Use Root)",
        False,
    ),
    "onlyContainsUserCerts": (
        lambda root, _: _crl(root, extensions=[(_scope(only_contains_user_certs=True), True)]),
        "pass",
        "pass",
        "not revoked (the CRL of Use Root)",
        False,
    ),
}


def _verify_refuses(folder: Path) -> bool:
    """``openssl verify -crl_check``: does it refuse the leaf with this CRL?"""
    assert OPENSSL is not None
    argv = [OPENSSL, "verify", "-crl_check", "-CAfile", "root.pem", "-CRLfile", "given.crl"]
    done = subprocess.run([*argv, "leaf.pem"], cwd=folder, capture_output=True, check=False)
    return done.returncode != 0


@pytest.mark.parametrize("case", list(CASES))
def test_check_says_not_revoked_only_from_a_crl_clients_use_for_the_leaf(
    cli: Callable[..., Run], tmp_path: Path, case: str
) -> None:
    """A CRL clients refuse warns as an expired one; one that cannot cover the leaf: not known."""
    make, crl_status, revocation_status, said, refused = CASES[case]
    root = make_ca("Use Root")
    point = x509.DistributionPoint([x509.UniformResourceIdentifier(OWN_POINT)], None, None, None)
    leaf = make_leaf(
        root, [HOST], cn=HOST, extensions=[(x509.CRLDistributionPoints([point]), False)]
    )
    write(tmp_path, "root.pem", root.pem())
    write(tmp_path, "leaf.pem", leaf.pem())
    write(tmp_path, "given.crl", make(root, leaf))
    assert refused is None or _verify_refuses(tmp_path) is refused
    result = cli(*CHECK)
    assert result.code == 0, result.out
    data = json.loads(result.out)
    found = {item["check"]: item for item in data["findings"]}
    assert data["ready"] is True
    assert found["crl"]["status"] == crl_status, found["crl"]
    if crl_status == "warn":
        assert "clients that check revocation refuse it" in found["crl"]["message"]
    assert found["revocation"]["status"] == revocation_status, found["revocation"]
    assert said in found["revocation"]["message"]
    if revocation_status == "warn":
        assert found["revocation"]["message"].startswith("not known whether the leaf is revoked")


def test_a_crl_its_ca_may_not_sign_warns_as_an_expired_one(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """A CRL signed by a CA whose keyUsage lacks cRLSign: clients refuse it; no "not revoked"."""
    root = make_ca("No CRL Root", crl_sign=False)
    leaf = make_leaf(root, [HOST], cn=HOST)
    write(tmp_path, "root.pem", root.pem())
    write(tmp_path, "leaf.pem", leaf.pem())
    write(tmp_path, "given.crl", _crl(root))
    assert _verify_refuses(tmp_path)
    result = cli(*CHECK)
    assert result.code == 0, result.out
    found = {item["check"]: item for item in json.loads(result.out)["findings"]}
    assert found["crl"]["status"] == "warn"
    assert "keyUsage lacks cRLSign" in found["crl"]["message"]
    assert found["revocation"]["status"] == "warn"
    assert "keyUsage lacks cRLSign" in found["revocation"]["message"]


@pytest.mark.parametrize("order", ["twin first", "twin last"])
def test_two_roots_of_one_name_judge_the_leaf_by_the_one_that_signed_it(
    cli: Callable[..., Run], tmp_path: Path, order: str
) -> None:
    """A twin root (one name, another key) beside the real one: one verdict, in either order."""
    root, twin = make_ca("Twin Root"), make_ca("Twin Root")
    leaf = make_leaf(root, [HOST], cn=HOST, key_id=False)  # names its issuer by name alone
    roots = [twin.pem(), root.pem()] if order == "twin first" else [root.pem(), twin.pem()]
    write(tmp_path, "root.pem", *roots)
    write(tmp_path, "leaf.pem", leaf.pem())
    write(tmp_path, "given.crl", _crl(root))
    result = cli(*CHECK)
    found = {item["check"]: item for item in json.loads(result.out)["findings"]}
    assert found["revocation"] == {
        "check": "revocation",
        "status": "pass",
        "message": "not revoked (the CRL of Twin Root)",
    }


def test_an_issuing_ca_left_out_of_its_roots_crl_is_named_not_checked(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """The root's CRL for end-entity certificates only cannot judge the issuing CA: named so."""
    root = make_ca("Scope Root")
    issuing = make_ca("Scope Issuing", root)
    leaf = make_leaf(issuing, [HOST], cn=HOST)
    write(tmp_path, "root.pem", root.pem())
    write(tmp_path, "leaf.pem", leaf.pem(), issuing.pem())
    users_only: list[tuple[x509.ExtensionType, bool]] = [
        (_scope(only_contains_user_certs=True), True)
    ]
    write(tmp_path, "given.crl", _crl(issuing), _crl(root, extensions=users_only))
    assert OPENSSL is not None
    argv = [OPENSSL, "verify", "-crl_check_all", "-CAfile", "root.pem", "-CRLfile", "given.crl"]
    argv += ["-untrusted", "leaf.pem", "leaf.pem"]
    assert subprocess.run(argv, cwd=tmp_path, capture_output=True, check=False).returncode != 0
    result = cli(*CHECK)
    found = {item["check"]: item for item in json.loads(result.out)["findings"]}
    assert found["revocation"]["status"] == "pass"
    assert found["revocation"]["message"] == (
        "not revoked (the CRL of Scope Issuing); not checked: Scope Issuing (Scope Root's CRL "
        "covers end-entity certificates only (its issuingDistributionPoint says so))"
    )
