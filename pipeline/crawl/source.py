"""Crawl one source: fetch its feed, listing pages or sitemap, then the new item pages -> CrawlResult.

`crawl_source` never raises for what the web does: an unreachable source gives a SourceOutcome with
status "error" and the fetch's or the parser's code; a failing item page only counts in
`page_errors`. Item pages already known (state.known_urls, canonical URLs) are not fetched again, and
at most `source.max_new_items` pages are fetched per run.

- feed: items come from the feed; the page is fetched for its full text when full_text is "always",
  or "auto" and the feed carries less than FULL_TEXT_MIN_CHARS of text. Items past the page budget
  keep the feed's text (a 304 next run would never show them again).
- html: the listing page and its next pages (up to max_pages on the first run; later runs stop at
  the first listing page that has nothing new). When the page budget runs out, the listing's
  validator is not kept, so the next run sees the listing again and fetches the rest.
- sitemap: the sitemap (or the children of a sitemap index), new URLs, newest lastmod first.

Once every page is in, settle.py applies the source's template (titles, text) and leaves out the
pages that are no item (home, listing, pagination, about, empty placeholder).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import urlsplit

from pipeline.crawl.extract import extract_item, guess_language
from pipeline.crawl.fetch import Fetcher
from pipeline.models import CrawlResult, FetchResult, Item, Source, SourceOutcome, SourceState, Validator
from pipeline.normalize import canonical_url, clean_text, clean_url, content_hash, item_id
from pipeline.crawl.parse import FeedItem, Failure, find_item_links, parse_feed, parse_sitemap
from pipeline.crawl.settle import ItemPage, settle_items

logger = logging.getLogger(__name__)

FULL_TEXT_MIN_CHARS = 600  # a feed text shorter than this is a summary: fetch the page (full_text: auto)
MAX_CHILD_SITEMAPS = 10


@dataclass
class _Run:
    """What one crawl of one source has gathered so far (local to crawl_source)."""

    source: Source
    fetcher: Fetcher
    state: SourceState
    trusted: frozenset[str]
    pages_fetched: int = 0
    page_errors: int = 0
    items: list[Item] = field(default_factory=list)
    validators: list[Validator] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    page_budget: int = 0
    http_status: int | None = None  # of the source's own URL (feed, first listing page, sitemap)
    item_pages: dict[str, ItemPage] = field(default_factory=dict)  # for settle_items

    def fetch(self, url: str, remember: bool = False) -> FetchResult:
        validator = self.state.validators.get(url) if remember else None
        self.pages_fetched += 1
        result = self.fetcher.fetch(url, validator, trusted_hosts=self.trusted)
        if self.pages_fetched == 1:
            self.http_status = result.status
        return result

    def is_new(self, url: str) -> bool:
        key = canonical_url(url)
        if key in self.state.known_urls or key in self.seen:
            return False
        self.seen.add(key)
        return True

    def remember(self, result: FetchResult) -> None:
        if result.etag or result.last_modified:
            self.validators.append(Validator(result.url, result.etag, result.last_modified))

    def fetch_item(self, url: str, hint: dict | None = None) -> Item | None:
        """Fetch and extract an item page; a failure counts in page_errors."""
        self.page_budget -= 1
        page = self.fetch(url)
        item = extract_item(page, self.source, hint)
        if isinstance(item, Failure):
            logger.info("source %s: item page %s failed: %s %s", self.source.id, url, item.code, item.detail)
            self.page_errors += 1
            return None
        self.item_pages[item.url] = ItemPage(page, from_feed=bool(hint and hint.get("title")))
        return item


def crawl_source(source: Source, fetcher: Fetcher, state: SourceState, now: datetime) -> CrawlResult:
    """Crawl `source` once; see the module docstring."""
    started = time.monotonic()
    host = (urlsplit(source.url).hostname or "").lower()
    run = _Run(source, fetcher, state, frozenset({host}) if host else frozenset(), page_budget=source.max_new_items)
    crawl = {"feed": _crawl_feed, "html": _crawl_html, "sitemap": _crawl_sitemap}[source.kind]
    failure = crawl(run)
    settled = settle_items(run.items, run.item_pages)
    items = settled.items
    if settled.not_items:
        logger.info("source %s: pages that are no item, not stored: %s", source.id, dict(settled.not_items))
    status = "ok"
    code, detail = None, ""
    if isinstance(failure, FetchResult):
        if failure.not_modified:
            status = "not_modified"
        else:
            status, code, detail = "error", failure.error_code, failure.error_detail
    elif isinstance(failure, Failure):
        status, code, detail = "error", failure.code, failure.detail
    outcome = SourceOutcome(
        source_id=source.id, started_at=now, status=status, error_code=code, error_detail=detail[:500],
        http_status=run.http_status, pages_fetched=run.pages_fetched, items_found=len(items),
        page_errors=run.page_errors, duration_s=time.monotonic() - started,
    )
    return CrawlResult(source.id, outcome, items, tuple(run.validators))


def _crawl_feed(run: _Run) -> FetchResult | Failure | None:
    result = run.fetch(run.source.url, remember=True)
    if result.not_modified or not result.ok:
        if result.not_modified:
            run.remember(result)
        return result
    parsed = parse_feed(result, run.source)
    if isinstance(parsed, Failure):
        return parsed
    run.remember(result)
    for feed_item in parsed.items:
        if not run.is_new(feed_item.url):
            continue
        item = None
        if _needs_page(run.source, feed_item) and run.page_budget > 0:
            item = run.fetch_item(feed_item.url, _hint(feed_item))
        run.items.append(item or item_from_feed(feed_item, run.source))
    return None


def _needs_page(source: Source, feed_item: FeedItem) -> bool:
    if source.full_text == "always":
        return True
    text = feed_item.content or feed_item.summary
    return source.full_text == "auto" and len(text) < FULL_TEXT_MIN_CHARS


def _hint(feed_item: FeedItem) -> dict:
    return {"title": feed_item.title, "published_at": feed_item.published_at, "summary": feed_item.summary,
            "content": feed_item.content, "image_url": feed_item.image_url, "guid": feed_item.guid}


def item_from_feed(feed_item: FeedItem, source: Source) -> Item:
    """An Item from the feed's own fields (no page fetched)."""
    url = clean_url(feed_item.url)
    text = feed_item.content or feed_item.summary
    title = feed_item.title or clean_text(text)[:120]
    return Item(
        item_id=item_id(url), source_id=source.id, url=url, title=title, published_at=feed_item.published_at,
        text=text, summary=feed_item.summary[:1000], lang=guess_language(text), image_url=feed_item.image_url,
        guid=feed_item.guid, content_hash=content_hash(title, text),
    )


def _crawl_html(run: _Run) -> FetchResult | Failure | None:
    url: str | None = run.source.url
    for page_number in range(max(1, run.source.max_pages)):
        if url is None:
            break
        first = page_number == 0
        result = run.fetch(url, remember=first)
        if first and (result.not_modified or not result.ok):
            if result.not_modified:
                run.remember(result)
            return result
        if not result.ok:
            run.page_errors += 1
            break
        listing = find_item_links(result, run.source)
        new_links = [link for link in listing.links if run.is_new(link.url)]
        complete = _fetch_links(run, new_links)
        if first and complete:
            run.remember(result)
        if not complete or (not new_links and not run.state.first_run):
            break
        url = listing.next_url
    return None


def _fetch_links(run: _Run, links) -> bool:
    """Fetch the item pages of new listing links; False when the page budget ran out first."""
    for link in links:
        if run.page_budget <= 0:
            return False
        item = run.fetch_item(link.url)
        if item is not None:
            if item.published_at is None and link.published_at is not None:
                item = replace(item, published_at=link.published_at)
            run.items.append(item)
    return True


def _crawl_sitemap(run: _Run) -> FetchResult | Failure | None:
    result = run.fetch(run.source.url, remember=True)
    if result.not_modified or not result.ok:
        if result.not_modified:
            run.remember(result)
        return result
    page = parse_sitemap(result, run.source)
    if isinstance(page, Failure):
        return page
    pages, complete = [(result, page)], True
    for child_url in page.sitemaps[:MAX_CHILD_SITEMAPS]:
        child = run.fetch(child_url, remember=True)
        if child.not_modified:
            run.remember(child)
            continue
        child_page = parse_sitemap(child, run.source) if child.ok else Failure(child.error_code or "")
        if isinstance(child_page, Failure):
            run.page_errors += 1
            continue
        pages.append((child, child_page))
    entries = sorted((u for _, p in pages for u in p.urls), key=lambda u: u.lastmod.timestamp() if u.lastmod else 0,
                     reverse=True)
    for entry in entries:
        if not run.is_new(entry.url):
            continue
        if run.page_budget <= 0:
            complete = False
            break
        item = run.fetch_item(entry.url)
        if item is not None:
            run.items.append(item)
    if complete:
        for fetched, _ in pages:
            run.remember(fetched)
    return None
