"""Hostile servers on 127.0.0.1: each source fails with its own code, the others in the same run are
unaffected, memory stays bounded, and a forbidden address never receives a request."""

from __future__ import annotations

import gzip
import threading
import time
import tracemalloc
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline.crawl.source import crawl_source
from pipeline.demo.server import serve_sites
from pipeline.crawl.fetch import Fetcher
from pipeline.models import CrawlSettings, Source, SourceState

SITES = Path(__file__).resolve().parent / "fixtures" / "sites"
NOW = datetime(2025, 2, 20, 2, 0, tzinfo=UTC)
LIMIT = 1_000_000
SETTINGS = CrawlSettings(
    per_origin_delay_s=0.0, per_origin_concurrency=8, total_timeout_s=2.0, read_timeout_s=1.5,
    max_body_bytes=LIMIT, max_redirects=5, max_retries=1, max_retry_after_s=1.0,
    forbidden_networks=("127.0.0.2/32",),
)
BOMB = gzip.compress(b"\0" * 40_000_000, compresslevel=9)  # ~40 KB on the wire, 40 MB inflated
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title><link>http://127.0.0.1/x</link></item></channel></rss>
"""


class HostileHandler(BaseHTTPRequestHandler):
    """Misbehaving answers, one per path; `server.requests` counts paths."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.requests[self.path] += 1
        route = {
            "/robots.txt": lambda: self._send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain"),
            "/drip.xml": self._drip,
            "/huge.xml": self._huge,
            "/bomb.xml": lambda: self._send(200, BOMB, "application/rss+xml", {"Content-Encoding": "gzip"}),
            "/loop-a": lambda: self._send(302, b"", "text/plain", {"Location": "/loop-b"}),
            "/loop-b": lambda: self._send(302, b"", "text/plain", {"Location": "/loop-a"}),
            "/to-forbidden": lambda: self._send(301, b"", "text/plain", {"Location": self.server.forbidden_url}),
            "/laughs.xml": lambda: self._send(200, LAUGHS, "application/rss+xml"),
            "/busy.xml": lambda: self._send(429, b"slow down", "text/plain", {"Retry-After": "1"}),
            "/private/feed.xml": lambda: self._send(200, b"<rss version='2.0'><channel/></rss>", "application/rss+xml"),
        }.get(self.path, lambda: self._send(404, b"not found", "text/plain"))
        try:
            route()
        except (BrokenPipeError, ConnectionResetError):
            return

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        for _ in range(30):  # one byte a second, bounded: the client must give up long before
            self.wfile.write(b"<")
            self.wfile.flush()
            time.sleep(1.0)

    def _huge(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")  # no Content-Length: read until close
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"<item>" + b"x" * 65_530
        for _ in range(2_000):  # would be 128 MB; the client stops at 1 MB
            self.wfile.write(chunk)


class CountingHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:  # noqa: N802
        self.server.requests[self.path] += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


@contextmanager
def running(server: ThreadingHTTPServer):
    server.daemon_threads = True
    server.requests = Counter()
    server.handle_error = lambda request, client_address: None  # clients hang up on purpose here
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def hostile():
    with running(ThreadingHTTPServer(("127.0.0.2", 0), CountingHandler)) as forbidden:
        server = ThreadingHTTPServer(("127.0.0.1", 0), HostileHandler)
        server.forbidden_url = f"http://127.0.0.2:{forbidden.server_address[1]}/internal"
        with running(server) as hostile_server:
            yield f"http://127.0.0.1:{hostile_server.server_address[1]}", hostile_server, forbidden


EXPECTED_CODES = {
    "drip": ("/drip.xml", "timeout"),
    "huge": ("/huge.xml", "too_large"),
    "bomb": ("/bomb.xml", "too_large"),
    "loop": ("/loop-a", "too_many_redirects"),
    "forbidden": ("/to-forbidden", "forbidden_address"),
    "laughs": ("/laughs.xml", "unsafe_xml"),
    "busy": ("/busy.xml", "rate_limited"),
    "robots": ("/private/feed.xml", "robots_disallowed"),
}


def test_each_hostile_source_fails_alone_with_its_code(hostile):
    base, server, forbidden = hostile
    sources = [Source(name, name, "feed", base + path) for name, (path, _) in EXPECTED_CODES.items()]
    with serve_sites(SITES) as sites:
        good = Source("wp-labo", "LPM", "feed", sites.base_urls["wp-labo"] + "/feed/")
        tracemalloc.start()
        try:
            with Fetcher(SETTINGS, retry_backoff_s=0.05) as fetcher, ThreadPoolExecutor(max_workers=10) as pool:
                results = list(pool.map(lambda s: crawl_source(s, fetcher, SourceState(), NOW), [*sources, good]))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    outcomes = {r.source_id: r.outcome for r in results}
    print("hostile outcomes:", {k: (o.error_code, round(o.duration_s, 2)) for k, o in outcomes.items()},
          f"peak traced memory {peak / 1e6:.1f} MB")
    for name, (_, code) in EXPECTED_CODES.items():
        assert outcomes[name].status == "error", name
        assert outcomes[name].error_code == code, (name, outcomes[name])
    assert outcomes["wp-labo"].status == "ok" and outcomes["wp-labo"].items_found == 5
    assert sum(forbidden.requests.values()) == 0  # never connected, not even for robots.txt
    assert server.requests["/private/feed.xml"] == 0
    assert server.requests["/busy.xml"] == 2  # one retry after Retry-After, then rate_limited
    assert peak < 40 * LIMIT  # a 40 MB bomb and a 128 MB stream never held in memory


def test_memory_stays_bounded_for_gzip_bomb_alone(hostile):
    base, _, _ = hostile
    tracemalloc.start()
    try:
        with Fetcher(SETTINGS) as fetcher:
            result = fetcher.fetch(base + "/bomb.xml", trusted_hosts=frozenset({"127.0.0.1"}))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.error_code == "too_large" and result.body == b""
    assert peak < 10 * LIMIT


def test_redirect_hops_are_checked_even_for_trusted_origin(hostile):
    base, _, forbidden = hostile
    with Fetcher(SETTINGS) as fetcher:
        result = fetcher.fetch(base + "/to-forbidden", trusted_hosts=frozenset({"127.0.0.1"}))
    assert result.error_code == "forbidden_address"
    assert result.final_url.startswith("http://127.0.0.2:")
    assert sum(forbidden.requests.values()) == 0
