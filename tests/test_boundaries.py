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


# The stages, lowest first. A module may import the shared vocabulary (top-level modules below),
# its own stage, and the stages listed before its own, never a stage after it. Everything else
# (store, schema, steps, flows, cli, demo) sits above the stages and may import any of them.
STAGES = ["crawl", "dedupe", "classify", "digest", "outreach"]
VOCABULARY = {"pipeline.models", "pipeline.config", "pipeline.normalize", "pipeline.dates"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PIPELINE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def pipeline_imports(path: Path) -> set[str]:
    """Every pipeline module this file imports, at the top or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("pipeline"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.startswith("pipeline"):
            found.update(
                f"{node.module}.{a.name}" if (PIPELINE.parent / f"{node.module}.{a.name}".replace(".", "/")).with_suffix(".py").exists()
                or (PIPELINE.parent / f"{node.module}.{a.name}".replace(".", "/")).is_dir() else node.module
                for a in node.names
            )
    return found


def import_graph() -> dict[str, set[str]]:
    return {module_name(p): pipeline_imports(p) for p in PIPELINE.rglob("*.py")}


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in STAGES else None


def test_no_import_cycle() -> None:
    graph = import_graph()
    # a package's __init__ imports nothing here, so edges to a package name are edges to nothing
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append(trail[trail.index(target):] + [target] if target in trail else [node, target])
            elif target not in state:
                visit(target, trail + [target])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert cycles == []


def test_the_graph_sees_the_imports() -> None:
    graph = import_graph()
    assert "pipeline.crawl.fetch" in graph["pipeline.crawl.source"]
    assert "pipeline.outreach.catalogue" in graph["pipeline.outreach.review"]


def test_stages_import_only_below_them() -> None:
    wrong = []
    for module, targets in import_graph().items():
        stage = stage_of(module)
        if stage is None:
            if module.count(".") == 1 and module in VOCABULARY:
                wrong += [(module, t) for t in targets if t not in VOCABULARY]
            continue
        allowed = set(STAGES[: STAGES.index(stage) + 1])
        for target in targets:
            if target in VOCABULARY:
                continue
            if stage_of(target) not in allowed:
                wrong.append((module, target))
    assert wrong == []


def test_every_stage_says_where_to_start() -> None:
    for stage in STAGES + ["steps"]:
        doc = ast.get_docstring(ast.parse((PIPELINE / stage / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "first" in doc or stage == "steps" and doc, stage
