"""
What a ``--script`` checks before it writes, so it may run long after it was printed:
its outputs (refused if they exist, or kept as dated backups with ``--force``, and put
back if a step fails half way), a CA's serial (still the one it was printed with), a
CA's new folder (new, or empty), and what openssl printed where its exit code cannot
be trusted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flow_ssl.openssl.commands.base import PS_WRITE, posix_quote, quote_path

if TYPE_CHECKING:
    from flow_ssl.openssl.commands.base import Shell
    from flow_ssl.openssl.script.steps import Guard, MakeDir, TakeSerial, Verified


# Run when the script ends: its scratch folder removed; on a failure (or a signal, made
# an exit so the trap runs), the outputs of the step that failed put back as they were.
_UNDO_TRAP = (
    'trap \'status=$?; set +e; [ -z "${work:-}" ] || rm -rf "$work"; if [ "$status" -ne 0 ]; '
    'then undo; echo "stopped: the files of the step that failed are as they were" >&2; fi\' '
    "EXIT\ntrap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP"
)


def _text(message: str, shell: Shell) -> str:
    """A message (it may name a file) as the shell's string literal."""
    return quote_path(message, shell, "", literal=True)


def render_guard(guard: Guard, shell: Shell) -> str:
    """A loop over the outputs: stop at an existing one, or (``keep``) back it up."""
    fields = guard.fields or ("",) * len(guard.paths)
    paths = [
        quote_path(p, shell, f, literal=True) for p, f in zip(guard.paths, fields, strict=True)
    ]
    if shell == "powershell":
        found = "foreach ($f in @(" + ", ".join(paths) + ")) { if (Test-Path -LiteralPath $f) { "
        if guard.keep:
            return (
                "$stamp = Get-Date -Format 'yyyyMMdd-HHmmss'\n"
                + found
                + 'Move-Item -LiteralPath $f -Destination "$f.bak-$stamp" } }'
            )
        return found + f"throw ($f + {_text(' exists: ' + guard.refusal, shell)}) }} }}"
    listed = " ".join(paths)
    # A symbolic link counts, even one that leads nowhere (openssl would write through it);
    # until this step's outputs are checked, undo has nothing of its own to put back.
    found = f'undo() {{ :; }}\nfor f in {listed}; do if [ -e "$f" ] || [ -L "$f" ]; then '
    if guard.keep:
        # The script's process number too: two runs within a second keep two backups.
        # Moved, not copied: openssl then makes a new file (a key 0600 under umask 077),
        # where it would keep an old file's mode.
        check = (
            "stamp=$(date +%Y%m%d-%H%M%S)-$$\n" + found + 'mv -f -- "$f" "$f.bak-$stamp"; fi; done'
        )
        back = (
            'if [ -e "$f.bak-$stamp" ] || [ -L "$f.bak-$stamp" ]; then '
            'mv -f -- "$f.bak-$stamp" "$f"; else rm -f -- "$f"; fi'
        )
    else:
        check = found + f'echo "$f"{posix_quote(" exists: " + guard.refusal)} >&2; exit 1; fi; done'
        back = 'rm -f -- "$f"'
    # A step failing half way (openssl refusing a value): the outputs go back as they were.
    undo = f"undo() {{ for f in {listed}; do {back}; done; }}"
    return f"{check}\n{undo}\n{_UNDO_TRAP}"


def render_take_serial(take: TakeSerial, shell: Shell) -> str:
    """Stop unless the serial file still holds the printed serial; then move it on."""
    path = quote_path(take.path, shell, take.field, literal=True)
    taken = _text(
        f"{take.path} no longer holds {take.serial} (another run took it): print this again",
        shell,
    )
    if shell == "powershell":
        return (
            f"if ((Get-Content -LiteralPath {path} -TotalCount 1) -ne '{take.serial}') "
            f"{{ throw {taken} }}\n"
            f"{PS_WRITE} {path} -Value '{take.following}'"
        )
    return (
        f'[ "$(cat -- {path})" = {take.serial} ] || {{ echo {taken} >&2; exit 1; }}\n'
        f"echo {take.following} > {path}"
    )


def render_new_folder(make: MakeDir, shell: Shell) -> str:
    """
    A CA's new folder: made where nothing is, or in place of an empty folder (as a run
    puts it), never over one that holds files; removed whole if the script stops.
    """
    path = quote_path(make.path, shell, make.field, literal=True)
    full = _text(
        f"{make.path} is not empty: nothing was changed (a new CA goes in a new or empty folder)",
        shell,
    )
    if shell == "powershell":
        return (
            f"if ((Test-Path -LiteralPath {path}) -and "
            f"@(Get-ChildItem -LiteralPath {path} -Force).Count -gt 0) {{ throw {full} }}\n"
            f"New-Item -ItemType Directory -Force -Path {path} | Out-Null"
        )
    return (
        f"if [ -d {path} ] && [ ! -L {path} ]; then rmdir -- {path} || "
        f"{{ echo {full} >&2; exit 1; }}; fi\n"
        f"mkdir -m 700 -- {path}\n"
        f"undo() {{ rm -rf -- {path}; }}\n{_UNDO_TRAP}"
    )


def render_verified(check: Verified, shell: Shell) -> str:
    """
    The command, then its printed words tested: it passed only when they say
    ``check.passed`` and never ``check.failed`` (and openssl exited 0).
    """
    line = check.command.render(shell)
    refusal = _text(check.refusal, shell)
    passed, failed = _text(check.passed, shell), _text(check.failed, shell)
    if shell == "powershell":
        # openssl's stderr, read as text: a local preference, so its lines stop nothing.
        refused = f"$said.Contains({failed}) -or " if check.failed else ""
        return (
            f"$said = & {{ $ErrorActionPreference = 'Continue'; {line} 2>&1 }} | Out-String\n"
            f"if ($LASTEXITCODE -ne 0 -or {refused}"
            f"-not $said.Contains({passed})) "
            f"{{ throw ({refusal} + [Environment]::NewLine + $said) }}"
        )
    refused = f"*{failed}*) false;; " if check.failed else ""
    return (
        f'said=$({line} 2>&1) && case "$said" in {refused}*{passed}*) ;; '
        f"*) false;; esac || {{ printf '%s\\n' \"$said\" >&2; echo {refusal} >&2; exit 1; }}"
    )
