"""Data flows one way: content -> kb -> indexer -> webapp (checked by scanning imports)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"kb": {"indexer", "webapp", "faiss", "sentence_transformers", "fastapi"},
             "indexer": {"webapp", "fastapi", "starlette", "jinja2"},
             "webapp": {"faiss", "sqlite3", "sqlite_utils"}}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_packages_only_import_downstream() -> None:
    problems = []
    for package, banned in FORBIDDEN.items():
        for path in (ROOT / package).rglob("*.py"):
            bad = imports_of(path) & banned
            if bad:
                problems.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert problems == []


def test_no_sql_in_webapp() -> None:
    for path in (ROOT / "webapp").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "SELECT " not in text and "execute(" not in text, path
