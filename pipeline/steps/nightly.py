"""The plain recipe the flows call: each step is one stage over the store, testable without Prefect.

Nightly: prepare_crawl -> crawl_one (per source) -> record_crawl -> cluster_new_items -> tag_items
-> score_items -> (map_steps: refresh_initiatives -> publish_outreach_map) -> finish_run, which
publishes the analysts' snapshot. Weekly (digest_steps): build_week_digest -> send_week_digest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Sequence

from pipeline import store

from pipeline.classify import model as classify

from pipeline.crawl import source as crawl

from pipeline.dedupe import cluster as dedupe

from pipeline.digest import learn, pages, rank
from pipeline.config import Config
from pipeline.crawl.fetch import Fetcher
from pipeline.models import CrawlResult, Source, SourceState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrawlSummary:
    run_id: str
    new_item_ids: tuple[str, ...]
    updated_item_ids: tuple[str, ...]
    sources_ok: int
    sources_failed: int
    failures: tuple[tuple[str, str], ...] = field(default=())  # (source_id, error_code)

    def counts(self) -> dict[str, int]:
        return {
            "sources_ok": self.sources_ok, "sources_failed": self.sources_failed,
            "items_new": len(self.new_item_ids), "items_updated": len(self.updated_item_ids),
        }


def prepare_crawl(config: Config, db: Path, now: datetime) -> tuple[str, dict[str, SourceState]]:
    """Register the sources, open a run and read what conditional GET and incremental crawls need."""
    with store.open_store(db) as conn:
        store.save_sources(conn, config.sources, now)
        run_id = store.start_run(conn, "nightly", now)
        states = store.load_states(conn, [s for s in config.sources if s.enabled])
    return run_id, states


def crawl_one(source: Source, fetcher: Fetcher, state: SourceState, now: datetime) -> CrawlResult:
    """Crawl one source; expected failures come back inside the result."""
    result = crawl.crawl_source(source, fetcher, state, now)
    outcome = result.outcome
    if outcome.status == "error":
        log.warning("source %s failed: %s %s", source.id, outcome.error_code, outcome.error_detail)
    else:
        log.info("source %s: %s, %d item(s), %d page(s)", source.id, outcome.status, len(result.items), outcome.pages_fetched)
    return result


def record_crawl(db: Path, run_id: str, results: Sequence[CrawlResult], now: datetime) -> CrawlSummary:
    with store.open_store(db) as conn:
        new, updated = store.save_crawl(conn, run_id, results, now)
    failed = [(r.source_id, r.outcome.error_code or "error") for r in results if r.outcome.status == "error"]
    return CrawlSummary(
        run_id=run_id,
        new_item_ids=tuple(i.item_id for i in new),
        updated_item_ids=tuple(i.item_id for i in updated),
        sources_ok=len(results) - len(failed),
        sources_failed=len(failed),
        failures=tuple(failed),
    )


def cluster_new_items(
    db: Path, new_item_ids: Sequence[str], window_days: int, now: datetime, updated_item_ids: Sequence[str] = ()
) -> int:
    """Attach each new item to a cluster (a story); return how many joined an existing one.

    Updated items keep their cluster; only their fingerprints are refreshed."""
    with store.open_store(db) as conn:
        new_items = store.load_items(conn, new_item_ids)
        fingerprints = dedupe.fingerprint_items(new_items + store.load_items(conn, updated_item_ids))
        store.save_bands(conn, [(fp.item_id, int(key)) for fp in fingerprints for key in fp.band_keys])
        if not new_items:
            return 0
        keys = sorted({int(key) for fp in fingerprints[: len(new_items)] for key in fp.band_keys})
        arrays = store.load_window(conn, now - timedelta(days=window_days), keys)
        window = dedupe.Window.from_arrays(**arrays, load_items=lambda ids: store.load_items(conn, ids))
        assignments = dedupe.assign_clusters(new_items, window, window_days=window_days)
        store.save_clusters(conn, [(a.item_id, a.cluster_id, a.match) for a in assignments])
        _refresh_representatives(conn, {a.cluster_id for a in assignments})
    joined = sum(1 for a in assignments if a.match != "new")
    log.info("clustered %d new item(s): %d joined an existing story", len(assignments), joined)
    return joined


def _refresh_representatives(conn, cluster_ids: set[str]) -> None:
    members = store.items_of_clusters(conn, sorted(cluster_ids))
    store.save_representatives(
        conn, {cid: dedupe.choose_representative(items).item_id for cid, items in members.items()}
    )


def tag_items(db: Path, config: Config, model_dir: Path, now: datetime) -> str:
    """(Re)train when the labels changed, then predict every item the current model has not seen."""
    declared = {s.id: s.category for s in config.sources}
    with store.open_store(db) as conn:
        corrections = [
            classify.LabelledItem(item.item_id, item.source_id, declared.get(item.source_id, "mixed"), item.url,
                                  item.title, item.text, label)
            for item, label in store.load_labelled_items(conn)
        ]
        examples = list(classify.load_seed()) + corrections
        model = _current_model(examples, model_dir)
        store.save_model_record(conn, model.version, now, len(examples), len(corrections))
        items = store.items_to_tag(conn, model.version)
        predictions = classify.predict(model, items, declared)
        store.save_predictions(conn, predictions, now)
    log.info("tagged %d item(s) with model %s", len(predictions), model.version)
    return model.version


def _current_model(examples: Sequence[classify.LabelledItem], model_dir: Path) -> classify.CategoryModel:
    version = classify.label_set_version(examples)
    path = model_dir / f"category-{version}.skops"
    if path.exists():
        return classify.load_model(path)
    model = classify.train_model(examples)
    model_dir.mkdir(parents=True, exist_ok=True)
    classify.save_model(model, path)
    log.info("trained category model %s on %d example(s)", model.version, len(examples))
    return model


def score_items(db: Path, now: datetime, lookback_days: int = 60) -> int:
    """Compute the mediation-worthiness of the stories of the last weeks (for v_items): every item
    of a story is scored on its own text, with the story's coverage."""
    with store.open_store(db) as conn:
        stories = store.load_candidates(conn, now - timedelta(days=lookback_days), now + timedelta(days=1))
        members = store.cluster_members(conn, [c.cluster_id for c in stories])
        candidates = [replace(c, item=item) for c in stories for item in members.get(c.cluster_id, [c.item])]
        weights = learn.weights_from_grades(store.load_graded_items(conn))
        no_story = pages.non_story_pages([c.item for c in candidates])
        scores = []
        for candidate in candidates:
            code = no_story.get(candidate.item.item_id)
            worth = rank.non_story_worthiness(code) if code else rank.score_candidate(candidate, now, weights)
            scores.append((candidate.item.item_id, worth.score, rank.reason_line(worth)))
        store.save_worthiness(conn, scores, now)
    return len(scores)


def finish_run(db: Path, summary: CrawlSummary, now: datetime) -> Path:
    status = "ok" if summary.sources_failed == 0 else "partial"
    with store.open_store(db) as conn:
        store.finish_run(conn, summary.run_id, status, summary.counts(), now)
    return store.publish_snapshot(db)
