"""robots.txt as RFC 9309 reads it: our own cases, and a loopback site that names veille."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler

import pytest

from loopback import http_server

from pipeline.crawl.fetch import Fetcher
from pipeline.crawl.robots import parse_robots, product_token
from pipeline.crawl.source import crawl_source
from pipeline.models import CrawlSettings, Source, SourceState

OURS = "veille-scientifique/0.1 (+mailto:veille@example.org)"


# --- groups: product tokens -------------------------------------------------------------------------

@pytest.mark.parametrize("value,token", [
    ("veille-scientifique/0.1 (+mailto:x@y.fr)", "veille-scientifique"),
    ("Veille-Scientifique", "veille-scientifique"),
    ("CrawlerDuLabo 2.0", "crawlerdulabo"),
    ("under_score-bot", "under_score-bot"),
    ("*", "*"),
    ("", "*"),
])
def test_product_token(value, token):
    assert product_token(value) == token


def test_a_group_written_with_our_version_is_ours():
    rules = parse_robots("User-agent: veille-scientifique/0.1\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    assert not rules.allows("/actualites/", OURS)
    assert rules.allows("/actualites/", "AutreRobot/3.0")


def test_a_group_value_with_a_space_is_cut_at_the_space():
    rules = parse_robots("User-agent: Robot Labo\nDisallow: /prive/\n")
    assert not rules.allows("/prive/a", "robot")
    assert not rules.allows("/prive/a", "ROBOT/1.2")
    assert rules.allows("/public/a", "robot")


def test_groups_naming_us_twice_are_merged_and_star_is_then_ignored():
    text = ("User-agent: veille-scientifique\nDisallow: /a/\n\nUser-agent: *\nDisallow: /c/\n\n"
            "User-agent: VEILLE-SCIENTIFIQUE\nDisallow: /b/\n")
    rules = parse_robots(text)
    assert not rules.allows("/a/1", OURS) and not rules.allows("/b/1", OURS)
    assert rules.allows("/c/1", OURS)  # the * group is for those no group names


def test_blank_lines_and_sitemaps_do_not_close_a_group_rules_before_any_agent_are_ignored():
    text = ("Disallow: /orphelin/\n\nUser-agent: veille-scientifique\n\nSitemap: http://x/s.xml\n"
            "User-agent: autre\n\nDisallow: /commun/\n")
    rules = parse_robots(text)
    assert not rules.allows("/commun/x", OURS) and not rules.allows("/commun/x", "autre")
    assert rules.allows("/orphelin/x", OURS)
    assert rules.sitemaps == ("http://x/s.xml",)


def test_directive_names_are_case_insensitive_and_a_missing_colon_is_tolerated():
    rules = parse_robots("USER-AGENT veille-scientifique\nDISALLOW /brouillons/\nallow: /brouillons/ok\n")
    assert not rules.allows("/brouillons/x", OURS)
    assert rules.allows("/brouillons/ok", OURS)


# --- matching: longest match, ties, wildcards, encoding ----------------------------------------------

def test_longest_match_wins_and_allow_wins_a_tie():
    rules = parse_robots("User-agent: *\nDisallow: /seminaires\nAllow: /seminaires/\nDisallow: /x\nAllow: /x\n")
    assert not rules.allows("/seminaires", OURS)
    assert rules.allows("/seminaires/2026", OURS)
    assert rules.allows("/x/y", OURS)


def test_star_and_dollar():
    rules = parse_robots("User-agent: *\nDisallow: /*.pdf$\nDisallow: /archives/*/brouillon\n")
    assert not rules.allows("/docs/rapport.pdf", OURS)
    assert rules.allows("/docs/rapport.pdf?v=2", OURS)
    assert not rules.allows("/archives/2024/brouillon-3", OURS)
    assert rules.allows("/archives/brouillon", OURS)


def test_an_empty_disallow_forbids_nothing():
    assert parse_robots("User-agent: *\nDisallow:\n").allows("/tout", OURS)


def test_non_ascii_rules_are_percent_encoded_before_comparison():
    rules = parse_robots("User-agent: *\nDisallow: /équipes/privé\n")
    assert not rules.allows("/%C3%A9quipes/priv%C3%A9/page", OURS)
    assert not rules.allows("/%c3%a9quipes/priv%c3%a9", OURS)  # escapes compare case-insensitively
    assert rules.allows("/%C3%A9quipes/public", OURS)


def test_escapes_of_unreserved_characters_equal_the_characters():
    rules = parse_robots("User-agent: *\nDisallow: /%7Emembre/\nDisallow: /docs/%61rchives\n")
    assert not rules.allows("/~membre/page", OURS)
    assert not rules.allows("/docs/archives/2020", OURS)


def test_reserved_characters_in_a_query_compare_as_written():
    rules = parse_robots("User-agent: *\nDisallow: /\nAllow: /agenda?retour=http://x.fr/a&b\n")
    assert rules.allows("/agenda?retour=http://x.fr/a&b", OURS)
    assert not rules.allows("/agenda?retour=autre", OURS)


def test_an_index_html_allow_also_allows_its_directory():
    rules = parse_robots("User-agent: *\nAllow: /labo/index.html\nDisallow: /\n")
    assert rules.allows("/labo/", OURS) and rules.allows("/labo/index.html", OURS)
    assert not rules.allows("/labo/autre", OURS)


def test_overlong_lines_are_cut():
    long_path = "/p/" + "a" * 20_000
    rules = parse_robots(f"User-agent: *\nDisallow: {long_path}/fin\n")
    # the rule was cut inside the run of a's: every path starting with what is left is covered
    assert not rules.allows(long_path + "/autre", OURS)
    assert rules.allows("/p/b", OURS)


def test_robots_txt_itself_and_a_byte_order_mark():
    rules = parse_robots("\ufeffUser-agent: *\nDisallow: /\n")
    assert not rules.allows("/page", OURS)
    assert rules.allows("/robots.txt", OURS)


# --- a loopback site ---------------------------------------------------------------------------------

FEED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Labo</title>
<link>{base}/</link><item><title>Une avancée</title><link>{base}/actu/1</link>
<description>Un résultat important du laboratoire, décrit en quelques phrases.</description>
<pubDate>Mon, 30 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>"""


def site(robots: str):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self.server.requests[self.path] += 1
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path == "/robots.txt":
                body, ctype = robots.encode(), "text/plain"
            elif self.path == "/feed.xml":
                body, ctype = FEED.format(base=base).encode(), "application/rss+xml"
            else:
                body = b"<html><head><title>Une avancee</title></head><body><article><h1>Une avancee</h1>" \
                       + "<p>Un résultat important du laboratoire, décrit en quelques phrases.</p>".encode() * 5 \
                       + b"</article></body></html>"
                ctype = "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return http_server(Handler, requests=Counter())


def crawl(base: str):
    settings = CrawlSettings(per_origin_delay_s=0.0, total_timeout_s=5.0, user_agent=OURS)
    source = Source("labo", "Labo", "feed", base + "/feed.xml", full_text="always")
    with Fetcher(settings) as fetcher:
        return crawl_source(source, fetcher, SourceState(), datetime(2026, 12, 1, tzinfo=UTC))


def test_a_site_that_blocks_veille_by_name_gets_no_request_beyond_robots_txt():
    with site("User-agent: *\nAllow: /\n\nUser-agent: veille-scientifique/0.1\nDisallow: /\n") as (base, server):
        result = crawl(base)
    assert set(server.requests) == {"/robots.txt"}
    assert result.items == () and result.outcome.error_code == "robots_disallowed"


def test_a_site_that_blocks_another_bot_is_crawled():
    with site("User-agent: AutreRobot\nDisallow: /\n") as (base, server):
        result = crawl(base)
    assert server.requests["/feed.xml"] == 1 and server.requests["/actu/1"] == 1
    assert [item.title for item in result.items] == ["Une avancée"]


def test_the_fetcher_compares_the_encoded_path_whatever_the_spelling_of_the_link():
    settings = CrawlSettings(per_origin_delay_s=0.0, total_timeout_s=5.0, user_agent=OURS)
    with site("User-agent: *\nDisallow: /équipes/\n") as (base, server), Fetcher(settings) as fetcher:
        raw = fetcher.fetch(base + "/équipes/une", trusted_hosts=frozenset({"127.0.0.1"}))
        encoded = fetcher.fetch(base + "/%C3%A9quipes/deux", trusted_hosts=frozenset({"127.0.0.1"}))
        other = fetcher.fetch(base + "/actu/1", trusted_hosts=frozenset({"127.0.0.1"}))
    assert raw.error_code == encoded.error_code == "robots_disallowed"
    assert other.ok
    assert set(server.requests) == {"/robots.txt", "/actu/1"}
