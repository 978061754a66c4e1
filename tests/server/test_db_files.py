"""Nothing but SQLite opens a database's own files (the server's and the phone's). SQLite keeps POSIX (fcntl) locks on the
database and its -shm file, and POSIX locks belong to the process: a descriptor of the same
file opened and closed anywhere else in the process releases them all, SQLite's read marks
among them. A checkpoint thread that read the -shm header to decide when to run did that in
issue #16, and a 1,000-device run then read a WAL another worker had reset ("database disk
image is malformed"). This test finds any name of such a file in the server's code."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUFFIXES = ("-shm", "-wal", "-journal")


def _names_of_sqlite_files(source: str) -> list[tuple[int, str]]:
    return [(node.lineno, node.value) for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.endswith(SUFFIXES)]


def test_no_server_or_app_code_names_a_database_companion_file() -> None:
    # devtools may: the bench deletes a database's files once no process has it open
    found = {str(path.relative_to(ROOT)): hits for package in ("sync_server", "field_app", "campaign")
             for path in sorted((ROOT / package).rglob("*.py"))
             if (hits := _names_of_sqlite_files(path.read_text(encoding="utf-8")))}
    assert found == {}


def test_the_check_finds_the_read_that_corrupted_a_run() -> None:
    removed = 'def pending(database):\n    with open(database + "-shm", "rb") as shm:\n        return shm.read(100)\n'
    assert _names_of_sqlite_files(removed) == [(2, "-shm")]
