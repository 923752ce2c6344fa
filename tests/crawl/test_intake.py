"""Values checked where they enter: body types, one-line bounded titles, plausible dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.crawl.fetch import decode_text
from pipeline.crawl.intake import MAX_TITLE_CHARS, admit_item, body_type_problem, checked_body, one_line
from pipeline.models import FetchResult, Item
from pipeline.normalize import content_hash

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
HTML = b"<!doctype html><html><body><a href='/a'>a</a></body></html>"
RSS = b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title></channel></rss>"


def answer(body: bytes, content_type: str) -> FetchResult:
    return FetchResult("http://127.0.0.1/x", "http://127.0.0.1/x", 200, body=body, content_type=content_type,
                       text=decode_text(body, content_type))


@pytest.mark.parametrize(("body", "ctype", "kind"), [
    (PDF, "application/pdf", "html"),
    (PNG, "image/png", "html"),
    (b'{"items": []}', "application/json", "html"),
    (PDF, "text/html; charset=utf-8", "html"),  # the bytes say PDF whatever the header claims
    (PNG, "application/rss+xml", "feed"),
    (PDF, "application/pdf", "feed"),
    (PNG, "image/png", "sitemap"),
    (b"\x00\x01\x02binary\x00" * 20, "application/octet-stream", "feed"),
])
def test_a_body_its_kind_cannot_read_fails_with_content_type(body: bytes, ctype: str, kind: str) -> None:
    checked = checked_body(answer(body, ctype), kind)
    assert checked.error_code == "content_type" and not checked.ok
    assert checked.body == b"" and checked.text == ""
    assert checked.error_detail and "\n" not in checked.error_detail


@pytest.mark.parametrize(("body", "ctype", "kind"), [
    (HTML, "text/html; charset=utf-8", "html"),
    (HTML, "application/xhtml+xml", "html"),
    (HTML, "", "html"),
    (RSS, "application/rss+xml", "feed"),
    (RSS, "text/xml", "feed"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', "application/feed+json", "feed"),
    (HTML, "text/html", "feed"),  # left to the parser, which says not_a_feed
    (b"\x1f\x8b\x08\x00" + b"\x00" * 20, "application/x-gzip", "sitemap"),
    (b"\xff\xfe<\x00r\x00s\x00s\x00", "application/xml", "feed"),  # UTF-16 with its BOM is text
])
def test_a_body_of_a_readable_type_passes(body: bytes, ctype: str, kind: str) -> None:
    result = answer(body, ctype)
    assert body_type_problem(result, kind) is None
    assert checked_body(result, kind) is result


def test_failed_and_not_modified_answers_are_left_alone() -> None:
    failed = FetchResult("http://h/x", "http://h/x", 404, error_code="http_404")
    not_modified = FetchResult("http://h/x", "http://h/x", 304, not_modified=True)
    assert checked_body(failed, "html") is failed and checked_body(not_modified, "html") is not_modified


def test_control_characters_no_parser_accepts_are_dropped_from_the_text() -> None:
    page = b"\x08<html><body>\x00un\x1bdeux\ttrois\n" + b"<p>texte</p>" * 20 + b"</body></html>"
    checked = checked_body(answer(page, "text/html"), "html")
    assert checked.ok and checked.text == page.decode().replace("\x08", "").replace("\x00", "").replace("\x1b", "")


def test_titles_are_one_line_and_bounded() -> None:
    assert one_line("Soutenance\r\nBcc: victime@example.org\u2028fin\x00") == "Soutenance Bcc: victime@example.org fin"
    long = one_line("mot " * 300_000)
    assert len(long) <= MAX_TITLE_CHARS and long.endswith("…") and "\n" not in long
    assert one_line("x" * 1_000_000).endswith("…") and len(one_line("x" * 1_000_000)) == MAX_TITLE_CHARS


@pytest.mark.parametrize("published", [
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC),
])
def test_impossible_dates_are_no_dates(published: datetime) -> None:
    item = Item("i1", "s", "http://h/a", "Un titre\nsur deux lignes", published, "texte")
    admitted = admit_item(item)
    assert admitted.published_at is None
    assert admitted.title == "Un titre sur deux lignes"
    assert admitted.content_hash == content_hash(admitted.title, admitted.text)


def test_a_sound_item_is_kept_as_it_is() -> None:
    item = Item("i1", "s", "http://h/a", "Un titre", datetime(2025, 3, 1, tzinfo=UTC), "texte", content_hash="h")
    assert admit_item(item) is item


def test_texts_the_store_cannot_hold_are_made_storable() -> None:
    item = Item("i1", "s", "http://h/a\ud800", "Titre \udc00", None, "texte \ud83d fin", summary="ok",
                guid="g\ud800")
    admitted = admit_item(item)
    assert (admitted.url, admitted.title, admitted.text, admitted.guid) == ("http://h/a", "Titre", "texte  fin", "g")
    assert admitted.summary is item.summary
