"""The Fetcher's connections, seen from real keep-alive servers on 127.0.0.1: one connection per origin
reused for a crawl's requests, none kept open for origins whose crawl is over, none left at close."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler

from loopback import http_server
from pipeline.crawl.fetch import Fetcher
from pipeline.crawl.guard import KEEPALIVE_PER_THREAD
from pipeline.models import CrawlSettings

LOCAL = frozenset({"127.0.0.1"})
SETTINGS = CrawlSettings(per_origin_delay_s=0.0, total_timeout_s=5.0, obey_robots=False)


class KeepAlive(BaseHTTPRequestHandler):
    """Answers every GET on one HTTP/1.1 keep-alive connection; counts connections opened and open."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.opened += 1
            self.server.open += 1

    def finish(self) -> None:
        super().finish()
        with self.server.lock:
            self.server.open -= 1

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = b"<html><body><p>ok</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def servers(stack: ExitStack, count: int) -> list[tuple[str, object]]:
    return [stack.enter_context(http_server(KeepAlive, lock=threading.Lock(), opened=0, open=0))
            for _ in range(count)]


def crawl(fetcher: Fetcher, base: str, pages: int = 3) -> None:
    for k in range(pages):
        assert fetcher.fetch(f"{base}/page/{k}", trusted_hosts=LOCAL).ok


def eventually_closed(server, longest_s: float = 5.0) -> bool:
    """The server saw the client close (it notices on its own thread, a moment later)."""
    until = time.monotonic() + longest_s
    while server.open and time.monotonic() < until:
        time.sleep(0.02)
    return server.open == 0


def test_a_crawl_reuses_one_connection_per_origin_and_keeps_none_for_finished_origins() -> None:
    with ExitStack() as stack:
        sites = servers(stack, KEEPALIVE_PER_THREAD + 2)
        with Fetcher(SETTINGS) as fetcher:
            for base, _ in sites:
                crawl(fetcher, base)
            assert [server.opened for _, server in sites] == [1] * len(sites)  # 3 pages, 1 connection each
            first, last = sites[0][1], sites[-1][1]
            assert eventually_closed(first)  # crawled long ago: its connection was let go
            assert last.open == 1  # the origin being crawled keeps its connection
        assert all(eventually_closed(server) for _, server in sites)  # nothing left once the Fetcher closes


def test_threads_crawling_at_once_each_reuse_their_origins_connection() -> None:
    with ExitStack() as stack:
        sites = servers(stack, 6)
        with Fetcher(SETTINGS) as fetcher, ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda site: crawl(fetcher, site[0], pages=5), sites))
        assert [server.opened for _, server in sites] == [1] * len(sites)
        assert all(eventually_closed(server) for _, server in sites)
