"""
``doctor``: what this machine gives flow-ssl, and a throwaway certificate to prove it works.

The diagnosis an operator pastes into a problem report: versions, which openssl
and why, what it can do and which fallbacks are in use, the trust store, the
locale, and a self-test that makes and reads back an EC key and certificate in a
temporary folder (removed after).
"""

from __future__ import annotations

import locale
import os
import platform
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from flow_ssl import __version__
from flow_ssl.core.errors import FlowSSLError, OpenSSLError
from flow_ssl.core.models import CertRequest, KeySpec, Subject
from flow_ssl.make import generate
from flow_ssl.make.run import run
from flow_ssl.openssl import features, probe_cache, runner, truststore

SELF_TEST_NAME = "doctor.flow-ssl.test"


@dataclass
class Diagnosis:
    """Everything doctor found; ``problems`` is empty when all is well."""

    flow_ssl: str
    python: str
    platform: str
    openssl_path: str | None = None
    chosen_by: str = ""
    openssl: str | None = None
    flavour: str | None = None
    capabilities: dict[str, bool] = field(default_factory=dict)
    fallbacks: list[str] = field(default_factory=list)
    trust_store: dict[str, str | bool | None] = field(default_factory=dict)
    probe_cache: dict[str, str | int | bool] = field(default_factory=dict)
    encoding: str = ""
    utf8: bool = False
    self_test: str = "not run"
    problems: list[str] = field(default_factory=list)
    exit_code: int = 0


def diagnose(*, refresh: bool = False) -> Diagnosis:
    """
    Look at everything; never raises for what it finds (it reports it). ``refresh`` drops
    what earlier runs remembered of each openssl first, so this one asks it all again.
    """
    found = Diagnosis(
        flow_ssl=__version__,
        python=platform.python_version(),
        platform=platform.platform(),
        encoding=locale.getpreferredencoding(do_setlocale=False),
    )
    found.utf8 = found.encoding.replace("-", "").lower() == "utf8"
    if not found.utf8:
        found.problems.append(
            f"the locale's encoding is {found.encoding}: non-ASCII names (Zürich) may not "
            "print; set LANG=C.UTF-8"
        )
    _look_at_probe_cache(found, refresh=refresh)
    chosen = os.environ.get(features.OPENSSL_ENV)
    found.chosen_by = f"{features.OPENSSL_ENV}={chosen}" if chosen else "PATH"
    try:
        binary = runner.find_openssl()
    except OpenSSLError as exc:
        found.problems.append(str(exc))
        found.exit_code = int(exc.exit_code)
        return found
    found.openssl_path = binary.path
    found.openssl = binary.text
    found.flavour = binary.flavour
    found.capabilities = {name: binary.supports(name) for name in sorted(features.FEATURES)}
    found.fallbacks = features.fallbacks_in_use(binary)
    found.probe_cache["binaries"] = len(probe_cache.cached_files())
    if probe_cache.is_script(binary.path):
        found.probe_cache["script"] = True
    _look_at_trust_store(found)
    _self_test(found)
    return found


def _look_at_probe_cache(found: Diagnosis, *, refresh: bool) -> None:
    """Where what each openssl said is remembered, and how many binaries it knows."""
    found.probe_cache = {"folder": str(probe_cache.folder())}
    unusable = probe_cache.unusable()
    if unusable:
        found.probe_cache["unusable"] = unusable
    if refresh:
        try:
            found.probe_cache["dropped"] = len(probe_cache.forget())
        except OSError as exc:
            found.problems.append(f"cannot drop the probe cache: {exc.strerror or exc}")


def _look_at_trust_store(found: Diagnosis) -> None:
    try:
        store = truststore.default_store()
    except FlowSSLError as exc:
        found.problems.append(str(exc))
        return
    found.trust_store = {
        "file": str(store.file) if store.file else None,
        "folder": str(store.folder) if store.folder else None,
        "source": store.source,
        "exists": store.exists,
    }
    if not store.exists:
        found.problems.append(
            f"no default trust store ({store.source}): give check and probe --ca-file"
        )


def _self_test(found: Diagnosis) -> None:
    request = CertRequest(
        subject=Subject(common_name=SELF_TEST_NAME), key=KeySpec(name="ec:P-256"), days=1
    )
    with tempfile.TemporaryDirectory(prefix="flow-ssl-doctor-") as folder:
        plan = generate.Plan(
            request=request,
            key_path=Path(folder) / "doctor.key",
            out_path=Path(folder) / "doctor.crt",
            x509=True,
            use_subj=False,
        )
        try:
            outcome = run(plan, force=False)
        except FlowSSLError as exc:
            details = "; ".join(getattr(exc, "problems", ()))
            found.self_test = f"failed: {exc}" + (f" ({details})" if details else "")
            found.problems.append(f"self-test {found.self_test}")
            found.exit_code = int(exc.exit_code)
            return
    passed = sum(f.status == "pass" for f in outcome.findings)
    found.self_test = (
        f"ok: an EC key and certificate made by answering openssl's questions, read back "
        f"({passed} checks passed), and removed"
    )
