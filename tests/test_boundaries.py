"""Architecture rules that keep the code easy to live in: which module may import what."""

from __future__ import annotations

import ast
from pathlib import Path

PIPELINE = Path(__file__).resolve().parent.parent / "pipeline"


def imported_top_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def modules_importing(package: str) -> set[str]:
    return {
        str(path.relative_to(PIPELINE))
        for path in PIPELINE.rglob("*.py")
        if package in imported_top_modules(path)
    }


def test_only_flows_imports_prefect() -> None:
    assert modules_importing("prefect") == {"flows.py"}


def test_only_store_imports_duckdb() -> None:
    assert modules_importing("duckdb") == {"store.py"}


def test_no_grab_bag_modules() -> None:
    names = {p.stem for p in PIPELINE.rglob("*.py")}
    assert not names & {"utils", "helpers", "common", "misc"}
