"""The bundled demo sites: served on 127.0.0.1, every source answers as intended, feeds parse,
listings paginate, links resolve, item pages are usable, and the fixture's traps are really there.

`pipeline/demo/sites/expected.json` lists every item the sites hold (path, date, intended category,
outreach kind, duplicates and look-alikes); these tests check the served sites against it.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from urllib.parse import urljoin, urlsplit
from xml.etree import ElementTree

import feedparser
import httpx
import pytest
from bs4 import BeautifulSoup

from pipeline.config import Config, load_config
from pipeline.demo.run import SITES, write_sources
from pipeline.demo.server import SiteServer, serve_sites

EXPECTED = json.loads((SITES / "expected.json").read_text(encoding="utf-8"))["items"]
BROKEN_SOURCE = "lab-lbv"
MONTHS = {m: n for n, m in enumerate(
    ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
     "novembre", "décembre"], start=1)}
WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
DATED_WEEKDAY = re.compile(
    r"\b(" + "|".join(WEEKDAYS) + r") (\d{1,2})(?:er)? (" + "|".join(MONTHS) + r") (\d{4})\b")


@pytest.fixture(scope="module")
def sites() -> SiteServer:
    with serve_sites(SITES) as served:
        yield served


@pytest.fixture(scope="module")
def client() -> httpx.Client:
    with httpx.Client(trust_env=False, timeout=10.0) as http:
        yield http


@pytest.fixture(scope="module")
def config(sites: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> Config:
    return load_config(write_sources(sites, tmp_path_factory.mktemp("demo") / "sources.yaml"))


@pytest.fixture(scope="module")
def pages(sites: SiteServer, client: httpx.Client) -> dict[str, httpx.Response]:
    """Every expected item page, fetched once: URL -> response."""
    return {url_of(sites, item): client.get(url_of(sites, item)) for item in EXPECTED}


def url_of(sites: SiteServer, item: dict) -> str:
    return sites.base_urls[item["site"]] + item["path"]


def expected_urls(sites: SiteServer, source_id: str) -> set[str]:
    return {url_of(sites, item) for item in EXPECTED if item["source_id"] == source_id}


def decoded(response: httpx.Response) -> str:
    """The page as text: the declared charset, else UTF-8, else Latin-1 (what a careful crawler does)."""
    if "charset=" in response.headers.get("content-type", ""):
        return response.text
    try:
        return response.content.decode("utf-8")
    except UnicodeDecodeError:
        return response.content.decode("latin-1")


def soup_of(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(decoded(response), "lxml")


def without_query(url: str) -> str:
    return url.split("?", 1)[0]


def internal_links(page_url: str, soup: BeautifulSoup) -> set[str]:
    origin = urlsplit(page_url).netloc
    links = {urljoin(page_url, a["href"]).split("#", 1)[0] for a in soup.find_all("a", href=True)}
    return {link for link in links if urlsplit(link).scheme == "http" and urlsplit(link).netloc == origin}


def crawl_listing(client: httpx.Client, source) -> list[tuple[str, BeautifulSoup]]:
    """Listing pages of an html source, following its next link (selector, else rel=next)."""
    listing, url = [], source.url
    while url and len(listing) < source.max_pages:
        response = client.get(url)
        assert response.status_code == 200, url
        soup = soup_of(response)
        listing.append((url, soup))
        nxt = soup.select_one(source.next_selector) if source.next_selector else soup.find("link", rel="next")
        url = urljoin(url, nxt["href"]) if nxt else None
    return listing


def item_links(source, url: str, soup: BeautifulSoup) -> set[str]:
    if source.item_selector:
        return {urljoin(url, a["href"]) for a in soup.select(source.item_selector)}
    links = internal_links(url, soup)
    keep = {link for link in links if any(re.search(p, urlsplit(link).path) for p in source.include)}
    return {link for link in keep if not any(re.search(p, urlsplit(link).path) for p in source.exclude)}


def shingles(text: str, size: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + size]) for i in range(len(words) - size + 1)}


def jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)


def main_text(response: httpx.Response) -> str:
    soup = soup_of(response)
    main = soup.find("article") or soup.select_one("#contenu, .actualite, .texte")
    assert main is not None, f"no main content element in {response.url}"
    return main.get_text(" ", strip=True)


def test_sources_file_is_valid_once_rendered(config: Config) -> None:
    ids = [s.id for s in config.sources]
    assert len(ids) == 8
    assert {s.kind for s in config.sources} == {"feed", "html", "sitemap"}
    assert {s.category for s in config.sources} == {"research", "teaching", "student", "mixed"}
    assert [s.id for s in config.sources if s.category == "mixed"] == ["fac-sciences"]
    assert all(s.url.startswith("http://127.0.0.1:") for s in config.sources)
    assert "127.0.0.0/8" in config.crawl.allowed_networks
    assert {item["source_id"] for item in EXPECTED} == set(ids) - {BROKEN_SOURCE}


def test_every_source_answers_except_the_broken_one(config: Config, client: httpx.Client) -> None:
    statuses = {s.id: client.get(s.url).status_code for s in config.sources}
    assert statuses.pop(BROKEN_SOURCE) == 404
    assert set(statuses.values()) == {200}


@pytest.mark.parametrize(
    ("source_id", "version", "has_content"),
    [("lab-lpem", "rss20", True), ("lab-lcme", "atom10", False), ("fac-sciences", "rss20", False)],
)
def test_feed_parses_and_lists_every_item(
    config: Config, sites: SiteServer, client: httpx.Client, source_id: str, version: str, has_content: bool
) -> None:
    feed = feedparser.parse(client.get(config.source(source_id).url).content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == version
    links = {without_query(entry.link) for entry in feed.entries}
    assert links == expected_urls(sites, source_id)
    assert all(entry.get("published_parsed") for entry in feed.entries)
    assert all(("content" in entry) == has_content for entry in feed.entries)
    for link in links:
        assert client.get(link).status_code == 200, link


def test_summary_only_feed_keeps_the_full_text_on_the_item_page(
    config: Config, client: httpx.Client, pages: dict[str, httpx.Response]
) -> None:
    feed = feedparser.parse(client.get(config.source("lab-lcme").url).content)
    for entry in feed.entries:
        page_words = len(main_text(pages[entry.link]).split())
        assert len(entry.summary.split()) < 60 < page_words, entry.link


def test_sitemap_lists_news_and_pages_the_patterns_exclude(
    config: Config, sites: SiteServer, client: httpx.Client
) -> None:
    source = config.source("lab-iste")
    root = ElementTree.fromstring(client.get(source.url).content)
    locs = [el.text for el in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    kept = {
        loc for loc in locs
        if any(re.search(p, urlsplit(loc).path) for p in source.include)
        and not any(re.search(p, urlsplit(loc).path) for p in source.exclude)
    }
    assert kept == expected_urls(sites, "lab-iste")
    assert len(set(locs) - kept) >= 8  # home, listing, team, contact, publications, tags...
    for loc in locs:
        assert client.get(loc).status_code == 200, loc


@pytest.mark.parametrize("source_id", ["lab-lima", "licence-st", "asso-les-curieux"])
def test_html_listing_paginates_to_every_item_and_its_links_resolve(
    config: Config, sites: SiteServer, client: httpx.Client, source_id: str
) -> None:
    source = config.source(source_id)
    listing = crawl_listing(client, source)
    assert len(listing) == 3
    found = set().union(*(item_links(source, url, soup) for url, soup in listing))
    assert found == expected_urls(sites, source_id)
    links = set().union(*(internal_links(url, soup) for url, soup in listing))
    non_news = links - found - {url for url, _ in listing}
    assert len(non_news) >= 4  # about, team, contact, tag pages: visible to a crawler, not news
    for link in sorted(links):
        assert client.get(link).status_code == 200, link


def test_every_link_on_every_served_page_resolves(sites: SiteServer, client: httpx.Client) -> None:
    """All the sites' pages, not only what a crawler visits: no dead internal link, no dead cross-site link."""
    local = tuple(sites.base_urls.values())
    targets: set[str] = set()
    files = sorted(SITES.rglob("*.html"))
    for file in files:
        site = file.relative_to(SITES).parts[0]
        path = "/" + file.relative_to(SITES / site).as_posix().removesuffix("index.html")
        response = client.get(sites.base_urls[site] + path)
        assert response.status_code == 200, path
        soup = soup_of(response)
        refs = [a["href"] for a in soup.find_all("a", href=True)] + [
            tag.get("src") or tag.get("href") for tag in soup.find_all(["img", "link"]) if tag.get("src") or tag.get("href")]
        targets |= {urljoin(str(response.url), ref).split("#", 1)[0] for ref in refs}
    checked = sorted(t for t in targets if t.startswith(local))
    assert len(files) > 120 and len(checked) > 140
    dead = [t for t in checked if client.get(t).status_code != 200]
    assert dead == []


def test_latin1_pages_are_sent_without_charset_and_are_not_utf8(sites: SiteServer, client: httpx.Client) -> None:
    latin1 = [item for item in EXPECTED if item["path"].endswith(".latin1.html")]
    assert len(latin1) == 9
    listing = client.get(sites.base_urls["lima"] + "/actualites.latin1.html")
    assert listing.headers["content-type"] == "text/html"
    with pytest.raises(UnicodeDecodeError):
        listing.content.decode("utf-8")
    assert "Actualités du laboratoire" in listing.content.decode("latin-1")
    page = client.get(sites.base_urls["lima"] + "/actu/seminaire-calcul-helene-roussel.latin1.html")
    assert page.headers["content-type"] == "text/html"
    text = page.content.decode("latin-1")
    assert "Séminaire de l'équipe Calcul : Hélène Roussel" in text
    assert "mardi 1er décembre 2026 à 14h" in text
    assert b"<meta charset" not in page.content.lower()


def test_item_pages_have_title_heading_date_and_enough_text(
    sites: SiteServer, pages: dict[str, httpx.Response]
) -> None:
    by_url = {url_of(sites, item): item for item in EXPECTED}
    for url, response in pages.items():
        item = by_url[url]
        assert response.status_code == 200, url
        soup = soup_of(response)
        assert soup.title and soup.title.get_text(strip=True), url
        headings = [" ".join(h.get_text().split()) for h in soup.find_all("h1")]
        assert headings == [item["title"]], url
        published = datetime.fromisoformat(item["published"])
        day = "1er" if published.day == 1 else str(published.day)
        written = {published.strftime("%d/%m/%Y"), f"{day} {list(MONTHS)[published.month - 1]} {published.year}"}
        page_text = soup.get_text(" ")
        assert any(w in page_text for w in written) or soup.find("time", datetime=True), url
        assert 120 <= len(main_text(response).split()) <= 450, url


def test_item_pages_mix_date_styles_images_and_contacts(
    sites: SiteServer, client: httpx.Client, pages: dict[str, httpx.Response]
) -> None:
    soups = {url: soup_of(response) for url, response in pages.items()}
    with_time = [url for url, soup in soups.items() if soup.find("time", datetime=True)]
    assert 20 <= len(with_time) <= len(soups) - 20
    images = {urljoin(url, meta["content"]) for url, soup in soups.items()
              for meta in soup.find_all("meta", property="og:image")}
    assert len(images) >= 15
    for image in images:
        response = client.get(image)
        assert response.status_code == 200 and response.content.startswith(b"\x89PNG"), image
    with_email = [url for url, response in pages.items() if "@univ-exemple.fr" in main_text(response)]
    assert len(with_email) >= 50


def test_republished_stories_are_near_copies_and_template_lookalikes_are_not(
    sites: SiteServer, pages: dict[str, httpx.Response]
) -> None:
    text = {item["path"]: main_text(pages[url_of(sites, item)]) for item in EXPECTED}

    def pairs(key: str) -> list[tuple[str, str]]:
        groups: dict[str, list[str]] = {}
        for item in EXPECTED:
            if item[key]:
                groups.setdefault(item[key], []).append(item["path"])
        assert all(len(paths) == 2 for paths in groups.values()), groups
        return [tuple(paths) for paths in groups.values()]

    duplicates, lookalikes = pairs("dup_group"), pairs("template")
    assert len(duplicates) == 4 and len(lookalikes) == 3
    for a, b in duplicates:
        assert jaccard(text[a], text[b]) > 0.5, (a, b)
    for a, b in lookalikes:
        assert jaccard(text[a], text[b]) < 0.3, (a, b)
    typo = [item for item in EXPECTED if item["typo_version"]]
    assert len(typo) == 1
    relay = next(item for item in EXPECTED if item["relay_of"])
    assert "mercredi 9 décembre 2026 à 18h30, amphithéâtre Curie" in text[relay["path"]]


def test_outreach_items_say_when_where_and_whom_to_contact(sites: SiteServer, pages: dict[str, httpx.Response]) -> None:
    outreach = [item for item in EXPECTED if item["outreach"]]
    assert len(outreach) >= 15
    assert {item["outreach"] for item in outreach} >= {
        "conference_grand_public", "festival", "visite_laboratoire", "intervention_scolaire",
        "exposition", "mediatisation", "concours", "atelier",
    }
    for item in outreach:
        body = main_text(pages[url_of(sites, item)])
        assert "@univ-exemple.fr" in body, item["path"]
        assert DATED_WEEKDAY.search(body) or re.search(r"\b\d{1,2}(?:er)? \w+ 20\d\d", body), item["path"]
    editions: dict[str, set[int]] = {}
    for item in EXPECTED:
        if item["edition_of"]:
            editions.setdefault(item["edition_of"], set()).add(datetime.fromisoformat(item["published"]).year)
    assert all(len(years) >= 2 for years in editions.values()) and len(editions) == 2


def test_written_weekdays_agree_with_the_calendar(pages: dict[str, httpx.Response]) -> None:
    checked = 0
    for url, response in pages.items():
        for weekday, day, month, year in DATED_WEEKDAY.findall(main_text(response)):
            real = WEEKDAYS[date(int(year), MONTHS[month], int(day)).weekday()]
            assert real == weekday, f"{url}: {weekday} {day} {month} {year} is a {real}"
            checked += 1
    assert checked >= 40


def test_dates_spread_over_recent_weeks_with_backfill_and_categories() -> None:
    published = [datetime.fromisoformat(item["published"]).date() for item in EXPECTED]
    assert 60 <= len(EXPECTED) <= 120
    assert sum(date(2026, 10, 3) <= d <= date(2026, 11, 29) for d in published) >= 50
    assert sum(date(2026, 11, 23) <= d <= date(2026, 11, 29) for d in published) >= 10
    assert sum(date(2026, 11, 30) <= d <= date(2026, 12, 6) for d in published) >= 2
    assert sum(d.year in (2024, 2025) for d in published) >= 6
    categories = [item["category"] for item in EXPECTED]
    assert {c: categories.count(c) for c in set(categories)} == {"research": 51, "teaching": 14, "student": 13}
    mixed = {item["category"] for item in EXPECTED if item["source_id"] == "fac-sciences"}
    assert mixed == {"research", "teaching", "student"}
