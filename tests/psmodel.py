"""
A model of how PowerShell hands a rendered argument to a native program: the test oracle.

No PowerShell runs here, so this models it from its source (PowerShell/PowerShell):
the tokenizer's single-quoted strings (tokenizer.cs ScanStringLiteral,
CharTraits.IsSingleQuote: five quote characters, a doubled one is one literal), the
Legacy command-line builders of Windows PowerShell 5.1 and PowerShell 7
(NativeCommandParameterBinder.cs: NeedQuotes, no trailing-backslash doubling in 5.1,
empty arguments dropped), .NET's PasteArguments for 7.3+ Standard mode, and the MSVC
runtime's argv parser on openssl.exe's side. Written from those sources (PowerShell/PowerShell,
src/System.Management.Automation/engine), independently of flow_ssl's renderer.
"""

from __future__ import annotations

from collections.abc import Callable

QUOTES = frozenset("'\u2018\u2019\u201a\u201b")


def scan_single_quoted(text: str) -> tuple[str, str]:
    """The value of the single-quoted string ``text`` starts with, and what follows it."""
    assert text[0] in QUOTES
    index, out = 1, []
    while index < len(text):
        char = text[index]
        if char in QUOTES:
            if index + 1 < len(text) and text[index + 1] in QUOTES:
                out.append(text[index + 1])  # the second of the pair is kept
                index += 2
                continue
            return "".join(out), text[index + 1 :]
        out.append(char)
        index += 1
    msg = "unterminated string"
    raise ValueError(msg)


def _need_quotes_51(arg: str) -> bool:
    quotes, need = 0, False
    for char in arg:
        if char == '"':
            quotes += 1
        elif char.isspace() and quotes % 2 == 0:
            need = True
    return need


def _need_quotes_7(arg: str) -> bool:
    quotes, need, after_backslash = 0, False, False
    for char in arg:
        if char == '"' and not after_backslash:
            quotes += 1
        elif char.isspace() and quotes % 2 == 0:
            need = True
        after_backslash = char == "\\"
    return need


def legacy_51(args: list[str]) -> str:
    """Windows PowerShell 5.1's command line."""
    return " ".join(f'"{a}"' if _need_quotes_51(a) else a for a in args if a)


def legacy_7(args: list[str]) -> str:
    """PowerShell 7 Legacy mode's command line (trailing backslashes doubled when wrapped)."""
    parts = []
    for arg in args:
        if not arg:
            continue
        if _need_quotes_7(arg):
            trailing = len(arg) - len(arg.rstrip("\\"))
            parts.append(f'"{arg}' + "\\" * trailing + '"')
        else:
            parts.append(arg)
    return " ".join(parts)


def paste_arguments(args: list[str]) -> str:
    """.NET's PasteArguments (PowerShell 7.3+ Standard and Windows modes)."""
    out = []
    for arg in args:
        if arg and not any(c in ' \t\n\v"' for c in arg):
            out.append(arg)
            continue
        pieces, index = ['"'], 0
        while index < len(arg):
            char = arg[index]
            index += 1
            if char == "\\":
                count = 1
                while index < len(arg) and arg[index] == "\\":
                    index += 1
                    count += 1
                if index == len(arg):
                    pieces.append("\\" * (2 * count))
                elif arg[index] == '"':
                    pieces.append("\\" * (2 * count + 1) + '"')
                    index += 1
                else:
                    pieces.append("\\" * count)
            elif char == '"':
                pieces.append('\\"')
            else:
                pieces.append(char)
        pieces.append('"')
        out.append("".join(pieces))
    return " ".join(out)


def msvcrt_argv(line: str) -> list[str]:
    """The argv an MSVC-built program (openssl.exe) reads from its command line."""
    args: list[str] = []
    index, size = 0, len(line)
    while True:
        while index < size and line[index] in " \t":
            index += 1
        if index >= size:
            return args
        arg: list[str] = []
        quoted = False
        while index < size:
            char = line[index]
            if char in " \t" and not quoted:
                break
            if char == "\\":
                end = index
                while end < size and line[end] == "\\":
                    end += 1
                count = end - index
                if end < size and line[end] == '"':
                    arg.append("\\" * (count // 2))
                    if count % 2:
                        arg.append('"')
                        index = end + 1
                    else:
                        index = end
                else:
                    arg.append("\\" * count)
                    index = end
                continue
            if char == '"':
                if quoted and index + 1 < size and line[index + 1] == '"':
                    arg.append('"')
                    index += 2
                    continue
                quoted = not quoted
                index += 1
                continue
            arg.append(char)
            index += 1
        args.append("".join(arg))


MODES: dict[str, Callable[[list[str]], str]] = {
    "5.1": legacy_51,
    "7-Legacy": legacy_7,
    "7.3+Standard": paste_arguments,
}


def received(rendered: str) -> dict[str, list[str]]:
    """
    What openssl.exe gets, in each mode, for ``-a <rendered> -b``.

    ``rendered`` is one token as PowerShell reads it: bare (nothing to unquote in the
    characters flow-ssl leaves bare) or a single-quoted string.
    """
    if rendered[:1] in QUOTES:
        value, rest = scan_single_quoted(rendered)
        assert rest == "", rendered
    else:
        value = rendered
    return {mode: msvcrt_argv(build(["-a", value, "-b"])) for mode, build in MODES.items()}
