"""What flow-ssl says is true of the files given: no warning or note that contradicts them."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from tests.helpers import requires_openssl
from tests.pki import make_ca, make_leaf, write

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.helpers import Run

pytestmark = requires_openssl

HOST = "flow.mycompany.com"


def test_bundle_with_the_root_given_does_not_say_the_issuer_is_missing(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """bundle --chain ROOT: the root is left out on purpose, not "not among the certificates"."""
    root = make_ca("Wording Root")
    write(tmp_path, "leaf.crt", make_leaf(root, [HOST]).pem())
    write(tmp_path, "root.crt", root.pem())
    given = cli("bundle", "--cert", "leaf.crt", "--chain", "root.crt", "--out", "fc.pem")
    assert given.code == 0, given.err
    assert "not among the certificates given" not in given.err
    alone = cli("bundle", "--cert", "leaf.crt", "--out", "alone.pem")
    assert alone.code == 0, alone.err
    assert "not among the certificates given" in alone.err


def test_check_print_calls_only_a_self_signed_leaf_self_signed(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """check --print without --ca-file: the self-signed note only for a self-signed leaf."""
    root = make_ca("Wording Root")
    write(tmp_path, "leaf.crt", make_leaf(root, [HOST]).pem())
    write(tmp_path, "root.crt", root.pem())
    issued = cli("check", "--cert", "leaf.crt", "--print")
    assert issued.code == 0, issued.err
    assert "self-signed" not in issued.out
    own = cli("check", "--cert", "root.crt", "--print")
    assert own.code == 0, own.err
    assert "root.crt is self-signed: openssl verify fails it (error 18" in own.out
    assert "add -CAfile root.crt" in own.out


def test_a_run_lists_its_scratch_files_as_the_commands_name_them(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """ca revoke (run): the config it writes is shown in the scratch folder, no raw marker."""
    assert cli("ca", "init", "--dir", "ca", "--name", "Wording Root", "--key", "ec:P-256").code == 0
    assert cli("ca", "issue", "--dir", "ca", "--cn", HOST, "--subj", "--key", "ec:P-256").code == 0
    result = cli("ca", "revoke", f"{HOST}.crt", "--dir", "ca")
    assert result.code == 0, result.err
    said = result.out + result.err
    assert "\\x00" not in said
    assert '# write "$work"/openssl-ca.cnf' in said
    assert (tmp_path / "ca" / "crl.pem").is_file()


def test_ca_issue_writes_the_full_chain_readable_as_the_certificate(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """ca issue: NAME.fullchain.pem gets the certificate's mode (the umask's), not 0600."""
    assert cli("ca", "init", "--dir", "ca", "--name", "Wording Root", "--key", "ec:P-256").code == 0
    old = os.umask(0o022)
    try:
        issued = cli("ca", "issue", "--dir", "ca", "--cn", HOST, "--subj", "--key", "ec:P-256")
    finally:
        os.umask(old)
    assert issued.code == 0, issued.err
    mode = (tmp_path / f"{HOST}.crt").stat().st_mode & 0o777
    assert mode == 0o644
    assert (tmp_path / f"{HOST}.fullchain.pem").stat().st_mode & 0o777 == mode
    assert (tmp_path / f"{HOST}.key").stat().st_mode & 0o777 == 0o600
