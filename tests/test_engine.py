"""`veille run` chooses its engine: the Prefect flow when a server is configured, else the same
recipe without Prefect (not even imported)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import engine
from pipeline.config import Config
from pipeline.demo.run import write_sources
from pipeline.models import CrawlSettings, TaskRunnerSettings

ROOT = Path(__file__).resolve().parent.parent
THREADS = Config(Path("sources.yaml"), (), CrawlSettings(), 8, 60)
DASK = replace(THREADS, task_runner=TaskRunnerSettings(kind="dask", n_workers=2))


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch):
    """Choose as a fresh `veille run` would: Prefect not loaded (else its settings are asked, and a
    session's test server counts as configured). Yields the Prefect module it hid, if loaded."""
    loaded = sys.modules.get("prefect")
    monkeypatch.delitem(sys.modules, "prefect", raising=False)
    return loaded


def no_server(tmp_path: Path) -> dict[str, str]:
    """An environment with no Prefect server anywhere: no variable, an empty Prefect home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return {**env, "PREFECT_HOME": str(tmp_path / "prefect-home")}


def test_without_a_server_the_run_is_direct(tmp_path: Path) -> None:
    choice = engine.choose_engine(THREADS, "auto", no_server(tmp_path))
    assert choice.engine == "direct" and "--prefect" in choice.line()


def test_a_server_in_the_environment_means_the_flow(tmp_path: Path) -> None:
    env = {**no_server(tmp_path), "PREFECT_API_URL": "http://127.0.0.1:4200/api"}
    choice = engine.choose_engine(THREADS, "auto", env)
    assert choice.engine == "prefect" and "http://127.0.0.1:4200/api" in choice.line()


def test_a_server_in_the_active_prefect_profile_means_the_flow(tmp_path: Path) -> None:
    env = no_server(tmp_path)
    home = Path(env["PREFECT_HOME"])
    home.mkdir()
    (home / "profiles.toml").write_text('active = "prod"\n[profiles.prod]\nPREFECT_API_URL = "http://srv:4200/api"\n'
                                        '[profiles.ephemeral]\n', encoding="utf-8")
    assert engine.choose_engine(THREADS, "auto", env).engine == "prefect"
    assert engine.choose_engine(THREADS, "auto", {**env, "PREFECT_PROFILE": "ephemeral"}).engine == "direct"


def test_flags_force_either_engine_but_dask_needs_prefect(tmp_path: Path) -> None:
    env = {**no_server(tmp_path), "PREFECT_API_URL": "http://127.0.0.1:4200/api"}
    assert engine.choose_engine(THREADS, "direct", env).engine == "direct"
    assert engine.choose_engine(THREADS, "prefect", no_server(tmp_path)).engine == "prefect"
    assert engine.choose_engine(DASK, "auto", no_server(tmp_path)).engine == "prefect"
    assert engine.choose_engine(DASK, "direct", no_server(tmp_path)).engine == "prefect"


PROBE = """
import sys
from pipeline.cli import main
code = main(sys.argv[1:])
print("prefect imported:", any(name == "prefect" or name.startswith("prefect.") for name in sys.modules))
print("sklearn imported:", "sklearn" in sys.modules)
print("readers and writers imported:", sorted(m for m in ("trafilatura", "bs4", "jinja2", "icalendar") if m in sys.modules))
raise SystemExit(code)
"""


@pytest.mark.usefixtures("prefect_harness")
def test_a_server_set_in_this_process_means_the_flow(fresh_process, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "prefect", fresh_process)  # loaded, its settings name the harness's server
    assert engine.choose_engine(THREADS, "auto", no_server(tmp_path)).engine == "prefect"


def test_veille_run_without_a_server_never_imports_prefect(demo_sites, tmp_path: Path) -> None:
    """...and a second run with nothing new does not even import scikit-learn (a second of start-up), nor
    what reads pages (trafilatura, bs4) or writes the map (jinja2, icalendar)."""
    sources = write_sources(demo_sites, tmp_path / "sources.yaml")
    outputs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", PROBE, "run", "--sources", str(sources), "--db", str(tmp_path / "veille.duckdb"),
             "--initiatives", str(tmp_path / "none.yaml")],
            cwd=tmp_path, env=no_server(tmp_path), capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append(done.stdout.strip().splitlines())
    first, second = outputs
    assert first[0].startswith("veille run: direct engine")
    assert any("items:" in line for line in first) and any("seconds per stage: " in line for line in first)
    assert first[-3:-1] == ["prefect imported: False", "sklearn imported: True"]  # the first run trains
    assert first[-1] == "readers and writers imported: ['bs4', 'icalendar', 'jinja2', 'trafilatura']"
    assert second[-3:-1] == ["prefect imported: False", "sklearn imported: False"]
    assert second[-1] == "readers and writers imported: []"  # nothing to read: every page is known or unchanged
