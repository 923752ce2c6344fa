"""Crawl throughput: N simulated sources on 127.0.0.1, a first run and a second run where nothing changed.

Each source is its own origin (one loopback port each; all ports served by one uvicorn event loop in a
child process, so that the sites' CPU is not counted). Every --listing-every-th source is an html news
listing linking to --listing-items item pages; the others are RSS feeds of --items items of which
--summary-items carry only a summary (so their page is fetched: full_text auto). Every answer is
delayed by --latency seconds; feeds and listings support ETag/304. Politeness delay 0. With --cookies,
every site sets a session cookie of its own name (as Drupal's SESS<hash>) on a request without it.

The same crawl runs on each runner of --runners:
  plain    crawl_source on a ThreadPoolExecutor of --workers threads sharing one Fetcher (no Prefect)
  threads  the nightly flow's crawl (flows.crawl_sources) on Prefect's thread pool of --workers
  dask     the same on a local Dask cluster of --dask-workers processes x (--workers / --dask-workers) threads
The second run sends the first run's validators: every feed and listing answers 304.

Usage: python benchmarks/crawl.py [--sources 500 --runners plain,threads,dask --workers 16]
Prints wall time, CPU time and peak RSS of veille's process tree, requests and items of each run, then
the CPU of each kind of process (crawler, Prefect server, Dask) and the load average. Counted: this
process (the crawler, with Prefect's task engine), Prefect's temporary server (until it is idle again
after the flow returned: its work for the run may come after) and the Dask scheduler and workers.
Not counted: the sites' process, nor, for the plain runner, a Prefect server started for another runner.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path

import psutil

# Prefect's temporary server starts slowly on a busy machine; the benchmark waits for it
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "300")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.config import Config  # noqa: E402
from pipeline.crawl.fetch import Fetcher  # noqa: E402
from pipeline.crawl.source import crawl_source  # noqa: E402
from pipeline.models import CrawlSettings, Source, SourceState, TaskRunnerSettings  # noqa: E402
from pipeline.normalize import canonical_url  # noqa: E402

PARAGRAPH = ("Les équipes du laboratoire ont présenté leurs travaux sur la dynamique des matériaux poreux "
             "lors d'une journée d'étude ouverte aux étudiants de master et aux partenaires industriels. ")


@dataclass(frozen=True)
class Shape:
    items: int
    summary_items: int
    listing_every: int
    listing_items: int
    latency: float
    cookies: bool = False

    def is_listing(self, index: int) -> bool:
        return self.listing_every > 0 and index % self.listing_every == self.listing_every - 1


def feed_xml(base: str, source: int, shape: Shape) -> bytes:
    entries = []
    for k in range(shape.items):
        full = k >= shape.summary_items
        content = f"<content:encoded><![CDATA[<p>{PARAGRAPH * 4}</p>]]></content:encoded>" if full else ""
        entries.append(
            f"<item><title>Actualité {k} de la source {source}</title><link>{base}/item/{k}/</link>"
            f"<guid>{base}/item/{k}/</guid><pubDate>{formatdate(1_738_000_000 - k * 86_400, usegmt=True)}</pubDate>"
            f"<description>Résumé court {k}.</description>{content}</item>")
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f"<channel><title>Source {source}</title>{''.join(entries)}</channel></rss>").encode()


def listing_html(source: int, shape: Shape) -> bytes:
    links = "".join(f"<li><a class='item' href='/item/{k}/'>Actualité {k} de la source {source}</a></li>"
                    for k in range(shape.listing_items))
    return (f"<!doctype html><html lang='fr'><head><title>Actualités</title></head><body><nav><a href='/'>Accueil</a>"
            f"</nav><main><h1>Actualités</h1><ul>{links}</ul></main></body></html>").encode()


def item_html(source: int, k: int) -> bytes:
    day = formatdate(1_738_000_000 - k * 86_400, usegmt=True)
    return (f"<!doctype html><html lang='fr'><head><title>Actualité {k}</title>"
            f"<meta property='article:published_time' content='{day}'></head><body>"
            f"<nav><a href='/'>Accueil</a></nav><article><h1>Actualité {k} de la source {source}</h1>"
            f"<p>{PARAGRAPH * 6}</p><p>{PARAGRAPH * 3}</p></article><footer>Mentions légales</footer></body></html>").encode()


def sites_app(ports: dict[int, int], shape: Shape):
    """An ASGI app answering for every source; the port a request came to says which source."""
    memo: dict[tuple[int, str], bytes] = {}

    async def app(scope, receive, send) -> None:
        await asyncio.sleep(shape.latency)
        index = ports[scope["server"][1]]
        base = f"http://127.0.0.1:{scope['server'][1]}"
        path = scope["path"]
        headers = dict(scope["headers"])
        cookie = session_cookie(index, headers) if shape.cookies else None
        if path in ("/feed.xml", "/news/"):
            kind = "listing" if path == "/news/" else "feed"
            body = memo.get((index, kind))
            if body is None:
                body = listing_html(index, shape) if kind == "listing" else feed_xml(base, index, shape)
                memo[(index, kind)] = body
            etag = f'"{kind}-{index}"'
            if headers.get(b"if-none-match", b"").decode() == etag:
                return await respond(send, 304, b"", etag=etag, cookie=cookie)
            ctype = "text/html; charset=utf-8" if kind == "listing" else "application/rss+xml; charset=utf-8"
            return await respond(send, 200, body, ctype, etag, cookie)
        if path.startswith("/item/"):
            return await respond(send, 200, item_html(index, int(path.split("/")[2])), cookie=cookie)
        return await respond(send, 404, b"", cookie=cookie)

    return app


def session_cookie(index: int, headers: dict[bytes, bytes]) -> str | None:
    """The Set-Cookie of source `index`'s session, unless the request carries it already."""
    name = f"SESS{index:05d}"
    if name.encode() in headers.get(b"cookie", b""):
        return None
    return f"{name}={os.urandom(16).hex()}; Path=/; HttpOnly"


async def respond(send, status: int, body: bytes, ctype: str = "text/html; charset=utf-8", etag: str | None = None,
                  cookie: str | None = None):
    headers = [(b"content-type", ctype.encode()), (b"content-length", str(len(body)).encode())]
    if etag:
        headers.append((b"etag", etag.encode()))
    if cookie:
        headers.append((b"set-cookie", cookie.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def serve(count: int, shape: Shape, ports_queue: multiprocessing.Queue) -> None:
    """Child process: one listening socket per source, all served by one uvicorn loop."""
    import uvicorn

    sockets = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sockets.append(sock)
    ports = {s.getsockname()[1]: i for i, s in enumerate(sockets)}
    config = uvicorn.Config(sites_app(ports, shape), log_level="error", access_log=False, lifespan="off",
                            timeout_keep_alive=60)
    ports_queue.put([s.getsockname()[1] for s in sockets])
    asyncio.run(uvicorn.Server(config).serve(sockets=sockets))


def role(process: psutil.Process) -> str:
    """What a process of the tree is, for the CPU breakdown."""
    if process.pid == os.getpid():
        return "crawler"
    command = " ".join(process.cmdline())
    if "prefect.server" in command or "prefect server" in command:
        return "Prefect server"
    if "distributed" in command or "dask" in command or "spawn_main" in command:
        return "Dask"  # a local cluster's nanny and worker processes (the spawned sites' process is excluded)
    return "other"


class TreeMeter:
    """CPU seconds and peak RSS of this process and its descendants (minus `excluded` pids), sampled
    every second (a sample reads /proc; sampling faster costs the crawler's own CPU)."""

    def __init__(self, excluded: set[int], every_s: float = 1.0):
        self.excluded, self.every_s = excluded, every_s
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.roles: dict[int, str] = {}
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMeter:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def cpu_s(self) -> float:
        return sum(self.by_role().values())

    def by_role(self) -> dict[str, float]:
        seconds: dict[str, float] = {}
        for pid, cpu in list(self.last.items()):
            name = self.roles.get(pid, "other")
            seconds[name] = seconds.get(name, 0.0) + cpu - self.first.get(pid, 0.0)
        return seconds

    def wait_until_idle(self, below: float = 0.1, longest_s: float = 300.0) -> None:
        """Keep counting until the tree uses less than `below` of a core for two samples in a row."""
        quiet, started = 0, time.monotonic()
        while quiet < 2 and time.monotonic() - started < longest_s:
            before = self.cpu_s
            time.sleep(self.every_s * 2)
            quiet = quiet + 1 if self.cpu_s - before < below * self.every_s * 2 else 0

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self._sample()

    def _sample(self) -> None:
        me = psutil.Process()
        rss = 0
        for process in [me, *me.children(recursive=True)]:
            if process.pid in self.excluded:
                continue
            try:
                times = process.cpu_times()
                rss += process.memory_info().rss
            except psutil.Error:
                continue
            cpu = times.user + times.system
            if process.pid not in self.first:
                self.first[process.pid] = cpu if process.pid == me.pid else 0.0
                self.roles[process.pid] = _role_or_other(process)
            self.last[process.pid] = cpu
        self.peak_rss = max(self.peak_rss, rss)


def _role_or_other(process: psutil.Process) -> str:
    try:
        return role(process)
    except psutil.Error:
        return "other"


def crawl_plain(sources: list[Source], states: dict[str, SourceState], settings: CrawlSettings, workers: int):
    now = datetime.now(UTC)
    with Fetcher(settings) as fetcher, ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda s: crawl_source(s, fetcher, states[s.id], now), sources))


def crawl_with_prefect(config: Config, states: dict[str, SourceState]):
    """The nightly flow's crawl step (flows.crawl_sources) inside a flow run, on the configured runner."""
    from prefect import flow

    from pipeline import flows

    results: list = []

    # as the nightly flow, it returns a count: a flow's return value is walked by Prefect (looking for
    # futures), which for the crawl results is every field of every item (~5% of the crawl's CPU)
    @flow(name="bench-crawl", log_prints=False)
    def bench_crawl() -> int:
        results.extend(flows.crawl_sources(config, list(config.sources), states, datetime.now(UTC)))
        return len(results)

    with flows.quiet_prefect():
        bench_crawl()
    return results


def warm_up_prefect() -> None:
    """Start Prefect's temporary server before measuring (a real deployment has its server running)."""
    from prefect import flow

    from pipeline import flows

    with flows.quiet_prefect():
        flow(name="bench-warm-up")(lambda: None)()


def measure(name: str, crawl, excluded: set[int]):
    wall = time.perf_counter()
    with TreeMeter(excluded) as meter:
        results = crawl()
        wall = time.perf_counter() - wall
        meter.wait_until_idle()  # the Prefect server's work for this run may come after the flow returned
    pages = sum(r.outcome.pages_fetched for r in results)
    items = sum(len(r.items) for r in results)
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r.outcome.status] = statuses.get(r.outcome.status, 0) + 1
    print(f"  {name}: wall {wall:.1f} s, CPU {meter.cpu_s:.1f} s (process tree), peak RSS {meter.peak_rss / 1e6:.0f} MB, "
          f"requests {pages} (+robots.txt), items {items}, statuses {statuses}, "
          f"{items / wall:.0f} items/s, {meter.cpu_s / len(results) * 1000:.1f} ms CPU per source", flush=True)
    shares = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in sorted(meter.by_role().items()))
    print(f"    CPU by process: {shares}; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    return results


def second_states(results) -> dict[str, SourceState]:
    return {r.source_id: SourceState({v.url: v for v in r.validators},
                                     frozenset(canonical_url(i.url) for i in r.items), first_run=False)
            for r in results}


def run_runner(runner: str, sources: list[Source], settings: CrawlSettings, args, excluded: set[int]) -> None:
    print(f"{runner}:", flush=True)
    if runner == "plain":  # the Prefect server, started for another runner, is no part of this run
        excluded = excluded | {p.pid for p in psutil.Process().children(recursive=True) if _role_or_other(p) != "other"}
    first_states = {s.id: SourceState() for s in sources}
    if runner == "plain":
        def crawl(states):
            return crawl_plain(sources, states, settings, args.workers)
    else:
        task_runner = TaskRunnerSettings(kind=runner, n_workers=args.dask_workers,
                                         threads_per_worker=max(1, args.workers // args.dask_workers))
        config = Config(Path("benchmark"), tuple(sources), settings, args.workers, 60, task_runner)

        def crawl(states):
            return crawl_with_prefect(config, states)
    first = measure("first run ", lambda: crawl(first_states), excluded)
    if not args.no_second_run:
        measure("second run", lambda: crawl(second_states(first)), excluded)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--summary-items", type=int, default=4)
    parser.add_argument("--listing-every", type=int, default=5, help="every n-th source is an html listing (0: none)")
    parser.add_argument("--listing-items", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--dask-workers", type=int, default=2, help="worker processes of the local Dask cluster")
    parser.add_argument("--runners", default="threads,dask,plain")
    parser.add_argument("--no-second-run", action="store_true")
    parser.add_argument("--cookies", action="store_true", help="every site sets a session cookie")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the sites' process too
    shape = Shape(args.items, args.summary_items, args.listing_every, args.listing_items, args.latency, args.cookies)
    spawn = multiprocessing.get_context("spawn")
    ports_queue = spawn.Queue()
    child = spawn.Process(target=serve, args=(args.sources, shape, ports_queue),
                                                         daemon=True)
    child.start()
    try:
        ports = ports_queue.get(timeout=300)
        sources = [Source(f"s{i}", f"Source {i}", "html", f"http://127.0.0.1:{port}/news/", item_selector="a.item")
                   if shape.is_listing(i) else
                   Source(f"s{i}", f"Source {i}", "feed", f"http://127.0.0.1:{port}/feed.xml", max_new_items=50)
                   for i, port in enumerate(ports)]
        settings = CrawlSettings(per_origin_delay_s=0.0, per_origin_concurrency=1, total_timeout_s=30)
        listings = sum(1 for s in sources if s.kind == "html")
        print(f"{args.sources} sources ({args.sources - listings} feeds of {args.items} items, {args.summary_items} "
              f"summary-only; {listings} listings of {args.listing_items} items), latency {args.latency * 1000:.0f} ms, "
              f"{'session cookies, ' if args.cookies else ''}{args.workers} workers, {os.cpu_count()} cores", flush=True)
        if set(args.runners.split(",")) - {"plain"}:
            warm_up_prefect()
        for runner in args.runners.split(","):
            run_runner(runner, sources, settings, args, {child.pid})
    finally:
        child.terminate()
        child.join(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
