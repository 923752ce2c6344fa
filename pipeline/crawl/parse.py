"""Read what a source publishes: feeds (RSS, Atom, RDF, JSON Feed), listing pages, sitemaps.

`parse_feed` turns a fetched feed into `FeedItem`s (absolute links, UTC dates, plain-text summary
and content, GUID, image). `find_item_links` (see listing.py) finds the item links and the next
page of an html listing. `parse_sitemap` reads a sitemap or a sitemap index. Expected failures are
returned as `Failure(code, detail)`:

    not_a_feed   the answer is an HTML page or anything else that holds no feed
    bad_xml      the feed is not well-formed and no item could be recovered from it
    unsafe_xml   the document declares entities (<!ENTITY ...>): refused before parsing, so an
                 entity-expansion bomb ("billion laughs") never reaches a parser
    bad_json     a JSON Feed that is not valid JSON
    not_a_sitemap  neither <urlset> nor <sitemapindex>
    bad_xml      (also) a sitemap that is not well-formed and holds no <loc> at all
    too_large    a gzip'd sitemap that expands beyond the size limit
"""

from __future__ import annotations

import copy
import functools
import gzip
import io
import json
import logging
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax import SAXParseException

import feedparser
import feedparser.mixin
import feedparser.util
import lxml.etree
import lxml.html

from pipeline.dates import parse_date_value, plausible_date
from pipeline.crawl.listing import ItemLink, ListingPage, find_item_links, url_selected  # noqa: F401 - re-exported
from pipeline.models import FetchResult, Source
from pipeline.normalize import canonical_url, clean_text, join_url

logger = logging.getLogger(__name__)

MAX_SITEMAP_BYTES = 50_000_000  # the sitemaps protocol's own limit, uncompressed
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.IGNORECASE | re.DOTALL)
_XML_ENCODING = re.compile(r"^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*[\"'][^\"']*[\"']")
_BLOCK_TAGS = frozenset({"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote", "section", "article"})
_NOT_TEXT_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "svg")


@dataclass(frozen=True)
class Failure:
    """An expected failure of a parsing or extraction step."""

    code: str
    detail: str = ""


@dataclass(frozen=True)
class FeedItem:
    url: str
    title: str
    published_at: datetime | None
    summary: str  # plain text
    content: str  # plain text of the full content when the feed carries it, else ""
    guid: str | None
    image_url: str | None


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    items: tuple[FeedItem, ...]
    defect: str = ""  # what was wrong with the document, when it was recovered from


@dataclass(frozen=True)
class SitemapUrl:
    url: str
    lastmod: datetime | None


@dataclass(frozen=True)
class SitemapPage:
    urls: tuple[SitemapUrl, ...]  # page URLs (urlset), include/exclude applied
    sitemaps: tuple[str, ...]  # child sitemaps (sitemapindex)


def html_to_text(html: str, entry_url: str | None = None) -> str:
    """Plain text of an HTML fragment, one line per block; with `entry_url` (a feed entry's HTML),
    without the footer that links back to that entry."""
    if not html or not html.strip():
        return ""
    if "<" not in html:
        return clean_text(html)
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return clean_text(html)
    if entry_url:
        _drop_backlink_footer(root, entry_url)
    return element_text(root)


def element_text(root: lxml.html.HtmlElement) -> str:
    """Plain text of a parsed element, one line per block (the element is marked up in place);
    scripts, styles and embeds are no text."""
    for element in list(root.iter(*_NOT_TEXT_TAGS)):
        if element is not root and element.getparent() is not None:
            element.drop_tree()
    for element in root.iter(*_BLOCK_TAGS):  # lxml.html trees: tag names in lower case
        element.tail = "\n" + (element.tail or "")
    return clean_text(root.text_content())


def refuse_entities(body: bytes) -> Failure | None:
    """Failure(unsafe_xml) when the document declares entities, before any XML parser sees it."""
    if _ENTITY_DECLARATION.search(body[:1_000_000]):
        return Failure("unsafe_xml", "the document declares XML entities")
    return None


def parse_feed(result: FetchResult, source: Source) -> ParsedFeed | Failure:
    """The items of a fetched feed, links made absolute against the feed URL."""
    body = result.body
    unsafe = refuse_entities(body)
    if unsafe:
        return unsafe
    if _looks_like_json(body, result.content_type):
        return _parse_json_feed(result)
    if _HTML_START.match(body[:2048]):
        return Failure("not_a_feed", f"HTML page at {result.final_url}")
    text = result.text or body.decode("utf-8", errors="replace")
    xml = _XML_ENCODING.sub(r"\1", text, count=1).encode("utf-8")  # already decoded: say UTF-8
    parsed = _feedparser_parse(xml, result.final_url)
    if isinstance(parsed, Failure):
        return parsed
    if not parsed.get("version") and not parsed.entries:
        detail = str(parsed.get("bozo_exception", "no feed element"))
        return Failure("not_a_feed", detail[:300])
    items = tuple(i for i in (_kept_to_entry(_feed_item, e, result.final_url) for e in parsed.entries) if i is not None)
    defect = str(parsed.get("bozo_exception", "")) if parsed.get("bozo") else ""
    if not items and isinstance(parsed.get("bozo_exception"), SAXParseException):
        return Failure("bad_xml", " ".join(defect.split())[:300])
    if defect:
        logger.info("feed %s recovered from a defect: %s", source.id, defect[:200])
    return ParsedFeed(title=clean_text(parsed.feed.get("title", "")), items=items, defect=defect[:300])


def _feed_item(entry: dict, base_url: str) -> FeedItem | None:
    link = entry.get("link") or _alternate_link(entry)
    guid = entry.get("id") or None
    if not link and guid and guid.startswith(("http://", "https://")):
        link = guid
    url = join_url(base_url, link, keep_fragment=True) if isinstance(link, str) else None
    if not url:
        return None
    content_html = "".join(c.get("value", "") for c in entry.get("content", [])[:1])
    summary_html = entry.get("summary", "")
    content = html_to_text(content_html, url)
    summary = content if summary_html == content_html else html_to_text(summary_html, url)  # often one HTML twice
    if content and content == summary:
        summary = content[:500]
    return FeedItem(
        url=url,
        title=html_to_text(entry.get("title", "")),
        published_at=_entry_date(entry),
        summary=summary,
        content=content if content_html else "",
        guid=guid,
        image_url=_entry_image(entry, content_html or summary_html, base_url),
    )


def _drop_backlink_footer(root: lxml.html.HtmlElement, item_url: str) -> None:
    """Drop a last paragraph that links back to the entry itself: the footer feed generators add
    ("X was originally published at Y", "The post X appeared first on Y")."""
    blocks = [child for child in root if isinstance(child.tag, str)]
    if len(blocks) < 2:
        return
    last = blocks[-1]
    target = canonical_url(item_url)
    if any(canonical_url(join_url(item_url, a.get("href") or "") or "") == target for a in last.iter("a")):
        last.drop_tree()


def _memoize_feedparser_base_joins() -> None:
    """At every element start feedparser joins the document's base URI with the element's (the same
    URI unless xml:base says otherwise): a urljoin and a regex substitution each time, a third of its
    time on a feed. The join is a pure function of its two strings, so a small cache of it gives
    feedparser the same answers for a fraction of the work. Left as it is if feedparser's internals
    change (the cache is then only missing, nothing else)."""
    join = getattr(feedparser.mixin, "make_safe_absolute_uri", None)
    if callable(join) and not hasattr(join, "cache_info"):
        feedparser.mixin.make_safe_absolute_uri = functools.lru_cache(maxsize=1024)(join)


_memoize_feedparser_base_joins()


def _feedparser_dict_deepcopy(self: dict, memo: dict) -> dict:
    """copy.deepcopy of a FeedParserDict, rebuilt as copy's generic path rebuilds it (a new dict
    of the class, registered in `memo`, then each key and value deep-copied and set), without that
    path's attribute probes (__deepcopy__, __getnewargs_ex__, __setstate__...), each of which goes
    through FeedParserDict's __getattr__ and raises twice before it answers that there is none."""
    copied = type(self)()
    memo[id(self)] = copied
    for key, value in dict.items(self):
        copied[copy.deepcopy(key, memo)] = copy.deepcopy(value, memo)
    if vars(self):
        vars(copied).update(copy.deepcopy(vars(self), memo))
    return copied


def _quick_feedparser_deepcopies() -> None:
    """feedparser deep-copies an element's content parameters (a FeedParserDict of a few strings)
    for each title, summary and content of every entry: with a __deepcopy__ of its own, the class
    gives the same copies several times faster. Left as it is if the class ever defines one."""
    feed_dict = getattr(feedparser.util, "FeedParserDict", None)
    if isinstance(feed_dict, type) and issubclass(feed_dict, dict) and "__deepcopy__" not in vars(feed_dict):
        feed_dict.__deepcopy__ = _feedparser_dict_deepcopy


_quick_feedparser_deepcopies()


def _feedparser_parse(xml: bytes, url: str):
    """feedparser's reading of `xml`, or Failure(bad_xml) when feedparser itself breaks on it
    (e.g. a character reference beyond Unicode in its loose parser)."""
    try:  # no sanitising nor URI rewriting of the entries' HTML: we keep only its text (element_text
        # drops scripts) and resolve links ourselves; they were half of feedparser's time (15 -> 7 ms a feed)
        return feedparser.parse(io.BytesIO(xml), sanitize_html=False, resolve_relative_uris=False, response_headers={
            "content-type": "application/xml; charset=utf-8", "content-location": url})
    except Exception as exc:  # noqa: BLE001 - a third-party parser on hostile bytes: its failure is the document's
        return Failure("bad_xml", f"{type(exc).__name__}: {exc}"[:300])


def _kept_to_entry(read, entry: dict, base_url: str) -> FeedItem | None:
    """read(entry, base_url), kept to its entry: a date the calendar cannot hold (year 0 once
    converted to UTC) leaves the item undated; any other failure leaves that entry out."""
    try:
        try:
            return read(entry, base_url)
        except (ValueError, OverflowError) as exc:
            logger.info("feed entry with an impossible date (%s): kept without a date", exc)
            return read({k: v for k, v in entry.items() if not str(k).startswith(_DATE_KEYS)}, base_url)
    except Exception as exc:  # noqa: BLE001 - one entry's content must not cost the feed its other items
        logger.warning("feed entry left out: %s: %s", type(exc).__name__, exc)
        return None


_DATE_KEYS = ("published", "updated", "created")


def _alternate_link(entry: dict) -> str | None:
    for link in entry.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link["href"]
    return None


def _entry_date(entry: dict) -> datetime | None:
    """The entry's first plausible date: a feed dating its entries 0001-01-01 or 9999 gives none."""
    for key in ("published", "updated", "created"):
        parsed = dict.get(entry, f"{key}_parsed")  # plain lookup: no feedparser fallback between keys
        found = _struct_date(parsed) if parsed else parse_date_value(dict.get(entry, key))
        if found:
            return found
    return None


def _struct_date(parsed: tuple) -> datetime | None:
    try:
        return plausible_date(datetime(*parsed[:6], tzinfo=UTC))
    except (TypeError, ValueError):
        return None


def _entry_image(entry: dict, html: str, base_url: str) -> str | None:
    for media in entry.get("media_thumbnail", []) + entry.get("media_content", []):
        if media.get("url") and (media.get("medium", "image") == "image" or media.get("type", "").startswith("image/")):
            return join_url(base_url, media["url"])
    for enclosure in entry.get("enclosures", []):
        if enclosure.get("type", "").startswith("image/") and enclosure.get("href"):
            return join_url(base_url, enclosure["href"])
    match = re.search(r"<img[^>]+src\s*=\s*[\"']([^\"']+)", html or "")
    return join_url(base_url, match.group(1)) if match else None


def _looks_like_json(body: bytes, content_type: str) -> bool:
    return "json" in content_type.lower() or body.lstrip()[:1] == b"{"


def _json_feed_item(entry: object, base_url: str) -> FeedItem | None:
    if not isinstance(entry, dict):
        return None
    link = entry.get("url") or entry.get("external_url") or entry.get("id")
    link = _text(link) if isinstance(link, str) else ""
    url = join_url(base_url, link, keep_fragment=True) if link.strip() else None
    if not url:
        return None
    content = html_to_text(_text(entry.get("content_html"))) or clean_text(_text(entry.get("content_text")))
    date = _text(entry.get("date_published") or entry.get("date_modified"))
    image = entry.get("image")
    return FeedItem(
        url=url,
        title=clean_text(_text(entry.get("title"))),
        published_at=parse_date_value(date) if date else None,
        summary=clean_text(_text(entry.get("summary"))) or content[:500],
        content=content,
        guid=_text(entry.get("id")) or None,
        image_url=join_url(base_url, _text(image)) if isinstance(image, str) else None,
    )


def _text(value: object) -> str:
    """A JSON value as text: strings without lone surrogates ("\\ud800" escapes, which no UTF-8
    store accepts), numbers written out, anything else empty."""
    if isinstance(value, str):
        return value.encode("utf-8", "ignore").decode("utf-8")
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else ""


def _parse_json_feed(result: FetchResult) -> ParsedFeed | Failure:
    try:
        document = json.loads(result.text or result.body)
    except (ValueError, UnicodeDecodeError) as exc:
        return Failure("bad_json", str(exc)[:300])
    if not isinstance(document, dict) or "jsonfeed.org" not in str(document.get("version", "")):
        return Failure("not_a_feed", "JSON without a JSON Feed version")
    entries = document.get("items") if isinstance(document.get("items"), list) else []
    items = [item for item in (_kept_to_entry(_json_feed_item, e, result.final_url) for e in entries) if item]
    return ParsedFeed(title=clean_text(str(document.get("title") or "")), items=tuple(items))


def parse_sitemap(result: FetchResult, source: Source) -> SitemapPage | Failure:
    """Page URLs of a sitemap (filtered by the source's include/exclude) or the children of an index."""
    body = result.body
    if body[:2] == b"\x1f\x8b":
        try:
            body = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, MAX_SITEMAP_BYTES + 1)
        except (zlib.error, gzip.BadGzipFile) as exc:
            return Failure("not_a_sitemap", f"corrupt gzip: {exc}")
        if len(body) > MAX_SITEMAP_BYTES:
            return Failure("too_large", "sitemap beyond 50 MB uncompressed")
    unsafe = refuse_entities(body)
    if unsafe:
        return unsafe
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=True)
    try:
        root = lxml.etree.fromstring(body, parser=parser)
    except lxml.etree.XMLSyntaxError as exc:
        return Failure("not_a_sitemap", str(exc)[:300])
    if root is not None and parser.error_log and not root.xpath("//*[local-name()='loc'][normalize-space()]"):
        return Failure("bad_xml", f"sitemap not well-formed: {parser.error_log[0].message}"[:300])
    if root is None or not isinstance(root.tag, str):
        return Failure("not_a_sitemap", "empty document")
    kind = lxml.etree.QName(root).localname
    if kind == "sitemapindex":
        locs = [_child_text(node, "loc") for node in root if _local(node) == "sitemap"]
        children = (join_url(result.final_url, loc, keep_fragment=True) for loc in locs if loc)
        return SitemapPage(urls=(), sitemaps=tuple(child for child in children if child))
    if kind != "urlset":
        return Failure("not_a_sitemap", f"root element <{kind}>")
    urls = []
    for node in root:
        if _local(node) != "url":
            continue
        loc = _child_text(node, "loc")
        url = join_url(result.final_url, loc, keep_fragment=True) if loc else None
        if url and url_selected(url, source):
            urls.append(SitemapUrl(url, parse_date_value(_child_text(node, "lastmod"))))
    return SitemapPage(urls=tuple(urls), sitemaps=())


def _local(node: lxml.etree._Element) -> str:
    return lxml.etree.QName(node).localname if isinstance(node.tag, str) else ""


def _child_text(node: lxml.etree._Element, name: str) -> str:
    for child in node:
        if _local(child) == name:
            return (child.text or "").strip()
    return ""
