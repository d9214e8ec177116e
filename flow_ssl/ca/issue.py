"""
``ca issue``: a new key and a server certificate signed by the CA, in one openssl run.

Like mkcert, but every openssl command is shown, and the result is read back and
checked before the key, certificate and full chain are put in place together
(the run loop, make/run.py, with the CA's hooks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flow_ssl import files
from flow_ssl.ca import config
from flow_ssl.ca.authority import (
    CA,
    check_days,
    no_req_ca_note,
    read_back,
    server_base,
    signing_steps,
)
from flow_ssl.ca.folder import serial_claim
from flow_ssl.core.request_checks import compare_request
from flow_ssl.make.run import PRINTED, Checked, Where, given_key
from flow_ssl.openssl.commands.base import scratch
from flow_ssl.openssl.commands.make import addext, build_req, server_extension_values
from flow_ssl.openssl.script.steps import Chmod, Concat, Step

if TYPE_CHECKING:
    from pathlib import Path

    from flow_ssl.core.models import CertRequest
    from flow_ssl.openssl.features import OpenSSL

REQUEST = "request.csr"


@dataclass(frozen=True)
class IssuePlan:
    """A new key and a server certificate signed by ``ca``, in one openssl run (like mkcert)."""

    ca: CA
    request: CertRequest
    key_path: Path
    out: Path
    fullchain: Path
    use_subj: bool
    existing_key: Path | None = None  # renew --same-key: certify this key again
    crl_url: str | None = None  # this certificate's CRL Distribution Point, if not the CA's

    def __post_init__(self) -> None:
        """
        Refuse a validity the CA cannot give, or a name outside its name constraints,
        before anything is printed or run.

        Raises:
            InvalidInputError: about ``days``, or naming the name refused.
        """
        check_days(self.request.days, self.ca)
        self.ca.refuse_names(self.request.names)

    @property
    def issuer(self) -> CA:
        """The CA that signs it."""
        return self.ca

    def steps(self, openssl: OpenSSL, where: Where = PRINTED) -> list[Step]:
        """
        Make the key and have the CA sign it, then join the full chain.

        One ``req -x509 -CA`` where this openssl has it; else a request signed with
        ``x509 -req``. A script takes the serial first (checked, then the serial file
        moved on); a run has reserved it already.
        """
        key, cert = str(where.at(self.key_path)), str(where.at(self.out))
        signer = self.ca.signer(where.serial)
        crl_point = [config.crl_point(self.crl_url)] if self.crl_url else []
        steps: list[Step] = []
        key_file = None
        if self.existing_key is not None:  # renew --same-key: the key as flow-ssl read it
            steps, key_file = given_key(self.existing_key, where)
        if openssl.supports("-CA"):
            steps += [
                build_req(
                    self.request,
                    keyout=key,
                    out=cert,
                    x509=True,
                    use_subj=self.use_subj,
                    signer=signer,
                    key_file=key_file,
                    extra=tuple(addext(name, value) for name, value in crl_point),
                )
            ]
        else:
            request = scratch(REQUEST, where.work)
            steps += [
                no_req_ca_note(openssl),
                build_req(
                    self.request,
                    keyout=key,
                    out=request,
                    x509=False,
                    use_subj=self.use_subj,
                    config=signer.config,
                    extensions=False,
                    key_file=key_file,
                ),
                *signing_steps(
                    openssl,
                    signer,
                    csr=request,
                    out=cert,
                    days=self.request.days,
                    section="server",
                    base=server_base(self.ca),
                    extra=[
                        *server_extension_values(
                            self.request.names, key_algorithm=self.request.key.algorithm
                        ),
                        *crl_point,
                    ],
                    work=where.work,
                ),
            ]
        if not openssl.supports("private-keyout") and self.existing_key is None:
            steps.append(Chmod(key, field="keyout"))
        if where.scripted:
            steps.insert(0, serial_claim(self.ca.folder, where.serial))
        fullchain = str(where.at(self.fullchain))
        steps.append(Concat(fullchain, (cert, *self.ca.chain()), "fullchain"))
        return steps

    def outputs(self) -> list[files.Output]:
        """The key (secret, unless an existing one is kept), the certificate, the full chain."""
        made = [
            files.Output(self.out, field="out"),
            files.Output(self.fullchain, field="fullchain"),
        ]
        if self.existing_key is None:
            return [files.Output(self.key_path, secret=True, field="keyout"), *made]
        return made

    def new_key(self, where: Where) -> Path | None:
        """The key ``req`` makes (none when renew --same-key certifies the old one)."""
        return None if self.existing_key else where.at(self.key_path)

    def read_back(self, where: Where) -> Checked:
        """The leaf as asked, and its full chain ready to install (only this CA trusted)."""
        key = self.existing_key or where.at(self.key_path)
        fullchain = where.at(self.fullchain)
        cert, ready = read_back(
            fullchain,
            self.ca,
            self.request.names,
            key=key,
            shown_as=self.out,
            key_shown_as=self.existing_key or self.key_path,
        )
        return Checked(
            cert, [*compare_request(self.request, cert), *ready], "the issued certificate"
        )
