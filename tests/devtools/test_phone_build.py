"""The phone carries the app side only, and the runtime never reaches for the tools.

Read from pyproject.toml and the sources, not from a build: the phone build
(`flet build apk`) needs SDKs these machines do not have (docs/phone.md).
"""
from __future__ import annotations

import ast
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_SIDE = {"campaign", "field_app", "assets", "gocua_app.py"}  # what the phone runs
BUILD_INPUTS = {"pyproject.toml", "README.md"}  # what the build reads (pyproject names its readme)
RUNTIME_ONLY_BY_COMMAND = {"cmd_demo", "cmd_bench"}  # the server's commands that may import devtools


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _exclude() -> set[str]:
    return set(_pyproject()["tool"]["flet"]["app"]["exclude"])


def test_the_phone_build_excludes_everything_but_the_app_side() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    top = {path.split("/")[0] for path in tracked.splitlines()}
    assert top >= APP_SIDE | BUILD_INPUTS  # the names above still mean something
    assert {"devtools", "sync_server", "tests", "docs", "benchmarks"} <= top
    exclude = _exclude()
    assert sorted(top - APP_SIDE - BUILD_INPUTS - exclude) == []
    assert sorted((APP_SIDE | BUILD_INPUTS) & exclude) == []


def test_the_phone_build_excludes_what_a_checkout_makes() -> None:
    """The top-level directories .gitignore names (a venv, caches, the demo's data): never on a phone."""
    made = set()
    for line in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines():
        name = line.strip().strip("/")
        if not name or name.startswith("#") or "*" in name or "/" in name or name == "__pycache__":
            continue  # patterns, nested paths (under an excluded directory), bytecode of every package
        made.add(name)
    assert {".venv", "gocua-demo-app"} <= made
    assert sorted(made - _exclude()) == []


def test_the_server_wheel_carries_the_tools() -> None:
    packages = _pyproject()["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert set(packages) == {"campaign", "field_app", "sync_server", "devtools"}


def _imports(path: Path) -> list[tuple[str, int, list[str]]]:
    """(top-level module, line, names of the enclosing functions) of every absolute import in a file,
    `importlib.import_module("…")` and `__import__("…")` included."""
    found: list[tuple[str, int, list[str]]] = []

    def visit(node: ast.AST, functions: list[str]) -> None:
        if isinstance(node, ast.Import):
            found.extend((alias.name.split(".")[0], node.lineno, functions) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module.split(".")[0], node.lineno, functions))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) and (
                    (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                    or (isinstance(node.func, ast.Name) and node.func.id == "__import__")):
            found.append((node.args[0].value.split(".")[0], node.lineno, functions))
        inner = [*functions, node.name] if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else functions
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), [])
    return found


def _sources(*names: str) -> list[Path]:
    out: list[Path] = []
    for name in names:
        path = ROOT / name
        out += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return out


def test_the_app_side_imports_neither_the_server_nor_the_tools() -> None:
    sources = _sources("field_app", "campaign", "gocua_app.py")
    assert len(sources) > 20
    wrong = [f"{path.relative_to(ROOT)}:{line}: {module}"
             for path in sources for module, line, _ in _imports(path) if module in ("devtools", "sync_server")]
    assert wrong == []


def test_the_server_imports_the_tools_only_inside_its_demo_and_bench_commands() -> None:
    used = []
    for path in _sources("sync_server"):
        for module, line, functions in _imports(path):
            if module == "devtools":
                used.append(functions[-1:])
                assert functions and functions[-1] in RUNTIME_ONLY_BY_COMMAND, \
                    f"{path.relative_to(ROOT)}:{line} imports devtools"
    assert sorted(used) == [["cmd_bench"], ["cmd_demo"]]
