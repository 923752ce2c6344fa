"""Keep the documentation true: every module is on the README's map, every sources.yaml key is explained."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.config import SettingsModel, SourceModel

ROOT = Path(__file__).resolve().parent.parent


def test_every_module_is_on_the_map() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    modules = {
        f"pipeline/{p.relative_to(ROOT / 'pipeline')}"
        for p in (ROOT / "pipeline").rglob("*.py")
        if p.name != "__init__.py" and "demo" not in p.parts
    }
    missing = sorted(m for m in modules if f"`{m}`" not in readme)
    assert missing == []
    packages = {
        f"pipeline/{p.parent.relative_to(ROOT / 'pipeline')}/"
        for p in (ROOT / "pipeline").rglob("__init__.py") if p.parent != ROOT / "pipeline"
    }
    assert sorted(p for p in packages if f"`{p}`" not in readme) == []


def test_quick_start_is_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^(make \w+)", quick, re.M)
    assert commands == ["make demo", "make test"]


def test_every_sources_key_is_explained_in_the_example_file() -> None:
    header = (ROOT / "sources.yaml").read_text(encoding="utf-8").split("\nsources:", 1)[0]
    source_keys = set(SourceModel.model_fields)
    undocumented = sorted(k for k in source_keys if not re.search(rf"^#\s+{k}\b", header, re.M))
    assert undocumented == []
    settings_text = (ROOT / "sources.yaml").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing_settings = sorted(
        k for k in SettingsModel.model_fields if k not in settings_text and f"`{k}`" not in readme
    )
    assert missing_settings == []


def test_test_files_have_unique_names() -> None:
    """pytest imports test files by basename (rootdir mode): two test_x.py in two folders collide."""
    names = [p.name for p in (ROOT / "tests").rglob("test_*.py")]
    assert sorted({n for n in names if names.count(n) > 1}) == []
