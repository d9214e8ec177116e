"""The layout of design.md, held: cli -> output -> jobs -> openssl -> files -> core."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "flow_ssl"
# A command-line flag in a string: only the CLI may word a field as one.
_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")


@dataclass(frozen=True)
class Module:
    """One source file: its dotted name, layer, syntax tree and every import it makes."""

    name: str
    path: Path
    tree: ast.Module

    @property
    def layer(self) -> str:
        """entry, cli, output, jobs (make/, ca/, check/, doctor), openssl, files or core."""
        parts = self.name.split(".")
        if len(parts) == 2 and parts[-1] in {"__init__", "__main__"}:
            return "entry"
        return _layer_of(self.name) or "entry"

    @cached_property
    def nodes(self) -> list[ast.AST]:
        """Every node of the tree, walked once (the rules below read them many times)."""
        return list(ast.walk(self.tree))

    def imports(self, *, top_level_only: bool = False) -> set[str]:
        """Every module it imports (lazy imports inside functions too, unless top_level_only)."""
        nodes = self.tree.body if top_level_only else self.nodes
        found: set[str] = set()
        for node in nodes:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        return found

    @cached_property
    def runtime_imports(self) -> set[str]:
        """Imports outside ``if TYPE_CHECKING:`` blocks."""
        checking = {
            id(child)
            for node in self.nodes
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for child in ast.walk(node)
        }
        found: set[str] = set()
        for node in self.nodes:
            if id(node) in checking:
                continue
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
        return found


@cache
def modules() -> tuple[Module, ...]:
    """Every module of the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        found.append(Module(".".join(relative.parts), path, ast.parse(path.read_text())))
    return tuple(found)


# The packages (and flat modules) of each layer, from the top down.
LAYERS = {
    "cli": {"cli"},
    "output": {"output"},
    "jobs": {"make", "ca", "check", "doctor"},
    "openssl": {"openssl"},
    "files": {"files"},
    "core": {"core"},
}


def _layer_of(imported: str) -> str | None:
    if not imported.startswith("flow_ssl."):
        return None
    part = imported.split(".")[1]
    return next((layer for layer, parts in LAYERS.items() if part in parts), None)


ALLOWED = {
    "entry": set(LAYERS),
    "cli": set(LAYERS),
    "output": {"output", "jobs", "openssl", "core"},
    "jobs": {"jobs", "openssl", "files", "core"},
    "openssl": {"openssl", "files", "core"},
    "files": {"files", "core"},
    "core": {"core"},
}


def test_every_module_has_a_layer() -> None:
    """A new package or flat module is placed in a layer before it can import anything."""
    unplaced = [m.name for m in modules() if m.layer == "entry" and m.name.count(".") > 1]
    assert unplaced == []


@pytest.mark.parametrize("module", modules(), ids=lambda m: m.name)
def test_imports_point_down_the_layers(module: Module) -> None:
    """No module imports a layer above its own (lazy imports inside functions included)."""
    upward = sorted(
        imported
        for imported in module.imports()
        if (layer := _layer_of(imported)) is not None and layer not in ALLOWED[module.layer]
    )
    assert upward == [], f"{module.name} ({module.layer}) imports upward"


@pytest.mark.parametrize(
    ("library", "home"),
    [
        ("typer", "flow_ssl.cli."),
        ("click", "flow_ssl.cli."),
        ("subprocess", "flow_ssl.openssl.runner"),
        ("pexpect", "flow_ssl.openssl.runner"),
        ("ptyprocess", "flow_ssl.openssl.runner"),
    ],
)
def test_each_library_has_one_home(library: str, home: str) -> None:
    """typer only in cli; subprocess and pexpect only in the runner."""
    users = sorted(
        m.name
        for m in modules()
        if any(i == library or i.startswith(f"{library}.") for i in m.runtime_imports)
    )
    assert all(name.startswith(home) for name in users), users


def test_only_the_command_builders_build_argv() -> None:
    """Arg(...) and Command(...) are made only under openssl/commands, from its base."""
    base = "flow_ssl.openssl.commands.base"
    builders = []
    for module in modules():
        if module.name.startswith("flow_ssl.openssl.commands."):
            continue
        builders += [
            f"{module.name} imports {name}"
            for name in (f"{base}.Arg", f"{base}.command")
            if name in module.imports()
        ]
        builders += [
            f"{module.name}:{node.lineno}"
            for node in module.nodes
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"Arg", "Command"}
        ]
    assert builders == []


def _strings(module: Module) -> list[tuple[int, str]]:
    """String constants outside docstrings."""
    docstrings = {
        id(node.body[0].value)
        for node in module.nodes
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in module.nodes
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


@pytest.mark.parametrize(
    "module", [m for m in modules() if m.layer in {"core", "openssl"}], ids=lambda m: m.name
)
def test_lower_layers_name_fields_not_flags(module: Module) -> None:
    """core and openssl raise field-level errors; only the CLI words a field as --flag."""
    flags = [(line, text) for line, text in _strings(module) if _FLAG.search(text)]
    assert flags == []


def test_no_module_imports_in_a_circle() -> None:
    """Module-level imports form no cycle."""
    graph = {
        m.name: {i for i in m.imports(top_level_only=True) if i.startswith("flow_ssl.")}
        for m in modules()
    }
    names = set(graph)
    graph = {name: {t for t in targets if t in names} for name, targets in graph.items()}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        assert name not in visiting, " -> ".join([*visiting, name])
        visiting.append(name)
        for target in sorted(graph[name]):
            visit(target)
        visiting.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)


@pytest.mark.parametrize("module", modules(), ids=lambda m: m.name)
def test_no_shell_is_ever_started(module: Module) -> None:
    """argv lists only: no shell=True, no os.system, no os.popen."""
    for node in module.nodes:
        if isinstance(node, ast.keyword) and node.arg == "shell":
            assert not (isinstance(node.value, ast.Constant) and node.value.value is True)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert (node.value.id, node.attr) not in {("os", "system"), ("os", "popen")}


def test_every_test_says_what_it_proves() -> None:
    """Each test function has a one-line docstring (pem's rule, kept here by a test)."""
    missing = []
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                doc = ast.get_docstring(node)
                if not doc or "\n" in doc.strip():
                    missing.append(f"{path.name}:{node.lineno} {node.name}")
    assert missing == []
