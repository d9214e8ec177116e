"""
Starting openssl: the only module that starts processes, and the one that knows the binary.

Every process is started by ``_start`` (subprocess) or ``run_interactive``
(pexpect), with one mapping of what can go wrong to flow-ssl's errors, and
registered while it runs, so a signal can stop every openssl flow-ssl started
(``stop_all``). argv lists only, never a shell.

How a run ends decides the one error it raises, here and nowhere else:
openssl's answer "no" (a non-zero exit) is ``OpenSSLFailedError``, which callers
may judge; no answer at all (killed, crashed, timed out) is
``OpenSSLNoAnswerError``; a signal to flow-ssl is ``Stopped``. So no caller that
judges an answer ever sees a stop or a kill dressed as one.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from flow_ssl.core.errors import (
    OpenSSLFailedError,
    OpenSSLNoAnswerError,
    OpenSSLNotFoundError,
    PromptError,
    Stopped,
)
from flow_ssl.openssl import bounded, features, probe_cache
from flow_ssl.openssl.commands.base import OPENSSL

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import pexpect

    from flow_ssl.openssl.commands.base import Command, Prompt

DEFAULT_TIMEOUT = 120.0
PROBE_TIMEOUT = 30.0


@dataclass(frozen=True)
class Result:
    """What a finished openssl process printed: stdout as bytes and as text, and stderr."""

    data: bytes
    stderr: str

    @property
    def stdout(self) -> str:
        """stdout decoded as UTF-8 (openssl prints names raw with ``-esc_msb``)."""
        return self.data.decode("utf-8", errors="replace")


class _Children:
    """The openssl processes running now, each with how to stop it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stops: dict[int, Callable[[], None]] = {}
        self.stopping: int | None = None

    def add(self, key: int, stop: Callable[[], None]) -> None:
        with self._lock:
            if self.stopping is not None:
                stop()
                raise Stopped(self.stopping)
            self._stops[key] = stop

    def discard(self, key: int) -> None:
        with self._lock:
            self._stops.pop(key, None)

    def stop_all(self, signum: int) -> None:
        with self._lock:
            self.stopping = signum
            stops = list(self._stops.values())
        for stop in stops:
            stop()

    def resume(self) -> None:
        with self._lock:
            self.stopping = None


_children = _Children()


def stop_all(signum: int) -> None:
    """Stop every openssl running now and start no other (a signal arrived)."""
    _children.stop_all(signum)


def resume() -> None:
    """Allow openssl to run again (the next run in the same process, as in tests)."""
    _children.resume()


def find_openssl() -> features.OpenSSL:
    """
    The openssl to use: ``$FLOW_SSL_OPENSSL`` if set, else ``openssl`` on PATH.

    Raises:
        OpenSSLNotFoundError: when there is none, or it does not run.
    """
    chosen = os.environ.get(features.OPENSSL_ENV)
    path = shutil.which(chosen or OPENSSL)
    if path is None:
        where = f"{features.OPENSSL_ENV}={chosen}" if chosen else "PATH"
        raise OpenSSLNotFoundError(
            f"openssl not found on {where}",
            hint="install it: apt-get install openssl, dnf install openssl or brew install openssl",
        )
    path = os.path.realpath(path) if chosen else path
    return _probe(path, probe_cache.identity(path))


@lru_cache(maxsize=8)
def _probe(path: str, identity: tuple[int, ...] | None) -> features.OpenSSL:
    """
    Ask the binary what it is, once per file (a path and its ``identity``: a binary replaced
    at the same path is asked again); what its commands take, when first asked.

    What an earlier run learned of this very file comes from ``probe_cache``, and what this
    run learns goes there. Only the text counts, never the exit code (LibreSSL exits 1 on
    -help, and 3.3.6 exits 0 on an invalid command).
    """
    del identity  # the cache key: recall and remember read it again, as they must
    facts = probe_cache.recall(path)
    if facts is None:
        facts = probe_cache.Facts(_version_line(path))
        probe_cache.remember(path, facts)

    def learned(options: dict[str, frozenset[str] | None]) -> None:
        probe_cache.remember(path, probe_cache.Facts(facts.version, options))

    return features.from_version_text(
        path,
        facts.version,
        ask=functools.partial(_help_text, path),
        known=facts.options,
        learned=learned,
    )


def _version_line(path: str) -> str:
    """
    The first line ``openssl version`` prints.

    Raises:
        OpenSSLNotFoundError: it does not run, or prints nothing an openssl would.
    """
    try:
        result = _probe_run([path, "version"])
    except OpenSSLNoAnswerError as exc:
        raise OpenSSLNotFoundError(f"cannot run {path}: {exc.reason}") from None
    text = result.stdout.strip().splitlines()[0] if result.stdout.strip() else ""
    if len(text) > probe_cache.VERSION_MAX:
        raise OpenSSLNotFoundError(
            f"{path} does not behave like openssl ('version' printed a {len(text)}-character line)"
        )
    if not text:
        raise OpenSSLNotFoundError(
            f"{path} does not behave like openssl ('version' printed nothing)"
        )
    return text


def _help_text(path: str, command: str) -> str:
    """
    ``openssl COMMAND -help``, stdout and stderr together, whatever its exit code.

    Raises:
        OpenSSLNoAnswerError: it was killed or timed out, or printed neither a list of options
            nor "invalid command" (a wrapper script that could not start the binary): that says
            nothing of what it can do, so nothing is concluded (or remembered) from it.
    """
    result = _probe_run([path, command, "-help"])
    text = result.stdout + "\n" + result.stderr
    if features.help_options(text) == frozenset():
        last = text.strip().splitlines()[-1:] or ["nothing"]
        raise OpenSSLNoAnswerError(
            (path, command, "-help"), f"listed no options (it printed: {last[0][:120]})"
        )
    return text


def _probe_run(argv: list[str]) -> Result:
    """
    A probe's output, whatever its exit code, read with a ceiling (``bounded``).

    Raises:
        OpenSSLNoAnswerError: no answer in time, far more output than any openssl prints,
            or killed by a signal (what it printed then says nothing of what it can do).
        Stopped: a signal stopped the run meanwhile.
    """
    process = _start(argv)
    try:
        out, err = bounded.read_all(process, timeout=PROBE_TIMEOUT)
    except TimeoutError:
        raise OpenSSLNoAnswerError.timed_out(tuple(argv), PROBE_TIMEOUT) from None
    except bounded.FloodError:
        raise OpenSSLNoAnswerError(tuple(argv), "printed more than any openssl does") from None
    finally:
        _reap(process)
    if process.returncode is not None and process.returncode < 0:
        if _children.stopping is not None:
            raise Stopped(_children.stopping)
        raise OpenSSLNoAnswerError.killed(tuple(argv), -process.returncode)
    return Result(data=out, stderr=err.decode("utf-8", errors="replace"))


def _argv(command: Command) -> list[str]:
    """The argv to start: the command's, with the binary in use for ``openssl``."""
    argv = list(command.argv)
    if argv[0] != OPENSSL:
        msg = f"a command must start with {OPENSSL!r}, not {argv[0]!r}"
        raise ValueError(msg)
    return [find_openssl().path, *argv[1:]]


def _env() -> dict[str, str]:
    """Our environment for openssl: the caller's, with a predictable locale for Python's side."""
    env = dict(os.environ)
    env.setdefault("LC_ALL", "C.UTF-8")
    return env


def _start(argv: list[str]) -> subprocess.Popen[bytes]:
    """Start one process (the only subprocess start); register it while it runs."""
    try:
        process = subprocess.Popen(  # noqa: S603 - argv list, no shell
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
        )
    except OSError as exc:
        raise OpenSSLNotFoundError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    _children.add(process.pid, process.kill)
    return process


def _finish(
    argv: list[str],
    process: subprocess.Popen[bytes],
    *,
    stdin: bytes,
    timeout: float,
    check: bool,
) -> Result:
    try:
        out, err = process.communicate(input=stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise OpenSSLNoAnswerError.timed_out(tuple(argv), timeout) from None
    except OSError as exc:  # a broken pipe: openssl exited before reading stdin
        process.kill()
        out, err = process.communicate()
        if process.returncode == 0:
            reason = f"ended before reading its input ({exc.strerror or exc})"
            raise OpenSSLNoAnswerError(tuple(argv), reason) from None
    result = Result(data=out, stderr=err.decode("utf-8", errors="replace"))
    if process.returncode < 0 and _children.stopping is not None:
        raise Stopped(_children.stopping)
    if check and process.returncode < 0:  # what it printed before is no reason
        raise OpenSSLNoAnswerError.killed(tuple(argv), -process.returncode)
    if check and process.returncode != 0:
        raise OpenSSLFailedError(tuple(argv), process.returncode, result.stderr or result.stdout)
    return result


def _run_argv(
    argvs: Sequence[list[str]],
    *,
    stdin: bytes = b"",
    timeout: float = DEFAULT_TIMEOUT,
    check: bool = True,
) -> list[Result]:
    """Start every argv side by side, then collect each (in order); none outlives the call."""
    started: list[tuple[list[str], subprocess.Popen[bytes]]] = []
    try:
        started.extend((argv, _start(argv)) for argv in argvs)
        return [
            _finish(argv, process, stdin=stdin, timeout=timeout, check=check)
            for argv, process in started
        ]
    finally:
        for _, process in started:
            _reap(process)


def _reap(process: subprocess.Popen[bytes]) -> None:
    """Kill the process if it still runs, wait for it, close its pipes, forget it."""
    if process.poll() is None:
        process.kill()
    process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None and not stream.closed:
            stream.close()
    _children.discard(process.pid)


def run(
    command: Command,
    *,
    stdin: bytes = b"",
    timeout: float = DEFAULT_TIMEOUT,
    check: bool = True,
) -> Result:
    """
    Run one non-interactive command.

    Raises:
        OpenSSLFailedError: a non-zero exit (when ``check``): openssl's answer.
        OpenSSLNoAnswerError: a timeout, or killed (by a crash or a signal not to flow-ssl),
            whether or not ``check``.
        OpenSSLNotFoundError: the binary cannot be started.
        Stopped: a signal stopped the run.
    """
    (result,) = _run_argv([_argv(command)], stdin=stdin, timeout=timeout, check=check)
    return result


def run_many(commands: Sequence[Command], *, timeout: float = DEFAULT_TIMEOUT) -> list[Result]:
    """Run independent commands side by side (openssl is single-threaded; we have cores)."""
    return _run_argv([_argv(command) for command in commands], timeout=timeout)


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
        OpenSSLNoAnswerError: openssl was killed (a crash, a signal not to flow-ssl).
        Stopped: a signal stopped the run.
    """
    import pexpect

    argv = _argv(command)
    try:
        child = pexpect.spawn(
            argv[0],
            args=argv[1:],
            env=_env(),
            encoding="utf-8",
            codec_errors="replace",
            timeout=timeout,
            echo=False,
        )
    except pexpect.ExceptionPexpect as exc:
        raise OpenSSLNotFoundError(f"cannot run {argv[0]}: {exc}") from None
    pid = int(child.pid or 0)
    _children.add(pid, lambda: child.kill(9))
    child.delaybeforesend = None
    # close() would sleep 100 ms in ptyprocess (delayafterclose); openssl has exited by then.
    pty = getattr(child, "ptyproc", None)
    if pty is not None:
        pty.delayafterclose = 0
        pty.delayafterterminate = 0
    try:
        transcript, asked = _answer_all(child, command.prompts, timeout)
        child.wait()
    finally:
        if child.isalive():
            child.terminate(force=True)
        child.close()
        _children.discard(pid)
    if _children.stopping is not None:
        raise Stopped(_children.stopping)
    if child.exitstatus is None:  # ended by a signal: what it printed before is no reason
        raise OpenSSLNoAnswerError.killed(tuple(argv), int(child.signalstatus or 0))
    if child.exitstatus != 0:
        raise OpenSSLFailedError(tuple(argv), child.exitstatus, transcript)
    unasked = [
        p.field for p in command.prompts if p.answer not in {"", "."} and p.field not in asked
    ]
    if unasked:
        raise PromptError(
            f"openssl never asked for {', '.join(unasked)}; its config (OPENSSL_CONF) "
            "has other questions"
        )
    return transcript


def _answer_all(
    child: pexpect.spawn[str], prompts: tuple[Prompt, ...], timeout: float
) -> tuple[str, set[str]]:
    """Answer every prompt until openssl exits; returns the transcript and the fields asked."""
    import pexpect

    transcript: list[str] = []
    asked: set[str] = set()
    last_field = ""
    while True:
        index = child.expect([_REPROMPT, _PROMPT, pexpect.EOF, pexpect.TIMEOUT])
        transcript.append(str(child.before or ""))
        if index == 0:
            raise PromptError(
                f"openssl refused the answer for {last_field}: {str(child.after).strip()}",
                hint="check that value's length",
            )
        if index == 2:
            return "".join(transcript).replace("\r", ""), asked
        if index == 3:
            raise PromptError(
                f"openssl did not finish within {timeout:.0f}s; "
                f"last output: {_tail(''.join(transcript))!r}"
            )
        match = child.match
        assert isinstance(match, re.Match)  # noqa: S101 - index 1 is the prompt pattern
        label = match.group(1).strip()
        transcript.append(str(child.after))
        prompt = _answer_for(prompts, label, asked)
        last_field = f"{prompt.field} ({label!r})"
        child.sendline(prompt.answer)


def _answer_for(prompts: tuple[Prompt, ...], label: str, asked: set[str]) -> Prompt:
    for prompt in prompts:
        if prompt.matches(label):
            if prompt.field in asked:
                # A second field with the same label (e.g. 1.organizationName): blank.
                return type(prompt)(prompt.field, prompt.label, ".")
            asked.add(prompt.field)
            return prompt
    raise PromptError(
        f"openssl asked {label!r}, a question flow-ssl does not know (a custom OPENSSL_CONF?)"
    )


def _tail(text: str, lines: int = 3) -> str:
    return " | ".join(text.replace("\r", "").strip().splitlines()[-lines:])
