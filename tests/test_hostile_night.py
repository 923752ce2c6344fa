"""No input stops the night: one `veille run` over hostile sources served on 127.0.0.1, next to
healthy ones. The run exits 0, every healthy item is stored, every bad source has its own code,
nothing is printed as a traceback; a server that asks to wait a day is not asked again by the next
run, and `veille sources` says until when."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import duckdb
import pytest

from loopback import http_server

from pipeline.demo.server import serve_sites

pytestmark = pytest.mark.usefixtures("prefect_harness")

FIXTURES = Path(__file__).resolve().parent / "crawl" / "fixtures"
ONE_DAY = 86_400
ARTICLE = ("<p>Les doctorants du laboratoire présentent leurs travaux sur les matériaux au public, "
           "avec des démonstrations et des ateliers ouverts à toutes et à tous.</p>")


def rss(title: str, date: str, path: str = "/article") -> bytes:
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Labo</title>"
            f"<item><title>{title}</title><link>{path}</link><pubDate>{date}</pubDate>"
            f"<description><![CDATA[{ARTICLE * 8}]]></description></item></channel></rss>").encode()


def atom(updated: str) -> bytes:
    return (f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'><title>Labo</title>"
            f"<entry><title>Une entrée datée de l'an 1</title><link href='/atom-entry'/><id>urn:x:1</id>"
            f"<updated>{updated}</updated><content type='html'><![CDATA[{ARTICLE * 8}]]></content></entry>"
            "</feed>").encode()


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 20
MEGA_TITLE = "Très long titre " * 70_000  # about a megabyte
BOMB = gzip.compress(b"\0" * 20_000_000, compresslevel=9)
HTML_LISTING = b"<html><body><ul><li><a href='/p/one'>Une</a><li><a href='/p/two'>Deux</a></ul><div><p>un</body>"
ITEM_PAGE = ("<!doctype html><html><head><title>Article</title></head><body><article><h1>Journée "
             "portes ouvertes\r\n</h1><p>Publié le 31/12/9999</p>" + ARTICLE * 4 + "</article></body></html>").encode()

# path -> (status, content type, body, headers); each misbehaves in one way
ROUTES: dict[str, tuple[int, str, bytes, dict[str, str]]] = {
    "/robots.txt": (200, "text/plain", b"User-agent: *\nAllow: /\n", {}),
    "/year9999.xml": (200, "application/rss+xml", rss("Fin des temps", "Fri, 31 Dec 9999 23:59:59 GMT", "/a9999"), {}),
    "/year0.xml": (200, "application/rss+xml", rss("An zéro", "Sat, 00 Jan 0000 00:00:00 GMT", "/a0"), {}),
    "/year1.xml": (200, "application/atom+xml", atom("0001-01-01T00:00:00+01:00"), {}),
    "/garbage-date.xml": (200, "application/rss+xml", rss("Date illisible", "le jour où ☃ 99/99/99999", "/ag"), {}),
    "/crlf-title.xml": (200, "application/rss+xml", rss("Soutenance&#13;&#10;Bcc: victime@example.org", "Mon, 03 Feb 2025 10:00:00 GMT", "/crlf"), {}),
    "/mega-title.xml": (200, "application/rss+xml", rss(MEGA_TITLE, "Mon, 03 Feb 2025 10:00:00 GMT", "/mega"), {}),
    "/malformed.xml": (200, "application/rss+xml", b"<?xml version='1.0'?><rss><channel><item><title>Coup", {}),
    "/not-xml.xml": (200, "application/rss+xml", bytes(range(256)) * 40, {}),
    "/pdf-feed.xml": (200, "application/pdf", PDF, {}),
    "/far-429.xml": (429, "text/plain", b"come back tomorrow", {"Retry-After": str(ONE_DAY)}),
    "/far-503.xml": (503, "text/plain", b"maintenance", {"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}),
    "/bomb.xml": (200, "application/rss+xml", BOMB, {"Content-Encoding": "gzip"}),
    "/loop-a": (302, "text/plain", b"", {"Location": "/loop-b"}),
    "/loop-b": (302, "text/plain", b"", {"Location": "/loop-a"}),
    "/pdf-listing": (200, "application/pdf", PDF, {}),
    "/image-listing": (200, "image/png", PNG, {}),
    "/json-listing": (200, "application/json", json.dumps({"items": [1, 2]}).encode(), {}),
    "/pdf-as-html": (200, "text/html; charset=utf-8", PDF, {}),
    "/broken-listing": (200, "text/html", HTML_LISTING, {}),
    "/p/one": (200, "text/html; charset=utf-8", ITEM_PAGE, {}),
    "/p/two": (200, "text/html; charset=utf-8", b"\x00\x01<html" + bytes(range(256)) * 20, {}),
    "/image-sitemap.xml": (200, "image/png", PNG, {}),
    "/broken-sitemap.xml": (200, "application/xml", b"<urlset><url><loc>", {}),
}
FEEDS_OK = ["year9999", "year0", "year1", "garbage-date", "crlf-title", "mega-title"]
BAD = {  # source id -> (kind, path, expected code)
    "malformed": ("feed", "/malformed.xml", "bad_xml"),
    "not-xml": ("feed", "/not-xml.xml", "content_type"),
    "pdf-feed": ("feed", "/pdf-feed.xml", "content_type"),
    "far-429": ("feed", "/far-429.xml", "rate_limited"),
    "far-503": ("feed", "/far-503.xml", "http_503"),
    "bomb": ("feed", "/bomb.xml", "too_large"),
    "loop": ("feed", "/loop-a", "too_many_redirects"),
    "drip": ("feed", "/drip.xml", "timeout"),
    "pdf-listing": ("html", "/pdf-listing", "content_type"),
    "image-listing": ("html", "/image-listing", "content_type"),
    "json-listing": ("html", "/json-listing", "content_type"),
    "pdf-as-html": ("html", "/pdf-as-html", "content_type"),
    "image-sitemap": ("sitemap", "/image-sitemap.xml", "content_type"),
    "broken-sitemap": ("sitemap", "/broken-sitemap.xml", "bad_xml"),
}
HEALTHY = {  # source id -> (kind, site, path, items expected)
    "wp-labo": ("feed", "wp-labo", "/feed/", 5),
    "hugo-asso": ("feed", "hugo-asso", "/index.xml", 4),
    "listing-labo": ("html", "listing-labo", "/actualites/", 7),
}


class Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?")[0]
        self.server.requests[path] += 1
        try:
            if path == "/drip.xml":
                return self._drip()
            status, ctype, body, headers = ROUTES.get(path, (404, "text/plain", b"not found", {}))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            return

    def _drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", "10000")
        self.end_headers()
        for _ in range(20):  # a byte a second: the total deadline stops it long before
            self.wfile.write(b"<")
            self.wfile.flush()
            time.sleep(1.0)


def hostile_server():
    return http_server(Hostile, requests=Counter(), handle_error=lambda request, client_address: None)


def sources_yaml(base: str, own_bases: dict[str, str], sites: dict[str, str]) -> str:
    """The catalogue; each server that asks to wait is on an origin of its own (a Retry-After
    holds back every request to its origin for the rest of the run)."""
    entries = [(f"ok-{name}", "feed", f"{base}/{name}.xml") for name in FEEDS_OK]
    entries += [(source_id, kind, own_bases.get(source_id, base) + path) for source_id, (kind, path, _) in BAD.items()]
    entries += [(source_id, kind, sites[site] + path) for source_id, (kind, site, path, _) in HEALTHY.items()]
    entries.append(("broken-listing", "html", base + "/broken-listing"))
    lines = ["settings:", "  per_origin_delay_s: 0", "  per_origin_concurrency: 8", "  total_timeout_s: 3",
             "  read_timeout_s: 2", "  max_retries: 1", "  max_body_bytes: 2000000", "  workers: 8", "sources:"]
    for source_id, kind, url in entries:
        lines += [f"  - id: {source_id}", f"    name: {source_id}", f"    kind: {kind}", f"    url: {url}",
                  "    category: mixed"]
        if source_id == "broken-listing":
            lines.append('    item_selector: "li a"')
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory):
    """One `veille run` (a real process, against the session's Prefect server) over the hostile
    catalogue: its exit code and output, the requests served; then what the next night's crawl
    step does with the source that asked to wait, and `veille sources`."""
    folder = tmp_path_factory.mktemp("hostile-night")
    db = folder / "veille.duckdb"
    far = ("far-429", "far-503")
    with ExitStack() as stack:
        sites = stack.enter_context(serve_sites(FIXTURES / "sites"))
        base, _ = stack.enter_context(hostile_server())
        own = {source_id: stack.enter_context(hostile_server()) for source_id in far}
        sources = folder / "sources.yaml"
        sources.write_text(sources_yaml(base, {k: url for k, (url, _) in own.items()}, sites.base_urls), encoding="utf-8")
        code, output = veille("run", "--sources", sources, "--db", db, "--initiatives", folder / "none.yaml")
        served = sum((Counter(server.requests) for _, server in own.values()), Counter())
        next_night = crawl_again(sources, db, far)
        served_next = sum((Counter(server.requests) for _, server in own.values()), Counter())
    return db, (code, output, served, served_next, next_night), veille("sources", "--db", db)


def crawl_again(sources: Path, db: Path, source_ids: tuple[str, ...]) -> dict[str, object]:
    """The next night's crawl step for `source_ids`, with the states the store gives it."""
    from pipeline.config import load_config
    from pipeline.crawl.fetch import Fetcher
    from pipeline.steps import nightly

    config = load_config(sources)
    now = datetime.now(UTC)
    _, states = nightly.prepare_crawl(config, db, now)
    with Fetcher(config.crawl) as fetcher:
        return {s.id: nightly.crawl_one(s, fetcher, states[s.id], now).outcome
                for s in config.sources if s.id in source_ids}


def veille(*args: object) -> tuple[int, str]:
    """Run `veille ARGS` as a process; its exit code and everything it printed (stdout and stderr)."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value() or ""}
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=600, cwd=FIXTURES.parent.parent.parent)
    return done.returncode, done.stdout + done.stderr


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_the_run_exits_0_without_a_traceback(night) -> None:
    _, (code, output, _, _, _), _ = night
    assert code == 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert "sources:" in output and "analysts' snapshot" in output


def test_every_healthy_item_is_stored(night) -> None:
    db, _, _ = night
    for source_id, (_, site, _, expected) in HEALTHY.items():
        urls = {row[0] for row in query(db, f"SELECT url FROM v_items WHERE source_id = '{source_id}'")}
        wanted = json.loads((FIXTURES / "expected" / f"{site}.json").read_text(encoding="utf-8"))["items"]
        assert len(wanted) == expected
        assert {w["url"] for w in wanted} <= {"/" + u.split("/", 3)[3] for u in urls}, source_id
    assert query(db, "SELECT count(*) FROM v_items WHERE category IS NULL") == [(0,)]


def test_every_bad_source_has_its_own_code(night) -> None:
    db, _, _ = night
    health = dict(query(db, "SELECT source_id, last_error_code FROM v_source_health"))
    for source_id, (_, _, code) in BAD.items():
        assert health[source_id] == code, (source_id, health[source_id])
    for source_id in [f"ok-{name}" for name in FEEDS_OK] + list(HEALTHY) + ["broken-listing"]:
        assert health[source_id] is None, (source_id, health[source_id])


def test_impossible_dates_are_no_dates_and_titles_are_one_bounded_line(night) -> None:
    db, _, _ = night
    rows = query(db, "SELECT source_id, title, published_at FROM v_items WHERE source_id LIKE 'ok-%' "
                     "OR source_id = 'broken-listing'")
    by_source = {source_id: (title, published) for source_id, title, published in rows}
    assert set(by_source) >= {f"ok-{name}" for name in FEEDS_OK} | {"broken-listing"}
    for name in ("year9999", "year0", "year1", "garbage-date"):
        assert by_source[f"ok-{name}"][1] is None, name
    assert by_source["ok-crlf-title"][0] == "Soutenance Bcc: victime@example.org"
    assert len(by_source["ok-mega-title"][0]) <= 300
    assert query(db, "SELECT count(*) FROM v_items WHERE title LIKE '%' || chr(10) || '%' "
                     "OR title LIKE '%' || chr(13) || '%' OR length(title) > 300") == [(0,)]
    next_year = datetime.now(UTC).year + 1
    assert query(db, f"SELECT count(*) FROM v_items WHERE year(published_at) NOT BETWEEN 1990 AND {next_year}") == [(0,)]
    [(page_errors,)] = query(db, "SELECT page_errors FROM fetch_log WHERE source_id = 'broken-listing' LIMIT 1")
    assert page_errors == 1  # its binary item page, not parsed as HTML


def test_a_server_asking_to_wait_a_day_is_not_asked_again(night) -> None:
    db, (_, _, served, served_next, next_night), (listed, table) = night
    assert served["/far-429.xml"] == 1 and served_next["/far-429.xml"] == 1  # no retry, and not asked next night
    assert served["/far-503.xml"] == 1 and served_next["/far-503.xml"] == 1
    [(retry_at, detail)] = query(db, "SELECT retry_at, last_error_detail FROM v_source_health WHERE source_id = 'far-429'")
    assert timedelta(hours=23) < retry_at - datetime.now(UTC) <= timedelta(days=1)
    assert "Retry-After 86400" in detail
    [(far,)] = query(db, "SELECT retry_at FROM v_source_health WHERE source_id = 'far-503'")
    assert far - datetime.now(UTC) <= timedelta(days=31)  # year 9999 is no plan: bounded
    skipped = next_night["far-429"]
    assert skipped.error_code == "rate_limited" and skipped.retry_at == retry_at and "not asked" in skipped.error_detail
    assert next_night["far-503"].retry_at == far
    assert listed == 0
    line = next(line for line in table.splitlines() if line.startswith("far-429"))
    assert "rate limited: not asked before" in line and "rate_limited" in line


def test_the_run_summary_counts_what_failed(night) -> None:
    db, (_, output, _, _, _), _ = night
    assert f"{len(BAD)} failed" in output
    [(status, failed, items_failed)] = query(
        db, "SELECT status, sources_failed, items_failed FROM runs ORDER BY started_at LIMIT 1")
    assert status == "partial" and failed == len(BAD) and items_failed == 0
