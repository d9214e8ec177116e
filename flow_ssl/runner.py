"""
Finding openssl and running Commands: plain (subprocess) or answering prompts (pexpect).

The only module that starts processes. argv lists only, never a shell.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from flow_ssl.errors import (
    OpenSSLFailedError,
    OpenSSLNotFoundError,
    OpenSSLTooOldError,
    PromptError,
)

if TYPE_CHECKING:
    from flow_ssl.commands import Command, Prompt

OPENSSL_ENV = "FLOW_SSL_OPENSSL"
DEFAULT_TIMEOUT = 120.0

# First version of each flavour with a feature (openssl-behaviour.md, section G).
FEATURES: dict[str, dict[str, tuple[int, int, int]]] = {
    "-addext": {"OpenSSL": (1, 1, 1), "LibreSSL": (3, 1, 0)},
    "-copy_extensions": {"OpenSSL": (3, 0, 0)},
    "-CA": {"OpenSSL": (3, 0, 0)},
    "storeutl": {"OpenSSL": (1, 1, 1)},
}


@dataclass(frozen=True)
class OpenSSL:
    """The openssl binary in use and its version."""

    path: str
    flavour: str
    version: tuple[int, int, int]
    text: str

    def supports(self, feature: str) -> bool:
        """Whether this openssl has a feature from FEATURES."""
        since = FEATURES[feature].get(self.flavour)
        return since is not None and self.version >= since

    def require(self, command: Command) -> None:
        """Refuse, before running anything, a command this openssl cannot run."""
        for feature in command.needs:
            if not self.supports(feature):
                wanted = " or ".join(
                    f"{flavour} {'.'.join(map(str, since))}"
                    for flavour, since in FEATURES[feature].items()
                )
                raise OpenSSLTooOldError(
                    f"{self.text} at {self.path} has no {feature} (needs {wanted})",
                    hint=f"install a newer openssl or point {OPENSSL_ENV} at one",
                )


_VERSION = re.compile(r"^(OpenSSL|LibreSSL|BoringSSL)\s+(\d+)\.(\d+)\.(\d+)")


def parse_version(text: str) -> tuple[str, tuple[int, int, int]]:
    """``OpenSSL 3.0.19 27 Jan 2026`` becomes ``("OpenSSL", (3, 0, 19))``."""
    match = _VERSION.match(text.strip())
    if not match:
        return "unknown", (0, 0, 0)
    major, minor, patch = (int(part) for part in match.group(2, 3, 4))
    return match.group(1), (major, minor, patch)


@lru_cache(maxsize=4)
def _probe(path: str) -> OpenSSL:
    try:
        result = subprocess.run(  # noqa: S603 - argv list, no shell
            [path, "version"], capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OpenSSLNotFoundError(f"cannot run {path}: {exc}") from exc
    text = result.stdout.strip().splitlines()[0] if result.stdout.strip() else ""
    if result.returncode != 0 or not text:
        raise OpenSSLNotFoundError(
            f"{path} does not behave like openssl ('version' printed {text or 'nothing'!r})"
        )
    flavour, version = parse_version(text)
    return OpenSSL(path=path, flavour=flavour, version=version, text=text)


def find_openssl() -> OpenSSL:
    """
    The openssl to use: ``$FLOW_SSL_OPENSSL`` if set, else ``openssl`` on PATH.

    Raises:
        OpenSSLNotFoundError: when there is none, or it does not run.
    """
    wanted = os.environ.get(OPENSSL_ENV) or "openssl"
    path = shutil.which(wanted)
    if path is None:
        where = f"{OPENSSL_ENV}={wanted}" if os.environ.get(OPENSSL_ENV) else "PATH"
        raise OpenSSLNotFoundError(
            f"openssl not found on {where}",
            hint="install it (apt-get install openssl, dnf install openssl, brew install openssl)",
        )
    return _probe(os.path.realpath(path) if os.environ.get(OPENSSL_ENV) else path)


def _env() -> dict[str, str]:
    """Our environment for openssl: the caller's, with a predictable locale for Python's side."""
    env = dict(os.environ)
    env.setdefault("LC_ALL", "C.UTF-8")
    return env


@dataclass(frozen=True)
class Result:
    """What a finished openssl process printed."""

    stdout: str
    stderr: str


def run(
    command: Command,
    *,
    stdin: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    check: bool = True,
) -> Result:
    """
    Run a non-interactive command; its output is decoded as UTF-8.

    Raises:
        OpenSSLFailedError: on a non-zero exit (when ``check``), a timeout or an OS error.
    """
    argv = command.argv
    try:
        completed = subprocess.run(  # noqa: S603 - argv list, no shell
            list(argv),
            input=stdin if stdin is not None else b"",
            capture_output=True,
            check=False,
            timeout=timeout,
            env=_env(),
        )
    except subprocess.TimeoutExpired as exc:
        raise OpenSSLFailedError(argv, None, f"no answer within {timeout:.0f}s") from exc
    except OSError as exc:
        raise OpenSSLNotFoundError(f"cannot run {argv[0]}: {exc.strerror}") from exc
    stdout = completed.stdout.decode("utf-8", errors="replace")
    stderr = completed.stderr.decode("utf-8", errors="replace")
    if check and completed.returncode != 0:
        raise OpenSSLFailedError(argv, completed.returncode, stderr or stdout)
    return Result(stdout=stdout, stderr=stderr)


def run_bytes(command: Command, *, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """Run a non-interactive command whose stdout is binary (DER)."""
    try:
        completed = subprocess.run(  # noqa: S603 - argv list, no shell
            list(command.argv),
            input=b"",
            capture_output=True,
            check=False,
            timeout=timeout,
            env=_env(),
        )
    except subprocess.TimeoutExpired as exc:
        raise OpenSSLFailedError(command.argv, None, f"no answer within {timeout:.0f}s") from exc
    except OSError as exc:
        raise OpenSSLNotFoundError(f"cannot run {command.argv[0]}: {exc.strerror}") from exc
    if completed.returncode != 0:
        raise OpenSSLFailedError(
            command.argv, completed.returncode, completed.stderr.decode("utf-8", "replace")
        )
    return completed.stdout


def run_many(commands: list[Command], *, timeout: float = DEFAULT_TIMEOUT) -> list[Result]:
    """Run independent commands side by side (openssl is single-threaded; we have cores)."""
    processes: list[tuple[Command, subprocess.Popen[bytes]]] = []
    try:
        processes.extend(
            (
                command,
                subprocess.Popen(  # noqa: S603 - argv list, no shell
                    list(command.argv),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=_env(),
                ),
            )
            for command in commands
        )
        results = []
        for command, process in processes:
            try:
                out, err = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                raise OpenSSLFailedError(
                    command.argv, None, f"no answer within {timeout:.0f}s"
                ) from exc
            stdout = out.decode("utf-8", errors="replace")
            stderr = err.decode("utf-8", errors="replace")
            if process.returncode != 0:
                raise OpenSSLFailedError(command.argv, process.returncode, stderr or stdout)
            results.append(Result(stdout=stdout, stderr=stderr))
        return results
    finally:
        for _, process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


# A DN prompt: "<label> [<default>]:" with no newline (req.c add_DN_object, every version).
_PROMPT = r"([^\r\n]*?) ?\[([^\r\n]*)\]:"
# openssl re-asks the same prompt after a length error; 1.x says "string is too ...".
_REPROMPT = r"(?i)string (?:is )?too (?:short|long)[^\r\n]*"


def run_interactive(command: Command, *, timeout: float = DEFAULT_TIMEOUT) -> str:
    """
    Run a command that asks questions and answer each from ``command.prompts``.

    Each prompt is recognised by its label, never by position. No delay is added
    before answers (pexpect's default is 50 ms per send). Returns the transcript.

    Raises:
        PromptError: an unknown prompt, a re-prompt, a field never asked, or a timeout.
        OpenSSLFailedError: openssl exited non-zero.
    """
    import pexpect

    argv = command.argv
    try:
        child = pexpect.spawn(
            argv[0],
            args=list(argv[1:]),
            env=_env(),
            encoding="utf-8",
            codec_errors="replace",
            timeout=timeout,
            echo=False,
        )
    except pexpect.ExceptionPexpect as exc:
        raise OpenSSLNotFoundError(f"cannot run {argv[0]}: {exc}") from exc
    child.delaybeforesend = None
    # close() would sleep 100 ms in ptyprocess (delayafterclose); openssl has exited by then.
    pty = getattr(child, "ptyproc", None)
    if pty is not None:
        pty.delayafterclose = 0
        pty.delayafterterminate = 0
    transcript: list[str] = []
    asked: set[str] = set()
    last_field = ""
    try:
        while True:
            index = child.expect([_REPROMPT, _PROMPT, pexpect.EOF, pexpect.TIMEOUT])
            transcript.append(str(child.before or ""))
            if index == 0:
                raise PromptError(
                    f"openssl refused the answer for {last_field}: {str(child.after).strip()}",
                    hint="check that value's length",
                )
            if index == 2:
                break
            if index == 3:
                raise PromptError(
                    f"openssl did not finish within {timeout:.0f}s; "
                    f"last output: {_tail(''.join(transcript))!r}"
                )
            match: re.Match[str] = child.match  # type: ignore[assignment]
            label = match.group(1).strip()
            transcript.append(str(child.after))
            prompt = _answer_for(command.prompts, label, asked)
            last_field = f"{prompt.field} ({label!r})"
            child.sendline(prompt.answer)
        child.wait()
    finally:
        if child.isalive():
            child.terminate(force=True)
        child.close()
    output = "".join(transcript).replace("\r", "")
    if child.exitstatus != 0:
        raise OpenSSLFailedError(argv, child.exitstatus, output)
    unasked = [
        p.field for p in command.prompts if p.answer not in {"", "."} and p.field not in asked
    ]
    if unasked:
        raise PromptError(
            f"openssl never asked for {', '.join(unasked)}; its config (OPENSSL_CONF) "
            "has other questions",
            hint="use --subj to give the subject directly",
        )
    return output


def _answer_for(prompts: tuple[Prompt, ...], label: str, asked: set[str]) -> Prompt:
    for prompt in prompts:
        if prompt.matches(label):
            if prompt.field in asked:
                # A second field with the same label (e.g. 1.organizationName): blank.
                return type(prompt)(prompt.field, prompt.label, ".")
            asked.add(prompt.field)
            return prompt
    raise PromptError(
        f"openssl asked {label!r}, a question flow-ssl does not know (a custom OPENSSL_CONF?)",
        hint="use --subj to give the subject directly",
    )


def _tail(text: str, lines: int = 3) -> str:
    return " | ".join(text.replace("\r", "").strip().splitlines()[-lines:])
