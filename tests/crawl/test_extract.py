"""extract_item on fixture pages and small hand-written pages: title, date, text, language, image."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.dates import find_date_in_text, parse_date_value
from pipeline.crawl.extract import LANGUAGE_SAMPLE_CHARS, extract_item, guess_language
from pipeline.crawl.fetch import decode_text
from pipeline.models import FetchResult, Item, Source
from pipeline.normalize import content_hash, fold_for_matching, item_id
from pipeline.crawl.parse import Failure, FeedItem
from pipeline.crawl.source import item_from_feed

SITES = Path(__file__).resolve().parent / "fixtures" / "sites"
BASE = "http://127.0.0.1:8000"
SOURCE = Source("test", "Test", "html", BASE + "/")
PARAGRAPH = ("Les chercheurs du laboratoire ont observé pour la première fois la croissance de cristaux de glace "
             "dans des nuages artificiels produits en chambre climatique, une expérience menée pendant deux ans. ")


def page(body: bytes, url: str = BASE + "/actualites/x/", ctype: str = "text/html") -> FetchResult:
    return FetchResult(url=url, final_url=url, status=200, body=body, content_type=ctype, text=decode_text(body, ctype))


def site_page(site: str, path: str) -> FetchResult:
    body = (SITES / site / path).read_bytes().replace(f"__SITE:{site}__".encode(), BASE.encode())
    return page(body, BASE + "/" + path.removesuffix("index.html"))


@pytest.mark.parametrize("text,expected", [
    ("Publié le 03/02/2025 par admin", datetime(2025, 2, 3, tzinfo=UTC)),
    ("Mis en ligne le 14 octobre 2010", datetime(2010, 10, 14, tzinfo=UTC)),
    ("le 1er févr. 2025 à 10 h", datetime(2025, 2, 1, tzinfo=UTC)),
    ("Séminaire du 7 août 2024", datetime(2024, 8, 7, tzinfo=UTC)),
    ("10.02.2025", datetime(2025, 2, 10, tzinfo=UTC)),
    ("© 1789 tous droits réservés", None),
])
def test_french_dates_in_text(text, expected):
    assert find_date_in_text(text) == expected


def test_machine_dates_are_utc():
    assert parse_date_value("2025-02-03T10:30:00+01:00") == datetime(2025, 2, 3, 9, 30, tzinfo=UTC)
    assert parse_date_value("Mon, 03 Feb 2025 10:30:00 GMT") == datetime(2025, 2, 3, 10, 30, tzinfo=UTC)
    assert parse_date_value("2025-02-03") == datetime(2025, 2, 3, tzinfo=UTC)


def test_wordpress_page():
    item = extract_item(site_page("wp-labo", "2025/02/03/nanofils-silicium-record/index.html"), SOURCE)
    assert isinstance(item, Item)
    assert item.title == "Des nanofils de silicium qui battent un record de conductivité"
    assert item.published_at == datetime(2025, 2, 3, 9, 30, tzinfo=UTC)
    assert "cryostat" in item.text and "Bravo à toute" not in item.text and "Articles récents" not in item.text
    assert item.lang == "fr"
    assert item.image_url == BASE + "/wp-content/uploads/nanofils-silicium-record.jpg"
    assert item.item_id == item_id(item.url) and item.content_hash == content_hash(item.title, item.text)


def test_drupal_page_date_from_publie_le():
    item = extract_item(site_page("drupal-ufr", "node/12/index.html"), SOURCE)
    assert item.title == "Nouveau master en science des données environnementales"
    assert item.published_at.date().isoformat() == "2025-02-03"
    assert "Mots-clés" not in item.text and "Liens utiles" not in item.text


def test_latin1_table_page():
    item = extract_item(site_page("latin1-iut", "actus/projet-tutore-domotique.latin1.html"), SOURCE)
    assert item.title == "Projet tutoré : une maison connectée économe en énergie"
    assert item.published_at == datetime(2010, 10, 14, tzinfo=UTC)
    assert "économies d'énergie" in item.text


def test_declared_date_wins_over_the_feed_and_the_feed_title_over_the_page():
    result = site_page("listing-labo", "actualites/seisme-capteurs-fibre.html")
    item = extract_item(result, SOURCE)
    assert (item.published_at, item.date_source) == (datetime(2025, 2, 10, 13, 0, tzinfo=UTC), "page")
    hinted = extract_item(result, SOURCE, {"title": "Titre du flux", "published_at": datetime(2025, 2, 11, tzinfo=UTC),
                                           "guid": "urn:x", "date_source": "feed"})
    assert hinted.title == "Titre du flux" and hinted.published_at == datetime(2025, 2, 10, 13, 0, tzinfo=UTC)
    assert hinted.date_source == "page" and hinted.guid == "urn:x"


def test_feed_date_wins_over_a_date_the_page_only_shows():
    html = (f"<html lang='fr'><body><article><h1>Un titre</h1><p>Publié le 3 mars 2024</p><p>{PARAGRAPH * 3}</p>"
            "</article></body></html>")
    result = page(html.encode(), BASE + "/a/")
    alone = extract_item(result, SOURCE)
    hinted = extract_item(result, SOURCE, {"published_at": datetime(2024, 3, 4, tzinfo=UTC), "date_source": "feed"})
    assert (alone.published_at.date().isoformat(), alone.date_source) == ("2024-03-03", "page_text")
    assert (hinted.published_at.date().isoformat(), hinted.date_source) == ("2024-03-04", "feed")


def test_url_is_cleaned_of_tracking():
    html = f"<html lang='fr'><head><title>Un titre</title></head><body><article><h1>Un titre</h1><p>{PARAGRAPH * 3}</p></article></body></html>"
    item = extract_item(page(html.encode(), BASE + "/a/?utm_source=rss&id=3#haut"), SOURCE)
    assert item.url == BASE + "/a/?id=3"


def test_expected_failures_are_values():
    failed = FetchResult(url=BASE, final_url=BASE, status=404, error_code="http_404")
    assert extract_item(failed, SOURCE) == Failure("http_404", "")
    assert extract_item(page(b"\x89PNG\r\n\x1a\n", ctype="image/png"), SOURCE).code == "not_html"
    assert extract_item(page(b"<html><body><nav>menu</nav></body></html>"), SOURCE).code == "no_text"


def test_a_comment_date_is_not_the_page_date():
    html = (f"<html lang='fr'><body><article><h1>Un titre</h1>\n<p>Publié le 3 mars 2024</p>\n<p>{PARAGRAPH * 3}</p>"
            "</article>\n<section class='comments'><p class='comment__date'><time datetime='2024-06-10T10:00:00Z' "
            "itemprop='datePublished'>10/06/2024</time></p></section></body></html>")
    item = extract_item(page(html.encode(), BASE + "/a/"), SOURCE)
    assert item.published_at.date().isoformat() == "2024-03-03"


def test_trafilatura_options_built_once_extract_as_its_keyword_arguments() -> None:
    import trafilatura

    from pipeline.crawl.extract import _extractor_options

    precision, recall = _extractor_options()
    pages = sorted(SITES.rglob("*.html"))
    assert len(pages) >= 10
    for path in pages:
        html = decode_text(path.read_bytes(), "text/html")
        for options, focus in ((precision, {"favor_precision": True}), (recall, {"favor_recall": True})):
            expected = trafilatura.extract(html, include_comments=False, include_tables=True, fast=True, **focus)
            assert trafilatura.extract(html, options=options) == expected, path


ENGLISH = "The team of the laboratory has shown for the first time that ice grows in the clouds of the chamber. "


@pytest.mark.parametrize("text, language", [
    (PARAGRAPH, "fr"), (ENGLISH * 3, "en"), ("Trop court.", None),
    (ENGLISH * 31 + PARAGRAPH * 40, "en"),  # longer than the sample: its English beginning tells, not the rest
])
def test_a_feed_item_folds_its_text_once_for_its_language_and_hash(text, language):
    assert len(text) < LANGUAGE_SAMPLE_CHARS or len(ENGLISH * 31) > LANGUAGE_SAMPLE_CHARS
    folded = fold_for_matching(text)
    assert guess_language(text) == guess_language(text, folded) == language
    item = item_from_feed(FeedItem(url=BASE + "/a/", title="Un titre", published_at=None, summary=text[:200],
                                   content=text, guid=None, image_url=None), SOURCE)
    assert (item.lang, item.content_hash) == (language, content_hash("Un titre", text))
    assert content_hash("Un titre", text, folded) == content_hash("Un titre", text)
