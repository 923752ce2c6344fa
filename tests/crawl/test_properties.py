"""Property-based tests (hypothesis) for the code that reads the web: arbitrary bytes, encodings,
content types and markup give feed items, sitemap URLs, listing links or an item, or an expected
failure code; never an exception."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.crawl.extract import extract_item
from pipeline.crawl.fetch import decode_text
from pipeline.crawl.intake import checked_body
from pipeline.crawl.parse import Failure, ParsedFeed, SitemapPage, find_item_links, parse_feed, parse_sitemap
from pipeline.models import FetchResult, Item, Source

PROPERTIES = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NEXT_YEAR = datetime.now(UTC).year + 1
FEED_CODES = {"not_a_feed", "unsafe_xml", "bad_json", "bad_xml", "content_type"}
SITEMAP_CODES = {"not_a_sitemap", "too_large", "unsafe_xml", "bad_xml", "content_type"}
ITEM_CODES = {"not_html", "no_text", "content_type", "extract_error"}
URL = "http://127.0.0.1:8000/news/feed"

# pieces of the markup sites really send, shuffled by hypothesis into documents good and broken
TOKENS = [
    "<?xml version='1.0' encoding='utf-8'?>", "<?xml version='1.0' encoding='iso-8859-1'?>", "<rss version='2.0'>",
    "</rss>", "<channel>", "</channel>", "<item>", "</item>", "<title>", "</title>", "<link>", "</link>",
    "<pubDate>", "</pubDate>", "<description>", "</description>", "<guid>", "</guid>", "<![CDATA[", "]]>",
    "<feed xmlns='http://www.w3.org/2005/Atom'>", "</feed>", "<entry>", "</entry>", "<updated>", "</updated>",
    "<link href='/a'/>", "<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>", "</urlset>",
    "<sitemapindex>", "</sitemapindex>", "<sitemap>", "</sitemap>", "<url>", "</url>", "<loc>", "</loc>",
    "<lastmod>", "</lastmod>", "<!doctype html>", "<html>", "</html>", "<body>", "<article>", "</article>",
    "<h1>", "</h1>", "<p>", "</p>", "<a href='/actualites/une-nouvelle'>", "<a href='javascript:x'>",
    "<a href='http://[::1'>", "</a>", "<time datetime='2025-02-03'>", "</time>", "<meta charset='cp1252'>",
    "<meta property='article:published_time' content='9999-12-31T23:59:59+01:00'>",
    "<script type='application/ld+json'>{\"datePublished\": \"0001-01-01T00:00:00+01:00\"}</script>",
    "Fri, 31 Dec 9999 23:59:59 GMT", "0001-01-01T00:00:00+01:00", "2025-02-03T10:00:00+01:00",
    "Mon, 03 Feb 2025 10:00:00 GMT", "31/12/9999", "1er février 2025", "http://127.0.0.1:8000/a?utm_source=x#f",
    "/relative/path", "http://[", "\\x00javascript:alert(1)", "&amp;", "&#0;", "&#x110000;", "&unknown;", "\r\n", "\x00", "\ufeff", "é", "Ω", "☃",
    "<!-- comment -->", "<!ENTITY x 'y'>", "{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": [",
    "{\"url\": 7, \"title\": null, \"date_published\": \"9999-12-31T23:59:59Z\"}", "]}",
    "{\"url\": \"/a\\ud800\", \"id\": \"\\udc00\", \"title\": \"\\ud83d\", \"image\": 3}", ",",
]
markup = st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=12)), max_size=40).map("".join)
encodings = st.sampled_from(["utf-8", "latin-1", "cp1252", "utf-16", "utf-8-sig"])
content_types = st.sampled_from([
    "", "application/rss+xml", "application/atom+xml; charset=utf-8", "text/xml; charset=iso-8859-1",
    "application/xml", "text/html; charset=utf-8", "text/html; charset=bogus", "application/json",
    "application/feed+json", "application/octet-stream", "application/pdf", "image/png", "text/plain",
])


@st.composite
def bodies(draw) -> bytes:
    """Markup in some encoding, or bytes with no structure at all."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=3000))
    return draw(markup).encode(draw(encodings), errors="replace")


def answer(body: bytes, content_type: str, url: str = URL) -> FetchResult:
    """A fetched answer, decoded by the fetcher's own code."""
    return FetchResult(url, url, 200, body=body, content_type=content_type, text=decode_text(body, content_type))


def assert_plausible(moment: datetime | None) -> None:
    assert moment is None or (moment.tzinfo is not None and 1990 <= moment.year <= NEXT_YEAR)


@PROPERTIES
@given(bodies(), content_types)
def test_feed_parsing_gives_items_or_a_code(body: bytes, content_type: str) -> None:
    result = checked_body(answer(body, content_type), "feed")
    if not result.ok:
        assert result.error_code == "content_type"
        return
    parsed = parse_feed(result, Source("s", "S", "feed", URL))
    if isinstance(parsed, Failure):
        assert parsed.code in FEED_CODES, parsed
        return
    assert isinstance(parsed, ParsedFeed)
    for item in parsed.items:
        assert isinstance(item.url, str) and isinstance(item.title, str)
        assert item.published_at is None or item.published_at.tzinfo is not None
        for text in (item.url, item.title, item.summary, item.content, item.guid or "", item.image_url or ""):
            text.encode("utf-8")  # what the store can hold: no lone surrogates


@PROPERTIES
@given(bodies(), content_types)
def test_sitemap_parsing_gives_urls_or_a_code(body: bytes, content_type: str) -> None:
    result = checked_body(answer(body, content_type), "sitemap")
    if not result.ok:
        assert result.error_code == "content_type"
        return
    page = parse_sitemap(result, Source("s", "S", "sitemap", URL))
    if isinstance(page, Failure):
        assert page.code in SITEMAP_CODES, page
        return
    assert isinstance(page, SitemapPage)
    for entry in page.urls:
        assert isinstance(entry.url, str)
        assert_plausible(entry.lastmod)


# an XHTML page starts with an XML declaration and is rightly read as HTML: BeautifulSoup's hint is noise
@pytest.mark.filterwarnings("ignore::bs4.XMLParsedAsHTMLWarning", "ignore::bs4.MarkupResemblesLocatorWarning")
@PROPERTIES
@given(bodies(), content_types, st.sampled_from([None, "a", "li > a", "article a[href]"]))
def test_listing_gives_links(body: bytes, content_type: str, selector: str | None) -> None:
    result = checked_body(answer(body, content_type), "html")
    if not result.ok:
        assert result.error_code == "content_type"
        return
    listing = find_item_links(result, Source("s", "S", "html", URL, item_selector=selector))
    for link in listing.links:
        assert link.url.lower().startswith(("http://", "https://"))
        assert_plausible(link.published_at)
    assert listing.next_url is None or isinstance(listing.next_url, str)


@PROPERTIES
@given(bodies(), content_types)
def test_page_extraction_gives_an_item_or_a_code(body: bytes, content_type: str) -> None:
    result = checked_body(answer(body, content_type, "http://127.0.0.1:8000/actualites/une-nouvelle"), "html")
    if not result.ok:
        assert result.error_code == "content_type"
        return
    item = extract_item(result, Source("s", "S", "html", URL))
    if isinstance(item, Failure):
        assert item.code in ITEM_CODES, item
        return
    assert isinstance(item, Item) and item.text
    assert_plausible(item.published_at)


def test_json_feed_fields_of_any_type_give_storable_items() -> None:
    body = (b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"url": "/a\\ud800b", "id": "\\udc00",'
            b' "title": "Titre \\ud83d", "content_text": 7, "date_published": true, "image": ["x"]}, {"id": 7},'
            b' {"url": "http://[", "title": "lien cass\xc3\xa9"}, "pas un objet", {"id": "https://h.fr/c"}]}')
    parsed = parse_feed(answer(body, "application/feed+json"), Source("s", "S", "feed", URL))
    assert isinstance(parsed, ParsedFeed)
    assert [(i.url, i.title, i.guid, i.content) for i in parsed.items] == [
        ("http://127.0.0.1:8000/ab", "Titre", None, "7"), ("https://h.fr/c", "", "https://h.fr/c", "")]
