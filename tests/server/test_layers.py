"""The server's layers, read from its source (docs/architecture.md): route -> service -> store.

store/ never imports api/ or services/; services/ never imports api/; render/ turns typed
rows into bytes and imports none of the three. Only config.py reads the environment.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "sync_server"


def _modules(folder: str = "") -> list[Path]:
    return sorted(p for p in (PACKAGE / folder).rglob("*.py") if "migrations" not in p.parts)


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports (relative imports resolved), at any depth of the file."""
    package = _name(path) if path.name == "__init__.py" else _name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _crossing(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{_name(p)} imports {m}" for p in _modules(folder) for m in sorted(imports_of(p))
            if m.startswith(forbidden)]


def test_the_import_resolver_sees_relative_imports() -> None:
    """The checks below mean something only if `from ..api import x` is read as sync_server.api."""
    store_db = PACKAGE / "store" / "db.py"
    assert "sqlalchemy" in imports_of(store_db)
    assert "sync_server.store.schema" in imports_of(PACKAGE / "store" / "devices.py")
    assert "sync_server.services.enrolment" in imports_of(PACKAGE / "api" / "deps.py")


@pytest.mark.parametrize("folder, forbidden", [
    ("store", ("sync_server.api", "sync_server.services", "sync_server.render")),
    ("services", ("sync_server.api",)),
    ("render", ("sync_server.api", "sync_server.services", "sync_server.store")),
])
def test_a_layer_never_imports_the_layers_above_it(folder: str, forbidden: tuple[str, ...]) -> None:
    assert _crossing(folder, forbidden) == []


def test_only_config_reads_the_environment() -> None:
    readers = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb") \
                    and isinstance(node.value, ast.Name) and node.value.id == "os":
                readers.append(f"{_name(path)}:{node.lineno}")
    assert [r for r in readers if not r.startswith("sync_server.config:")] == []


def test_no_server_module_passes_500_lines() -> None:
    long = {_name(p): n for p in _modules() if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500}
    assert long == {}
