"""Item page -> Item: title, publication date, main text, language, lead image.

The main text comes from trafilatura (measured on the shared extraction benchmark, see
benchmarks/extraction.py), with a recall-oriented second try and a plain <article>/<main> fallback.
The date is read from machine-readable metadata (article:published_time and friends, JSON-LD
datePublished), then the hint (the feed's or listing's date), then <time datetime>, htmldate and
French text ("Publié le 03/02/2025", "14 octobre 2010"); Item.date_source says which. A feed's title
(the `hint`) wins over the page's.
The title is the page's own heading (title.py), never the site's name; the texts of the source's
`template` (template.py, learned by settle.py once all pages of a crawl are in) are neither its
title nor lines of its text.

Expected failures are `Failure` values: the fetch's own code when the fetch failed, or
    not_html   the answer is not an HTML page
    no_text    no main text (at least MIN_ITEM_CHARS characters) was found, and the hint had none
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

import lxml.etree
import lxml.html

from pipeline.dates import find_date_in_text, parse_date_value
from pipeline.models import FetchResult, Item, Source
from pipeline.normalize import clean_text, clean_url, content_hash, fold_for_matching, item_id, join_url
from pipeline.crawl.parse import Failure, html_to_text
from pipeline.crawl.template import Template
from pipeline.crawl.title import find_title

logger = logging.getLogger(__name__)

DATE_META = (
    "article:published_time", "og:published_time", "datepublished", "dc.date", "dc.date.issued",
    "dcterms.created", "dcterms.issued", "dcterms.date", "date", "pubdate", "publish-date",
    "publication_date", "parsely-pub-date", "sailthru.date", "citation_publication_date",
)
PUBLISHED_LABEL = re.compile(r"(publi[ée]e?|post[ée]e?|mis en ligne|date)\s*(le|:)?\s*", re.IGNORECASE)
FRENCH_WORDS = frozenset("le la les des du de et est un une pour dans sur avec au aux qui que sont par".split())
ENGLISH_WORDS = frozenset("the and is are of to in for with on that this by from was were".split())
MIN_TEXT_CHARS = 200  # below this, try harder (recall-oriented extraction, then the container)
MIN_ITEM_CHARS = 40
CONTENT_CONTAINERS = ("//article", "//main", "//*[@role='main']")  # the page's own content block
CONTAINER_GAIN = 1.2  # the container's text wins when this many times longer than trafilatura's
SUMMARY_CHARS = 300


def extract_item(result: FetchResult, source: Source, hint: dict[str, Any] | None = None,
                 template: Template = Template()) -> Item | Failure:
    """The item on a fetched page. `hint` may carry title, published_at, summary, content,
    image_url, guid from a feed or a listing: its title and date win over the page's. The texts of the
    source's `template` are never its title nor lines of its text."""
    hint = hint or {}
    if not result.ok:
        return Failure(result.error_code or "fetch_error", result.error_detail)
    html = result.text
    if not html.strip() or not _looks_like_html(html, result.content_type):
        return Failure("not_html", f"content type {result.content_type!r}")
    try:
        tree = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError) as exc:
        return Failure("not_html", str(exc)[:200])
    text = template.strip(extract_main_text(html, tree))
    if len(text) < MIN_ITEM_CHARS:
        text = ""  # a menu word or a cookie line is not an item
    if len(text) < len(hint.get("content") or ""):
        text = clean_text(hint["content"])
    if not text:
        text = clean_text(hint.get("summary") or "")
    if not text:
        return Failure("no_text", f"no main text at {result.final_url}")
    title = clean_text(hint.get("title") or "") or find_title(tree, template)
    text = without_title(text, title)
    published, date_source = _choose_date(hint, tree, html, text)
    url = clean_url(result.url)
    return Item(
        item_id=item_id(url),
        source_id=source.id,
        url=url,
        title=title,
        published_at=published,
        text=text,
        summary=clean_text(hint.get("summary") or "")[:1000] or _first_sentences(text),
        lang=find_language(tree, text),
        image_url=hint.get("image_url") or find_image(tree, result.final_url),
        guid=hint.get("guid"),
        content_hash=content_hash(title, text),
        date_source=date_source,
    )


def _choose_date(hint: dict[str, Any], tree: lxml.html.HtmlElement, html: str, text: str) -> tuple[datetime | None, str | None]:
    """The page's own declared date wins over the feed's (which may be an update date); then the
    feed's or the listing's; then the date the page shows. Returns (date, where it was read)."""
    declared = find_declared_date(tree)
    if declared:
        return declared, "page"
    if hint.get("published_at"):
        return hint["published_at"], hint.get("date_source") or "feed"
    shown = find_published(tree, html, text)
    return shown, "page_text" if shown else None


def extract_main_text(html: str, tree: lxml.html.HtmlElement | None = None) -> str:
    """The main text of a page as plain paragraphs ("" when none).

    trafilatura's precision mode drops link-dense lists, which on course and event pages are the
    content: when the page's own article container holds clearly more text, the container wins."""
    import trafilatura  # imported on the first page to extract (0.3 s): a night with nothing new has none

    precision, recall = _extractor_options()
    text = trafilatura.extract(html, options=precision) or ""
    container = container_text(tree, CONTENT_CONTAINERS) if tree is not None else ""
    if len(container) > CONTAINER_GAIN * len(text):
        return clean_text(container)
    if len(text) < MIN_TEXT_CHARS:
        recalled = trafilatura.extract(html, options=recall) or ""
        text = recalled if len(recalled) > len(text) else text
    if len(text) < MIN_TEXT_CHARS and tree is not None:
        fallback = container_text(tree)
        text = fallback if len(fallback) > len(text) else text
    return clean_text(text)


@functools.cache
def _extractor_options():
    """trafilatura's options for its precision and its recall pass (fast, tables, no comments), built
    once: building them reads trafilatura's configuration, a tenth of an extraction's CPU."""
    from trafilatura.settings import Extractor

    common = {"output_format": "txt", "fast": True, "comments": False, "tables": True}
    return Extractor(precision=True, **common), Extractor(recall=True, **common)


def container_text(tree: lxml.html.HtmlElement, xpaths: tuple[str, ...] = ("//article", "//main", "//*[@role='main']", "//body")) -> str:
    for xpath in xpaths:
        nodes = tree.xpath(xpath)
        if nodes:
            container = copy.deepcopy(nodes[0])  # the caller's tree is read again afterwards
            for junk in container.xpath(".//script|.//style|.//nav|.//footer|.//header|.//aside|.//form"):
                junk.drop_tree()
            return html_to_text(lxml.html.tostring(container, encoding="unicode"))
    return ""


def find_published(tree: lxml.html.HtmlElement, html: str, text: str) -> datetime | None:
    """Publication date from metadata, JSON-LD, <time>, htmldate, then French text."""
    found = find_declared_date(tree) or _time_element_date(tree)
    if found:
        return found
    found = _labelled_date(tree)
    if found:
        return found
    try:
        import htmldate  # as trafilatura, only once a page is read

        day = htmldate.find_date(tree, original_date=True, extensive_search=False, outputformat="%Y-%m-%d")
    except (ValueError, TypeError) as exc:
        logger.debug("htmldate failed: %s", exc)
        day = None
    if day:
        return datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    return find_date_in_text(text[:500])


def find_declared_date(tree: lxml.html.HtmlElement) -> datetime | None:
    """The publication date the page declares for machines: meta tags, then JSON-LD."""
    for name in DATE_META:
        found = parse_date_value(_meta(tree, name))
        if found:
            return found
    return _json_ld_date(tree)


def _meta(tree: lxml.html.HtmlElement, name: str) -> str | None:
    lowered = name.lower()
    for node in tree.xpath("//meta[@content]"):
        key = (node.get("property") or node.get("name") or node.get("itemprop") or "").strip().lower()
        if key == lowered:
            return clean_text(node.get("content"))
    if lowered == "datepublished":
        for node in tree.xpath("//*[@itemprop='datePublished']"):
            if not _in_comment(node):  # a reader's comment has its own date, not the page's
                return node.get("datetime") or node.get("content") or node.text_content()
    return None


def _in_comment(node: lxml.html.HtmlElement) -> bool:
    for ancestor in node.iterancestors():
        marks = " ".join(ancestor.get(a) or "" for a in ("class", "id", "itemtype", "itemprop")).lower()
        if "comment" in marks:
            return True
    return False


def _json_ld_date(tree: lxml.html.HtmlElement) -> datetime | None:
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            document = json.loads(script.text_content())
        except ValueError:
            continue
        for node in _walk_json(document):
            found = parse_date_value(str(node.get("datePublished") or node.get("dateCreated") or ""))
            if found:
                return found
    return None


def _walk_json(document: Any):
    if isinstance(document, dict):
        yield document
        for value in document.values():
            yield from _walk_json(value)
    elif isinstance(document, list):
        for value in document:
            yield from _walk_json(value)


def _time_element_date(tree: lxml.html.HtmlElement) -> datetime | None:
    nodes = tree.xpath("//article//time|//main//time") or tree.xpath("//time")
    for node in [n for n in nodes if not _in_comment(n)][:3]:
        found = parse_date_value(node.get("datetime")) or find_date_in_text(node.text_content())
        if found:
            return found
    return None


def _labelled_date(tree: lxml.html.HtmlElement) -> datetime | None:
    """A date written after 'Publié le', 'Posté le', 'Mis en ligne le' or in a 'date' element."""
    body = tree.find("body")
    if body is None:
        return None
    for node in body.xpath(".//*[contains(@class,'date') or contains(@class,'meta') or contains(@class,'submitted')]"):
        if _in_comment(node) or "comment" in (node.get("class") or "").lower():
            continue
        found = find_date_in_text(clean_text(node.text_content())[:200])
        if found:
            return found
    page_text = clean_text(body.text_content())
    for match in PUBLISHED_LABEL.finditer(page_text):
        found = find_date_in_text(page_text[match.end(): match.end() + 40])
        if found:
            return found
    return None


def find_language(tree: lxml.html.HtmlElement, text: str) -> str | None:
    """<html lang>, else a count of French and English function words."""
    declared = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang") or _meta(tree, "og:locale")
    if declared:
        return declared.strip().lower().replace("_", "-").split("-")[0] or None
    return guess_language(text)


LANGUAGE_SAMPLE_CHARS = 3000  # the function words of a text's beginning tell its language


def guess_language(text: str, folded_text: str | None = None) -> str | None:
    """'fr' or 'en' from a count of function words; None when the text is too short to tell.
    `folded_text`: fold_for_matching(text), when the caller has it already."""
    if folded_text is None or len(text) > LANGUAGE_SAMPLE_CHARS:
        folded_text = fold_for_matching(text[:LANGUAGE_SAMPLE_CHARS])
    words = folded_text.split()
    french = sum(map(FRENCH_WORDS.__contains__, words))  # map: no Python frame a word
    english = sum(map(ENGLISH_WORDS.__contains__, words))
    if max(french, english) < 3:
        return None
    return "fr" if french >= english else "en"


def find_image(tree: lxml.html.HtmlElement, base_url: str) -> str | None:
    image = _meta(tree, "og:image") or _meta(tree, "twitter:image")
    if not image:
        found = tree.xpath("//article//img/@src|//main//img/@src")
        image = found[0] if found else None
    return join_url(base_url, image) if image else None


def without_title(text: str, title: str) -> str:
    """The main text without its first line when that line is the title (extractors keep the <h1>)."""
    first, _, rest = text.partition("\n")
    if rest and fold_for_matching(first) == fold_for_matching(title):
        return rest
    return text


def _looks_like_html(html: str, content_type: str) -> bool:
    ctype = content_type.lower()
    return "html" in ctype or (not ctype or "text/plain" not in ctype) and "<" in html[:1000]


def _first_sentences(text: str) -> str:
    first = text.split("\n", 1)[0]
    if len(first) <= SUMMARY_CHARS:
        return first
    cut = first.rfind(". ", 0, SUMMARY_CHARS)
    return first[: cut + 1] if cut > 80 else first[:SUMMARY_CHARS].rstrip() + "…"
