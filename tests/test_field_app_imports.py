"""The field app's layout, read from its source: views never reach for the
shell, the views' models never reach for Flet, and no module of field_app
imports itself back through others (every import counts: top-level, inside a
function, or for type checking only)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "field_app"

#: the shell and the entry point (field_app/main.py was both until issue #10)
SHELL_MODULES = {"field_app.shell", "field_app.app", "field_app.main"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path, modules: set[str]) -> set[str]:
    """Every module of `modules` that `path` imports, by absolute name. `from x import y`
    imports x.y when that is a module, else x. (A package's `__init__` runs before any of
    its modules: that is no dependency of the package on them.)"""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            for alias in node.names:
                found.add(f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin)
    return found & modules


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: imported(path, set(modules)) - {name} for name, path in modules.items()}


def test_views_never_import_the_shell() -> None:
    offenders = {name: sorted(deps & SHELL_MODULES) for name, deps in graph().items()
                 if name.startswith("field_app.views") and deps & SHELL_MODULES}
    assert offenders == {}
    assert not (PACKAGE / "main.py").exists()  # no shim: `gocua-app` is field_app.app:main


def test_no_import_cycle_in_field_app() -> None:
    deps = graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for dep in sorted(deps[name]):
            if state.get(dep) == 1:
                cycles.append([*path[path.index(dep):], dep])
            elif dep not in state:
                visit(dep)
        path.pop()
        state[name] = 2

    for name in sorted(deps):
        if name not in state:
            visit(name)
    assert cycles == []


def test_the_views_models_import_no_flet() -> None:
    models = sorted(module_name(p) for p in (PACKAGE / "views" / "models").rglob("*.py"))
    assert len(models) >= 4  # the package, the dashboard's, the leader's, the lock's
    code = "import sys\n" + "".join(f"import {m}\n" for m in models) + \
        "print(sorted(m for m in sys.modules if m == 'flet' or m.startswith('flet.')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
