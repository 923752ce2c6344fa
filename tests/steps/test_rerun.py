"""A night with nothing changed redoes no costly work, and a night with something changed redoes
what it affects: each step that reuses an earlier result (step_memos) stores exactly what a full
recomputation would, on a real database left by a direct nightly run over the demo sites."""

from __future__ import annotations

import logging
import shutil
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from pipeline import store
from pipeline.config import load_config
from pipeline.demo.run import write_sources
from pipeline.models import CrawlResult, SourceOutcome
from pipeline.normalize import content_hash
from pipeline.steps import direct, nightly
from pipeline.steps import outreach as map_steps

WORTHINESS = "SELECT item_id, score, reasons FROM worthiness ORDER BY item_id"
CATALOGUE = """SELECT initiative_id, title, kind, status, validated, rejected, merged_into, evidence
               FROM initiatives ORDER BY initiative_id"""


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The folder a direct nightly run over the demo sites leaves (database, models, map), and its sources."""
    from pipeline.demo.run import SITES
    from pipeline.demo.server import serve_sites

    out = tmp_path_factory.mktemp("night")
    with serve_sites(SITES) as sites:
        sources = write_sources(sites, out / "sources.yaml")
        direct.run_nightly_direct(sources, out / "db" / "veille.duckdb", out / "none.yaml")
    return out / "db", sources


@pytest.fixture()
def db(night, tmp_path: Path) -> Path:
    """A copy of the night's folder for one test."""
    shutil.copytree(night[0], tmp_path / "db")
    return tmp_path / "db" / "veille.duckdb"


def rows(db: Path, sql: str) -> list[tuple]:
    with store.open_store(db) as conn:
        return conn.execute(sql).fetchall()


def without_memos(db: Path, tmp_path: Path) -> Path:
    """A copy of the database that remembers nothing: the next steps recompute everything."""
    copy = tmp_path / "full"
    shutil.copytree(db.parent, copy)
    with store.open_store(copy / db.name) as conn:
        conn.execute("DELETE FROM step_memos")
        conn.execute("DELETE FROM timeless_scores")
    return copy / db.name


def update_item(db: Path, now: datetime, text: str) -> str:
    """A stored story whose page now says `text` (an updated item, as a crawl would store it)."""
    with store.open_store(db) as conn:
        [item_id] = conn.execute("SELECT item_id FROM worthiness ORDER BY score DESC, item_id LIMIT 1").fetchone()
        [item] = store.load_items(conn, [item_id])
        changed = replace(item, text=text, content_hash=content_hash(item.title, text))
        run_id = store.start_run(conn, "nightly", now)
        outcome = SourceOutcome(item.source_id, now, "ok")
        _, updated = store.save_crawl(conn, run_id, [CrawlResult(item.source_id, outcome, (changed,))], now)
    assert [i.item_id for i in updated] == [item_id]
    return item_id


def test_scores_reused_or_not_equal_a_full_rescore_later(db: Path, tmp_path: Path) -> None:
    later = datetime.now(timezone.utc) + timedelta(days=9)  # freshness and coming dates have moved
    full = without_memos(db, tmp_path)
    timeless = "SELECT item_id, inputs_key, saved_at FROM timeless_scores ORDER BY item_id"
    kept = rows(db, timeless)
    nightly.score_items(db, later)
    nightly.score_items(full, later)
    assert rows(db, WORTHINESS) == rows(full, WORTHINESS)
    assert len(kept) > 10 and rows(db, timeless) == kept  # every timeless score was reused, none recomputed
    assert rows(full, "SELECT count(*) FROM timeless_scores") == [(len(kept),)]
    assert rows(db, "SELECT count(*) FROM step_memos WHERE step IN ('non_story_pages', 'worthiness_weights')") == [(2,)]


def test_an_item_that_became_a_placeholder_is_rescored_like_a_full_rescore(db: Path, tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    item_id = update_item(db, now, "Page en travaux.")
    before = dict((i, s) for i, s, _ in rows(db, WORTHINESS))[item_id]
    full = without_memos(db, tmp_path)
    nightly.score_items(db, now)
    nightly.score_items(full, now)
    assert rows(db, WORTHINESS) == rows(full, WORTHINESS)
    assert dict((i, s) for i, s, _ in rows(db, WORTHINESS))[item_id] < before


def test_a_new_grade_changes_the_weights_like_a_full_rescore(db: Path, tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    before = rows(db, WORTHINESS)
    with store.open_store(db) as conn:
        top = conn.execute("SELECT item_id FROM worthiness ORDER BY score DESC, item_id LIMIT 6").fetchall()
        store.save_worthiness_grades(conn, [(item_id, 0, "") for (item_id,) in top], now)
    full = without_memos(db, tmp_path)
    nightly.score_items(db, now)
    nightly.score_items(full, now)
    assert rows(db, WORTHINESS) == rows(full, WORTHINESS)
    assert rows(db, WORTHINESS) != before


def test_a_label_retags_every_item_with_the_new_model(db: Path, night) -> None:
    now = datetime.now(timezone.utc)
    config = load_config(night[1])
    models = db.parent / "models"
    version = nightly.tag_items(db, config, models, now)
    assert nightly.tag_items(db, config, models, now) == version  # nothing changed: the same model
    with store.open_store(db) as conn:
        [(item_id, category)] = conn.execute("SELECT item_id, category FROM predictions ORDER BY item_id LIMIT 1").fetchall()
        store.save_labels(conn, [(item_id, "student" if category != "student" else "teaching", "")], now)
    relabelled = nightly.tag_items(db, config, models, now)
    assert relabelled != version
    assert rows(db, "SELECT DISTINCT model_version FROM predictions") == [(relabelled,)]


def test_detection_is_skipped_when_nothing_changed(db: Path, caplog: pytest.LogCaptureFixture) -> None:
    now = datetime.now(timezone.utc)
    catalogue = rows(db, CATALOGUE)
    with caplog.at_level(logging.INFO, logger="pipeline.steps.outreach"):
        map_steps.refresh_initiatives(db, now)
    assert "nothing changed since the last detection" in caplog.text
    assert rows(db, CATALOGUE) == catalogue


def test_a_changed_item_or_decision_redoes_detection_like_a_full_one(db: Path, tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    now = datetime.now(timezone.utc)
    with store.open_store(db) as conn:
        shown = [i for i in store.load_initiatives(conn) if i.visible]
        assert shown, "the demo sites describe outreach initiatives"
        store.save_initiatives(conn, [replace(shown[0], rejected=True)], now)  # the officer rejects one
    update_item(db, now, "Une page réécrite, sans plus rien d'une action pour le public. " * 20)
    full = without_memos(db, tmp_path)
    with caplog.at_level(logging.INFO, logger="pipeline.steps.outreach"):
        map_steps.refresh_initiatives(db, now)
        map_steps.refresh_initiatives(full, now)
    assert "nothing changed since the last detection" not in caplog.text
    assert rows(db, CATALOGUE) == rows(full, CATALOGUE)
    assert (shown[0].initiative_id, True) in [(r[0], r[5]) for r in rows(db, CATALOGUE)]


def test_the_map_is_left_alone_until_its_inputs_change(db: Path, tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    index = db.parent / "map" / "index.html"
    written = index.stat().st_mtime_ns
    result = map_steps.publish_outreach_map(db, tmp_path / "none.yaml", db.parent / "map", now, skip_unchanged=True)
    assert "unchanged" in result.summary and index.stat().st_mtime_ns == written
    manual = tmp_path / "initiatives.yaml"
    manual.write_text("""initiatives:
  - id: nuit-des-etoiles-test
    title: "Nuit des étoiles au campus"
    kind: festival
    organisers: ["Observatoire du campus"]
    status: programmee
""", encoding="utf-8")
    result = map_steps.publish_outreach_map(db, manual, db.parent / "map", now, skip_unchanged=True)
    assert "published" in result.summary and "Nuit des étoiles au campus" in index.read_text(encoding="utf-8")
    tomorrow = now + timedelta(days=1)  # a new day moves coming editions to past ones: written again
    result = map_steps.publish_outreach_map(db, manual, db.parent / "map", tomorrow, skip_unchanged=True)
    assert "published" in result.summary


def test_the_snapshot_still_records_each_run(db: Path) -> None:
    now = datetime.now(timezone.utc)
    with store.open_store(db) as conn:
        run_id = store.start_run(conn, "nightly", now)
    nightly.finish_run(db, nightly.CrawlSummary(run_id, (), (), 1, 0), now)
    with duckdb.connect(str(db), read_only=True) as published:
        assert published.execute(f"SELECT status FROM runs WHERE run_id = '{run_id}'").fetchall() == [("ok",)]
