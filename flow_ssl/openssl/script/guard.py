"""
What a printed script checks before it writes, so it may run long after it was printed:
its outputs (refused if they exist, or kept as dated backups with ``--force``, and put
back if a step fails half way) and a CA's serial (still the one it was printed with).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flow_ssl.openssl.commands.base import PS_WRITE, posix_quote, powershell_quote, quote_path

if TYPE_CHECKING:
    from flow_ssl.openssl.commands.base import Shell
    from flow_ssl.openssl.script.steps import Guard, TakeSerial


# Run when the script ends: its scratch folder removed; on a failure (or a signal, made
# an exit so the trap runs), the outputs of the step that failed put back as they were.
_UNDO_TRAP = (
    'trap \'status=$?; set +e; [ -z "${work:-}" ] || rm -rf "$work"; if [ "$status" -ne 0 ]; '
    'then undo; echo "stopped: the files of the step that failed are as they were" >&2; fi\' '
    "EXIT\ntrap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP"
)


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
                + 'Copy-Item -LiteralPath $f -Destination "$f.bak-$stamp" } }'
            )
        return (
            found
            + f"throw ($f + {powershell_quote(' exists: ' + guard.refusal, literal=True)}) }} }}"
        )
    listed = " ".join(paths)
    # A symbolic link counts, even one that leads nowhere (openssl would write through it);
    # until this step's outputs are checked, undo has nothing of its own to put back.
    found = f'undo() {{ :; }}\nfor f in {listed}; do if [ -e "$f" ] || [ -L "$f" ]; then '
    if guard.keep:
        # The script's process number too: two runs within a second keep two backups.
        check = (
            "stamp=$(date +%Y%m%d-%H%M%S)-$$\n" + found + 'cp -p -- "$f" "$f.bak-$stamp"; fi; done'
        )
        back = (
            'if [ -e "$f.bak-$stamp" ]; then mv -f -- "$f.bak-$stamp" "$f"; else rm -f -- "$f"; fi'
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
    taken = f"{take.path} no longer holds {take.serial} (another run took it): print this again"
    if shell == "powershell":
        return (
            f"if ((Get-Content -LiteralPath {path} -TotalCount 1) -ne '{take.serial}') "
            f"{{ throw {powershell_quote(taken)} }}\n"
            f"{PS_WRITE} {path} -Value '{take.following}'"
        )
    return (
        f'[ "$(cat -- {path})" = {take.serial} ] || {{ echo {posix_quote(taken)} >&2; exit 1; }}\n'
        f"echo {take.following} > {path}"
    )


def undo_folder(path: str) -> str:
    """After ``mkdir`` (no ``-p``: the folder is new), undo removes it whole if the script stops."""
    return f"\nundo() {{ rm -rf -- {path}; }}\n{_UNDO_TRAP}"
