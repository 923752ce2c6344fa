"""Fetcher: address policy (pure), robots.txt rules, conditional GET, charsets, retries, politeness,
against real servers on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from http.server import BaseHTTPRequestHandler
from pathlib import Path


import pytest

from loopback import free_port, http_server
from pipeline.demo.server import serve_sites
from pipeline.crawl.fetch import Fetcher, address_allowed, check_url, decode_text
from pipeline.models import CrawlSettings, Validator
from pipeline.crawl.robots import parse_robots

SITES = Path(__file__).resolve().parent / "fixtures" / "sites"
LOCAL = frozenset({"127.0.0.1"})
FAST = CrawlSettings(per_origin_delay_s=0.0, total_timeout_s=5.0, max_retries=2, max_retry_after_s=1.0)


# --- address policy, no network --------------------------------------------------------------------

@pytest.mark.parametrize("ip", ["169.254.169.254", "10.1.2.3", "192.168.1.10", "172.16.0.1", "127.0.0.1",
                                "::1", "fe80::1", "fc00::1", "0.0.0.0", "224.0.0.1", "100.64.0.1",
                                "::ffff:127.0.0.1", "240.0.0.1"])
def test_private_and_special_addresses_are_refused(ip):
    assert not address_allowed(ip, CrawlSettings())


@pytest.mark.parametrize("ip", ["193.48.0.10", "8.8.8.8", "2001:4860:4860::8888"])
def test_public_addresses_are_allowed(ip):
    assert address_allowed(ip, CrawlSettings())


def test_trusted_and_allowed_networks_but_forbidden_always_wins():
    settings = CrawlSettings(allowed_networks=("10.20.0.0/16",), forbidden_networks=("127.0.0.2/32", "10.20.5.0/24"))
    assert address_allowed("10.20.1.1", settings)
    assert not address_allowed("10.21.1.1", settings)
    assert not address_allowed("10.20.5.9", settings)
    assert address_allowed("127.0.0.1", settings, trusted=True)
    assert not address_allowed("127.0.0.2", settings, trusted=True)


@pytest.mark.parametrize("url,code", [("file:///etc/passwd", "bad_scheme"), ("ftp://example.org/x", "bad_scheme"),
                                      ("javascript:alert(1)", "bad_scheme"), ("http:///nohost", "bad_url"),
                                      ("http://[::1/", "bad_url")])
def test_check_url_refuses_schemes_and_broken_urls(url, code):
    assert check_url(url, CrawlSettings(), resolve=lambda host, port: ["93.184.216.34"])[0] == code


def test_check_url_resolves_before_connecting():
    def fake_dns(host: str, port: int) -> list[str]:
        return {"labo.example.org": ["193.48.0.10"], "intranet.example.org": ["10.0.0.5"],
                "rebind.example.org": ["193.48.0.10", "127.0.0.1"]}[host]

    settings = CrawlSettings()
    assert check_url("https://labo.example.org/feed", settings, resolve=fake_dns) is None
    assert check_url("https://intranet.example.org/", settings, resolve=fake_dns)[0] == "forbidden_address"
    assert check_url("https://rebind.example.org/", settings, resolve=fake_dns)[0] == "forbidden_address"
    assert check_url("https://intranet.example.org/", settings, frozenset({"intranet.example.org"}), fake_dns) is None

    def no_dns(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    assert check_url("https://nowhere.example.org/", settings, resolve=no_dns)[0] == "dns_error"


def test_refused_address_gets_no_connection():
    # a loopback address marked forbidden: even if the guard were broken, nothing leaves this machine
    settings = replace(FAST, forbidden_networks=("127.0.0.2/32",))
    with Fetcher(settings) as fetcher:
        result = fetcher.fetch("http://127.0.0.2:9/latest/meta-data/")
    assert result.error_code == "forbidden_address" and result.status is None


# --- robots.txt rules --------------------------------------------------------------------------------

ROBOTS = """# comment
User-agent: *
Disallow: /private/
Allow: /private/public-page
Disallow: /*.pdf$
Disallow: /search

User-agent: veille-scientifique
User-agent: otherbot
Disallow: /no-veille/
Crawl-delay: 3

Sitemap: https://labo.example.org/sitemap.xml
"""


def test_robots_rules_follow_rfc9309():
    rules = parse_robots(ROBOTS)
    generic = "SomeBot/1.0"
    assert not rules.allows("/private/x", generic)
    assert rules.allows("/private/public-page", generic)  # longest match wins
    assert not rules.allows("/docs/rapport.pdf", generic)
    assert rules.allows("/docs/rapport.pdf?v=2", generic)  # $ anchors the end
    assert not rules.allows("/search?q=x", generic)
    assert rules.allows("/robots.txt", generic)
    ours = "veille-scientifique/0.1 (+mailto:veille@example.org)"
    assert rules.allows("/private/x", ours)  # our own group replaces the * group
    assert not rules.allows("/no-veille/page", ours)
    assert rules.crawl_delay(ours) == 3.0
    assert rules.sitemaps == ("https://labo.example.org/sitemap.xml",)


# --- real servers --------------------------------------------------------------------------------------

class Recorder(BaseHTTPRequestHandler):
    """Answers by path; records headers; counts the /slow requests in progress at once."""

    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:  # noqa: N802
        server = self.server
        server.requests[self.path] += 1
        server.headers.append(dict(self.headers))
        self._answer()

    def _work_slowly(self) -> None:
        """0.2 s of work, counted as one request in progress. The count drops before the answer is
        sent, so a client that already has its answer can never be counted with the next request."""
        server = self.server
        with server.lock:
            server.active += 1
            server.max_active = max(server.max_active, server.active)
        time.sleep(0.2)
        with server.lock:
            server.active -= 1

    def _answer(self) -> None:
        if self.path == "/robots.txt":
            return self._send(self.server.robots_status, b"User-agent: *\nDisallow: /secret\n")
        if self.path == "/flaky" and self.server.requests["/flaky"] == 1:
            return self._send(503, b"busy", {"Retry-After": "0"})
        if self.path == "/slow":
            self._work_slowly()
        if self.path == "/latin1-header-wrong":
            return self._send(200, "Université de Lorraine, été".encode("latin-1"), ctype="text/html; charset=utf-8")
        if self.path == "/gone":
            return self._send(410, b"gone")
        return self._send(200, b"<html><body>ok</body></html>")

    def _send(self, status: int, body: bytes, headers: dict | None = None, ctype: str = "text/html; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


def recorder(robots_status: int = 200):
    return http_server(Recorder, requests=Counter(), headers=[], lock=threading.Lock(), active=0, max_active=0,
                       robots_status=robots_status)


def test_user_agent_robots_and_http_errors():
    with recorder() as (base, server), Fetcher(FAST) as fetcher:
        ok = fetcher.fetch(base + "/page", trusted_hosts=LOCAL)
        secret = fetcher.fetch(base + "/secret/page", trusted_hosts=LOCAL)
        gone = fetcher.fetch(base + "/gone", trusted_hosts=LOCAL)
        fetcher.fetch(base + "/other", trusted_hosts=LOCAL)
    assert ok.ok and ok.status == 200 and "ok" in ok.text
    assert secret.error_code == "robots_disallowed" and server.requests["/secret/page"] == 0
    assert gone.error_code == "http_410" and gone.status == 410
    assert server.requests["/robots.txt"] == 1  # cached per origin
    assert all(h["User-Agent"] == FAST.user_agent for h in server.headers)


@pytest.mark.parametrize("status,allowed", [(404, True), (403, True), (500, False)])
def test_robots_status_rules(status, allowed):
    with recorder(robots_status=status) as (base, server), Fetcher(FAST, retry_backoff_s=0.01) as fetcher:
        result = fetcher.fetch(base + "/page", trusted_hosts=LOCAL)
    assert result.ok is allowed
    assert (result.error_code == "robots_disallowed") is (not allowed)


def test_503_with_retry_after_is_retried():
    with recorder() as (base, server), Fetcher(FAST, retry_backoff_s=0.01) as fetcher:
        result = fetcher.fetch(base + "/flaky", trusted_hosts=LOCAL)
    assert result.ok and server.requests["/flaky"] == 2


def test_per_origin_concurrency_is_respected():
    settings = CrawlSettings(per_origin_delay_s=0.0, per_origin_concurrency=1, obey_robots=False)
    with recorder() as (base, server), Fetcher(settings) as fetcher, ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: fetcher.fetch(base + "/slow", trusted_hosts=LOCAL), range(4)))
    assert all(r.ok for r in results)
    assert server.max_active == 1


def test_header_charset_that_does_not_fit_is_skipped():
    with recorder() as (base, _), Fetcher(FAST) as fetcher:
        result = fetcher.fetch(base + "/latin1-header-wrong", trusted_hosts=LOCAL)
    assert result.text == "Université de Lorraine, été"


@pytest.fixture(scope="module")
def sites():
    with serve_sites(SITES) as served:
        yield served


def test_latin1_page_without_charset_decodes_right(sites):
    with Fetcher(FAST) as fetcher:
        result = fetcher.fetch(sites.base_urls["latin1-iut"] + "/actus.latin1.html", trusted_hosts=LOCAL)
    assert result.content_type == "text/html"
    assert "Actualités de l'IUT" in result.text and "Ã" not in result.text


def test_decode_text_sources_of_charset():
    assert decode_text('<meta charset="windows-1252"><p>été</p>'.encode("cp1252"), "text/html") == '<meta charset="windows-1252"><p>été</p>'
    assert decode_text('<?xml version="1.0" encoding="ISO-8859-15"?><a>€</a>'.encode("iso-8859-15"), "application/xml").endswith("€</a>")
    assert decode_text(b"\xef\xbb\xbfcaf\xc3\xa9", "text/plain") == "café"
    assert decode_text(b"\x89PNG\r\n", "image/png") == ""


def test_conditional_get_gives_not_modified(sites):
    with Fetcher(FAST) as fetcher:
        url = sites.base_urls["hugo-asso"] + "/index.xml"
        first = fetcher.fetch(url, trusted_hosts=LOCAL)
        second = fetcher.fetch(url, Validator(url, first.etag, first.last_modified), trusted_hosts=LOCAL)
    assert first.ok and first.etag
    assert second.not_modified and second.ok and second.status == 304 and second.body == b""
    assert second.etag == first.etag


def test_connection_refused_is_a_value():
    port = free_port()  # nothing listens there
    with Fetcher(FAST, retry_backoff_s=0.01) as fetcher:
        result = fetcher.fetch(f"http://127.0.0.1:{port}/feed", trusted_hosts=LOCAL)
    assert result.error_code == "robots_disallowed"  # robots.txt unreachable: RFC 9309 says disallow all
    with Fetcher(CrawlSettings(obey_robots=False, per_origin_delay_s=0)) as fetcher:
        result = fetcher.fetch(f"http://127.0.0.1:{port}/feed", trusted_hosts=LOCAL)
    assert result.error_code == "connect_error"


class CookieSite(BaseHTTPRequestHandler):
    """A consent wall: without its cookie, /page sets it and redirects to itself; the Cookie header of
    every request is recorded."""

    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        cookie = self.headers.get("Cookie")
        self.server.cookies.append((self.path, cookie))
        if self.path == "/page" and cookie != f"consent={self.server.name}":
            self.send_response(302)
            self.send_header("Set-Cookie", f"consent={self.server.name}; Path=/")
            self.send_header("Location", "/page")
        else:
            self.send_response(404 if self.path == "/robots.txt" else 200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def test_an_origins_cookies_go_back_to_that_origin_alone():
    with http_server(CookieSite, name="a", cookies=[]) as (a, site_a), \
            http_server(CookieSite, name="b", cookies=[]) as (b, site_b), Fetcher(FAST) as fetcher:
        first = fetcher.fetch(a + "/page", trusted_hosts=LOCAL)
        fetcher.fetch(b + "/other", trusted_hosts=LOCAL)
        again = fetcher.fetch(a + "/page", trusted_hosts=LOCAL)
    assert first.ok and again.ok and first.final_url == a + "/page"
    assert site_a.cookies == [("/robots.txt", None), ("/page", None), ("/page", "consent=a"), ("/page", "consent=a")]
    assert site_b.cookies == [("/robots.txt", None), ("/other", None)]  # same host, another port: not a's cookie
