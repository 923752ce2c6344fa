"""Which engine runs `veille run`: the Prefect nightly flow, or the same recipe as plain calls.

With a Prefect server configured (PREFECT_API_URL in the environment or in the active Prefect
profile; or already set in this process, e.g. by prefect_test_harness) the run is the Prefect flow,
recorded where people look. Without one, Prefect would start a throwaway ephemeral server (7-12 s
measured) that records the run where nobody looks: the run is then direct (pipeline/steps/direct.py)
and Prefect is not even imported. `--prefect` / `--direct` force either; a Dask task runner needs
Prefect, so it always runs the flow.
"""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from pipeline.config import Config

ENGINES = ("auto", "direct", "prefect")


@dataclass(frozen=True)
class EngineChoice:
    engine: str  # "direct" or "prefect"
    reason: str

    def line(self) -> str:
        return f"veille run: {self.engine} engine ({self.reason})"


@dataclass(frozen=True)
class NightlyOutcome:
    engine: str
    counts: dict[str, int]
    stage_seconds: dict[str, float] = field(default_factory=dict)


def choose_engine(config: Config, wanted: str = "auto", environ: Mapping[str, str] = os.environ) -> EngineChoice:
    if wanted == "direct" and config.task_runner.kind == "dask":
        return EngineChoice("prefect", "task_runner dask needs Prefect; --direct ignored")
    if wanted != "auto":
        return EngineChoice(wanted, f"--{wanted}")
    if config.task_runner.kind == "dask":
        return EngineChoice("prefect", "task_runner dask needs Prefect")
    url = prefect_api_url(environ)
    if url:
        return EngineChoice("prefect", f"Prefect server {url}")
    return EngineChoice("direct", "no Prefect server configured; --prefect to run the flow anyway")


def prefect_api_url(environ: Mapping[str, str] = os.environ) -> str | None:
    """The configured Prefect server, read without importing Prefect unless it is already loaded."""
    if "prefect" in sys.modules:  # its settings may have been changed in this process (a test harness)
        from pipeline import flows

        return flows.configured_api_url()
    return environ.get("PREFECT_API_URL") or _profile_api_url(environ)


def _profile_api_url(environ: Mapping[str, str]) -> str | None:
    """PREFECT_API_URL of the active profile of Prefect's profiles file (`prefect config set ...`)."""
    home = Path(environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    settings = profiles.get("profiles", {}).get(active, {})
    return settings.get("PREFECT_API_URL") if isinstance(settings, dict) else None


def run_nightly_now(config: Config, sources_path: Path, db: Path, initiatives_path: Path,
                    choice: EngineChoice, show_progress: bool = False) -> NightlyOutcome:
    """One nightly run, now, on the chosen engine."""
    if choice.engine == "prefect":
        from pipeline import flows

        return NightlyOutcome("prefect", flows.run_nightly_now(sources_path, db, initiatives_path, show_progress))
    from pipeline.steps import direct

    counts, stages = direct.run_nightly_direct(sources_path, db, initiatives_path, show_progress, config)
    return NightlyOutcome("direct", counts, stages.seconds)
