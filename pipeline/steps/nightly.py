"""The plain recipe the flows call: each step is one stage over the store, testable without Prefect.

Nightly: prepare_crawl -> crawl_one (per source) -> record_crawl -> cluster_new_items -> tag_items
-> score_items -> (map_steps: refresh_initiatives -> publish_outreach_map) -> finish_run, which
publishes the analysts' snapshot. Weekly (digest_steps): build_week_digest -> send_week_digest.

The order lives in one place, `run_nightly`; who runs each step is a `NightlyStages`: the Prefect
flow (one task per stage or source, pipeline/flows.py) or plain calls (pipeline/steps/direct.py).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence
from urllib.parse import urlsplit

from pipeline import search, store

from pipeline.crawl import source as crawl

from pipeline.dedupe import cluster as dedupe
from pipeline.dedupe import publications as dedupe_publications

from pipeline.digest import pages, rank
from pipeline.config import Config
from pipeline.crawl.fetch import Fetcher
from pipeline.models import CrawlResult, CrawlSettings, Item, Source, SourceOutcome, SourceState
from pipeline.steps import memo
from pipeline.steps import outreach as map_steps
from pipeline.steps.isolate import each_item, in_batches, whole_batch

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


def crawl_one(source: Source, fetcher: Fetcher, state: SourceState, now: datetime,
              on_progress: crawl.ProgressListener | None = None) -> CrawlResult:
    """Crawl one source; expected failures come back inside the result, and so does an unexpected
    one (code crawl_error): one source never stops another. A source whose server asked us to wait
    (rate_limited, retry_at) is not asked before that time."""
    if state.retry_at is not None and state.retry_at > now:
        return _not_asked(source, state, now)
    try:
        result = crawl.crawl_source(source, fetcher, state, now, on_progress)
    except Exception as exc:  # noqa: BLE001 - a bug met on one source's content is recorded against it
        log.debug("source %s: crawl failed", source.id, exc_info=True)
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:500]
        result = CrawlResult(source.id, SourceOutcome(source.id, now, "error", "crawl_error", detail))
    outcome = result.outcome
    if outcome.status == "error":
        log.warning("source %s failed: %s %s", source.id, outcome.error_code, outcome.error_detail)
    else:
        log.info("source %s: %s, %d item(s), %d page(s)", source.id, outcome.status, len(result.items), outcome.pages_fetched)
    return result


def _not_asked(source: Source, state: SourceState, now: datetime) -> CrawlResult:
    detail = f"not asked: the server asked not to be asked before {state.retry_at:%Y-%m-%d %H:%M} UTC"
    log.info("source %s skipped: %s", source.id, detail)
    outcome = SourceOutcome(source.id, now, "error", "rate_limited", detail, retry_at=state.retry_at)
    return CrawlResult(source.id, outcome)


def crawl_group(sources: Sequence[Source], settings: CrawlSettings, states: dict[str, SourceState],
                now: datetime) -> list[CrawlResult]:
    """Crawl sources that share an origin, one after the other, with a Fetcher of their own.

    For task runners whose workers are other processes (a Dask cluster): a Fetcher cannot travel
    there, and keeping one origin's sources in one task keeps its politeness (delay, concurrency,
    robots.txt) as on a single machine."""
    with Fetcher(settings) as fetcher:
        return [crawl_one(source, fetcher, states[source.id], now) for source in sources]


def crawl_batch(sources: Sequence[Source], fetcher: Fetcher, states: dict[str, SourceState], now: datetime,
                on_progress: crawl.ProgressListener | None = None) -> list[CrawlResult]:
    """Crawl sources one after the other on a shared Fetcher: one task of the thread pool (a task
    run per source cost the Prefect server more CPU than the crawl of a feed, measured)."""
    return [crawl_one(source, fetcher, states[source.id], now, on_progress) for source in sources]


def batch_by_origin(sources: Sequence[Source], batches: int) -> list[list[Source]]:
    """The sources in at most `batches` lists; one origin's sources stay in one list (its politeness
    holds in one task), origins dealt round-robin so that the lists are about the same length."""
    groups = group_by_origin(sources)
    lists: list[list[Source]] = [[] for _ in range(min(max(1, batches), len(groups)))]
    for index, group in enumerate(groups):
        lists[index % len(lists)].extend(group)
    return lists


def group_by_origin(sources: Sequence[Source]) -> list[list[Source]]:
    """Sources grouped by the scheme and host of their URL, in the order they were given."""
    groups: dict[str, list[Source]] = {}
    for source in sources:
        parts = urlsplit(source.url)
        groups.setdefault(f"{parts.scheme}://{parts.netloc}".lower(), []).append(source)
    return list(groups.values())


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
    db: Path, new_item_ids: Sequence[str], window_days: int, now: datetime, updated_item_ids: Sequence[str] = (),
    run_id: str = "",
) -> int:
    """Attach each new item to a cluster (a story); return how many joined an existing one.
    Pages found holding items among other things (newsletters, listings) are stored as mentions.

    Updated items keep their cluster; only their fingerprints are refreshed. An item that cannot be
    fingerprinted or assigned is recorded in item_failures (cluster_error) and left unclustered."""
    with store.open_store(db) as conn:
        loaded = store.load_items(conn, new_item_ids)
        fingerprints, failures = in_batches(loaded + store.load_items(conn, updated_item_ids),
                                            dedupe.fingerprint_items, "cluster")
        store.save_bands(conn, [(fp.item_id, int(key)) for fp in fingerprints for key in fp.band_keys])
        printed = {fp.item_id for fp in fingerprints}
        new_items = [item for item in loaded if item.item_id in printed]
        store.save_item_failures(conn, run_id, failures, now)
        if not new_items:
            return 0
        new_ids = {item.item_id for item in new_items}
        keys = sorted({int(key) for fp in fingerprints if fp.item_id in new_ids for key in fp.lookup_keys})
        arrays = store.load_window(conn, now - timedelta(days=window_days), keys)
        containers = store.container_ids(conn, sorted(set(arrays["item_id"].tolist())))
        window = dedupe.Window.from_arrays(**arrays, load_items=lambda ids: store.load_items(conn, ids),
                                           containers=containers)
        assigned, failed = whole_batch(
            new_items, lambda batch: dedupe.assign_clusters(batch, window, window_days=window_days), "cluster")
        store.save_item_failures(conn, run_id, failed, now)
        assignments = assigned or []
        if not assignments:
            return 0
        store.save_clusters(conn, [(a.item_id, a.cluster_id, a.match) for a in assignments])
        store.save_mentions(conn, [m for a in assignments for m in a.mentions], now)
        merged = _link_announcements(conn, new_items, now - timedelta(days=window_days))
        _refresh_representatives(conn, {merged.get(a.cluster_id, a.cluster_id) for a in assignments} | set(merged.values()))
    joined = sum(1 for a in assignments if a.match != "new")
    log.info("clustered %d new item(s): %d joined an existing story", len(assignments), joined)
    return joined


def _link_announcements(conn, new_items: Sequence[Item], since: datetime) -> dict[str, str]:
    """A news item citing a HAL deposit (its DOI or HAL id) joins the deposit's story, whichever came
    first; returns the merges done {cluster that joined: deposit's cluster}."""
    citing = _items_that_may_cite(conn, new_items, since)
    cited = sorted({r for i in citing for r in dedupe_publications.cited_references(i)})
    merges = dedupe_publications.citation_merges(
        citing, store.deposit_clusters(conn, cited), store.cluster_ids(conn, [i.item_id for i in citing]))
    store.merge_clusters(conn, merges)
    if merges:
        log.info("linked %d stor(ies) to the HAL deposit they announce", len(merges))
    return merges


def _items_that_may_cite(conn, new_items: Sequence[Item], since: datetime) -> list[Item]:
    """The new items that are not deposits, and the stored ones whose text names a new deposit."""
    publications = store.load_publications(conn, [i.item_id for i in new_items])
    needles = sorted({dedupe_publications.reference_needle(r) for p in publications.values()
                      for r in dedupe_publications.deposit_references(p)})
    citing = {i.item_id: i for i in new_items if i.item_id not in publications}
    citing.update({i.item_id: i for i in store.load_items(conn, store.items_citing(conn, needles, since))})
    return list(citing.values())


def _refresh_representatives(conn, cluster_ids: set[str]) -> None:
    members = store.items_of_clusters(conn, sorted(cluster_ids))
    store.save_representatives(
        conn, {cid: dedupe.choose_representative(items).item_id for cid, items in members.items()}
    )
    store.refresh_cluster_coverage(conn, sorted(cluster_ids))


def tag_items(db: Path, config: Config, model_dir: Path, now: datetime, run_id: str = "") -> str:
    """(Re)train when the labels changed, then predict every item the current model has not seen
    (an item the model cannot read is recorded in item_failures, tag_error). When every item was
    tagged by the model of the current labels, the classifier is not even imported."""
    declared = {s.id: s.category for s in config.sources}
    with store.open_store(db) as conn:
        labelled = store.load_labelled_items(conn)
        key = memo.inputs_key([(item.item_id, declared.get(item.source_id, "mixed"), label) for item, label in labelled])
        known = store.load_memo(conn, "tag_items")
        if known is not None and known[0] == key and not store.items_to_tag(conn, known[1]):
            return known[1]
        from pipeline.classify import model as classify  # scikit-learn: seconds to import

        corrections = [
            classify.LabelledItem(item.item_id, item.source_id, declared.get(item.source_id, "mixed"), item.url,
                                  item.title, item.text, label)
            for item, label in labelled
        ]
        examples = list(classify.load_seed()) + corrections
        version = classify.label_set_version(examples)
        store.save_memo(conn, "tag_items", key, version, now)
        items = store.items_to_tag(conn, version)
        if not items:  # every item was tagged by the model of these labels: it need not even be read
            return version
        model = _current_model(examples, model_dir)
        store.save_model_record(conn, model.version, now, len(examples), len(corrections))
        predictions, failures = in_batches(items, lambda batch: classify.predict(model, batch, declared), "tag")
        store.save_predictions(conn, predictions, now)
        store.save_item_failures(conn, run_id, failures, now)
    log.info("tagged %d item(s) with model %s", len(predictions), model.version)
    return model.version


def _current_model(examples: Sequence, model_dir: Path):
    from pipeline.classify import model as classify

    version = classify.label_set_version(examples)
    path = model_dir / f"category-{version}.skops"
    if path.exists():
        return classify.load_model(path)
    model = classify.train_model(examples)
    model_dir.mkdir(parents=True, exist_ok=True)
    classify.save_model(model, path)
    log.info("trained category model %s on %d example(s)", model.version, len(examples))
    return model


def score_items(db: Path, now: datetime, lookback_days: int = 60, run_id: str = "") -> int:
    """Compute the mediation-worthiness of the stories of the last weeks (for v_items): every item
    of a story is scored on its own text, with the story's coverage; an item that cannot be scored
    is recorded in item_failures (score_error)."""
    with store.open_store(db) as conn:
        stories = store.load_candidates(conn, now - timedelta(days=lookback_days), now + timedelta(days=1))
        members = store.cluster_members(conn, [c.cluster_id for c in stories])
        candidates = [replace(c, item=item) for c in stories for item in members.get(c.cluster_id, [c.item])]
        weights = _worthiness_weights(conn, now)
        no_story = _non_story_codes(conn, [c.item for c in candidates if not c.publications], now)  # a deposit is a story
        timeless = _TimelessScores(conn, [c for c in candidates if c.item.item_id not in no_story], weights)
        scores, failures = each_item(candidates, lambda c: _score(c, now, weights, no_story.get(c.item.item_id), timeless),
                                     "score", item_of=lambda c: c.item)
        store.save_worthiness(conn, scores, now)
        store.save_item_failures(conn, run_id, failures, now)
        timeless.save(conn, now)
    return len(scores)


class _TimelessScores:
    """The candidates' timeless scores (rank.timeless_score: the costly part, reading the text's
    cues and dates), reused from the last run for a candidate whose inputs are the same (the same
    story, item, tags and weights, and the same code), computed otherwise."""

    def __init__(self, conn, candidates: Sequence, weights: rank.WorthinessWeights):
        self.weights = weights
        self.keys = {c.item.item_id: memo.inputs_key(c, weights) for c in candidates}
        self.stored = store.load_timeless_scores(conn, list(self.keys))
        self.computed: list[tuple[str, str, str]] = []

    def of(self, candidate) -> rank.TimelessScore:
        item_id = candidate.item.item_id
        key, stored = self.stored.get(item_id, (None, ""))
        if key == self.keys[item_id]:
            return _timeless_from_json(stored)
        timeless = rank.timeless_score(candidate, self.weights)
        self.computed.append((item_id, self.keys[item_id], _timeless_to_json(timeless)))
        return timeless

    def save(self, conn, now: datetime) -> None:
        store.save_timeless_scores(conn, self.computed, list(self.keys), now)


def _timeless_to_json(timeless: rank.TimelessScore) -> str:
    return json.dumps({"parts": timeless.parts, "routine": timeless.routine,
                       "events": [(start.isoformat(), end.isoformat()) for start, end in timeless.events]})


def _timeless_from_json(text: str) -> rank.TimelessScore:
    data = json.loads(text)
    return rank.TimelessScore(
        tuple((name, points, reason) for name, points, reason in data["parts"]), data["routine"],
        tuple((datetime.fromisoformat(start), datetime.fromisoformat(end)) for start, end in data["events"]))


def _worthiness_weights(conn, now: datetime) -> rank.WorthinessWeights:
    """The weights learned from the graded examples and the officer's grades (learn.weights_from_grades,
    which imports scikit-learn), reused from the last run when the grades are the same."""
    graded = store.load_graded_items(conn)
    key = memo.inputs_key(graded)
    stored = store.load_memo(conn, "worthiness_weights")
    if stored is not None and stored[0] == key:
        return rank.WorthinessWeights(**json.loads(stored[1]))
    from pipeline.digest import learn

    weights = learn.weights_from_grades(graded)
    store.save_memo(conn, "worthiness_weights", key, json.dumps(asdict(weights)), now)
    return weights


def _non_story_codes(conn, items: list[Item], now: datetime) -> dict[str, str]:
    """pages.non_story_pages (a pure function of the items, costly: it compares every page of a
    source with the others), reused from the last run when the items are the same."""
    key = memo.inputs_key(sorted(items, key=lambda i: i.item_id))
    stored = store.load_memo(conn, "non_story_pages")
    if stored is not None and stored[0] == key:
        return json.loads(stored[1])
    codes = pages.non_story_pages(items)
    store.save_memo(conn, "non_story_pages", key, json.dumps(codes, sort_keys=True), now)
    return codes


def _score(candidate, now: datetime, weights, no_story_code: str | None,
           timeless: _TimelessScores) -> tuple[str, float, str]:
    """(item id, worthiness, French reasons); a page that is no story gets the no-story score."""
    if no_story_code:
        worth = rank.non_story_worthiness(no_story_code)
    else:
        worth = rank.score_at(timeless.of(candidate), candidate.item.published_at, now, weights)
    return candidate.item.item_id, worth.score, rank.reason_line(worth)


def finish_run(db: Path, summary: CrawlSummary, now: datetime) -> dict[str, int]:
    """Close the run (its counts, items_failed included) and publish the analysts' snapshot."""
    with store.open_store(db) as conn:
        counts = {**summary.counts(), "items_failed": store.count_item_failures(conn, summary.run_id)}
        status = "ok" if summary.sources_failed == 0 and counts["items_failed"] == 0 else "partial"
        store.finish_run(conn, summary.run_id, status, counts, now)
        changed = store.load_items(conn, summary.new_item_ids + summary.updated_item_ids)
    search.update_index(search.index_path(db), changed)
    store.publish_snapshot(db)
    return counts


class NightlyStages(Protocol):
    """Who runs the nightly steps: `run` one stage (a step of this module or map_steps), `crawl` the
    enabled sources (the fan-out: results in the order of `sources`)."""

    def run(self, step: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...

    def crawl(self, config: Config, sources: Sequence[Source], states: dict[str, SourceState],
              now: datetime) -> list[CrawlResult]: ...


def run_nightly(config: Config, db: Path, initiatives_path: Path, now: datetime,
                stages: NightlyStages) -> tuple[CrawlSummary, dict[str, int]]:
    """The nightly recipe, in order: crawl, record, cluster, tag, score, detect initiatives, publish
    the map, close the run and publish the snapshot. Returns the crawl summary and the run's counts."""
    run_id, states = stages.run(prepare_crawl, config, db, now)
    results = stages.crawl(config, [s for s in config.sources if s.enabled], states, now)
    summary = stages.run(record_crawl, db, run_id, results, now)
    stages.run(cluster_new_items, db, summary.new_item_ids, config.dedupe_window_days, now, summary.updated_item_ids,
               run_id=run_id)
    stages.run(tag_items, db, config, db.parent / "models", now, run_id=run_id)
    stages.run(score_items, db, now, run_id=run_id)
    stages.run(map_steps.refresh_initiatives, db, now, run_id=run_id)
    stages.run(map_steps.publish_outreach_map, db, initiatives_path, db.parent / "map", now, skip_unchanged=True)
    counts = stages.run(finish_run, db, summary, now)
    return summary, counts


class TimedStages:
    """NightlyStages that measures the wall seconds of each stage of another (report(): one line)."""

    def __init__(self, inner: NightlyStages):
        self.inner = inner
        self.seconds: dict[str, float] = {}

    def run(self, step: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.run(step, *args, **kwargs)
        finally:
            self._add(step.__name__, started)

    def crawl(self, config: Config, sources: Sequence[Source], states: dict[str, SourceState],
              now: datetime) -> list[CrawlResult]:
        started = time.perf_counter()
        try:
            return self.inner.crawl(config, sources, states, now)
        finally:
            self._add("crawl", started)

    def _add(self, stage: str, started: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started

    def report(self) -> str:
        return "stages (s): " + ", ".join(f"{name} {seconds:.2f}" for name, seconds in self.seconds.items())
