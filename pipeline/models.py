"""The types that flow between stages.

Source -fetch-> FetchResult -parse/extract-> Item -dedupe-> cluster -classify-> Prediction
-store-> DuckDB -> Candidate -digest-> Digest -mail-> email

All are frozen dataclasses: stages return new values, they never mutate what they receive.
Datetimes are timezone-aware (UTC) everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Category = Literal["research", "teaching", "student"]
# where an item's publication date was read: the page's declared metadata, the feed entry, the page's
# visible text or heuristics, the listing next to the link
DATE_SOURCES = ("page", "feed", "page_text", "listing")
DeclaredCategory = Literal["research", "teaching", "student", "mixed"]
SourceKind = Literal["feed", "html", "sitemap", "hal"]

CATEGORIES: tuple[Category, ...] = ("research", "teaching", "student")
CATEGORY_LABELS_FR: dict[str, str] = {
    "research": "Recherche",
    "teaching": "Enseignement",
    "student": "Initiatives étudiantes",
}


@dataclass(frozen=True)
class Source:
    """One place we watch, as declared in sources.yaml."""

    id: str
    name: str
    kind: SourceKind
    url: str
    category: DeclaredCategory = "mixed"
    # html sources: CSS selector for item links on the listing page (None: found automatically)
    item_selector: str | None = None
    # html sources: CSS selector for the "next page" link (None: rel=next / usual patterns)
    next_selector: str | None = None
    # regular expressions matched against item URLs (sitemap and html sources)
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    # feed sources: fetch each item page for its full text ("auto": when the feed has only a summary)
    full_text: Literal["auto", "always", "never"] = "auto"
    # listing pages followed while backfilling; later runs stop at the first page without new items
    max_pages: int = 200
    # item pages fetched per source per run, at most (a safety net: the time budget bounds a run)
    max_new_items: int = 5000
    # seconds one run may spend on this source; when spent, the backfill carries on next run
    time_budget_s: float = 1800.0
    enabled: bool = True
    # hal sources: the HAL collection code (e.g. LPEM) or structure id (e.g. 123456) whose deposits we read
    collection: str | None = None
    structure: str | None = None


@dataclass(frozen=True)
class CrawlSettings:
    """How politely and safely we crawl; one value for the whole run."""

    user_agent: str = "veille-scientifique/0.1 (+mailto:veille@example.org)"
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 20.0
    total_timeout_s: float = 60.0  # a whole request, body included (slow-drip servers)
    max_body_bytes: int = 10_000_000  # after decompression
    max_redirects: int = 5
    per_origin_delay_s: float = 1.0
    per_origin_concurrency: int = 1
    max_retries: int = 2  # for 429/503/timeouts, with exponential backoff
    max_retry_after_s: float = 120.0
    obey_robots: bool = True
    # CIDR networks allowed even though private/loopback (e.g. an intranet)
    allowed_networks: tuple[str, ...] = ()
    # CIDR networks always refused, even for a source configured there (used by tests)
    forbidden_networks: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskRunnerSettings:
    """Where the nightly crawl tasks run: the flow's thread pool, or a Dask cluster."""

    kind: Literal["threads", "dask"] = "threads"
    address: str | None = None  # dask: scheduler of an existing cluster (tcp://host:8786)
    n_workers: int = 2  # dask without address: a local cluster of this many worker processes
    threads_per_worker: int = 8  # dask without address: sources crawled at once by each worker


@dataclass(frozen=True)
class FetchResult:
    """The outcome of fetching one URL. Network and HTTP failures are values, not exceptions."""

    url: str  # as requested
    final_url: str  # after redirects
    status: int | None  # HTTP status, None when no response
    error_code: str | None = None  # stable code ("timeout", "http_404", ...); None on success
    error_detail: str = ""
    body: bytes = b""
    content_type: str = ""
    text: str = ""  # body decoded with the right charset ("" for binary)
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False  # 304 answer to a conditional GET
    elapsed_s: float = 0.0
    retry_at: datetime | None = None  # a Retry-After beyond what a run waits: do not ask before this time

    @property
    def ok(self) -> bool:
        return self.error_code is None


@dataclass(frozen=True)
class Validator:
    """What conditional GET remembers of a URL between runs."""

    url: str
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class Publication:
    """What HAL says of a deposit, beside the item's title, date and abstract."""

    hal_id: str  # e.g. hal-01234567
    doc_type: str  # HAL's code: ART (journal article), COMM (conference paper), THESE, ...
    authors: tuple[str, ...] = ()
    journal: str = ""
    conference: str = ""
    doi: str | None = None  # bare, lower-case: 10.1038/s41586-024-00001-x
    open_access: bool = False
    pdf_url: str | None = None


@dataclass(frozen=True)
class Item:
    """One piece of news, event or announcement found on a source."""

    item_id: str  # stable id derived from the canonical URL (see normalize.item_id)
    source_id: str
    url: str  # link to the item as published, minus fragment and tracking parameters (normalize.clean_url)
    title: str
    published_at: datetime | None
    text: str  # main text, plain
    summary: str = ""  # short plain text (feed summary or first sentences)
    lang: str | None = None
    image_url: str | None = None
    guid: str | None = None  # feed GUID / Atom id when present
    content_hash: str = ""  # hash of normalised title + text (see normalize.content_hash)
    date_source: str | None = None  # where published_at comes from (see DATE_SOURCES)
    publication: Publication | None = None  # HAL deposits only


@dataclass(frozen=True)
class SourceState:
    """What a crawl of a source needs to know from earlier runs."""

    validators: dict[str, Validator] = field(default_factory=dict)
    known_urls: frozenset[str] = frozenset()  # URLs of items already stored, and of pages that hold none
    first_run: bool = True  # never crawled, or its backfill is not finished: follow every listing page
    retry_at: datetime | None = None  # the server asked not to be asked again before this time
    # the source's template learned by an earlier crawl (role -> folded texts; see crawl/template.py)
    template: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceOutcome:
    """How a source's crawl went: one row of source health."""

    source_id: str
    started_at: datetime
    status: Literal["ok", "not_modified", "error"]
    error_code: str | None = None
    error_detail: str = ""
    http_status: int | None = None
    pages_fetched: int = 0
    items_found: int = 0
    page_errors: int = 0  # item pages that failed while the source itself was reachable
    duration_s: float = 0.0
    listing_pages: int = 0  # feed, listing or sitemap documents fetched
    item_pages: int = 0  # item pages fetched
    # backfill cut short by the time budget: item pages collected so far of those the source reaches
    backfill_done: int | None = None
    backfill_total: int | None = None
    retry_at: datetime | None = None  # rate_limited: when the source may be asked again


@dataclass(frozen=True)
class CrawlProgress:
    """Where the crawl of one source stands, reported after each page (for a terminal)."""

    source_id: str
    listing_pages: int
    item_pages: int
    new_items: int
    finished: bool = False
    status: str = ""


@dataclass(frozen=True)
class CrawlResult:
    source_id: str
    outcome: SourceOutcome
    items: tuple[Item, ...] = ()
    validators: tuple[Validator, ...] = ()
    # item pages fetched that hold no item for good (not HTML, no text, 404): (url, code), not fetched again
    empty_pages: tuple[tuple[str, str], ...] = ()
    # the template this crawl learned from enough of the source's pages, kept for the next nights'
    # crawls that fetch only a page or two (None: too few pages to learn one)
    template: dict[str, frozenset[str]] | None = None


@dataclass(frozen=True)
class Prediction:
    item_id: str
    category: Category
    confidence: float  # calibrated probability of `category`
    model_version: str


@dataclass(frozen=True)
class Candidate:
    """A stored story offered to the digest: the cluster's representative item and what we know."""

    item: Item
    source_name: str
    first_seen_at: datetime
    category: Category
    confidence: float
    cluster_id: str
    cluster_sources: tuple[str, ...]  # names of every source that carried the story
    declared_category: DeclaredCategory = "mixed"
    undated_backlog: bool = False  # an undated page found by its source's first crawl: not the week's news
    publications: tuple[Publication, ...] = ()  # the story's HAL deposits, if any
    news_items: int = 1  # the story's items that are not deposits (a lab's news, relays)


@dataclass(frozen=True)
class SourceHealth:
    source_id: str
    name: str
    last_status: str | None
    last_error_code: str | None
    consecutive_failures: int
    last_success_at: datetime | None
    last_new_item_at: datetime | None
    items_last_30_days: int
    silent: bool  # nothing new for much longer than its usual rhythm
    backfill_done: int | None = None  # set while the first collection of the source is unfinished
    backfill_total: int | None = None
    retry_at: datetime | None = None  # skipped by the runs until then (the server's Retry-After)
    item_failures: int = 0  # items of its last run that a later step could not handle
