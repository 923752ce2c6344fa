"""The nightly steps on a real DuckDB file: an item a step cannot handle is recorded with its
stable code and counted (item_failures, runs.items_failed, v_source_health), the others are
handled; a stored impossible date (year 9999, from before dates were checked) stops nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline import store
from pipeline.digest import rank
from pipeline.models import CrawlResult, Item, Prediction, Source, SourceOutcome
from pipeline.normalize import content_hash, item_id
from pipeline.steps import nightly

NOW = datetime.now(UTC).replace(microsecond=0)
TITLES = ["Conférence grand public le jeudi 3 décembre à 18h", "Fête de la science : ateliers du 2 au 5 octobre",
          "Soutenance de thèse en chimie des matériaux", "Nouveau master en science des données"]


def make_item(k: int, title: str, published: datetime | None) -> Item:
    url = f"https://labo.univ-exemple.fr/actualites/{k}"
    text = f"{title}. Le laboratoire invite le public à découvrir ses travaux, ateliers et démonstrations."
    return Item(item_id(url), "labo", url, title, published, text, lang="fr", content_hash=content_hash(title, text))


@pytest.fixture()
def db(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "veille.duckdb"
    items = [make_item(k, t, NOW - timedelta(days=k + 1)) for k, t in enumerate(TITLES)]
    items.append(make_item(9, "Un article daté de l'an 9999 par son site", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)))
    with store.open_store(path) as conn:
        store.save_sources(conn, [Source("labo", "Labo", "feed", "https://labo.univ-exemple.fr/feed", "research")], NOW)
        run_id = store.start_run(conn, "nightly", NOW)
        store.save_crawl(conn, run_id, [CrawlResult("labo", SourceOutcome("labo", NOW, "ok"), tuple(items))], NOW)
        store.save_clusters(conn, [(i.item_id, i.item_id, "new") for i in items])
        store.save_representatives(conn, {i.item_id: i.item_id for i in items})
        store.save_predictions(conn, [Prediction(i.item_id, "research", 0.9, "m1") for i in items], NOW)
    return path, run_id


def query(db: Path, sql: str) -> list[tuple]:
    with store.open_store(db) as conn:
        return conn.execute(sql).fetchall()


def test_a_stored_year_9999_date_is_scored_without_failure(db) -> None:
    db, run_id = db
    assert nightly.score_items(db, NOW, run_id=run_id) == 5
    assert query(db, "SELECT count(*) FROM item_failures") == [(0,)]


def test_an_item_a_step_cannot_handle_is_recorded_counted_and_skipped(db, monkeypatch: pytest.MonkeyPatch) -> None:
    db, run_id = db
    bad = make_item(2, TITLES[2], None).item_id
    real = rank.timeless_score

    def breaks_on_one(candidate, *weights):  # a bug met on one item's content
        if candidate.item.item_id == bad:
            raise OverflowError("date value out of range")
        return real(candidate, *weights)

    monkeypatch.setattr(rank, "timeless_score", breaks_on_one)
    assert nightly.score_items(db, NOW, run_id=run_id) == 4
    assert query(db, "SELECT item_id, source_id, stage, error_code, error_detail FROM item_failures") == [
        (bad, "labo", "score", "score_error", "OverflowError: date value out of range")]
    assert query(db, f"SELECT count(*) FROM worthiness WHERE item_id <> '{bad}'") == [(4,)]
    summary = nightly.CrawlSummary(run_id, (), (), 1, 0)
    counts = nightly.finish_run(db, summary, NOW)
    assert counts["items_failed"] == 1
    assert query(db, f"SELECT status, items_failed FROM runs WHERE run_id = '{run_id}'") == [("partial", 1)]
    assert query(db, "SELECT item_failures FROM v_source_health WHERE source_id = 'labo'") == [(1,)]
    with duckdb.connect(str(db), read_only=True) as published:  # the analysts' snapshot has it too
        assert published.execute("SELECT count(*) FROM item_failures").fetchall() == [(1,)]


def test_a_source_that_breaks_the_crawler_is_one_failed_source(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.crawl import source as crawl
    from pipeline.crawl.fetch import Fetcher
    from pipeline.models import CrawlSettings, SourceState

    def bug(*args, **kwargs):
        raise KeyError("a field the parser did not expect")

    monkeypatch.setattr(crawl, "crawl_source", bug)
    with Fetcher(CrawlSettings()) as fetcher:
        result = nightly.crawl_one(Source("x", "X", "feed", "https://x.example.org/feed"), fetcher, SourceState(), NOW)
    assert result.outcome.status == "error" and result.outcome.error_code == "crawl_error"
    assert "KeyError" in result.outcome.error_detail and result.items == ()
