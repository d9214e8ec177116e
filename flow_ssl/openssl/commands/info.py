"""Commands that ask openssl about itself (for ``doctor``). Pure builders."""

from __future__ import annotations

from flow_ssl.openssl.commands.base import OPENSSL, Arg, Command, command


def build_version_dir() -> Command:
    """``openssl version -d``: the folder its default trust store and config live in."""
    return command(
        Arg((OPENSSL, "version"), "say which openssl this is"),
        Arg(("-d",), "and its OPENSSLDIR (default trust store, openssl.cnf)"),
    )
