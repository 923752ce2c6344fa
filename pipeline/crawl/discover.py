"""Find what a site offers to watch: feeds, sitemaps, news listing pages -> sources.yaml entries.

`discover_sources(url, fetcher)` reads the homepage and tries, in order: feeds announced by
<link rel="alternate">, the usual feed paths (/feed, /rss.xml, /atom.xml, /index.xml, /feed.xml),
sitemaps named in robots.txt or at /sitemap.xml, and the news listing: among the pages named or
located like one (/actualites, /news, /blog), the home page itself and the pages of its menu, the one
with the most item links (listing.py: a block repeated five times or more, whatever the URLs look
like). Every candidate is fetched and parsed: only what really works is proposed, as dicts ready to
dump into sources.yaml (id, name, kind, url, category: mixed). A link to the lab's HAL collection
(or structure) is proposed as a `kind: hal` source (category research).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from pipeline.crawl.fetch import Fetcher
from pipeline.crawl.hal import hal_target
from pipeline.models import FetchResult, Source
from pipeline.normalize import canonical_url, clean_text, join_url
from pipeline.crawl.listing import FILE_EXTENSION, SKIP_PATH
from pipeline.crawl.parse import Failure, find_item_links, parse_feed, parse_sitemap

logger = logging.getLogger(__name__)

FEED_TYPES = re.compile(r"(rss|atom|feed\+json|application/json|rdf)", re.IGNORECASE)
FEED_PATHS = ("/feed", "/feed/", "/rss.xml", "/atom.xml", "/index.xml", "/feed.xml", "/rss")
LISTING_PATHS = ("/actualites", "/actualites/", "/news", "/news/", "/blog", "/blog/", "/actus/")
LISTING_LINK = re.compile(r"/(actualites?|actus?|news|blog|breves|evenements|a-la-une)/?$", re.IGNORECASE)
LISTING_TEXT = re.compile(r"^(actualit[ée]s?|actus?|news|blog|brèves|toutes les actualités)$", re.IGNORECASE)
MIN_LISTING_LINKS = 3
MAX_CANDIDATES = 8
MAX_LISTING_CANDIDATES = 12


def discover_sources(url: str, fetcher: Fetcher) -> list[dict]:
    """sources.yaml entries for the site at `url` (empty when the homepage cannot be fetched)."""
    trusted = frozenset({(urlsplit(url).hostname or "").lower()})
    home = fetcher.fetch(url, trusted_hosts=trusted)
    if not home.ok:
        logger.warning("discover: %s unreachable (%s)", url, home.error_code)
        return []
    soup = BeautifulSoup(home.text, "lxml")
    site_name = _site_name(soup, url)
    probe = Source(id="discover", name=site_name, kind="feed", url=url)
    found: list[dict] = []
    feed = _first_working(fetcher, trusted, _feed_candidates(soup, home.final_url), lambda r: _is_feed(r, probe))
    if feed:
        found.append(_entry(site_name, "feed", feed))
    sitemap_urls = [*fetcher.robots_for(url, trusted).sitemaps, urljoin(home.final_url, "/sitemap.xml")]
    sitemap = _first_working(fetcher, trusted, sitemap_urls, lambda r: not isinstance(parse_sitemap(r, probe), Failure))
    if sitemap:
        found.append(_entry(site_name, "sitemap", sitemap))
    listing = _best_listing(fetcher, trusted, _listing_candidates(soup, home.final_url), probe)
    if listing:
        found.append(_entry(site_name, "html", listing))
    hal = _hal_entry(soup, home.final_url, site_name)
    if hal:
        found.append(hal)
    return found


def _hal_entry(soup: BeautifulSoup, base: str, site_name: str) -> dict | None:
    """A hal source for the first link of the page to a HAL collection or structure."""
    for anchor in soup.find_all("a", href=True):
        url = join_url(base, anchor["href"])  # None for an href that cannot be a link
        target = hal_target(url) if url else None
        if target:
            kind, value = target
            slug = _entry(site_name, "hal", base)["id"]
            return {"id": slug, "name": f"{site_name} - publications (HAL)", "kind": "hal", kind: value,
                    "category": "research"}
    return None


def _distinct(urls: list[str], limit: int):
    """`urls` without repeats (by canonical URL), at most `limit` of them."""
    tried: set[str] = set()
    for candidate in urls:
        key = canonical_url(candidate)
        if key in tried or len(tried) >= limit:
            continue
        tried.add(key)
        yield candidate


def _first_working(fetcher: Fetcher, trusted: frozenset[str], urls: list[str], works) -> str | None:
    for candidate in _distinct(urls, MAX_CANDIDATES):
        result = fetcher.fetch(candidate, trusted_hosts=trusted)
        if result.ok and works(result):
            return result.url
    return None


def _feed_candidates(soup: BeautifulSoup, base: str) -> list[str]:
    announced = [
        url for link in soup.find_all("link", href=True)
        if "alternate" in (link.get("rel") or []) and FEED_TYPES.search(str(link.get("type") or ""))
        and "comments" not in link["href"] and (url := join_url(base, link["href"]))
    ]
    return announced + [urljoin(base, path) for path in FEED_PATHS]


def _is_feed(result: FetchResult, probe: Source) -> bool:
    parsed = parse_feed(result, probe)
    return not isinstance(parsed, Failure) and bool(parsed.items)


def _listing_candidates(soup: BeautifulSoup, base: str) -> list[str]:
    """Links named or placed like a news listing, the home page itself, the menu's other pages, then
    the usual listing paths."""
    linked, menu = [], []
    for anchor in soup.find_all("a", href=True):
        href = join_url(base, anchor["href"])
        if not href:
            continue
        parts = urlsplit(href)
        if parts.netloc != urlsplit(base).netloc or SKIP_PATH.search(parts.path) or FILE_EXTENSION.search(parts.path):
            continue
        if LISTING_LINK.search(parts.path) or LISTING_TEXT.match(clean_text(anchor.get_text(" "))):
            linked.append(href)
        elif anchor.find_parent(["nav", "header"]) or anchor.find_parent(attrs={"role": "navigation"}):
            menu.append(href)
    return linked + [base] + menu + [urljoin(base, path) for path in LISTING_PATHS]


def _best_listing(fetcher: Fetcher, trusted: frozenset[str], urls: list[str], probe: Source) -> str | None:
    """The candidate page whose item links (listing.py: its repeated blocks) are the most numerous,
    at least MIN_LISTING_LINKS; the earlier candidate on a tie."""
    best, best_count = None, MIN_LISTING_LINKS - 1
    for candidate in _distinct(urls, MAX_LISTING_CANDIDATES):
        result = fetcher.fetch(candidate, trusted_hosts=trusted)
        count = len(find_item_links(result, probe).links) if result.ok else 0
        if count > best_count:
            best, best_count = result.url, count
    return best


def _site_name(soup: BeautifulSoup, url: str) -> str:
    og = soup.find("meta", attrs={"property": "og:site_name"})
    if isinstance(og, Tag) and og.get("content"):
        return clean_text(str(og["content"]))
    title = soup.find("title")
    text = clean_text(title.get_text(" ")) if isinstance(title, Tag) else ""
    return re.split(r"\s+[|–—-]\s+", text)[-1].strip() if text else (urlsplit(url).hostname or url)


def _entry(site_name: str, kind: str, url: str) -> dict:
    host = (urlsplit(url).hostname or "site").lower().removeprefix("www.")
    slug = re.sub(r"[^a-z0-9]+", "-", host.split(".univ")[0]).strip("-")[:40] or "site"
    return {"id": f"{slug}-{kind}", "name": site_name, "kind": kind, "url": url, "category": "mixed"}
