"""The nightly recipe without Prefect: each stage a plain call, the crawl on a thread pool.

What `veille run` uses when no Prefect server is configured (pipeline/engine.py): an ephemeral
Prefect server would cost seconds to start and record the run where nobody looks. Same recipe
(nightly.run_nightly), same shared Fetcher, same progress board as the flow's thread pool.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from pipeline import store
from pipeline.config import Config, load_config
from pipeline.crawl.fetch import Fetcher
from pipeline.models import CrawlResult, Source, SourceState
from pipeline.progress import CrawlBoard
from pipeline.steps import nightly
from pipeline.steps import outreach as map_steps


class DirectStages:
    """nightly.NightlyStages as plain calls; the crawl on `config.workers` threads. `before_crawl` is
    called before crawling (run_nightly_direct lets the store's shared connection go there)."""

    def __init__(self, show_progress: bool = False, before_crawl: Callable[[], None] = lambda: None):
        self.show_progress = show_progress
        self.before_crawl = before_crawl

    def run(self, step: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return step(*args, **kwargs)

    def crawl(self, config: Config, sources: Sequence[Source], states: dict[str, SourceState],
              now: datetime) -> list[CrawlResult]:
        self.before_crawl()
        with ExitStack() as stack:
            fetcher = stack.enter_context(Fetcher(config.crawl))
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="crawl"))
            listener = stack.enter_context(CrawlBoard()).listener if self.show_progress else None
            futures = [pool.submit(nightly.crawl_one, s, fetcher, states[s.id], now, listener) for s in sources]
            return [f.result() for f in futures]


def run_nightly_direct(sources_path: Path, db: Path, initiatives_path: Path, show_progress: bool = False,
                       config: Config | None = None) -> tuple[dict[str, int], nightly.TimedStages]:
    """One nightly run in this process (`config`: sources_path's, when already loaded); its counts and
    the seconds each stage took. The stages share one connection to the store (store.keep_open), let
    go during the crawl, which may take long."""
    config = config or load_config(Path(sources_path))
    map_steps.load_manual_initiatives(Path(initiatives_path))  # invalid file: fail before crawling
    with store.keep_open(Path(db)) as let_go:
        stages = nightly.TimedStages(DirectStages(show_progress, before_crawl=let_go))
        _, counts = nightly.run_nightly(config, Path(db), Path(initiatives_path), datetime.now(timezone.utc), stages)
    return counts, stages
