"""Page understanding on the real sites of ../shared/real-sites (read at run time, skipped when absent):
each countable item's own title, no countable item taken for a non-item, listings found without selectors."""

from __future__ import annotations

import html
import json
import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html
import pytest

from pipeline.crawl.listing import find_item_links
from pipeline.crawl.pagekind import not_item_reason
from pipeline.crawl.title import find_title
from pipeline.models import FetchResult, Source

REAL = Path(__file__).resolve().parents[3] / "shared" / "real-sites"
pytestmark = pytest.mark.skipif(not (REAL / "sites.json").is_file(), reason=f"no real sites at {REAL}")
FOLDS = {"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "«": '"', "»": '"', "\xa0": " "}


def sites() -> list[dict]:
    return json.loads((REAL / "sites.json").read_text(encoding="utf-8"))["sites"] if REAL.is_dir() else []


def ground_truth(site: dict) -> list[dict]:
    lines = (REAL / "gt" / f"{site['id']}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def same_title(text: str) -> str:
    text = unicodedata.normalize("NFC", re.sub(r"<[^>]+>", "", html.unescape(html.unescape(text))))
    for old, new in FOLDS.items():
        text = text.replace(old, new)
    return " ".join(text.replace("--", "-").split())


def path_key(url: str) -> str:
    path = unicodedata.normalize("NFC", unquote(urlsplit(url).path)).lower()
    return path.removesuffix("index.html").removesuffix(".html").rstrip("/")


def countable(site: dict) -> list[dict]:
    return [record for record in ground_truth(site) if record["subcategory"] != "page"]


def page_of(site: dict, record: dict) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring((REAL / "sites" / site["id"] / record["html_file"]).read_text(encoding="utf-8"))


@pytest.mark.parametrize("site", sites(), ids=lambda s: s["id"])
def test_every_item_has_its_own_title_and_is_an_item(site):
    records = countable(site)
    base = f"http://127.0.0.1:{site['port']}"
    wrong_titles = [r["url_path"] for r in records if same_title(find_title(page_of(site, r))) != same_title(r["title"])]
    not_items = [r["url_path"] for r in records if not_item_reason(page_of(site, r), base + r["url_path"])]
    assert wrong_titles == [] and not_items == []


@pytest.mark.parametrize("site", [s for s in sites() if not s["entry_points"]["feeds"] and not s["entry_points"]["sitemap"]],
                         ids=lambda s: s["id"])
def test_listings_without_feed_or_sitemap_are_found_without_selectors(site):
    base = f"http://127.0.0.1:{site['port']}"
    known = {path_key(r["url_path"]): r for r in ground_truth(site)}
    for listing in site["entry_points"]["listings"]:
        file = REAL / "sites" / site["id"] / listing.lstrip("/") / "index.html"
        body = file.read_bytes()
        page = FetchResult(url=base + listing, final_url=base + listing, status=200, body=body,
                           content_type="text/html", text=body.decode("utf-8"))
        links = find_item_links(page, Source("real", "real", "html", base + listing)).links
        found = [known.get(path_key(link.url)) for link in links]
        assert None not in found  # every link is a page of the site's ground truth
        assert sum(record["subcategory"] != "page" for record in found) >= 5
