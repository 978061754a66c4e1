"""The house's layout, read from the source with `ast` (docs/architecture.md, "Rules the tests hold").

- campaign/ imports the standard library only;
- field_app and sync_server never import each other; devtools is imported by no runtime module, except
  `gocua-server demo` and `gocua-server bench`: sync_server/cli.py imports devtools.demo and
  devtools.bench.server inside the two command functions (LAZY_TOOLS), so serving never loads them;
- no import cycle between the runtime modules, counting every import (at the top, inside a function or
  for type checking only: a lazy import that hides a cycle is still one);
- the server's layers point down: store/ never imports api/, services/ or render/; services/ never
  imports api/; render/ imports none of the three;
- the views never import the shell (they are typed against views/shell.py's Protocol) and the views'
  models never load Flet;
- only sync_server/config.py reads the environment in sync_server; in field_app only datadir.py (where
  the data directory is) and web.py (which sets Flet's FLET_WEB_NO_CDN) touch it;
- no runtime module outside the migrations passes 500 lines.

Every checker takes the root of a tree, so that each rule is also shown to fail on a small fake tree
(the `test_*_catches_*` tests below) and cannot pass by reading nothing.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RUNTIME = ("campaign", "field_app", "sync_server")
MAX_LINES = 500

#: the only imports of devtools by runtime code: inside the functions of `gocua-server demo` and `bench`
LAZY_TOOLS = {("sync_server.cli", "devtools.demo"), ("sync_server.cli", "devtools.bench.server")}
#: the shell and the entry point (field_app/main.py was both until issue #10): no view imports them
SHELL_MODULES = {"field_app.shell", "field_app.app", "field_app.main"}
#: who may touch os.environ / os.getenv, and why
ENVIRONMENT = {
    "sync_server.config": "the server's settings, read once",
    "field_app.datadir": "where the data directory is (Flet's FLET_APP_STORAGE_DATA, the OS's)",
    "field_app.web": "sets FLET_WEB_NO_CDN for Flet's web server",
}
#: the server's layers: a module under the first never imports one under the others
LAYERS = (
    ("sync_server.store", ("sync_server.api", "sync_server.services", "sync_server.render")),
    ("sync_server.services", ("sync_server.api",)),
    ("sync_server.render", ("sync_server.api", "sync_server.services", "sync_server.store")),
)


# ---- reading a tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module, absolute: `from a import b` is a.b when that is a module, else a
    line: int
    lazy: bool  # inside a function: runs when called, not when the module is imported
    typing_only: bool  # under `if TYPE_CHECKING:`

    @property
    def at_import(self) -> bool:
        return not self.lazy and not self.typing_only


def modules(root: Path, packages: tuple[str, ...] = RUNTIME) -> dict[str, Path]:
    """Every module of `packages` under `root`, by dotted name."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def parsed(path: Path) -> ast.Module:
    return _parse(path.read_text(encoding="utf-8"), str(path))


@cache
def _parse(text: str, filename: str) -> ast.Module:
    return ast.parse(text, filename)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(node: ast.AST, lazy: bool = False, typing_only: bool = False
                  ) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node, lazy, typing_only
        return
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        lazy = True
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        for child in node.body:
            yield from _import_nodes(child, lazy, True)
        for child in node.orelse:
            yield from _import_nodes(child, lazy, typing_only)
        return
    for child in ast.iter_child_nodes(node):
        yield from _import_nodes(child, lazy, typing_only)


@cache
def _imports_in(tree: ast.Module) -> tuple[tuple[ast.Import | ast.ImportFrom, bool, bool], ...]:
    return tuple(_import_nodes(tree))  # a tree is parsed once per text (_parse), walked once here


def imports_of(name: str, path: Path, known: set[str]) -> list[Import]:
    """Every import in the module `name` (at path), relative ones resolved; `known`: the modules that exist."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node, lazy, typing_only in _imports_in(parsed(path)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            origin = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join(anchor + ([origin] if origin else []))
            targets = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in known else origin for a in node.names]
        found += [Import(name, target, node.lineno, lazy, typing_only) for target in targets]
    return found


def all_imports(root: Path, packages: tuple[str, ...] = RUNTIME) -> list[Import]:
    """The imports of every module of `packages` (which may be folders: "sync_server/store")."""
    found = modules(root, packages)
    known = set(found) | set(modules(root, (*RUNTIME, "devtools")))
    return [i for name, path in found.items() for i in imports_of(name, path, known)]


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


# ---- the rules: each returns what breaks it, [] when the tree keeps it ---------------------------------


def outside_the_standard_library(root: Path, package: str = "campaign") -> list[str]:
    return [f"{i.source}:{i.line} imports {i.target}" for i in all_imports(root, (package,))
            if i.target.partition(".")[0] not in sys.stdlib_module_names | {package}]


def crossings(root: Path, sources: tuple[str, ...], forbidden: tuple[str, ...],
              allowed: set[tuple[str, str]] | None = None) -> list[str]:
    """Imports (at any depth, for any purpose) from a module under `sources` of one under `forbidden`;
    a lazy import listed in `allowed` as (source, target) is fine."""
    return [f"{i.source}:{i.line} imports {i.target}" for i in all_imports(root, sources)
            if _under(i.target, forbidden) and not (i.lazy and (i.source, i.target) in (allowed or set()))]


def import_graph(root: Path, packages: tuple[str, ...] = RUNTIME, *, every: bool = True) -> dict[str, set[str]]:
    """Module -> the runtime modules it imports: every import, or (every=False) only those that run when
    the module is imported (not inside functions, not for types)."""
    graph: dict[str, set[str]] = {name: set() for name in modules(root, packages)}
    for i in all_imports(root, packages):
        if (every or i.at_import) and i.target in graph and i.target != i.source:
            graph[i.source].add(i.target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for v in sorted(graph):
            if v not in index:
                connect(v)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(found)


def environment_readers(root: Path, packages: tuple[str, ...] = RUNTIME) -> list[str]:
    """`os.environ`, `os.environb`, `os.getenv`, `os.putenv` or `from os import` one of them, anywhere."""
    names = {"environ", "environb", "getenv", "putenv"}
    readers = []
    for name, path in modules(root, packages).items():
        for node in ast.walk(parsed(path)):
            if (isinstance(node, ast.Attribute) and node.attr in names and isinstance(node.value, ast.Name)
                    and node.value.id == "os") or \
                    (isinstance(node, ast.ImportFrom) and node.module == "os" and
                     any(a.name in names for a in node.names)):
                readers.append(f"{name}:{node.lineno}")
    return readers


def long_modules(root: Path, packages: tuple[str, ...] = RUNTIME, limit: int = MAX_LINES) -> dict[str, int]:
    return {name: n for name, path in modules(root, packages).items()
            if "migrations" not in path.relative_to(root).parts
            and (n := len(path.read_text(encoding="utf-8").splitlines())) > limit}


# ---- the tree keeps the rules ---------------------------------------------------------------------


def test_the_reader_sees_what_it_must() -> None:
    """The rules mean something only if the reader resolves relative imports, sees lazy ones and
    reads every package."""
    names = modules(REPO)
    assert {"campaign.events", "field_app.store", "sync_server.store.db", "sync_server.api.deps"} <= set(names)
    deps = {i.target for i in imports_of("sync_server.api.deps", names["sync_server.api.deps"], set(names))}
    assert "sync_server.services.enrolment" in deps  # `from ..services import enrolment`
    cli = {(i.target, i.lazy) for i in all_imports(REPO, ("sync_server",)) if i.source == "sync_server.cli"}
    assert {("devtools.demo", True), ("devtools.bench.server", True)} <= cli
    assert sum(len(v) for v in import_graph(REPO).values()) > 200


def test_campaign_imports_the_standard_library_only() -> None:
    assert outside_the_standard_library(REPO) == []


@pytest.mark.parametrize("sources, forbidden", [
    (("field_app",), ("sync_server",)),
    (("sync_server",), ("field_app",)),
    (("campaign",), ("field_app", "sync_server", "devtools")),
])
def test_the_sides_never_import_each_other(sources: tuple[str, ...], forbidden: tuple[str, ...]) -> None:
    assert crossings(REPO, sources, forbidden) == []


def test_runtime_code_never_imports_devtools_but_the_two_commands_lazily() -> None:
    assert crossings(REPO, RUNTIME, ("devtools",), allowed=LAZY_TOOLS) == []


def test_no_import_cycle_between_runtime_modules() -> None:
    assert cycles(import_graph(REPO)) == []


@pytest.mark.parametrize("layer, above", LAYERS)
def test_a_server_layer_never_imports_the_layers_above_it(layer: str, above: tuple[str, ...]) -> None:
    assert crossings(REPO, (layer.replace(".", "/"),), above) == []


def test_views_never_import_the_shell() -> None:
    assert crossings(REPO, ("field_app/views",), tuple(SHELL_MODULES)) == []
    assert not (REPO / "field_app" / "main.py").exists()  # no shim: `gocua-app` is field_app.app:main


def test_the_views_models_load_no_flet() -> None:
    models = sorted(modules(REPO, ("field_app/views/models",)))
    assert len(models) >= 4  # the package, the dashboard's, the leader's, the lock's
    code = "import sys\n" + "".join(f"import {m}\n" for m in models) + \
        "print(sorted(m for m in sys.modules if m == 'flet' or m.startswith('flet.')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_only_the_settings_read_the_environment() -> None:
    readers = environment_readers(REPO)
    assert [r for r in readers if r.partition(":")[0] not in ENVIRONMENT] == []
    assert any(r.startswith("sync_server.config:") for r in readers)


def test_no_runtime_module_passes_500_lines() -> None:
    assert long_modules(REPO) == {}


# ---- each rule catches its breach (a small fake tree) ---------------------------------------------------


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        for parent in path.relative_to(root).parents:
            if parent != Path(".") and not (root / parent / "__init__.py").exists():
                (root / parent / "__init__.py").write_text("", encoding="utf-8")
    return root


def test_a_third_party_import_in_campaign_is_caught(tmp_path: Path) -> None:
    root = tree(tmp_path, {"campaign/ok.py": "from __future__ import annotations\nimport json\nfrom . import rules\n",
                           "campaign/rules.py": "def f():\n    import httpx\n"})
    assert outside_the_standard_library(root) == ["campaign.rules:2 imports httpx"]


def test_one_side_importing_the_other_is_caught(tmp_path: Path) -> None:
    root = tree(tmp_path, {"field_app/a.py": "from sync_server.store import db\n",
                           "sync_server/store/db.py": "", "sync_server/b.py": "def f():\n    from field_app import a\n"})
    assert crossings(root, ("field_app",), ("sync_server",)) == ["field_app.a:1 imports sync_server.store.db"]
    assert crossings(root, ("sync_server",), ("field_app",)) == ["sync_server.b:2 imports field_app.a"]


def test_devtools_imported_anywhere_else_or_at_import_is_caught(tmp_path: Path) -> None:
    root = tree(tmp_path, {"devtools/demo.py": "", "devtools/bench/server.py": "",
                           "sync_server/cli.py": "def demo():\n    from devtools import demo\n"
                                                 "def bench():\n    from devtools.bench import server\n",
                           "sync_server/api/x.py": "def f():\n    import devtools.demo\n",
                           "field_app/y.py": "from devtools import demo\n"})
    assert crossings(root, RUNTIME, ("devtools",), allowed=LAZY_TOOLS) == \
        ["field_app.y:1 imports devtools.demo", "sync_server.api.x:2 imports devtools.demo"]
    (root / "sync_server" / "cli.py").write_text("from devtools import demo\n", encoding="utf-8")
    assert "sync_server.cli:1 imports devtools.demo" in crossings(root, ("sync_server",), ("devtools",),
                                                                  allowed=LAZY_TOOLS)  # the command, at import


def test_a_cycle_is_caught_lazy_or_typing_imports_included(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "sync_server/a.py": "from . import b\n",
        "sync_server/b.py": "from sync_server.c import thing\n",
        "sync_server/c.py": "import sync_server.a\nthing = 1\n",
        "field_app/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from field_app import e\n",
        "field_app/e.py": "def f():\n    from . import d\n",
    })
    assert cycles(import_graph(root, every=False)) == [["sync_server.a", "sync_server.b", "sync_server.c"]]
    assert cycles(import_graph(root)) == [["field_app.d", "field_app.e"], ["sync_server.a", "sync_server.b",
                                                                          "sync_server.c"]]


def test_a_layer_importing_one_above_it_is_caught(tmp_path: Path) -> None:
    root = tree(tmp_path, {"sync_server/store/totals.py": "from ..services import ingest\n",
                           "sync_server/services/ingest.py": "from ..store import totals\n"})
    assert crossings(root, ("sync_server/store",), LAYERS[0][1]) == \
        ["sync_server.store.totals:1 imports sync_server.services.ingest"]
    assert crossings(root, ("sync_server/services",), LAYERS[1][1]) == []


def test_a_view_importing_the_shell_is_caught(tmp_path: Path) -> None:
    root = tree(tmp_path, {"field_app/shell.py": "", "field_app/views/home.py": "from ..shell import AppShell\n",
                           "field_app/views/shell.py": ""})
    assert crossings(root, ("field_app/views",), tuple(SHELL_MODULES)) == ["field_app.views.home:1 imports field_app.shell"]


def test_reading_the_environment_elsewhere_is_caught(tmp_path: Path) -> None:
    root = tree(tmp_path, {"sync_server/config.py": "import os\nx = os.environ\n",
                           "sync_server/store/db.py": "from os import getenv\n",
                           "field_app/app.py": "import os\n\ndef f():\n    return os.environ.get('X')\n"})
    assert environment_readers(root) == ["field_app.app:4", "sync_server.config:2", "sync_server.store.db:1"]


def test_a_long_module_is_caught_but_not_a_migration(tmp_path: Path) -> None:
    lines = "x = 1\n" * (MAX_LINES + 1)
    root = tree(tmp_path, {"field_app/big.py": lines, "field_app/fine.py": "x = 1\n" * MAX_LINES,
                           "sync_server/store/migrations/versions/0001.py": lines})
    assert long_modules(root) == {"field_app.big": MAX_LINES + 1}
