"""kind: hal sources against a loopback HAL search API: paging, incremental runs, empty answers,
errors and slow answers are source failures like any other."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hal_api import deposit, serve_hal

from pipeline.crawl.fetch import Fetcher
from pipeline.crawl.hal import PAGE_ROWS
from pipeline.crawl.source import crawl_source
from pipeline.models import CrawlSettings, Source, SourceState

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
SETTINGS = CrawlSettings(per_origin_delay_s=0.0, total_timeout_s=30.0, read_timeout_s=15.0, max_retries=0)
IMPATIENT = CrawlSettings(per_origin_delay_s=0.0, total_timeout_s=1.0, read_timeout_s=0.5, max_retries=0)


def hal_source(url: str, **fields) -> Source:
    values = {"id": "hal-lpem", "name": "HAL LPEM", "kind": "hal", "url": url, "category": "research",
              "collection": "LPEM", "max_new_items": 500, **fields}
    return Source(**values)


def crawl(source: Source, state: SourceState | None = None, settings: CrawlSettings = SETTINGS):
    with Fetcher(settings) as fetcher:
        return crawl_source(source, fetcher, state or SourceState(), NOW)


def three_pages() -> list[dict]:
    count = 2 * PAGE_ROWS + 5
    return [deposit(n, day=1 + n % 28) for n in range(count)] + [deposit(900 + n, collection="OTHER") for n in range(4)]


def test_every_deposit_of_three_pages_once_newest_first() -> None:
    with serve_hal(three_pages()) as api:
        result = crawl(hal_source(api.url))
    assert result.outcome.status == "ok" and result.outcome.pages_fetched == 3
    urls = [i.url for i in result.items]
    assert len(urls) == 2 * PAGE_ROWS + 5 == len(set(urls))
    assert all(q["fq"] == "collCode_s:LPEM" and q["sort"].startswith("submittedDate_tdate desc") for q in api.queries)
    assert [q["cursorMark"] for q in api.queries][0] == "*"
    assert len({q["cursorMark"] for q in api.queries}) == 3


def test_a_deposit_becomes_an_item_with_its_publication() -> None:
    with serve_hal([deposit(7, doi="10.1038/S41586-026-00007-X", journal="Nature", day=12)]) as api:
        (item,) = crawl(hal_source(api.url)).items
    assert item.url == "https://hal.science/hal-04000007" and item.guid == "hal-04000007"
    assert item.title.endswith("(7)") and len(item.title.split()) == 7
    assert item.published_at == datetime(2026, 10, 12, tzinfo=UTC)
    assert "transition nette vers 30 kelvins" in item.text and item.lang == "fr"
    publication = item.publication
    assert publication.journal == "Nature" and publication.doc_type == "ART" and publication.open_access
    assert publication.doi == "10.1038/s41586-026-00007-x"
    assert publication.authors == ("Camille Martin", "Yanis Benali", "Auteur 7")
    assert publication.pdf_url == "https://hal.science/hal-04000007/document"
    assert "Camille Martin" in item.summary and "Nature" in item.summary


def test_a_structure_is_asked_by_its_id() -> None:
    with serve_hal([deposit(1, structure=123456), deposit(2, structure=999)]) as api:
        result = crawl(hal_source(api.url, collection=None, structure="123456"))
    assert [i.guid for i in result.items] == ["hal-04000001"]
    assert api.queries[0]["fq"] == "structId_i:123456"


def test_later_runs_stop_at_the_first_known_deposit() -> None:
    deposits = three_pages()
    with serve_hal(deposits) as api:
        first = crawl(hal_source(api.url))
        known = frozenset(i.url for i in first.items)
        api.deposits.append(deposit(500, day=28, month=11))
        api.queries.clear()
        second = crawl(hal_source(api.url), SourceState(known_urls=known, first_run=False))
    assert [i.guid for i in second.items] == ["hal-04000500"]
    assert len(api.queries) == 1


def test_the_new_items_budget_and_page_limit_hold() -> None:
    with serve_hal(three_pages()) as api:
        budget = crawl(hal_source(api.url, max_new_items=40))
        pages = crawl(hal_source(api.url, max_pages=1))
    assert len(budget.items) == 40
    assert len(pages.items) == PAGE_ROWS and pages.outcome.pages_fetched == 1


def test_an_empty_collection_is_a_success_with_no_item() -> None:
    with serve_hal([]) as api:
        result = crawl(hal_source(api.url))
    assert result.outcome.status == "ok" and result.items == () and result.outcome.pages_fetched == 1


@pytest.mark.parametrize(("mode", "code"), [("error", "http_500"), ("bad_request", "http_400"),
                                            ("html", "content_type")])
def test_hal_errors_are_source_failures(mode: str, code: str) -> None:
    with serve_hal(three_pages()) as api:
        api.mode = mode
        result = crawl(hal_source(api.url))
    assert result.outcome.status == "error" and result.outcome.error_code == code and result.items == ()


def test_a_slow_answer_times_out_as_a_source_failure() -> None:
    with serve_hal(three_pages()) as api:
        api.mode, api.delay_s = "slow", 3.0
        result = crawl(hal_source(api.url), settings=IMPATIENT)
    assert result.outcome.status == "error" and result.outcome.error_code == "timeout"


def test_hal_obeys_robots_txt_like_every_source() -> None:
    with serve_hal(three_pages()) as api:
        api.robots = "User-agent: *\nDisallow: /search\n"
        result = crawl(hal_source(api.url))
        asked = list(api.queries)
    assert result.outcome.status == "error" and result.outcome.error_code == "robots_disallowed"
    assert result.items == () and asked == []  # the API was never asked


def test_a_later_page_failing_keeps_what_was_read() -> None:
    with serve_hal(three_pages()) as api:
        original = api.answer

        def second_page_fails(query):
            if query.get("cursorMark") != "*":
                api.mode = "error"
            return original(query)

        api.answer = second_page_fails
        result = crawl(hal_source(api.url))
    assert result.outcome.status == "ok" and result.outcome.page_errors == 1
    assert len(result.items) == PAGE_ROWS


@pytest.mark.parametrize(("url", "target"), [
    ("https://hal.science/LPEM", ("collection", "LPEM")),
    ("https://hal.archives-ouvertes.fr/LPEM/", ("collection", "LPEM")),
    ("https://hal.science/search/index/?q=*&qa[collCode_s][]=lpem", ("collection", "LPEM")),
    ("https://hal.univ-exemple.fr/search/index/?q=*&structId_i=123456", ("structure", "123456")),
    ("https://cnrs.hal.science/INSU", ("collection", "INSU")),
    ("https://hal.science/hal-04000007", None),
    ("https://hal.science/search/index/?q=supraconductivite", None),
    ("https://www.example.org/LPEM", None),
])
def test_a_link_to_a_hal_collection_or_structure_is_recognised(url: str, target) -> None:
    from pipeline.crawl.hal import hal_target

    assert hal_target(url) == target


def discover_home(tmp_path, home_html: str) -> list[dict]:
    """What `veille discover` proposes for a site on 127.0.0.1 whose home page is `home_html`."""
    from pipeline.crawl.discover import discover_sources
    from pipeline.demo.server import serve_sites

    site = tmp_path / "sites" / "labo"
    site.mkdir(parents=True)
    site.joinpath("index.html").write_text(home_html, encoding="utf-8")
    with serve_sites(tmp_path / "sites") as sites, Fetcher(SETTINGS) as fetcher:
        return discover_sources(sites.base_urls["labo"] + "/", fetcher)


def test_discover_proposes_the_hal_collection_a_lab_links_to(tmp_path) -> None:
    from pipeline.config import load_config

    found = discover_home(tmp_path, "<html><head><title>Accueil | Laboratoire de physique</title></head><body>"
                                    "<a href='https://hal.science/hal-04000001'>Un article</a>"
                                    "<a href='https://hal.science/LPEM'>Nos publications sur HAL</a></body></html>")
    hal = [e for e in found if e["kind"] == "hal"]
    assert hal == [{"id": "127-0-0-1-hal", "name": "Laboratoire de physique - publications (HAL)", "kind": "hal",
                    "collection": "LPEM", "category": "research"}]
    import yaml

    (tmp_path / "sources.yaml").write_text(yaml.safe_dump({"sources": hal}), encoding="utf-8")
    assert load_config(tmp_path / "sources.yaml").sources[0].url == "https://api.archives-ouvertes.fr/search/"


def test_discover_reads_past_hrefs_that_cannot_be_urls(tmp_path) -> None:
    found = discover_home(tmp_path, "<html><head><title>Accueil | Labo</title>"
                                    "<link rel='alternate' type='application/rss+xml' href='http://[::1'></head><body>"
                                    "<nav><a href='http://[::1'>Actualités</a></nav>"
                                    "<a href='https://hal.science/LPEM'>Nos publications sur HAL</a></body></html>")
    assert [e["kind"] for e in found] == ["hal"]  # the broken links are skipped, the good one still found


@pytest.mark.parametrize("body", [b'{"response": {"numFound": "many", "docs": [{"halId_s": 7}, "x"]}}',
                                  b'[1, 2]', b'{"error": {"msg": "boom"}}', b'\xff\xfe'])
def test_odd_answers_never_raise(body: bytes) -> None:
    from pipeline.crawl.hal import parse_page
    from pipeline.models import FetchResult

    page = parse_page(FetchResult("u", "u", 200, body=body, content_type="application/json"))
    assert getattr(page, "code", None) == "bad_hal_response" or page.deposits == ({"halId_s": 7},)
