"""The DuckDB store on real files: schema, upserts, the analysts' snapshot, locking, docs in step."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline import store
from pipeline.models import CrawlResult, Item, Prediction, Source, SourceOutcome, Validator
from pipeline.normalize import content_hash, item_id

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
V_ITEMS_CONTRACT = (
    "item_id", "source_id", "url", "title", "published_at", "first_seen_at", "lang", "text", "category",
    "category_confidence", "cluster_id", "worthiness",
)


def make_item(url: str, title: str, text: str = "Texte de l'actualité.", source_id: str = "lab-a") -> Item:
    return Item(
        item_id=item_id(url), source_id=source_id, url=url, title=title, published_at=NOW - timedelta(days=1),
        text=text, lang="fr", content_hash=content_hash(title, text),
    )


def crawl_result(items: list[Item], source_id: str = "lab-a", status: str = "ok", code: str | None = None) -> CrawlResult:
    outcome = SourceOutcome(source_id, NOW, status, error_code=code, items_found=len(items))  # type: ignore[arg-type]
    return CrawlResult(source_id, outcome, tuple(items), (Validator(f"https://{source_id}.org/feed", '"e1"', None),))


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    path = tmp_path / "veille.duckdb"
    with store.open_store(path) as conn:
        store.save_sources(conn, [Source("lab-a", "Labo A", "feed", "https://a.org/feed", "research"),
                                  Source("lab-b", "Labo B", "html", "https://b.org/", "mixed")], NOW)
    return path


def test_edited_item_is_updated_not_new(db: Path) -> None:
    first = make_item("https://a.org/actualites/prix", "Prix de la Fondation")
    with store.open_store(db) as conn:
        run = store.start_run(conn, "nightly", NOW)
        new, updated = store.save_crawl(conn, run, [crawl_result([first])], NOW)
        assert (len(new), len(updated)) == (1, 0)
        edited = replace(first, title="Prix de la Fondation (corrigé)",
                         content_hash=content_hash("Prix de la Fondation (corrigé)", first.text))
        later = NOW + timedelta(days=2)
        new, updated = store.save_crawl(conn, run, [crawl_result([edited])], later)
        assert (len(new), [i.title for i in updated]) == (0, ["Prix de la Fondation (corrigé)"])
        new, updated = store.save_crawl(conn, run, [crawl_result([edited])], later)
        assert (new, updated) == ([], [])
        title, first_seen, updated_at = conn.execute(
            "SELECT title, first_seen_at, updated_at FROM items").fetchone()
    assert title.endswith("(corrigé)")
    assert first_seen == NOW and updated_at == NOW + timedelta(days=2)


def test_v_items_has_the_analysts_contract(db: Path) -> None:
    item = make_item("https://a.org/x", "Soutenance de thèse")
    with store.open_store(db) as conn:
        store.save_crawl(conn, store.start_run(conn, "nightly", NOW), [crawl_result([item])], NOW)
        store.save_clusters(conn, [(item.item_id, item.item_id, "new")])
        store.save_predictions(conn, [Prediction(item.item_id, "research", 0.91, "m1")], NOW)
        store.save_worthiness(conn, [(item.item_id, 2.5, "Soutenance de thèse")], NOW)
        columns = [d[0] for d in conn.execute("SELECT * FROM v_items").description]
        row = dict(zip(columns, conn.execute("SELECT * FROM v_items").fetchone()))
    assert columns[: len(V_ITEMS_CONTRACT)] == list(V_ITEMS_CONTRACT)
    assert (row["category"], row["category_confidence"], row["worthiness"]) == ("research", 0.91, 2.5)
    assert row["cluster_id"] == item.item_id


def test_officer_label_overrides_prediction(db: Path) -> None:
    item = make_item("https://a.org/y", "Journée portes ouvertes du master")
    with store.open_store(db) as conn:
        store.save_crawl(conn, store.start_run(conn, "nightly", NOW), [crawl_result([item])], NOW)
        store.save_predictions(conn, [Prediction(item.item_id, "research", 0.55, "m1")], NOW)
        store.save_labels(conn, [(item.item_id, "teaching", "porte ouverte du master")], NOW)
        category, confidence, corrected = conn.execute(
            "SELECT category, category_confidence, category_corrected FROM v_items").fetchone()
        labelled = store.load_labelled_items(conn)
    assert (category, confidence, corrected) == ("teaching", 1.0, True)
    assert [(i.item_id, c) for i, c in labelled] == [(item.item_id, "teaching")]


def test_review_lists_departures_from_the_declared_category_then_the_least_sure(db: Path) -> None:
    agrees = make_item("https://a.org/1", "Séminaire de l'équipe")
    departs = make_item("https://a.org/2", "Le master ouvre ses inscriptions")
    unsure = make_item("https://b.org/3", "Brève", source_id="lab-b")
    sure = make_item("https://b.org/4", "Gala du BDE", source_id="lab-b")
    with store.open_store(db) as conn:
        store.save_crawl(conn, store.start_run(conn, "nightly", NOW),
                         [crawl_result([agrees, departs]), crawl_result([unsure, sure], "lab-b")], NOW)
        store.save_predictions(conn, [Prediction(agrees.item_id, "research", 0.7, "m1"),
                                      Prediction(departs.item_id, "teaching", 0.95, "m1"),
                                      Prediction(unsure.item_id, "student", 0.5, "m1"),
                                      Prediction(sure.item_id, "student", 0.8, "m1")], NOW)
        rows = store.least_certain_items(conn, 3, uncertain_below=0.6)
    assert [(i.title, declared) for i, _, _, declared in rows] == [
        ("Brève", "mixed"), ("Le master ouvre ses inscriptions", "research"), ("Séminaire de l'équipe", "research")]


def test_source_health_counts_consecutive_failures(db: Path) -> None:
    with store.open_store(db) as conn:
        for day, (status, code) in enumerate([("ok", None), ("error", "timeout"), ("error", "http_404")]):
            moment = NOW + timedelta(days=day)
            outcome = SourceOutcome("lab-b", moment, status, error_code=code)  # type: ignore[arg-type]
            store.save_crawl(conn, store.start_run(conn, "nightly", moment), [CrawlResult("lab-b", outcome)], moment)
        health = {h.source_id: h for h in store.load_source_health(conn, NOW)}
    assert health["lab-b"].last_error_code == "http_404"
    assert health["lab-b"].consecutive_failures == 2
    assert health["lab-b"].last_success_at == NOW
    assert health["lab-a"].last_status is None


def test_an_unfinished_backfill_shows_in_health_and_carries_on(db: Path) -> None:
    sources = [Source("lab-a", "Labo A", "feed", "https://a.org/feed", "research")]
    stored = make_item("https://a.org/1", "Un")
    with store.open_store(db) as conn:
        assert store.load_states(conn, sources)["lab-a"].first_run
        cut = SourceOutcome("lab-a", NOW, "ok", items_found=1, backfill_done=1, backfill_total=3)
        store.save_crawl(conn, "r1", [CrawlResult("lab-a", cut, (stored,), (), (("https://a.org/vide", "no_text"),))],
                         NOW)
        health = {h.source_id: h for h in store.load_source_health(conn, NOW)}
        state = store.load_states(conn, sources)["lab-a"]
        later = NOW + timedelta(days=1)
        store.save_crawl(conn, "r2", [CrawlResult("lab-a", SourceOutcome("lab-a", later, "ok"))], later)
        finished = {h.source_id: h for h in store.load_source_health(conn, later)}
        assert not store.load_states(conn, sources)["lab-a"].first_run
    assert (health["lab-a"].backfill_done, health["lab-a"].backfill_total) == (1, 3)
    assert state.first_run  # the next run follows every listing page again
    assert state.known_urls == {"https://a.org/1", "https://a.org/vide"}  # neither is fetched again
    assert finished["lab-a"].backfill_total is None


def test_date_source_is_stored_and_kept_with_its_date(db: Path) -> None:
    item = replace(make_item("https://a.org/1", "Un"), date_source="page")
    undated = replace(item, title="Un, modifié", published_at=None, date_source=None,
                      content_hash=content_hash("Un, modifié", item.text))
    with store.open_store(db) as conn:
        store.save_crawl(conn, "r1", [crawl_result([item])], NOW)
        store.save_crawl(conn, "r2", [crawl_result([undated])], NOW)
        row = conn.execute("SELECT title, published_at, date_source FROM v_items").fetchone()
    assert row == ("Un, modifié", item.published_at, "page")


ANALYST = textwrap.dedent(
    """
    import duckdb, sys
    conn = duckdb.connect(sys.argv[1], read_only=True)
    print(conn.execute("SELECT count(*) FROM items").fetchone()[0], flush=True)
    sys.stdin.readline()  # keep the file open until the test says so
    print(conn.execute("SELECT count(*) FROM items").fetchone()[0], flush=True)
    """
)


def test_an_open_analyst_never_blocks_a_run_nor_sees_half_a_run(db: Path) -> None:
    with store.open_store(db) as conn:
        store.save_crawl(conn, "r0", [crawl_result([make_item("https://a.org/1", "Un")])], NOW)
    store.publish_snapshot(db)
    analyst = subprocess.Popen([sys.executable, "-c", ANALYST, str(db)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert analyst.stdout.readline().strip() == "1"
        with store.open_store(db, wait_s=0) as conn:  # the run writes while the analyst reads
            items = [make_item(f"https://a.org/{n}", f"Item {n}") for n in range(2, 6)]
            store.save_crawl(conn, "r1", [crawl_result(items)], NOW)
        store.publish_snapshot(db)
        out, _ = analyst.communicate("\n", timeout=30)
    finally:
        analyst.kill()
    assert out.strip() == "1"  # the analyst's connection still reads its own consistent snapshot
    reopened = subprocess.run([sys.executable, "-c", "import duckdb,sys; print(duckdb.connect(sys.argv[1], "
                               "read_only=True).execute('SELECT count(*) FROM items').fetchone()[0])", str(db)],
                              capture_output=True, text=True, check=True)
    assert reopened.stdout.strip() == "5"


def test_a_second_writer_waits_then_gives_up_clearly(db: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb,sys; c=duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "sys.stdin.readline()", str(store.working_path(db))],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(store.StoreBusy, match="held by another process"):
            with store.open_store(db, wait_s=0.5):
                pass
    finally:
        holder.communicate("\n", timeout=30)


OTHER_WRITER = "import duckdb,sys; duckdb.connect(sys.argv[1]).close(); print('opened')"


def other_writer_opens(db: Path) -> bool:
    """Whether another process can open the working file read-write now."""
    done = subprocess.run([sys.executable, "-c", OTHER_WRITER, str(store.working_path(db))], capture_output=True,
                          text=True, timeout=60)
    return done.stdout.strip() == "opened"


def test_kept_open_the_stages_share_a_connection_let_go_and_published_whole(db: Path) -> None:
    with store.keep_open(db) as let_go:
        with store.open_store(db) as conn:
            store.save_crawl(conn, "r0", [crawl_result([make_item("https://a.org/1", "Un")])], NOW)
        assert not other_writer_opens(db)  # held between two stages
        with store.open_store(db) as conn:  # a cursor of the same connection sees what the last stage wrote
            assert conn.execute("SELECT count(*), current_setting('TimeZone') FROM items").fetchone() == (1, "UTC")
        let_go()  # a long crawl: other processes may use the file meanwhile
        assert other_writer_opens(db)
        with store.open_store(db) as conn:  # opened again at its next use
            store.save_crawl(conn, "r1", [crawl_result([make_item("https://a.org/2", "Deux")])], NOW)
        store.publish_snapshot(db)  # lets go first: the snapshot holds the last writes
        published = subprocess.run([sys.executable, "-c", "import duckdb,sys; print(duckdb.connect(sys.argv[1], "
                                    "read_only=True).execute('SELECT count(*) FROM items').fetchone()[0])", str(db)],
                                   capture_output=True, text=True, check=True)
        assert published.stdout.strip() == "2"
        with store.open_store(db) as conn:
            conn.execute("SELECT 1")
    assert other_writer_opens(db)  # released at the end of the block


def test_digest_delivery_states(db: Path) -> None:
    with store.open_store(db) as conn:
        assert store.digest_status(conn, "2026-W48", "a@x") is None
        store.set_digest_status(conn, "2026-W48", "a@x", "sending", NOW, subject="S", message_id="<m1>")
        store.set_digest_status(conn, "2026-W48", "a@x", "failed", NOW, error="refused")
        store.set_digest_status(conn, "2026-W48", "a@x", "sending", NOW)
        store.set_digest_status(conn, "2026-W48", "a@x", "sent", NOW)
        status = store.digest_status(conn, "2026-W48", "a@x")
    assert status["status"] == "sent" and status["attempts"] == 2 and status["message_id"] == "<m1>"
    assert status["last_error"] is None


def test_schema_doc_lists_every_table_and_view_column(db: Path) -> None:
    doc = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    with store.open_store(db) as conn:
        relations = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
        ).fetchall()
    missing = []
    for table, column in relations:
        section = re.search(rf"^### `{table}`\n(.*?)(?=^### |\Z)", doc, re.S | re.M)
        if section is None or f"`{column}`" not in section.group(1):
            missing.append(f"{table}.{column}")
    assert missing == []


def test_migrating_twice_changes_nothing(db: Path) -> None:
    with store.open_store(db) as conn:
        version = store.migrate(conn)
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == version


def test_initiatives_round_trip(db: Path) -> None:
    from datetime import date

    from pipeline.outreach.catalogue import Edition, Initiative

    catalogue = [
        Initiative("pint-2026", "Pint of Science", "festival", ("Labo A", "Asso B"), ("grand_public",), "recurrente",
                   (Edition(2025, date(2025, 5, 19), date(2025, 5, 21), "Bar Le Lieu"), Edition(2026, None, None, "")),
                   place="Lyon", contact="pint@univ-exemple.fr", evidence=("https://a.org/pint",), validated=True),
        Initiative("rejetee", "Séminaire interne", "autre", ("Labo A",), ("personnels",), "realisee", rejected=True),
    ]
    with store.open_store(db) as conn:
        store.save_initiatives(conn, catalogue, NOW)
        assert store.load_initiatives(conn) == catalogue
        shown = conn.execute("SELECT initiative_id, last_year FROM v_initiatives").fetchall()
    assert shown == [("pint-2026", 2026)]


@contextmanager
def database_of_version(db: Path, version: int):
    """The working file of `db` at schema version `version` (its first migrations only), open for the
    test to fill before the store migrates it further."""
    import duckdb

    from pipeline.schema import MIGRATIONS

    with duckdb.connect(str(store.working_path(db))) as old:
        old.execute("CREATE TABLE schema_version (version INTEGER, applied_at TIMESTAMPTZ)")
        for number, script in enumerate(MIGRATIONS[:version], start=1):
            old.execute(script)
            old.execute("INSERT INTO schema_version VALUES (?, now())", [number])
        yield old


def test_stored_impossible_dates_become_no_dates_on_migration(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    with database_of_version(db, 2) as old:
        old.execute("""INSERT INTO items (item_id, source_id, url, title, published_at, first_seen_at, updated_at)
                       VALUES ('far', 's', 'u1', 't', TIMESTAMPTZ '9999-12-31 23:59:59+00', now(), now()),
                              ('ok', 's', 'u2', 't', TIMESTAMPTZ '2025-02-03 10:00:00+00', now(), now()),
                              ('one', 's', 'u3', 't', TIMESTAMPTZ '0001-01-01 00:00:00+00', now(), now())""")
    with store.open_store(db) as conn:
        dated = conn.execute("SELECT item_id, year(published_at) FROM items ORDER BY item_id").fetchall()
    assert dated == [("far", None), ("ok", 2025), ("one", None)]
def test_cluster_coverage_follows_the_stories_it_is_told_about(db: Path) -> None:
    first, relay = make_item("https://a.org/1", "Un"), make_item("https://b.org/1", "Un", source_id="lab-b")
    with store.open_store(db) as conn:
        store.save_crawl(conn, "r1", [crawl_result([first]), crawl_result([relay], "lab-b")], NOW)
        store.save_clusters(conn, [(first.item_id, "c1", "new"), (relay.item_id, "c1", "near")])
        store.save_representatives(conn, {"c1": first.item_id})
        assert conn.execute("SELECT count(*) FROM v_clusters").fetchall() == [(0,)]  # not refreshed yet
        store.refresh_cluster_coverage(conn, ["c1"])
        rows = conn.execute("SELECT cluster_id, representative_item_id, item_count, source_count, source_ids "
                            "FROM v_clusters").fetchall()
    assert rows == [("c1", first.item_id, 2, 2, ["lab-a", "lab-b"])]


def test_parquet_export_partitions_items_by_month(db: Path, tmp_path: Path) -> None:
    import duckdb

    november, december = make_item("https://a.org/1", "Un"), make_item("https://a.org/2", "Deux")
    with store.open_store(db) as conn:
        store.save_crawl(conn, "r1", [crawl_result([november])], NOW)
        store.save_crawl(conn, "r2", [crawl_result([december])], NOW + timedelta(days=10))
    store.publish_snapshot(db)
    paths = store.export_parquet(db, tmp_path / "parquet")
    assert sorted(p.name for p in paths["items"].iterdir()) == ["month=2026-11", "month=2026-12"]
    with duckdb.connect() as conn:
        rows = conn.execute(f"SELECT month, title FROM read_parquet('{paths['items']}/*/*.parquet', "
                            "hive_partitioning = true) ORDER BY month").fetchall()
        health = conn.execute(f"SELECT source_id FROM '{paths['source_health']}' ORDER BY 1").fetchall()
    assert rows == [("2026-11", "Un"), ("2026-12", "Deux")]
    assert health == [("lab-a",), ("lab-b",)]
def test_a_hal_deposit_keeps_its_publication(db: Path) -> None:
    from pipeline.models import Publication

    publication = Publication("hal-04000001", "ART", ("Camille Martin", "Yanis Benali"), journal="Nature",
                              doi="10.1038/x1", open_access=True, pdf_url="https://hal.science/hal-04000001/document")
    deposit = replace(make_item("https://hal.science/hal-04000001", "Un article"), publication=publication)
    with store.open_store(db) as conn:
        run = store.start_run(conn, "nightly", NOW)
        store.save_crawl(conn, run, [crawl_result([deposit, make_item("https://a.org/news", "Une actualité")])], NOW)
        assert store.load_publications(conn, [deposit.item_id, item_id("https://a.org/news")]) == {
            deposit.item_id: publication}
        row = conn.execute("SELECT hal_id, authors, journal, doi, open_access FROM v_publications").fetchall()
    assert row == [("hal-04000001", ["Camille Martin", "Yanis Benali"], "Nature", "10.1038/x1", True)]


def test_a_source_template_is_kept_until_a_crawl_learns_a_new_one(db: Path) -> None:
    learned = {"h1": frozenset({"cours de physique"}), "line": frozenset({"mentions legales", "plan du site"})}
    with store.open_store(db) as conn:
        store.save_crawl(conn, "r1", [replace(crawl_result([make_item("https://a.org/1", "Un")]), template=learned)], NOW)
        store.save_crawl(conn, "r2", [crawl_result([make_item("https://a.org/2", "Deux")])], NOW)  # learned nothing
        states = store.load_states(conn, [Source("lab-a", "Labo A", "feed", "https://a.org/feed"),
                                          Source("lab-b", "Labo B", "feed", "https://b.org/feed")])
    assert states["lab-a"].template == learned
    assert states["lab-b"].template == {}


def test_tags_and_rhythm_of_an_older_database_are_carried_into_their_tables(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    with database_of_version(db, 9) as old:
        old.execute("""INSERT INTO items (item_id, source_id, url, title, published_at, first_seen_at, updated_at)
                       VALUES ('a', 's', 'u1', 't', TIMESTAMPTZ '2025-01-01 00:00:00+00', now(), now()),
                              ('b', 's', 'u2', 't', TIMESTAMPTZ '2025-01-11 00:00:00+00', now(), now())""")
        old.execute("INSERT INTO predictions VALUES ('a', 'research', 0.8, 'm1', now()), ('b', 'student', 0.6, 'm1', now())")
        old.execute("INSERT INTO labels VALUES ('b', 'teaching', NULL, now())")
        old.execute("INSERT INTO worthiness VALUES ('a', 2.5, 'un prix', now())")
    with store.open_store(db) as conn:
        tags = conn.execute("""SELECT item_id, category, category_confidence, category_corrected, worthiness,
                                      worthiness_reasons, model_version FROM v_items ORDER BY item_id""").fetchall()
        rhythm = conn.execute("SELECT source_id, item_count, first_published_at, last_published_at "
                              "FROM source_rhythm").fetchall()
    assert tags == [("a", "research", 0.8, False, 2.5, "un prix", "m1"), ("b", "teaching", 1.0, True, None, None, "m1")]
    assert [(s, n, first.date().isoformat(), last.date().isoformat()) for s, n, first, last in rhythm] == [
        ("s", 2, "2025-01-01", "2025-01-11")]


def test_item_tags_follow_a_new_prediction_and_an_untagged_item_has_none(db: Path) -> None:
    tagged, untagged = make_item("https://a.org/1", "Un"), make_item("https://a.org/2", "Deux")
    with store.open_store(db) as conn:
        store.save_crawl(conn, "r1", [crawl_result([tagged, untagged])], NOW)
        store.save_predictions(conn, [Prediction(tagged.item_id, "research", 0.7, "m1")], NOW)
        store.save_predictions(conn, [Prediction(tagged.item_id, "student", 0.9, "m2")], NOW)
        rows = conn.execute("SELECT item_id, category, category_confidence, model_version, category_corrected "
                            "FROM v_items").fetchall()
    assert sorted(rows) == sorted([(tagged.item_id, "student", 0.9, "m2", False),
                                   (untagged.item_id, None, None, None, False)])


def test_source_health_rhythm_follows_the_items_stored(db: Path) -> None:
    now = datetime.now(timezone.utc)
    old = replace(make_item("https://a.org/1", "Ancien"), published_at=now - timedelta(days=100))
    recent = replace(make_item("https://a.org/2", "Récent"), published_at=now - timedelta(days=10))
    with store.open_store(db) as conn:
        store.save_crawl(conn, "r1", [crawl_result([old])], now - timedelta(days=2))
        [first] = conn.execute("SELECT items_last_30_days, silent, last_new_item_at FROM v_source_health "
                               "WHERE source_id = 'lab-a'").fetchall()
        store.save_crawl(conn, "r2", [crawl_result([recent])], now)
        [second] = conn.execute("SELECT items_last_30_days, silent, last_new_item_at FROM v_source_health "
                                "WHERE source_id = 'lab-a'").fetchall()
    assert first == (0, True, now - timedelta(days=2))  # one item, published 100 days ago: silent
    assert second == (1, False, now)
