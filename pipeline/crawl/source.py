"""Crawl one source: fetch its feed, listing pages or sitemap, then the new item pages -> CrawlResult.

`crawl_source` never raises for what the web does: an unreachable source gives a SourceOutcome with
status "error" and the fetch's or the parser's code; a failing item page only counts in
`page_errors`. Item pages already known (state.known_urls: stored items and pages that hold no item)
are not fetched again.

A new source is collected whole (backfill): every item its feed, sitemap or listing pagination
reaches. A run is bounded by time (`source.time_budget_s`), with `source.max_new_items` item pages as
a safety net; when a bound is hit the outcome says how far the backfill got (backfill_done of
backfill_total item pages), no validator is kept, and the next run carries on where this one stopped.

- feed: items come from the feed; the page is fetched for its full text when full_text is "always",
  or "auto" and the feed carries only a summary. An entry whose page is not fetched for lack of time
  is left for the next run: a summary never stands in for the text.
- html: the listing page and its next pages (up to max_pages while backfilling; later runs stop at
  the first listing page that has nothing new).
- sitemap: the sitemap (or the children of a sitemap index), new URLs, newest lastmod first.
- hal: the newest deposits of a HAL collection or structure, from HAL's search API (see hal.py).

Once every page is in, settle.py applies the source's template (titles, text) and leaves out the
pages that are no item (home, listing, pagination, about, empty placeholder); those pages are
remembered (empty_pages) so that later runs do not fetch them again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Callable
from urllib.parse import urlsplit

from pipeline.crawl.extract import extract_item, guess_language
from pipeline.crawl.fetch import Fetcher
from pipeline.crawl.hal import crawl_hal
from pipeline.crawl.intake import admit_item, checked_body
from pipeline.models import (
    CrawlProgress, CrawlResult, FetchResult, Item, Source, SourceOutcome, SourceState, Validator,
)
from pipeline.normalize import canonical_url, clean_text, clean_url, content_hash, fold_for_matching, item_id
from pipeline.crawl.parse import FeedItem, Failure, find_item_links, parse_feed, parse_sitemap
from pipeline.crawl.settle import ItemPage, settle_items
from pipeline.crawl.template import Template

logger = logging.getLogger(__name__)

FULL_TEXT_MIN_CHARS = 600  # a feed text shorter than this is a summary: fetch the page (full_text: auto)
MAX_CHILD_SITEMAPS = 10
# item pages that failed for good: remembered, never fetched again (timeouts and 5xx are retried)
LASTING_FAILURES = frozenset({
    "not_html", "no_text", "http_404", "http_410", "robots_disallowed", "forbidden_address", "too_large",
    "bad_url", "too_many_redirects",
})
ProgressListener = Callable[[CrawlProgress], None]


@dataclass
class _Run:
    """What one crawl of one source has gathered so far (local to crawl_source)."""

    source: Source
    fetcher: Fetcher
    state: SourceState
    trusted: frozenset[str]
    deadline: float  # time.monotonic() after which no more item page is fetched
    on_progress: ProgressListener | None = None
    listing_pages: int = 0
    item_pages: int = 0
    page_errors: int = 0
    items: list[Item] = field(default_factory=list)
    validators: list[Validator] = field(default_factory=list)
    empty_pages: list[tuple[str, str]] = field(default_factory=list)
    known: set[str] = field(default_factory=set)  # canonical URLs of state.known_urls
    reached: set[str] = field(default_factory=set)  # canonical URLs of every item page the source reaches
    left_for_later: int = 0  # new item pages not fetched for lack of time or page budget
    listing_left: bool = False  # listing pages not read for lack of time or page budget
    page_budget: int = 0
    http_status: int | None = None  # of the source's own URL (feed, first listing page, sitemap)
    page_of: dict[str, ItemPage] = field(default_factory=dict)  # for settle_items

    @property
    def pages_fetched(self) -> int:
        return self.listing_pages + self.item_pages

    def fetch(self, url: str, remember: bool = False, expected: str | None = None) -> FetchResult:
        """Fetch a feed, listing or sitemap document (its body checked against the type expected)."""
        validator = self.state.validators.get(url) if remember else None
        self.listing_pages += 1
        result = checked_body(self.fetcher.fetch(url, validator, trusted_hosts=self.trusted),
                              expected or self.source.kind)
        if self.pages_fetched == 1:
            self.http_status = result.status
        self.report()
        return result

    def is_new(self, url: str) -> bool:
        key = canonical_url(url)
        if key in self.reached:
            return False
        self.reached.add(key)
        return key not in self.known

    def out_of_budget(self) -> bool:
        return self.page_budget <= 0 or time.monotonic() >= self.deadline

    def leave_for_later(self) -> None:
        self.left_for_later += 1

    def remember(self, result: FetchResult) -> None:
        if result.etag or result.last_modified:
            self.validators.append(Validator(result.url, result.etag, result.last_modified))

    def fetch_item(self, url: str, hint: dict | None = None) -> Item | None:
        """Fetch and extract an item page; a failure counts in page_errors."""
        self.page_budget -= 1
        self.item_pages += 1
        page = checked_body(self.fetcher.fetch(url, None, trusted_hosts=self.trusted), "html")
        item = _extract_isolated(page, self.source, hint)
        self.report()
        if isinstance(item, Failure):
            logger.info("source %s: item page %s failed: %s %s", self.source.id, url, item.code, item.detail)
            self.page_errors += 1
            if item.code in LASTING_FAILURES:
                self.empty_pages.append((clean_url(url), item.code))
            return None
        self.page_of[item.url] = ItemPage(page, from_feed=bool(hint and hint.get("title")))
        return item

    def add(self, item: Item) -> None:
        self.items.append(item)

    def report(self, finished: bool = False, status: str = "") -> None:
        if self.on_progress is not None:
            self.on_progress(CrawlProgress(self.source.id, self.listing_pages, self.item_pages, len(self.items),
                                           finished, status))


def crawl_source(source: Source, fetcher: Fetcher, state: SourceState, now: datetime,
                 on_progress: ProgressListener | None = None) -> CrawlResult:
    """Crawl `source` once; see the module docstring. `on_progress` hears after every page."""
    started = time.monotonic()
    host = (urlsplit(source.url).hostname or "").lower()
    run = _Run(source, fetcher, state, frozenset({host}) if host else frozenset(), started + source.time_budget_s,
               on_progress, known={canonical_url(u) for u in state.known_urls}, page_budget=source.max_new_items)
    crawl = {"feed": _crawl_feed, "html": _crawl_html, "sitemap": _crawl_sitemap, "hal": _crawl_hal}[source.kind]
    failure = crawl(run)
    settled = settle_items(run.items, run.page_of, Template(state.template))
    items = settled.items
    if settled.not_items:
        logger.info("source %s: pages that are no item, not stored: %s", source.id, dict(settled.not_items))
    run.empty_pages.extend((url, f"no_item_{reason}") for url, reason in settled.left_out)  # not fetched again
    status, code, detail = _status(failure)
    pending = (run.left_for_later > 0 or run.listing_left) and status != "error"
    outcome = SourceOutcome(
        source_id=source.id, started_at=now, status=status, error_code=code, error_detail=detail[:500],
        http_status=run.http_status, pages_fetched=run.pages_fetched, items_found=len(items),
        page_errors=run.page_errors, duration_s=time.monotonic() - started, listing_pages=run.listing_pages,
        item_pages=run.item_pages,
        backfill_done=len(run.reached) - run.left_for_later if pending else None,
        backfill_total=len(run.reached) if pending else None,
        retry_at=failure.retry_at if isinstance(failure, FetchResult) else None,
    )
    run.report(finished=True, status=status)
    validators = () if pending else tuple(run.validators)  # the next run must read the source again
    learned = settled.learned.texts if settled.learned is not None else None
    return CrawlResult(source.id, outcome, tuple(admit_item(i) for i in items), validators, tuple(run.empty_pages),
                       learned)


def _status(failure: FetchResult | Failure | None) -> tuple[str, str | None, str]:
    if isinstance(failure, FetchResult):
        if failure.not_modified:
            return "not_modified", None, ""
        return "error", failure.error_code, failure.error_detail
    if isinstance(failure, Failure):
        return "error", failure.code, failure.detail
    return "ok", None, ""


def _extract_isolated(page: FetchResult, source: Source, hint: dict | None) -> Item | Failure:
    """extract_item, with a failure on one page's content kept to that page (code extract_error)."""
    try:
        return extract_item(page, source, hint)
    except Exception as exc:  # noqa: BLE001 - one page's bad content must not cost the source its run
        logger.warning("source %s: extraction of %s failed: %s: %s", source.id, page.url, type(exc).__name__, exc)
        return Failure("extract_error", f"{type(exc).__name__}: {exc}"[:300])


def _fetch_own_url(run: _Run) -> tuple[FetchResult, bool]:
    """The source's own document (feed, sitemap) and whether the crawl ends there: unchanged (304,
    its validators kept) or failed."""
    result = run.fetch(run.source.url, remember=True)
    if result.not_modified:
        run.remember(result)
    return result, result.not_modified or not result.ok


def _crawl_feed(run: _Run) -> FetchResult | Failure | None:
    result, done = _fetch_own_url(run)
    if done:
        return result
    parsed = parse_feed(result, run.source)
    if isinstance(parsed, Failure):
        return parsed
    run.remember(result)
    for feed_item in parsed.items:
        if not run.is_new(feed_item.url):
            continue
        if not _needs_page(run.source, feed_item):
            run.add(item_from_feed(feed_item, run.source))
        elif run.out_of_budget():
            run.leave_for_later()  # its page next run: never keep the summary as its text
        else:
            run.add(run.fetch_item(feed_item.url, _hint(feed_item)) or item_from_feed(feed_item, run.source))
    return None


def _needs_page(source: Source, feed_item: FeedItem) -> bool:
    """The page holds the text: always, or (auto) when the feed carries only a summary."""
    if source.full_text == "always":
        return True
    return source.full_text == "auto" and len(feed_item.content) < FULL_TEXT_MIN_CHARS


def _hint(feed_item: FeedItem) -> dict:
    return {"title": feed_item.title, "published_at": feed_item.published_at, "summary": feed_item.summary,
            "content": feed_item.content, "image_url": feed_item.image_url, "guid": feed_item.guid,
            "date_source": "feed"}


def item_from_feed(feed_item: FeedItem, source: Source) -> Item:
    """An Item from the feed's own fields (no page fetched)."""
    url = clean_url(feed_item.url)
    text = feed_item.content or feed_item.summary
    title = feed_item.title or clean_text(text)[:120]
    folded = fold_for_matching(text)  # once, for both the language and the hash
    return Item(
        item_id=item_id(url), source_id=source.id, url=url, title=title, published_at=feed_item.published_at,
        text=text, summary=feed_item.summary[:1000], lang=guess_language(text, folded),
        image_url=feed_item.image_url, guid=feed_item.guid, content_hash=content_hash(title, text, folded),
        date_source="feed" if feed_item.published_at else None,
    )


def _crawl_hal(run: _Run) -> FetchResult | Failure | None:
    crawled = crawl_hal(run.source, run.fetch, run.is_new, run.state.first_run)
    run.items.extend(crawled.items)
    run.page_errors += crawled.page_errors
    return crawled.failure


def _crawl_html(run: _Run) -> FetchResult | Failure | None:
    url: str | None = run.source.url
    read: set[str] = set()
    while url is not None and len(read) < max(1, run.source.max_pages) and canonical_url(url) not in read:
        first = not read
        read.add(canonical_url(url))
        result = run.fetch(url, remember=first)
        if first and (result.not_modified or not result.ok):
            if result.not_modified:
                run.remember(result)
            return result
        if not result.ok:
            run.page_errors += 1
            break
        if first:
            run.remember(result)
        listing = find_item_links(result, run.source)
        new_links = [link for link in listing.links if run.is_new(link.url)]
        _fetch_links(run, new_links)
        if not new_links and not run.state.first_run:
            break
        url = listing.next_url
        if url is not None and run.out_of_budget():
            run.listing_left = True  # the next run reads the listing again and carries on
            break
    return None


def _fetch_links(run: _Run, links) -> None:
    """Fetch the item pages of new listing links, as long as the budget lasts."""
    for link in links:
        if run.out_of_budget():
            run.leave_for_later()
            continue
        item = run.fetch_item(link.url)
        if item is not None:
            if item.published_at is None and link.published_at is not None:
                item = replace(item, published_at=link.published_at, date_source="listing")
            run.add(item)


def _crawl_sitemap(run: _Run) -> FetchResult | Failure | None:
    result, done = _fetch_own_url(run)
    if done:
        return result
    page = parse_sitemap(result, run.source)
    if isinstance(page, Failure):
        return page
    run.remember(result)
    pages = [page]
    for child_url in page.sitemaps[:MAX_CHILD_SITEMAPS]:
        child = run.fetch(child_url, remember=True)
        if child.not_modified:
            run.remember(child)
            continue
        child_page = parse_sitemap(child, run.source) if child.ok else Failure(child.error_code or "")
        if isinstance(child_page, Failure):
            run.page_errors += 1
            continue
        run.remember(child)
        pages.append(child_page)
    entries = sorted((u for p in pages for u in p.urls), key=lambda u: u.lastmod.timestamp() if u.lastmod else 0,
                     reverse=True)
    for entry in entries:
        if not run.is_new(entry.url):
            continue
        if run.out_of_budget():
            run.leave_for_later()
            continue
        item = run.fetch_item(entry.url)
        if item is not None:
            run.add(item)
    return None
