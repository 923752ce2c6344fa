"""Values checked where they enter: a body is read only as the type it claims and its bytes
support; an item's title is one line of bounded length and its date a plausible one.

    content_type   the answer claims a type the source's kind cannot be read as (an html source
                   answering a PDF, an image or JSON), or its bytes are those of a binary format
                   (PDF, image, archive, font, audio, video) whatever type it claims
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Literal

from pipeline.dates import plausible_date
from pipeline.models import FetchResult, Item
from pipeline.normalize import content_hash

MAX_TITLE_CHARS = 300
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NO_CONTROLS = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])
Expected = Literal["feed", "html", "sitemap", "hal"]

_MAGIC = (
    (b"%PDF-", "PDF"), (b"\x89PNG", "PNG image"), (b"\xff\xd8\xff", "JPEG image"), (b"GIF8", "GIF image"),
    (b"RIFF", "RIFF media"), (b"PK\x03\x04", "ZIP archive"), (b"\xd0\xcf\x11\xe0", "Office document"),
    (b"7z\xbc\xaf", "7-Zip archive"), (b"Rar!", "RAR archive"), (b"wOFF", "font"), (b"wOF2", "font"),
    (b"OggS", "Ogg media"), (b"ID3", "MP3 audio"), (b"\x1a\x45\xdf\xa3", "Matroska video"),
    (b"\x00\x00\x01\x00", "icon"), (b"\x1f\x8b", "gzip data"),
)
_BINARY_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20)])
_TEXT_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_ANY_KIND = ("", "text/plain", "application/octet-stream", "binary/octet-stream")
_ACCEPTED = {
    "html": ("html",),
    "feed": ("xml", "rss", "atom", "rdf", "json", "html"),  # an HTML page gets the parser's not_a_feed
    "sitemap": ("xml", "gzip", "html"),  # an HTML page gets the parser's not_a_sitemap
    "hal": ("json",),  # HAL's search API answers JSON
}


def body_type_problem(result: FetchResult, expected: Expected) -> str | None:
    """Why the body of `result` cannot be read as `expected`, or None when it can (or failed already)."""
    if not result.ok or result.not_modified:
        return None
    media = result.content_type.split(";", 1)[0].strip().lower()
    binary = binary_format(result.body)
    if binary and not (binary == "gzip data" and expected == "sitemap"):
        return f"the body is {binary} (declared {media or 'no type'}), not a {expected} document"
    if media in _ANY_KIND or any(marker in media for marker in _ACCEPTED[expected]):
        return None
    return f"a {expected} source answered {media}"


def checked_body(result: FetchResult, expected: Expected) -> FetchResult:
    """`result`, or a failed copy with code content_type when its body cannot be read as `expected`;
    its text without the control characters no XML or HTML parser accepts."""
    problem = body_type_problem(result, expected)
    if problem is not None:
        return replace(result, error_code="content_type", error_detail=problem, body=b"", text="")
    if result.text and _CONTROLS.search(result.text):
        return replace(result, text=result.text.translate(_NO_CONTROLS))
    return result


def binary_format(body: bytes) -> str | None:
    """The binary format `body` starts with (its magic bytes), or None for what may be text."""
    for magic, name in _MAGIC:
        if body.startswith(magic):
            return name
    if body[4:8] == b"ftyp":
        return "MP4 media"
    head = body[:4096]
    controls = len(head) - len(head.translate(None, _BINARY_BYTES))
    if controls > max(2, len(head) // 20) and not body.startswith(_TEXT_BOMS):  # a stray control is no format
        return "binary data"
    return None


def one_line(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    """`text` on one line (every run of white space or control characters is one space), at most
    `limit` characters, cut at a word with an ellipsis."""
    flat = " ".join("".join(" " if not ch.isprintable() else ch for ch in text or "").split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + "…"


def admitted_date(value: datetime | None) -> datetime | None:
    """A plausible publication date, or None (year 1, 9999, dates out of range or overflowing)."""
    if value is None:
        return None
    try:
        return plausible_date(value)
    except (OverflowError, ValueError):
        return None


def admit_item(item: Item) -> Item:
    """`item` with a one-line bounded title, a plausible date (or none), and texts the store can
    hold (no lone surrogates)."""
    title = storable(one_line(item.title))
    published = admitted_date(item.published_at)
    texts = {name: storable(getattr(item, name)) for name in _TEXT_FIELDS}
    if title == item.title and published == item.published_at and all(
            texts[name] is getattr(item, name) for name in _TEXT_FIELDS):
        return item
    return replace(item, title=title, published_at=published, **texts,
                   content_hash=content_hash(title, texts["text"]))


_TEXT_FIELDS = ("url", "text", "summary", "lang", "image_url", "guid")


def storable(value: str | None) -> str | None:
    """`value` itself when it is valid Unicode for UTF-8, else without what UTF-8 cannot hold."""
    if value is None:
        return None
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "ignore").decode("utf-8")
