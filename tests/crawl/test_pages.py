"""Whole crawls of hand-written sites served on 127.0.0.1: listings found by their repeated blocks,
each item with its own title, and pages that are no item left out (settle.py, blocks.py, pagekind.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.crawl.fetch import Fetcher
from pipeline.crawl.source import crawl_source
from pipeline.demo.server import serve_sites
from pipeline.models import CrawlSettings, Source, SourceState

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SETTINGS = CrawlSettings(per_origin_delay_s=0.0, per_origin_concurrency=4, total_timeout_s=10.0, max_retries=0)
SLUGS = ["herbier", "sismographe", "fusee-a-eau", "planetarium", "compost", "microscope", "ruches", "meteo",
         "chimie-douce", "robots", "quiz", "radio"]


def layout(site: str, title: str, content: str) -> str:
    """Every page of the site: a header whose first <h1> is the site's name, a menu, a footer."""
    return (f"<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>{title} | {site}</title></head><body>"
            f"<header><h1><a href='/'>{site}</a></h1><nav><a href='/'>Accueil</a> <a href='/a-propos/'>À propos</a>"
            f"</nav></header><div class='contenu'>{content}</div>"
            f"<div class='pied'>{site}, association étudiante de sciences, campus de la Doua.</div></body></html>")


def write_up(slug: str) -> str:
    name = slug.replace("-", " ")
    paragraphs = "".join(f"<p>Atelier {name} : les membres ont préparé l'animation numéro {i} pour les lycéens "
                         f"venus au campus, avec des expériences simples et des explications.</p>" for i in range(4))
    return f"<article><h1>Atelier {name}</h1>{paragraphs}</article>"


def write_site(root: Path, site: str, per_page: int) -> None:
    """A home page that is the listing (flat /slug links, no dates, numbered pages), write-ups, an about page."""
    def put(path: str, html: str) -> None:
        file = root / path / "index.html"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(html, encoding="utf-8")

    pages = [SLUGS[i:i + per_page] for i in range(0, len(SLUGS), per_page)]
    for number, slugs in enumerate(pages, start=1):
        teasers = "".join(f"<div class='teaser'><h2><a href='/{s}'>Atelier {s.replace('-', ' ')}</a></h2>"
                          f"<p>Une animation préparée par les membres.</p></div>" for s in slugs)
        more = f"<p><a href='/page{number + 1}/'>Suivant</a></p>" if number < len(pages) else ""
        put("" if number == 1 else f"page{number}", layout(site, "Accueil", teasers + more))
    for slug in SLUGS:
        put(slug, layout(site, f"Atelier {slug.replace('-', ' ')}", write_up(slug)))
    put("a-propos", layout(site, "À propos", "<article><h1>À propos</h1><p>" + "Qui nous sommes. " * 20 + "</p></article>"))
    sitemap = "".join(f"<url><loc>__SITE:{site}__/{path}</loc></url>" for path in ["", "a-propos/", "page2/", *SLUGS])
    (root / "sitemap.xml").write_text(f"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
                                      f"{sitemap}</urlset>", encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("sites")
    write_site(root / "sciences-doua", "sciences-doua", per_page=5)
    with serve_sites(root) as static:
        yield static.base_urls["sciences-doua"]


def crawl(source: Source):
    with Fetcher(SETTINGS) as fetcher:
        return crawl_source(source, fetcher, SourceState(), NOW)


def test_home_page_listing_of_flat_slugs_is_collected_whole(site):
    result = crawl(Source("doua", "Sciences Doua", "html", site + "/", max_pages=5, max_new_items=100))
    assert result.outcome.status == "ok" and result.outcome.page_errors == 0
    assert sorted(item.url.removeprefix(site + "/") for item in result.items) == sorted(SLUGS)
    assert {item.title for item in result.items} == {f"Atelier {s.replace('-', ' ')}" for s in SLUGS}
    assert not any("association étudiante" in item.text for item in result.items)  # the footer is template


def test_sitemap_pages_that_are_no_item_are_not_stored(site):
    result = crawl(Source("doua", "Sciences Doua", "sitemap", site + "/sitemap.xml", max_new_items=100))
    assert sorted(item.url.removeprefix(site + "/") for item in result.items) == sorted(SLUGS)
    assert result.outcome.items_found == len(SLUGS)


def test_item_selector_still_overrides(site):
    result = crawl(Source("doua", "Sciences Doua", "html", site + "/", item_selector="div.teaser:first-child a",
                          max_pages=1, max_new_items=100))
    assert [item.url for item in result.items] == [site + "/" + SLUGS[0]]


def write_course_site(root: Path, site: str) -> list[str]:
    """Pages whose <title> and first <h1> are the site's name (no link, no class), then the article."""
    slugs = SLUGS[:6]
    for slug in slugs:
        html = (f"<!doctype html><html><head><meta charset='utf-8'><title>{site}</title></head><body>"
                f"<h1>{site}</h1>{write_up(slug)}</body></html>")
        (root / site / slug).mkdir(parents=True, exist_ok=True)
        (root / site / slug / "index.html").write_text(html, encoding="utf-8")
    for name, listed in (("first", slugs[:5]), ("later", slugs)):
        urls = "".join(f"<url><loc>__SITE:{site}__/{s}/</loc></url>" for s in listed)
        (root / site / f"{name}.xml").write_text(
            f"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{urls}</urlset>",
            encoding="utf-8")
    return slugs


def test_a_night_with_one_new_page_applies_the_template_learned_before(tmp_path):
    slugs = write_course_site(tmp_path, "cours-de-physique")
    with serve_sites(tmp_path) as static, Fetcher(SETTINGS) as fetcher:
        base = static.base_urls["cours-de-physique"]
        source = Source("cours", "Cours", "sitemap", base + "/first.xml", max_new_items=100)
        first = crawl_source(source, fetcher, SourceState(), NOW)
        later = replace(source, url=base + "/later.xml")
        known = frozenset(item.url for item in first.items)
        night = crawl_source(later, fetcher, SourceState(known_urls=known, first_run=False, template=first.template), NOW)
        forgetful = crawl_source(later, fetcher, SourceState(known_urls=known, first_run=False), NOW)
    assert {item.title for item in first.items} == {f"Atelier {s.replace('-', ' ')}" for s in slugs[:5]}
    assert first.template and night.template is None  # one page: nothing to learn from, the stored one serves
    assert [item.title for item in night.items] == [f"Atelier {slugs[5].replace('-', ' ')}"]
    assert [item.title for item in forgetful.items] == ["cours-de-physique"]  # what a night without it would store
