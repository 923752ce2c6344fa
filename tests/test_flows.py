"""The real Prefect flows, end to end, on the demo sites served on 127.0.0.1 and a loopback SMTP server."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from email import message_from_bytes
from pathlib import Path

import duckdb
import pytest

from loopback import ACCEPTED
from pipeline.demo.run import write_sources

pytestmark = pytest.mark.usefixtures("prefect_harness")


def smtp_env(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    for name, value in {
        "VEILLE_SMTP_HOST": "127.0.0.1", "VEILLE_SMTP_PORT": str(port), "VEILLE_SMTP_STARTTLS": "false",
        "VEILLE_MAIL_FROM": "veille@univ-exemple.fr", "VEILLE_MAIL_TO": "mediation@univ-exemple.fr",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("VEILLE_SMTP_USER", raising=False)
    monkeypatch.delenv("VEILLE_SMTP_PASSWORD", raising=False)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory):
    """One real nightly flow over the demo sites; the database it leaves."""
    from pipeline import flows
    from pipeline.demo.run import SITES
    from pipeline.demo.server import serve_sites

    out = tmp_path_factory.mktemp("nightly")
    db = out / "veille.duckdb"
    with serve_sites(SITES) as sites:
        sources = write_sources(sites, out / "sources.yaml")
        counts = flows.nightly_flow(str(sources), str(db))
        second = flows.nightly_flow(str(sources), str(db))
    return db, counts, second


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_nightly_flow_stores_tagged_clustered_items(crawled) -> None:
    db, counts, _ = crawled
    assert counts["items_new"] >= 40
    assert counts["sources_failed"] == 1  # the demo's broken source, on purpose
    categories = dict(query(db, "SELECT category, count(*) FROM v_items GROUP BY ALL"))
    assert set(categories) == {"research", "teaching", "student"}
    assert query(db, "SELECT count(*) FROM v_items WHERE category IS NULL OR cluster_id IS NULL") == [(0,)]
    relayed = query(db, "SELECT count(*) FROM v_clusters WHERE source_count > 1")[0][0]
    assert relayed == 3  # the demo's three stories reposted by another site (ERC, Parcoursup, exhibition)
    [(shown,)] = query(db, "SELECT i.title FROM v_clusters c JOIN items i ON i.item_id = c.representative_item_id "
                           "WHERE c.item_count = 2 AND c.source_count = 1")
    assert shown == "Conférence grand public : la supraconductivité expliquée à tous"  # the fixed typo wins


def test_nightly_flow_indexes_the_items_for_full_text_search(crawled) -> None:
    from pipeline import search

    db, counts, _ = crawled
    found = search.search(search.index_path(db), "supraconductivite")
    assert found
    titles = query(db, "SELECT title FROM v_items WHERE item_id IN (" + ", ".join(f"'{i}'" for i in found) + ")")
    assert any("supraconductivité" in t.lower() for (t,) in titles)


def test_second_run_finds_nothing_new_and_records_the_broken_source(crawled) -> None:
    db, _, second = crawled
    assert second["items_new"] == 0
    [(code, failures)] = query(db, "SELECT last_error_code, consecutive_failures FROM v_source_health "
                                   "WHERE last_status = 'error'")
    assert code and failures == 2
    not_modified = query(db, "SELECT count(*) FROM fetch_log WHERE status = 'not_modified'")[0][0]
    assert not_modified >= 1
    [(item_pages, backfills)] = query(db, "SELECT sum(item_pages), count(backfill_total) FROM fetch_log WHERE run_id = "
                                          "(SELECT max(run_id) FROM runs WHERE kind = 'nightly')")
    assert (item_pages, backfills) == (0, 0)  # nothing changed: no item page fetched again, every backfill done


def test_weekly_flow_sends_once(crawled, smtp_server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from pipeline import flows

    db, _, _ = crawled
    handler, port = smtp_server
    smtp_env(monkeypatch, port)
    week = query(db, "SELECT strftime(max(first_seen_at), '%G-W%V') FROM items")[0][0]
    assert flows.weekly_flow(str(db), week, str(tmp_path), True, False) == "sent"
    assert flows.weekly_flow(str(db), week, str(tmp_path), True, False) == "already_sent"
    assert len(handler.messages) == 1
    message = message_from_bytes(handler.messages[0][2])
    assert message.get_content_type() == "multipart/mixed" or message.is_multipart()
    types = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html", "text/calendar"} <= types
    assert (tmp_path / f"{week}.html").exists() and (tmp_path / f"{week}.json").exists()


CRASH = textwrap.dedent(
    """
    import os, sys
    from datetime import datetime, timezone
    from pathlib import Path
    from pipeline import store
    from pipeline.steps import weekly
    real = store.set_digest_status
    def crash_after_send(conn, week, recipients, status, now, **kw):
        if status == "sent":
            os._exit(9)  # the process dies between the SMTP transaction and its record
        return real(conn, week, recipients, status, now, **kw)
    store.set_digest_status = crash_after_send
    db, week, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    built = weekly.build_week_digest(db, week, datetime.now(timezone.utc), out)
    weekly.send_week_digest(db, built)
    """
)


def test_crash_between_send_and_record_never_sends_twice(
    crawled, smtp_server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pipeline import flows
    from pipeline.steps import weekly

    db, _, _ = crawled
    handler, port = smtp_server
    smtp_env(monkeypatch, port)
    monkeypatch.setenv("VEILLE_MAIL_TO", "crash-test@univ-exemple.fr")
    week = "2026-W40"
    crashed = subprocess.run([sys.executable, "-c", CRASH, str(db), week, str(tmp_path)], env=os.environ.copy(),
                             capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 9, crashed.stderr
    assert len(handler.messages) == 1
    with pytest.raises(weekly.DeliveryUncertain, match="--force"):
        flows.weekly_flow(str(db), week, str(tmp_path), True, False)
    assert len(handler.messages) == 1
    assert flows.weekly_flow(str(db), week, str(tmp_path), True, True) == "sent"
    assert len(handler.messages) == 2


def test_refused_send_fails_visibly_then_next_run_sends(
    crawled, smtp_server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pipeline import flows
    from pipeline.digest import mail

    db, _, _ = crawled
    handler, port = smtp_server
    smtp_env(monkeypatch, port)
    monkeypatch.setenv("VEILLE_MAIL_TO", "refused@univ-exemple.fr")
    week = "2026-W41"
    handler.answer = "554 5.7.1 Transaction refused by the test server"
    with pytest.raises(mail.MailError):
        flows.weekly_flow(str(db), week, str(tmp_path), True, False)
    assert query(db, f"SELECT status FROM digests WHERE week = '{week}'") == [("failed",)]
    handler.answer = ACCEPTED
    assert flows.weekly_flow(str(db), week, str(tmp_path), True, False) == "sent"
    assert len(handler.messages) == 1


def test_deployments_are_scheduled_in_paris_time(tmp_path: Path) -> None:
    from pipeline import flows

    nightly, weekly = flows.build_deployments(Path("sources.yaml"), tmp_path / "v.duckdb", tmp_path / "d",
                                              Path("initiatives.yaml"))
    schedules = {d.name: (d.schedules[0].schedule.cron, d.schedules[0].schedule.timezone) for d in (nightly, weekly)}
    assert schedules == {"nightly-crawl": ("0 2 * * *", "Europe/Paris"), "weekly-digest": ("0 7 * * 1", "Europe/Paris")}
    assert nightly.parameters["db_path"] == str(tmp_path / "v.duckdb")
    assert weekly.parameters["send"] is True


ITEM_COLUMNS = "item_id, source_id, url, title, published_at, text, summary, content_hash"


def with_dask_runner(sources: Path, out: Path) -> Path:
    """The same sources file, crawling on a local Dask cluster of 2 worker processes."""
    text = sources.read_text(encoding="utf-8").replace(
        "settings:\n", "settings:\n  task_runner: {kind: dask, n_workers: 2, threads_per_worker: 4}\n", 1)
    out.write_text(text, encoding="utf-8")
    return out


def test_nightly_flow_on_a_dask_cluster_stores_the_items_of_the_thread_pool(tmp_path: Path) -> None:
    from pipeline import flows
    from pipeline.config import load_config
    from pipeline.demo.run import SITES
    from pipeline.demo.server import serve_sites

    with serve_sites(SITES) as sites:
        threads = write_sources(sites, tmp_path / "threads.yaml")
        dask = with_dask_runner(threads, tmp_path / "dask.yaml")
        assert load_config(dask).task_runner.kind == "dask"
        on_threads = flows.nightly_flow(str(threads), str(tmp_path / "threads" / "veille.duckdb"))
        on_dask = flows.nightly_flow(str(dask), str(tmp_path / "dask" / "veille.duckdb"))
    assert on_dask == on_threads and on_dask["items_new"] >= 40
    items = query(tmp_path / "threads" / "veille.duckdb", f"SELECT {ITEM_COLUMNS} FROM items ORDER BY item_id")
    assert query(tmp_path / "dask" / "veille.duckdb", f"SELECT {ITEM_COLUMNS} FROM items ORDER BY item_id") == items
    outcomes = "SELECT source_id, status, error_code, items_found FROM fetch_log ORDER BY source_id"
    assert query(tmp_path / "dask" / "veille.duckdb", outcomes) == query(tmp_path / "threads" / "veille.duckdb", outcomes)


@pytest.fixture()
def prefect_server(tmp_path: Path):
    """A real `prefect server start` on 127.0.0.1 (its own home and SQLite file); yields the env to reach it."""
    import httpx

    from loopback import free_port

    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"),
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{tmp_path / 'prefect.db'}",
           "PREFECT_WORKER_QUERY_SECONDS": "2", "PREFECT_LOGGING_LEVEL": "WARNING"}
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen([prefect_cli(), "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui",
                               "--analytics-off"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_healthy(httpx, env["PREFECT_API_URL"], server, tmp_path / "server.log")
        yield env
    finally:
        stop(server)
        log.close()


def prefect_cli() -> str:
    return str(Path(sys.executable).with_name("prefect"))


def wait_until_healthy(httpx, api_url: str, server: subprocess.Popen, log: Path, timeout_s: float = 180) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text(errors="replace")
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"Prefect server not healthy after {timeout_s} s:\n{log.read_text(errors='replace')}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_a_process_worker_runs_the_nightly_deployment_of_a_work_pool(prefect_server, tmp_path: Path) -> None:
    from pipeline.demo.run import SITES
    from pipeline.demo.server import serve_sites

    env, db = prefect_server, tmp_path / "data" / "veille.duckdb"
    veille = str(Path(sys.executable).with_name("veille"))
    with serve_sites(SITES) as sites:
        sources = write_sources(sites, tmp_path / "sources.yaml")
        deployed = subprocess.run([veille, "deploy", "--pool", "veille-test", "--sources", str(sources), "--db", str(db),
                                   "--initiatives", str(tmp_path / "initiatives.yaml")],
                                  env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert deployed.returncode == 0, deployed.stderr
        assert "2 deployments on work pool 'veille-test'" in deployed.stdout
        worker_log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen([prefect_cli(), "worker", "start", "--pool", "veille-test"], env=env,
                                  cwd=tmp_path, stdout=worker_log, stderr=subprocess.STDOUT)
        try:
            run = subprocess.run([prefect_cli(), "deployment", "run", "veille-nightly/nightly-crawl", "--watch",
                                  "--watch-timeout", "400"], env=env, capture_output=True, text=True, timeout=450)
        finally:
            stop(worker)
            worker_log.close()
    assert run.returncode == 0, run.stdout + run.stderr + (tmp_path / "worker.log").read_text(errors="replace")
    assert "Completed" in run.stdout
    assert query(db, "SELECT count(*) FROM v_items")[0][0] >= 40
    assert query(db, "SELECT count(*) FROM runs WHERE status = 'partial' AND finished_at IS NOT NULL") == [(1,)]
# --- HAL deposits in a nightly run (issue 17) ----------------------------------------------------

PAPER_DOI = "10.1038/s41586-026-00007-x"
NEWS_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Actualités du labo</title><link>__SITE:labnews__/</link>
<description>Actualités</description>
<item><title>Nos hydrures battent un record de supraconductivité</title>
<link>__SITE:labnews__/actualites/record-hydrures.html</link><guid>__SITE:labnews__/actualites/record-hydrures.html</guid>
<pubDate>{date}</pubDate>
<description>{text}</description></item>
</channel></rss>
"""
NEWS_TEXT = ("L'équipe Supraconductivité du laboratoire publie dans la revue Nature une mesure qui fera date : "
             "un hydrure devient supraconducteur à une température bien plus haute que prévu, sous une pression "
             "que l'on sait atteindre dans une presse à enclumes de diamant. Les doctorants de l'équipe ont "
             "conduit les mesures de résistance pendant deux ans, nuit et jour, avant de confirmer le résultat "
             "avec des mesures magnétiques indépendantes. Référence : Martin et al., Nature (2026), "
             f"DOI : {PAPER_DOI}. Le texte intégral est en accès ouvert sur HAL.")


def hal_sources(api_url: str, failing_url: str, news_base: str) -> str:
    return textwrap.dedent(f"""\
        settings:
          per_origin_delay_s: 0.0
          allowed_networks: ["127.0.0.0/8"]
          max_retries: 0
        sources:
          - id: hal-lpem
            name: Publications du LPEM (HAL)
            kind: hal
            url: {api_url}
            collection: LPEM
            max_new_items: 200
          - id: hal-broken
            name: Publications d'une UMR (HAL en panne)
            kind: hal
            url: {failing_url}
            structure: 441569
          - id: labnews
            name: Laboratoire de physique - actualités
            kind: feed
            url: {news_base}/feed.rss
            category: research
            full_text: never
        """)


@pytest.fixture(scope="module")
def crawled_with_hal(tmp_path_factory: pytest.TempPathFactory):
    """Two nightly flows over a lab's news feed (a loopback site) and a loopback HAL answering 3 pages."""
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    from hal_api import deposit, serve_hal

    from pipeline import flows
    from pipeline.demo.server import serve_sites

    now = datetime.now(timezone.utc)
    out = tmp_path_factory.mktemp("nightly-hal")
    news = out / "news-sites" / "labnews"
    news.mkdir(parents=True)
    (news / "feed.rss").write_text(NEWS_FEED.format(date=format_datetime(now - timedelta(hours=6)), text=NEWS_TEXT),
                                   encoding="utf-8")
    deposits = [dated(deposit(n), now - timedelta(days=2, minutes=n)) for n in range(1, 66)]
    deposits[0] = dated(deposit(0, journal="Nature", doi=PAPER_DOI.upper(), title="Record supraconducteur"), now)
    db = out / "veille.duckdb"
    sources = out / "sources.yaml"
    with serve_sites(out / "news-sites") as lab, serve_hal(deposits) as api, serve_hal([]) as failing:
        failing.mode = "error"
        sources.write_text(hal_sources(api.url, failing.url, lab.base_urls["labnews"]), encoding="utf-8")
        first = flows.nightly_flow(str(sources), str(db))
        pages_first = len(api.queries)
        api.deposits.append(dated(deposit(99), now))
        second = flows.nightly_flow(str(sources), str(db))
        pages_second = len(api.queries) - pages_first
    return db, first, second, pages_first, pages_second


def dated(document: dict, moment) -> dict:
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {**document, "publicationDate_tdate": stamp, "producedDate_tdate": stamp, "submittedDate_tdate": stamp}


def test_every_deposit_of_three_pages_is_stored_once(crawled_with_hal) -> None:
    db, first, second, pages_first, pages_second = crawled_with_hal
    assert pages_first == 3 and pages_second == 1
    assert query(db, "SELECT count(*), count(DISTINCT hal_id) FROM v_publications") == [(66, 66)]
    assert query(db, "SELECT count(*) FROM items WHERE source_id = 'hal-lpem'") == [(66,)]
    assert query(db, "SELECT category, count(*) FROM v_items WHERE source_id = 'hal-lpem' GROUP BY ALL") == [
        ("research", 66)]
    assert second["items_new"] == 1


def test_a_lab_news_item_is_linked_to_the_deposit_it_announces(crawled_with_hal) -> None:
    db, *_ = crawled_with_hal
    [(cluster, linked)] = query(db, f"SELECT cluster_id, linked_items FROM v_publications WHERE doi = '{PAPER_DOI}'")
    assert linked == 1
    assert query(db, f"SELECT source_id FROM items WHERE cluster_id = '{cluster}' ORDER BY ALL") == [
        ("hal-lpem",), ("labnews",)]
    reasons = query(db, f"SELECT worthiness_reasons FROM v_items WHERE item_id = "
                        f"(SELECT representative_item_id FROM v_clusters WHERE cluster_id = '{cluster}')")[0][0]
    assert "article en accès ouvert avec un communiqué" in reasons


def test_a_hal_error_is_a_source_failure_like_any_other(crawled_with_hal) -> None:
    db, first, *_ = crawled_with_hal
    assert (first["sources_ok"], first["sources_failed"]) == (2, 1)
    assert query(db, "SELECT last_status, last_error_code, consecutive_failures FROM v_source_health "
                     "WHERE source_id = 'hal-broken'") == [("error", "http_500", 2)]


def test_the_digest_shows_the_publications_block(crawled_with_hal, tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from pipeline.digest.build import iso_week_of
    from pipeline.steps import weekly

    db, *_ = crawled_with_hal
    now = datetime.now(timezone.utc)
    built = weekly.build_week_digest(db, iso_week_of(now), now, tmp_path)
    titles = [p.title for p in built.digest.publications]
    assert 1 <= len(titles) <= 5 and "Nos hydrures battent un record de supraconductivité" in titles
    text = built.paths["txt"].read_text(encoding="utf-8")
    assert "PUBLICATIONS (DÉPÔTS HAL)" in text and f"https://doi.org/{PAPER_DOI}" in text
