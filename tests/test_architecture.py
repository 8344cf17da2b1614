"""Layer contracts: content -> kb -> indexer -> services -> webapp, the CLI beside webapp, bench
aside (checked by scanning every import with ast, including imports inside functions)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kb", "indexer", "services", "webapp", "cli", "bench")

# (importer prefix, forbidden import prefixes): each row is one contract.
CONTRACTS: list[tuple[str, tuple[str, ...]]] = [
    ("kb", ("indexer", "services", "webapp", "cli", "bench", "faiss",
            "sentence_transformers", "fastapi", "starlette")),
    ("kb.content", ("kb.state", "kb.workflows", "kb.curation")),
    ("kb.state", ("kb.workflows", "kb.curation")),
    ("indexer", ("services", "webapp", "cli", "bench", "fastapi", "starlette", "jinja2")),
    ("services", ("webapp", "cli", "bench", "fastapi", "starlette", "jinja2", "faiss",
                  "sqlite3", "sqlite_utils")),
    # webapp reaches the index only through services and the engine's result types, and the
    # application database only through kb's accounts and workflows or services
    ("webapp", ("cli", "bench", "faiss", "sqlite3", "sqlite_utils", "indexer.pipeline",
                "indexer.vectors", "indexer.store", "indexer.reader", "indexer.generations",
                "indexer.gaps", "indexer.embedders.factory", "matplotlib", "kb.state.database",
                "kb.state.audit", "kb.state.searchlog")),
    # a route reads the request, calls services or kb, and renders: no indexer at all
    ("webapp.routes", ("indexer",)),
    # the CLI runs the same use cases as the web app (kb gaps, kb search via services)
    ("cli", ("webapp.routes", "indexer.gaps")),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every absolute module a file imports, as dotted names ('from a import b' gives a.b too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def test_every_layer_contract_holds() -> None:
    problems = []
    for name, path in all_modules().items():
        imported = imports_of(path)
        for importer, banned in CONTRACTS:
            if not under(name, importer):
                continue
            for target in imported:
                hit = [b for b in banned if under(target, b)]
                if hit:
                    problems.append(f"{name} imports {target} (contract: {importer} -/-> {hit[0]})")
    assert problems == []


def test_no_router_imports_another_router() -> None:
    routers = {n: p for n, p in all_modules().items() if under(n, "webapp.routes")}
    assert routers, "webapp/routes/ holds the routers"
    problems = [f"{name} imports {target}" for name, path in routers.items()
                for target in imports_of(path)
                if under(target, "webapp.routes") and target != name
                and target != "webapp.routes"]
    assert problems == []


def test_no_sql_in_webapp() -> None:
    for path in (ROOT / "webapp").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "SELECT " not in text and "execute(" not in text, path


def test_serving_never_imports_bench_or_plotting() -> None:
    code = ("import sys; import cli.main; from webapp.app import create_app; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('bench', 'matplotlib')); "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


def test_ruff_is_clean_with_the_rules_in_pyproject() -> None:
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
