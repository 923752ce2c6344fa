"""crawl_source on fixture sites served on 127.0.0.1: quality against ground truth, conditional GET,
incremental runs, page budget, page errors."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from pipeline.crawl.source import crawl_source
from pipeline.demo.server import serve_sites
from pipeline.crawl.fetch import Fetcher
from pipeline.models import CrawlSettings, Source, SourceState, Validator
from pipeline.normalize import canonical_url, fold_for_matching

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SITES = FIXTURES / "sites"
NOW = datetime(2025, 2, 20, 2, 0, tzinfo=UTC)
SETTINGS = CrawlSettings(per_origin_delay_s=0.0, per_origin_concurrency=4, total_timeout_s=10.0, max_retries=0)


@contextmanager
def serve_drupal(folder: Path):
    """The Drupal-like site: like a static host, but `?page=N` of a listing serves `page-N.html`."""
    requests: Counter[str] = Counter()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            requests[self.path] += 1
            page = parse_qs(parts.query).get("page", ["0"])[0]
            file = folder / parts.path.strip("/")
            if page != "0" and page.isdigit():
                file = file / f"page-{page}.html"
            elif file.is_dir():
                file = file / "index.html"
            if not file.is_file() or not file.resolve().is_relative_to(folder.resolve()):
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = file.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def sites():
    with serve_sites(SITES) as static, serve_drupal(SITES / "drupal-ufr") as (drupal_url, _):
        bases = dict(static.base_urls, **{"drupal-ufr": drupal_url})
        yield static, bases


def fixture_sources(bases: dict[str, str]) -> list[Source]:
    return [
        Source("wp-labo", "Laboratoire de Physique des Matériaux", "feed", bases["wp-labo"] + "/feed/"),
        Source("drupal-ufr", "UFR Sciences et Techniques", "html", bases["drupal-ufr"] + "/actualites"),
        Source("hugo-asso", "Données Communes", "feed", bases["hugo-asso"] + "/index.xml", category="student"),
        Source("listing-labo", "Laboratoire de Géophysique", "html", bases["listing-labo"] + "/actualites/"),
        Source("latin1-iut", "IUT", "html", bases["latin1-iut"] + "/actus.latin1.html", category="teaching"),
        Source("ecole-atom", "École universitaire de sciences", "feed", bases["ecole-atom"] + "/ecole/atom.xml"),
    ]


def token_f1(predicted: str, expected: str) -> float:
    got, want = Counter(fold_for_matching(predicted).split()), Counter(fold_for_matching(expected).split())
    common = sum((got & want).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def measure_quality(results, bases: dict[str, str]) -> dict[str, float]:
    expected_total = found = titles = dates = collected = non_news = 0
    f1s: list[float] = []
    for result in results:
        truth = json.loads((FIXTURES / "expected" / f"{result.source_id}.json").read_text(encoding="utf-8"))
        base = bases[result.source_id]
        by_url = {canonical_url(base + record["url"]): record for record in truth["items"]}
        got = {canonical_url(item.url): item for item in result.items}
        expected_total += len(by_url)
        collected += len(got)
        non_news += sum(1 for key in got if key not in by_url)
        for key, record in by_url.items():
            item = got.get(key)
            if item is None:
                print(f"  missed {result.source_id}: {record['url']}")
                continue
            found += 1
            titles += item.title == record["title"]
            if item.title != record["title"]:
                print(f"  title {result.source_id}: {item.title!r} != {record['title']!r}")
            day = item.published_at.date().isoformat() if item.published_at else None
            dates += day == record["date"]
            if day != record["date"]:
                print(f"  date {result.source_id} {record['url']}: {day} != {record['date']}")
            f1s.append(token_f1(item.text, record["text"]))
    figures = {
        "collected": found / expected_total,
        "titles": titles / max(found, 1),
        "dates": dates / max(found, 1),
        "text_f1": sum(f1s) / max(len(f1s), 1),
        "non_news": non_news / max(collected, 1),
    }
    print("crawl quality on fixture sites: " + ", ".join(f"{k}={v:.3f}" for k, v in figures.items())
          + f" ({expected_total} expected items, {collected} collected)")
    return figures


def test_fixture_sites_meet_quality_floor(sites):
    static, bases = sites
    with Fetcher(SETTINGS) as fetcher:
        results = [crawl_source(s, fetcher, SourceState(), NOW) for s in fixture_sources(bases)]
    for result in results:
        assert result.outcome.status == "ok", (result.source_id, result.outcome)
        assert result.outcome.page_errors == 0, (result.source_id, result.outcome)
    figures = measure_quality(results, bases)
    assert figures["collected"] >= 0.99
    assert figures["titles"] >= 0.98
    assert figures["dates"] >= 0.97
    assert figures["text_f1"] >= 0.90
    assert figures["non_news"] < 0.05


def known_after(result) -> frozenset[str]:
    return frozenset(canonical_url(item.url) for item in result.items)


def test_second_run_is_conditional_and_fetches_nothing_new(sites):
    static, bases = sites
    feeds = [s for s in fixture_sources(bases) if s.kind == "feed"] + [
        Source("listing-labo", "LabGéo", "html", bases["listing-labo"] + "/actualites/")]
    with Fetcher(SETTINGS) as fetcher:
        first = [crawl_source(s, fetcher, SourceState(), NOW) for s in feeds]
        before = Counter(static.requests)
        second = [
            crawl_source(s, fetcher, SourceState({v.url: v for v in r.validators}, known_after(r), first_run=False), NOW)
            for s, r in zip(feeds, first)
        ]
    requested = Counter(static.requests) - before
    for result in second:
        assert result.outcome.status == "not_modified", result.outcome
        assert result.items == () and result.outcome.pages_fetched == 1
        assert result.validators  # remembered again for the next run
    assert sum(requested.values()) == len(feeds)  # one conditional GET per source, nothing else


def test_later_run_stops_at_the_first_listing_page_without_new_items(sites):
    _, bases = sites
    source = Source("drupal-ufr", "UFR", "html", bases["drupal-ufr"] + "/actualites")
    with Fetcher(SETTINGS) as fetcher:
        first = crawl_source(source, fetcher, SourceState(), NOW)
        known = known_after(first) - {canonical_url(bases["drupal-ufr"] + "/node/12")}
        later = crawl_source(source, fetcher, SourceState(known_urls=known, first_run=False), NOW)
        quiet = crawl_source(source, fetcher, SourceState(known_urls=known_after(first), first_run=False), NOW)
    assert first.outcome.pages_fetched == 2 + 6  # two listing pages, six items
    assert [item.url for item in later.items] == [bases["drupal-ufr"] + "/node/12"]
    assert later.outcome.pages_fetched == 3  # page 1, its new item, page 2 (nothing new there: stop)
    assert quiet.outcome.pages_fetched == 1 and quiet.items == ()


def test_a_cut_short_backfill_leaves_the_rest_for_the_next_run_never_a_summary(sites):
    _, bases = sites
    source = Source("hugo-asso", "Données Communes", "feed", bases["hugo-asso"] + "/index.xml", max_new_items=2)
    with Fetcher(SETTINGS) as fetcher:
        first = crawl_source(source, fetcher, SourceState(), NOW)
        second = crawl_source(source, fetcher, SourceState(known_urls=known_after(first)), NOW)
        known = known_after(first) | known_after(second)
        third = crawl_source(source, fetcher, SourceState({v.url: v for v in second.validators}, known, False), NOW)
    assert (first.outcome.listing_pages, first.outcome.item_pages) == (1, 2)
    assert len(first.items) == 2 and all(len(item.text) > 300 for item in first.items)  # no summary kept
    assert (first.outcome.backfill_done, first.outcome.backfill_total) == (2, 4)
    assert first.validators == ()  # the next run reads the feed again
    assert len(second.items) == 2 and all(len(item.text) > 300 for item in second.items)
    assert second.outcome.backfill_total is None and second.validators  # complete
    assert third.outcome.status == "not_modified" and third.outcome.item_pages == 0


def test_time_budget_bounds_a_run(sites):
    _, bases = sites
    source = Source("hugo-asso", "Données Communes", "feed", bases["hugo-asso"] + "/index.xml", time_budget_s=0.0)
    with Fetcher(SETTINGS) as fetcher:
        result = crawl_source(source, fetcher, SourceState(), NOW)
    assert result.outcome.item_pages == 0 and result.items == ()
    assert (result.outcome.backfill_done, result.outcome.backfill_total) == (0, 4)


def test_progress_is_reported_after_every_page(sites):
    _, bases = sites
    heard = []
    with Fetcher(SETTINGS) as fetcher:
        result = crawl_source(Source("drupal-ufr", "UFR", "html", bases["drupal-ufr"] + "/actualites"), fetcher,
                              SourceState(), NOW, on_progress=heard.append)
    assert len(heard) == result.outcome.pages_fetched + 1 and heard[-1].finished
    assert (heard[-1].listing_pages, heard[-1].item_pages, heard[-1].new_items) == (2, 6, 6)
    assert [p.item_pages for p in heard] == sorted(p.item_pages for p in heard)


def test_full_text_never_and_always(sites):
    _, bases = sites
    url = bases["wp-labo"] + "/feed/"
    with Fetcher(SETTINGS) as fetcher:
        never = crawl_source(Source("wp", "LPM", "feed", url, full_text="never"), fetcher, SourceState(), NOW)
        always = crawl_source(Source("wp", "LPM", "feed", url, full_text="always"), fetcher, SourceState(), NOW)
    assert never.outcome.pages_fetched == 1 and len(never.items) == 5
    assert always.outcome.pages_fetched == 6 and [i.title for i in always.items] == [i.title for i in never.items]


def test_failing_item_page_is_a_page_error_not_a_source_error(tmp_path):
    site = tmp_path / "broken"
    site.mkdir()
    (site / "feed.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Labo</title>'
        '<item><title>Page disparue</title><link>__SITE:broken__/disparue/</link><description>Court.</description></item>'
        '<item><title>Page présente</title><link>__SITE:broken__/presente/</link><description>Court aussi.</description></item>'
        '</channel></rss>', encoding="utf-8")
    (site / "presente").mkdir()
    (site / "presente" / "index.html").write_text(
        "<html lang='fr'><body><article><h1>Page présente</h1><p>" + "Une journée d’étude réunit les équipes. " * 8
        + "</p></article></body></html>", encoding="utf-8")
    with serve_sites(tmp_path) as served, Fetcher(SETTINGS) as fetcher:
        result = crawl_source(Source("broken", "Broken", "feed", served.base_urls["broken"] + "/feed.xml"),
                              fetcher, SourceState(), NOW)
    assert result.outcome.status == "ok" and result.outcome.page_errors == 1
    assert [i.title for i in result.items] == ["Page disparue", "Page présente"]
    assert result.items[0].text == "Court."  # the feed's own text when the page fails
    assert result.empty_pages == ((served.base_urls["broken"] + "/disparue/", "http_404"),)  # not fetched again


def test_sitemap_source_newest_first_with_cap(sites):
    _, bases = sites
    source = Source("wp-sitemap", "LPM", "sitemap", bases["wp-labo"] + "/wp-sitemap.xml", exclude=("/a-propos/",),
                    max_new_items=3)
    with Fetcher(SETTINGS) as fetcher:
        result = crawl_source(source, fetcher, SourceState(), NOW)
    assert result.outcome.status == "ok"
    assert [i.published_at.date().isoformat() for i in result.items] == ["2025-02-03", "2025-01-20", "2024-12-09"]
    assert result.validators == ()  # incomplete: the next run must read the sitemap again
    assert result.outcome.backfill_done == 3 and result.outcome.backfill_total > 3


def test_source_failures_are_outcomes(sites):
    _, bases = sites
    sources = [Source("html-as-feed", "X", "feed", bases["wp-labo"] + "/a-propos/"),
               Source("missing", "X", "feed", bases["wp-labo"] + "/nope.xml"),
               Source("refused", "X", "html", "http://127.0.0.2:9/actualites/")]
    with Fetcher(replace(SETTINGS, forbidden_networks=("127.0.0.2/32",))) as fetcher:
        outcomes = {s.id: crawl_source(s, fetcher, SourceState(), NOW).outcome for s in sources}
    assert outcomes["html-as-feed"].error_code == "not_a_feed"
    assert (outcomes["missing"].error_code, outcomes["missing"].http_status) == ("http_404", 404)
    assert outcomes["refused"].error_code == "forbidden_address"
    assert all(o.status == "error" for o in outcomes.values())


def test_discover_finds_feed_sitemap_and_listing(sites):
    from pipeline.crawl.discover import discover_sources

    _, bases = sites
    with Fetcher(SETTINGS) as fetcher:
        found = discover_sources(bases["wp-labo"] + "/", fetcher)
        feedless = discover_sources(bases["listing-labo"] + "/", fetcher)
    kinds = {entry["kind"]: entry["url"] for entry in found}
    assert kinds == {"feed": bases["wp-labo"] + "/feed/", "sitemap": bases["wp-labo"] + "/wp-sitemap.xml",
                     "html": bases["wp-labo"] + "/actualites/"}
    assert all(entry["category"] == "mixed" and re.fullmatch(r"[a-z0-9-]+", entry["id"]) for entry in found)
    assert [(e["kind"], e["url"]) for e in feedless] == [("html", bases["listing-labo"] + "/actualites/")]


def test_a_listing_cut_short_is_a_backfill_in_progress_and_carries_on(sites):
    _, bases = sites
    source = Source("drupal-ufr", "UFR", "html", bases["drupal-ufr"] + "/actualites", max_new_items=3)
    with Fetcher(SETTINGS) as fetcher:
        first = crawl_source(source, fetcher, SourceState(), NOW)
        second = crawl_source(replace(source, max_new_items=50), fetcher, SourceState(known_urls=known_after(first)), NOW)
    assert (first.outcome.listing_pages, first.outcome.item_pages) == (1, 3)
    assert first.outcome.backfill_total is not None and first.validators == ()
    assert len(second.items) == 3 and second.outcome.backfill_total is None  # the six items, over two runs
