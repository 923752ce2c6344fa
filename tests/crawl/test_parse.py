"""parse_feed, find_item_links, parse_sitemap on fixture files and on the real broken feeds of ../shared."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path

import feedparser.mixin
import feedparser.urls
import feedparser.util
import pytest

from pipeline.crawl.fetch import decode_text
from pipeline.models import FetchResult, Source
from pipeline.crawl.parse import Failure, ParsedFeed, _feedparser_parse, find_item_links, parse_feed, parse_sitemap

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
REAL_FEEDS = SHARED / "real-feeds"
SITES = Path(__file__).resolve().parent / "fixtures" / "sites"
BASE = "http://127.0.0.1:8000"
SOURCE = Source("test", "Test", "feed", BASE + "/feed")


def fetched(body: bytes, url: str = BASE + "/feed", ctype: str = "application/rss+xml") -> FetchResult:
    return FetchResult(url=url, final_url=url, status=200, body=body, content_type=ctype,
                       text=decode_text(body, ctype))


def site_file(site: str, path: str) -> bytes:
    return (SITES / site / path).read_bytes().replace(f"__SITE:{site}__".encode(), BASE.encode())


def test_wordpress_rss_gives_absolute_links_utc_dates_and_content():
    feed = parse_feed(fetched(site_file("wp-labo", "feed/index.html"), ctype="text/html; charset=utf-8"), SOURCE)
    assert isinstance(feed, ParsedFeed) and len(feed.items) == 5
    first, relative = feed.items[0], feed.items[1]
    assert first.title == "Des nanofils de silicium qui battent un record de conductivité"
    assert first.published_at == datetime(2025, 2, 3, 9, 30, tzinfo=UTC)
    assert first.url.startswith(BASE + "/2025/02/03/nanofils-silicium-record/")
    assert relative.url == BASE + "/2024/10/14/fete-de-la-science-2024/"
    assert "cryostat" in first.content and first.guid == BASE + "/?p=100"
    assert feed.items[2].title.startswith("Soutenance de thèse de Léa Martin")


def test_atom_summary_only_feed_resolves_against_xml_base():
    feed = parse_feed(fetched(site_file("ecole-atom", "ecole/atom.xml"), url=BASE + "/ecole/atom.xml"), SOURCE)
    assert isinstance(feed, ParsedFeed)
    assert feed.items[0].url == BASE + "/ecole/actualites/olympiades-chimie-lyceens/"
    assert feed.items[0].content == "" and feed.items[0].summary.startswith("Dix-huit lycéens")
    assert feed.items[0].published_at == datetime(2025, 1, 30, 8, 0, tzinfo=UTC)


def test_json_feed():
    body = ('{"version": "https://jsonfeed.org/version/1.1", "title": "Club", "items": [{"id": "1", '
            '"url": "/billets/un", "title": "Premier billet", "content_html": "<p>Bonjour à tous</p>", '
            '"date_published": "2025-02-01T10:00:00+01:00", "image": "/img/un.png"}]}').encode()
    feed = parse_feed(fetched(body, ctype="application/feed+json"), SOURCE)
    assert isinstance(feed, ParsedFeed)
    item = feed.items[0]
    assert (item.url, item.title, item.content) == (BASE + "/billets/un", "Premier billet", "Bonjour à tous")
    assert item.published_at == datetime(2025, 2, 1, 9, 0, tzinfo=UTC) and item.image_url == BASE + "/img/un.png"


def test_html_page_is_not_a_feed():
    result = parse_feed(fetched(site_file("wp-labo", "index.html"), ctype="text/html"), SOURCE)
    assert isinstance(result, Failure) and result.code == "not_a_feed"


def test_entity_declarations_are_refused_before_parsing():
    body = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><rss version="2.0"><channel><title>&b;</title></channel></rss>'
    result = parse_feed(fetched(body), SOURCE)
    assert isinstance(result, Failure) and result.code == "unsafe_xml"


def test_malformed_feed_keeps_what_is_recoverable():
    body = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Labo</title>'
            b'<item><title>Premier & unique</title><link>http://127.0.0.1:8000/a</link></item>'
            b'<item><title>Second<b></title><link>http://127.0.0.1:8000/b</link></item></channel>')
    feed = parse_feed(fetched(body), SOURCE)
    assert isinstance(feed, ParsedFeed)
    assert [i.url for i in feed.items] == [BASE + "/a", BASE + "/b"]
    assert feed.defect  # the defect is recorded


@pytest.mark.skipif(not REAL_FEEDS.exists(), reason="../shared/real-feeds absent (fresh clone)")
def test_real_latin1_feed_without_declaration_decodes_right():
    body = (REAL_FEEDS / "miniflux-no_encoding_ISO-8859-1.xml").read_bytes()
    feed = parse_feed(fetched(body, ctype="application/xml"), SOURCE)
    assert isinstance(feed, ParsedFeed) and feed.items
    text = " ".join(i.title + " " + i.summary for i in feed.items)
    assert "répètera" in text and "études" in text and "Ã" not in text


@pytest.mark.skipif(not REAL_FEEDS.exists(), reason="../shared/real-feeds absent (fresh clone)")
@pytest.mark.parametrize("name", ["univmobile-epi-univ-paris1_001.rss", "univmobile-univ-paris10_001.rss",
                                  "univmobile-univ-paris3_001.rss"])
def test_real_univmobile_feeds_parse(name):
    body = (REAL_FEEDS / name).read_bytes()
    feed = parse_feed(fetched(body, ctype="application/rss+xml"), SOURCE)
    assert isinstance(feed, ParsedFeed) and len(feed.items) >= 3
    assert all(i.url.startswith("http") and i.title for i in feed.items)
    assert sum(i.published_at is not None for i in feed.items) >= len(feed.items) // 2


def test_listing_links_skip_navigation_team_and_tags():
    page = fetched(site_file("listing-labo", "actualites/index.html"), url=BASE + "/actualites/", ctype="text/html")
    listing = find_item_links(page, Source("l", "L", "html", BASE + "/actualites/"))
    urls = [link.url for link in listing.links]
    assert urls == [BASE + "/actualites/seisme-capteurs-fibre.html", BASE + "/actualites/recrutement-ingenieur-calcul.html",
                    BASE + "/actualites/ecole-ete-modelisation.html"]
    assert listing.links[0].title == "Des fibres optiques transformées en sismomètres"
    assert listing.links[0].published_at == datetime(2025, 2, 10, tzinfo=UTC)
    assert listing.next_url == BASE + "/actualites/page/2/"


def test_listing_with_selector_and_drupal_pager():
    page = fetched(site_file("drupal-ufr", "actualites/index.html"), url=BASE + "/actualites", ctype="text/html")
    auto = find_item_links(page, Source("d", "D", "html", BASE + "/actualites"))
    chosen = find_item_links(page, Source("d", "D", "html", BASE + "/actualites", item_selector=".views-field-title a",
                                          next_selector=".pager-next a"))
    assert [l.url for l in auto.links] == [l.url for l in chosen.links] == [BASE + "/node/12", BASE + "/node/15", BASE + "/node/18"]
    assert auto.next_url == chosen.next_url == BASE + "/actualites?page=1"


def test_last_listing_page_has_no_next():
    page = fetched(site_file("listing-labo", "actualites/page/3/index.html"), url=BASE + "/actualites/page/3/", ctype="text/html")
    assert find_item_links(page, Source("l", "L", "html", BASE + "/actualites/")).next_url is None


def test_sitemap_index_and_urlset_with_filters():
    index = parse_sitemap(fetched(site_file("wp-labo", "wp-sitemap.xml"), url=BASE + "/wp-sitemap.xml"), SOURCE)
    assert index.sitemaps == (BASE + "/wp-sitemap-posts-post-1.xml",) and index.urls == ()
    source = Source("s", "S", "sitemap", BASE + "/wp-sitemap.xml", exclude=("/a-propos/",), include=(r"/20\d\d/",))
    urlset = parse_sitemap(fetched(site_file("wp-labo", "wp-sitemap-posts-post-1.xml")), source)
    assert len(urlset.urls) == 5 and all("/a-propos/" not in u.url for u in urlset.urls)
    assert urlset.urls[0].lastmod == datetime(2025, 2, 3, 9, 30, tzinfo=UTC)
    assert parse_sitemap(fetched(b"<html><body>no</body></html>"), source).code == "not_a_sitemap"


def test_implausible_feed_dates_are_no_dates():
    entries = "".join(
        f"<item><title>Billet {n}</title><link>{BASE}/billet-{n}/</link><pubDate>{when}</pubDate></item>"
        for n, when in enumerate(["Mon, 01 Jan 0001 00:00:00 +0000", "Fri, 31 Dec 9999 00:00:00 +0000",
                                  "Thu, 01 Jan 1970 00:00:00 +0000", "Tue, 12 Mar 2024 10:00:00 +0000"]))
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title>{entries}</channel></rss>'
    feed = parse_feed(fetched(body.encode()), SOURCE)
    assert isinstance(feed, ParsedFeed)
    assert [i.published_at for i in feed.items] == [None, None, None, datetime(2024, 3, 12, 10, 0, tzinfo=UTC)]


def test_atom_entry_dated_year_one_falls_back_to_its_updated_date():
    body = (f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Blog</title>'
            f'<entry><title>Un billet</title><link href="{BASE}/billet/"/><id>{BASE}/billet/</id>'
            '<published>0001-01-01T00:00:00Z</published><updated>2024-03-12T10:00:00Z</updated></entry></feed>')
    feed = parse_feed(fetched(body.encode(), ctype="application/atom+xml"), SOURCE)
    assert feed.items[0].published_at == datetime(2024, 3, 12, 10, 0, tzinfo=UTC)


def test_a_footer_linking_back_to_the_entry_is_not_part_of_its_content():
    body = (f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Blog</title>'
            f'<entry><title>Réunion</title><link href="{BASE}/reunion/"/><id>{BASE}/reunion/</id>'
            '<updated>2024-03-12T10:00:00Z</updated><content type="html">'
            '&lt;p&gt;Le club présente ses activités à l’amphi. Voir &lt;a href="/robots/"&gt;nos robots&lt;/a&gt;.&lt;/p&gt;'
            f'&lt;p&gt;&lt;a href="{BASE}/reunion"&gt;Réunion&lt;/a&gt; was originally published by the club '
            f'at &lt;a href="{BASE}"&gt;Club&lt;/a&gt; on March 12, 2024.&lt;/p&gt;</content></entry></feed>')
    feed = parse_feed(fetched(body.encode(), ctype="application/atom+xml"), SOURCE)
    assert feed.items[0].content == "Le club présente ses activités à l’amphi. Voir nos robots."


def test_scripts_styles_and_embeds_in_an_entry_are_no_text():
    rss = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Labo</title>
<item><title>Une &lt;b&gt;nouvelle&lt;/b&gt; cam\xc3\xa9ra</title><link>/actu/camera</link>
<description><![CDATA[<style>p{color:red}</style><p>La cam\xc3\xa9ra est install\xc3\xa9e.</p>
<script>document.write('pub')</script><noscript>Activez JavaScript</noscript>
<p><img src="/img/camera.jpg"/>Premi\xc3\xa8res images en mars.</p>]]></description></item></channel></rss>"""
    feed = parse_feed(fetched(rss), SOURCE)
    assert isinstance(feed, ParsedFeed)
    item = feed.items[0]
    assert item.title == "Une nouvelle caméra"
    assert item.summary == "La caméra est installée.\nPremières images en mars."
    assert item.url == BASE + "/actu/camera" and item.image_url == BASE + "/img/camera.jpg"


NESTED_BASES = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{BASE}/labo/">
  <title>Bases</title>
  <entry xml:base="actualites/"><title>Relative base</title><id>billets/1</id>
    <link href="billets/1/"/><updated>2025-02-01T10:00:00Z</updated><summary>Un</summary></entry>
  <entry xml:base="http://127.0.0.1:9000/ailleurs/"><title>Absolute base</title><id>../2</id>
    <link href="../2/"/><updated>2025-02-02T10:00:00Z</updated><summary>Deux</summary></entry>
  <entry><title>No base</title><id>tag:labo,2025:3</id><link href="/trois/"/>
    <updated>2025-02-03T10:00:00Z</updated><summary>Trois</summary></entry>
</feed>""".encode()
PERMALINKS = f"""<rss version="2.0"><channel><title>Guids</title>
  <item><title>Permalink</title><guid>/billets/4/</guid></item>
  <item><title>Not a permalink</title><guid isPermaLink="false">billet-5</guid><link>cinq/</link></item>
  <item><title>Unsafe</title><guid>javascript:alert(1)</guid><link>{BASE}/six/</link></item>
</channel></rss>""".encode()


def feed_documents() -> list[FetchResult]:
    """Feeds with nested xml:base, permalink GUIDs, the fixture feeds and the real feeds (when ../shared is there)."""
    documents = [fetched(NESTED_BASES, url=BASE + "/labo/atom.xml"), fetched(PERMALINKS, url=BASE + "/blog/rss"),
                 fetched(site_file("wp-labo", "feed/index.html"), ctype="text/html; charset=utf-8"),
                 fetched(site_file("ecole-atom", "ecole/atom.xml"), url=BASE + "/ecole/atom.xml")]
    return documents + [fetched(path.read_bytes(), ctype="application/xml") for path in sorted(REAL_FEEDS.glob("*.*ss"))]


def test_feedparser_base_joins_are_cached_without_changing_any_item(monkeypatch):
    documents = feed_documents()
    cached = feedparser.mixin.make_safe_absolute_uri
    hits = cached.cache_info().hits
    with_cache = [parse_feed(document, SOURCE) for document in documents]
    assert cached.cache_info().hits > hits
    monkeypatch.setattr(feedparser.mixin, "make_safe_absolute_uri", feedparser.urls.make_safe_absolute_uri)
    assert [parse_feed(document, SOURCE) for document in documents] == with_cache
    nested = with_cache[0].items
    assert [(i.url, i.guid) for i in nested] == [
        (BASE + "/labo/actualites/billets/1/", BASE + "/labo/actualites/billets/1"),
        ("http://127.0.0.1:9000/2/", "http://127.0.0.1:9000/2"), (BASE + "/trois/", "tag:labo,2025:3")]
    assert [(i.url, i.guid) for i in with_cache[1].items] == [
        (BASE + "/billets/4/", BASE + "/billets/4/"), (BASE + "/blog/cinq/", "billet-5"), (BASE + "/six/", "javascript:alert(1)")]


def test_feedparser_dicts_are_deep_copied_as_copy_would_copy_them(monkeypatch):
    original = feedparser.util.FeedParserDict({"type": "text/html", "language": None, "base": BASE + "/"})
    original["description"] = "mapped to summary by the class"  # a key that FeedParserDict renames
    original["tags"] = [feedparser.util.FeedParserDict(term="physique")]
    original.extra = {"note": ["kept"]}
    quick = copy.deepcopy(original)
    monkeypatch.delattr(feedparser.util.FeedParserDict, "__deepcopy__")
    generic = copy.deepcopy(original)
    assert type(quick) is type(generic) and quick == generic == original and list(quick) == list(generic)
    assert quick.extra == generic.extra == {"note": ["kept"]}
    assert quick["tags"] is not original["tags"] and quick["tags"][0] is not original["tags"][0]
    assert quick.extra["note"] is not original.extra["note"]


def test_feedparser_reads_the_same_feeds_with_its_quick_deep_copies(monkeypatch):
    def read(document: FetchResult):
        parsed = _feedparser_parse(document.body, document.final_url)
        return parsed.feed, parsed.entries

    documents = feed_documents()
    quick = [read(document) for document in documents]
    items = [parse_feed(document, SOURCE) for document in documents]
    monkeypatch.delattr(feedparser.util.FeedParserDict, "__deepcopy__")
    assert [read(document) for document in documents] == quick
    assert [parse_feed(document, SOURCE) for document in documents] == items
    assert sum(len(entries) for _, entries in quick) >= 10
