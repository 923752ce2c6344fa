"""Crawl throughput: N simulated sources on 127.0.0.1, a first run and a second run where nothing changed.

Each source is its own origin (one loopback port each, served by a child process so that the server's
CPU is not counted): an RSS feed of --items items of which --summary-items carry only a summary (so
their page is fetched: full_text auto), every answer delayed by --latency seconds, ETag/304 support.
Sources are crawled through a ThreadPoolExecutor of --workers threads sharing one Fetcher, politeness
delay 0. The second run sends the first run's validators: every feed answers 304.

Usage: python benchmarks/crawl.py [--sources 500 --items 40 --summary-items 4 --latency 0.1 --workers 16]
Prints wall time, CPU time, peak RSS and request counts of each run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.crawl.source import crawl_source  # noqa: E402
from pipeline.crawl.fetch import Fetcher  # noqa: E402
from pipeline.models import CrawlSettings, Source, SourceState  # noqa: E402
from pipeline.normalize import canonical_url  # noqa: E402

PARAGRAPH = ("Les équipes du laboratoire ont présenté leurs travaux sur la dynamique des matériaux poreux "
             "lors d'une journée d'étude ouverte aux étudiants de master et aux partenaires industriels. ")


def feed_xml(base: str, source: int, items: int, summary_items: int) -> bytes:
    entries = []
    for k in range(items):
        full = k >= summary_items
        content = f"<content:encoded><![CDATA[<p>{PARAGRAPH * 4}</p>]]></content:encoded>" if full else ""
        entries.append(
            f"<item><title>Actualité {k} de la source {source}</title><link>{base}/item/{k}/</link>"
            f"<guid>{base}/item/{k}/</guid><pubDate>{formatdate(1_738_000_000 - k * 86_400, usegmt=True)}</pubDate>"
            f"<description>Résumé court {k}.</description>{content}</item>")
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f"<channel><title>Source {source}</title>{''.join(entries)}</channel></rss>").encode()


def item_html(source: int, k: int) -> bytes:
    return (f"<!doctype html><html lang='fr'><head><title>Actualité {k}</title></head><body>"
            f"<nav><a href='/'>Accueil</a></nav><article><h1>Actualité {k} de la source {source}</h1>"
            f"<p>{PARAGRAPH * 6}</p><p>{PARAGRAPH * 3}</p></article><footer>Mentions légales</footer></body></html>").encode()


def serve(count: int, items: int, summary_items: int, latency: float, ports: multiprocessing.Queue, stop) -> None:
    """Child process: `count` servers, one per source; reports their ports, serves until `stop`."""
    servers = []
    for index in range(count):
        state: dict = {}

        class Handler(BaseHTTPRequestHandler):
            source_index = index
            memo = state

            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                time.sleep(latency)
                base = f"http://127.0.0.1:{self.server.server_address[1]}"
                if self.path == "/feed.xml":
                    body = self.memo.setdefault("feed", feed_xml(base, self.source_index, items, summary_items))
                    etag = f'"feed-{self.source_index}"'
                    if self.headers.get("If-None-Match") == etag:
                        return self._send(304, b"", etag)
                    return self._send(200, body, etag, "application/rss+xml; charset=utf-8")
                if self.path.startswith("/item/"):
                    return self._send(200, item_html(self.source_index, int(self.path.split("/")[2])), None)
                return self._send(404, b"", None)

            def _send(self, status: int, body: bytes, etag: str | None, ctype: str = "text/html; charset=utf-8"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
        servers.append(server)
    ports.put([s.server_address[1] for s in servers])
    stop.wait()


def run(sources: list[Source], states: dict[str, SourceState], settings: CrawlSettings, workers: int):
    now = datetime.now(UTC)
    wall, cpu = time.perf_counter(), time.process_time()
    with Fetcher(settings) as fetcher, ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda s: crawl_source(s, fetcher, states[s.id], now), sources))
    return results, time.perf_counter() - wall, time.process_time() - cpu


def report(name: str, results, wall: float, cpu: float) -> None:
    pages = sum(r.outcome.pages_fetched for r in results)
    items = sum(len(r.items) for r in results)
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r.outcome.status] = statuses.get(r.outcome.status, 0) + 1
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{name}: wall {wall:.1f} s, CPU {cpu:.1f} s ({cpu / wall:.0%} of wall), requests {pages} "
          f"(+robots.txt), items {items}, statuses {statuses}, peak RSS so far {peak_mb:.0f} MB, "
          f"{items / wall:.0f} items/s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--summary-items", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    ports_queue: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    child = multiprocessing.Process(target=serve, args=(args.sources, args.items, args.summary_items, args.latency,
                                                        ports_queue, stop), daemon=True)
    child.start()
    try:
        ports = ports_queue.get(timeout=120)
        sources = [Source(f"s{i}", f"Source {i}", "feed", f"http://127.0.0.1:{port}/feed.xml", max_new_items=50)
                   for i, port in enumerate(ports)]
        settings = CrawlSettings(per_origin_delay_s=0.0, per_origin_concurrency=1, total_timeout_s=30)
        print(f"{args.sources} sources x {args.items} items ({args.summary_items} summary-only each), "
              f"latency {args.latency * 1000:.0f} ms, {args.workers} workers, baseline RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        first, wall, cpu = run(sources, {s.id: SourceState() for s in sources}, settings, args.workers)
        report("first run ", first, wall, cpu)
        states = {r.source_id: SourceState({v.url: v for v in r.validators},
                                           frozenset(canonical_url(i.url) for i in r.items), first_run=False)
                  for r in first}
        second, wall, cpu = run(sources, states, settings, args.workers)
        report("second run", second, wall, cpu)
    finally:
        stop.set()
        child.join(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
