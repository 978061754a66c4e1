"""The map stays true to the house: every path that docs/architecture.md and the README's
"Layout" section name exists, every link of both files leads somewhere, and the README's
layout lists every package. A renamed or deleted module fails here instead of rotting.

How a name is read:
- in a code block (a tree), a word ending in "/" or a file extension is a path; a line's first
  word is under the nearest less indented directory line above it, the other words are tried
  against that directory, then each directory enclosing it, then the repository's root;
- in prose, a `backticked` word with a "/" or a file extension is tried against the section's
  directory (a heading such as "## `sync_server/`: ...") and then the root;
- a Markdown link's target, relative to the file.
"""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("campaign", "field_app", "sync_server", "devtools")
EXTENSIONS = {".py", ".md", ".csv", ".json", ".toml", ".txt", ".ttf", ".png", ".mako"}
_WORD = re.compile(r"^[\w.\-]+(/[\w.\-]+)*/?$")
_STRIP = "()[]{},;:…\"'`"


def _path_word(word: str, *, prose: bool = False) -> str | None:
    word = word.removesuffix("'s").strip(_STRIP).rstrip(".")
    if not word or not _WORD.match(word) or (word.startswith((".", "-")) and not word.startswith(".ci/")):
        return None
    if word.endswith("/") or Path(word).suffix in EXTENSIONS or (prose and "/" in word):
        return word
    return None


def _found(word: str, bases: list[Path]) -> Path | None:
    for base in bases:
        if (base / word.rstrip("/")).exists():
            return base / word.rstrip("/")
    return None


def named_paths(text: str, root: Path) -> tuple[list[Path], list[str]]:
    """(the paths the text names that exist, the names that lead nowhere)."""
    found: list[Path] = []
    missing: list[str] = []

    def check(word: str, bases: list[Path]) -> Path | None:
        where = _found(word, bases)
        if where is None:
            missing.append(f"{word} (tried {', '.join(str(b.relative_to(root)) or '.' for b in bases)})")
        else:
            found.append(where)
        return where

    section = root
    in_code = False
    stack: list[tuple[int, Path]] = []
    for line in text.splitlines():
        if line.startswith("```"):
            in_code, stack = not in_code, []
            continue
        if in_code:
            if not line.strip():
                continue
            indent = len(line) - len(line.lstrip(" "))
            while stack and stack[-1][0] >= indent:
                stack.pop()
            here = stack[-1][1] if stack else section
            words = line.split()
            first = _path_word(words[0])
            line_dir = here
            if first is not None:
                where = check(first, [here] if stack or here == root else [here, root])
                if where is not None and first.endswith("/"):
                    stack.append((indent, where))
                    line_dir = where
            enclosing = [line_dir, *[d for d in line_dir.parents if d == root or root in d.parents]]
            for word in words[1:]:
                if (name := _path_word(word)) is not None:
                    check(name, enclosing)
            continue
        if line.startswith("#"):
            heading = re.search(r"`([\w./-]+/)`", line)
            section = root / heading.group(1).rstrip("/") if heading else root
        for code in re.findall(r"`([^`\s]+)`", line):
            if (name := _path_word(code, prose=True)) is not None:
                check(name, [section, root] if section != root else [root])
    return found, missing


def broken_links(text: str, where: Path) -> list[str]:
    targets = re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", text)
    return [t for t in targets if "://" not in t and not (where.parent / t).exists()]


def layout_section(readme: str) -> str:
    start = readme.index("## Layout\n")
    end = readme.find("\n## ", start + 1)
    return readme[start: end if end != -1 else None]


def unlisted_packages(listed: list[Path], root: Path) -> list[str]:
    packages = {p.parent for name in PACKAGES for p in (root / name).rglob("__init__.py")
                if "migrations" not in p.parts and "__pycache__" not in p.parts}
    return sorted(str(p.relative_to(root)) for p in packages - set(listed))


# ---- the real documents ---------------------------------------------------------------------------


def test_every_path_in_the_architecture_page_exists() -> None:
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    found, missing = named_paths(text, REPO)
    assert missing == []
    assert len(found) > 100  # the page names the tree: the reader found it
    assert broken_links(text, REPO / "docs" / "architecture.md") == []


def test_the_readmes_layout_names_real_paths_and_every_package() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found, missing = named_paths(layout_section(readme), REPO)
    assert missing == []
    assert unlisted_packages(found, REPO) == []
    assert broken_links(readme, REPO / "README.md") == []


# ---- they fail when the doc lies -----------------------------------------------------------------------


def test_a_path_that_is_not_there_is_caught(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    for name in ("pkg/__init__.py", "pkg/a.py", "pkg/sub/__init__.py", "pkg/sub/b.py", "docs.md"):
        (tmp_path / name).write_text("", encoding="utf-8")
    text = """# Doc
```
pkg/        a.py gone.py
  sub/      b.py (see docs.md), also missing/ and os.environ
  nowhere/
```
## `pkg/`: prose
`sub/b.py` is here, `sub/c.py` is not, `record_outcome` is no path.
"""
    found, missing = named_paths(text, tmp_path)
    assert [m.split(" ")[0] for m in missing] == ["gone.py", "missing/", "nowhere/", "sub/c.py"]
    assert tmp_path / "pkg" / "sub" / "b.py" in found and tmp_path / "docs.md" in found
    assert unlisted_packages([tmp_path / "pkg"], tmp_path) == []  # no PACKAGES here
    assert broken_links("[a](pkg/a.py) [b](pkg/none.py) [c](https://x.vn/y)", tmp_path / "README.md") == \
        ["pkg/none.py"]


def test_a_package_missing_from_the_layout_is_caught(tmp_path: Path) -> None:
    for name in ("campaign/__init__.py", "field_app/__init__.py", "field_app/net/__init__.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    found, _ = named_paths("```\ncampaign/\nfield_app/   app.py\n```\n", tmp_path)
    assert unlisted_packages(found, tmp_path) == ["field_app/net"]
