"""A `kind: hal` source: the new deposits of a HAL collection or structure -> items.

HAL (the French national open archive) answers Solr queries as JSON at its search API
(`source.url`, by default https://api.archives-ouvertes.fr/search/). One request per page:

    q=*:*  fq=collCode_s:LPEM (or structId_i:123456)  fl=<FIELDS>  wt=json  rows=PAGE_ROWS
    sort=submittedDate_tdate desc,docid desc  cursorMark=* then the previous answer's nextCursorMark

Newest deposits come first; paging by cursor (Solr's deep paging, which needs the unique key
`docid` in the sort) cannot skip or repeat a deposit when new ones arrive between two pages. The
crawl stops at the last page (numFound reached, no docs, or the cursor no longer moves), after
`source.max_pages` pages, once `source.max_new_items` new deposits are read, or, after the first
run, at the first page holding a deposit already stored (newest first: the rest is known). Every
request goes through the Fetcher (guard, robots.txt, per-origin delay, retries, timeouts), so a HAL
failure is a source failure with the fetch's code; an answer of another type than JSON (an HTML
error page) fails with `content_type` at intake, and JSON that is not HAL's answer with
`bad_hal_response`.

Each deposit becomes an Item: title, date (publication, else production, else deposit), abstract
as text, the HAL page as url, and a Publication (authors, journal or conference, DOI, document
type, open access, PDF).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

from pipeline.crawl.extract import guess_language
from pipeline.crawl.parse import Failure, html_to_text
from pipeline.dates import parse_date_value
from pipeline.models import FetchResult, Item, Publication, Source
from pipeline.normalize import clean_text, clean_url, content_hash, item_id

PAGE_ROWS = 30
FIELDS = (
    "docid", "halId_s", "uri_s", "title_s", "authFullName_s", "abstract_s", "publicationDate_tdate",
    "producedDate_tdate", "submittedDate_tdate", "journalTitle_s", "conferenceTitle_s", "doiId_s",
    "docType_s", "openAccess_bool", "fileMain_s", "language_s",
)
SORT = "submittedDate_tdate desc,docid desc"
HAL_PAGE = "https://hal.science/"
SUMMARY_AUTHORS = 6
COLLECTION_PATH = re.compile(r"^/([A-Z][A-Z0-9_-]{1,63})/?$")  # hal.science/LPEM: collection codes are upper-case


@dataclass(frozen=True)
class HalPage:
    """One answer of the search API."""

    deposits: tuple[dict[str, Any], ...]
    found: int  # numFound: every deposit matching the query
    next_cursor: str | None


def query_url(source: Source, cursor: str = "*", rows: int = PAGE_ROWS) -> str:
    """The search URL of one page of `source`'s deposits, newest first."""
    target = f"collCode_s:{source.collection}" if source.collection else f"structId_i:{source.structure}"
    params = {"q": "*:*", "fq": target, "fl": ",".join(FIELDS), "wt": "json", "rows": rows, "sort": SORT,
              "cursorMark": cursor}
    return f"{source.url}?{urlencode(params)}"


def parse_page(result: FetchResult) -> HalPage | Failure:
    """The deposits of a fetched answer, or Failure(bad_hal_response)."""
    try:
        data = json.loads(result.text or result.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return Failure("bad_hal_response", f"not JSON: {exc}")
    response = data.get("response") if isinstance(data, dict) else None
    docs = response.get("docs") if isinstance(response, dict) else None
    if not isinstance(docs, list):
        error = data.get("error") if isinstance(data, dict) else None
        return Failure("bad_hal_response", f"no response.docs in the answer{': ' + str(error)[:200] if error else ''}")
    cursor = data.get("nextCursorMark")
    found = response.get("numFound")
    return HalPage(tuple(d for d in docs if isinstance(d, dict)), found if isinstance(found, int) else len(docs),
                   cursor if isinstance(cursor, str) else None)


@dataclass(frozen=True)
class HalCrawl:
    items: tuple[Item, ...]
    failure: FetchResult | Failure | None = None  # the first page failed: the source failed
    page_errors: int = 0  # a later page failed: the crawl kept what it had read


def crawl_hal(source: Source, fetch: Callable[[str], FetchResult], is_new: Callable[[str], bool],
              first_run: bool) -> HalCrawl:
    """The new deposits of a hal source (see the module docstring).

    `fetch` fetches a URL (the crawl's bookkeeping included); `is_new` tells a canonical URL not seen
    before (and remembers it)."""
    items: list[Item] = []
    cursor, read = "*", 0
    for page_number in range(max(1, source.max_pages)):
        result = fetch(query_url(source, cursor, min(PAGE_ROWS, source.max_new_items)))
        page = parse_page(result) if result.ok else result
        if not isinstance(page, HalPage):
            if page_number == 0:
                return HalCrawl((), page)
            return HalCrawl(tuple(items), None, 1)
        deposits = [item for item in (deposit_item(d, source) for d in page.deposits) if item]
        new = [item for item in deposits if is_new(item.url)]
        items.extend(new)
        read += len(page.deposits)
        last = not page.deposits or read >= page.found or page.next_cursor in (None, cursor)
        reached_known = len(new) < len(deposits) and not first_run  # newest first: the rest is known
        if last or reached_known or len(items) >= source.max_new_items:
            break
        cursor = page.next_cursor
    return HalCrawl(tuple(items[: source.max_new_items]))


def deposit_item(deposit: dict[str, Any], source: Source) -> Item | None:
    """An Item from one HAL document; None without a title or an identifier."""
    hal_id = _first(deposit.get("halId_s"))
    title = clean_text(_first(deposit.get("title_s")))
    if not hal_id or not title:
        return None
    url = clean_url(_first(deposit.get("uri_s")) or HAL_PAGE + hal_id)
    publication = Publication(
        hal_id=hal_id, doc_type=_first(deposit.get("docType_s")) or "OTHER",
        authors=tuple(clean_text(a) for a in _list(deposit.get("authFullName_s")) if clean_text(a)),
        journal=clean_text(_first(deposit.get("journalTitle_s"))),
        conference=clean_text(_first(deposit.get("conferenceTitle_s"))),
        doi=_doi(_first(deposit.get("doiId_s"))), open_access=deposit.get("openAccess_bool") is True,
        pdf_url=_first(deposit.get("fileMain_s")) or None,
    )
    abstract = html_to_text(_first(deposit.get("abstract_s")))
    summary = publication_line(publication)
    text = abstract or summary
    return Item(
        item_id=item_id(url), source_id=source.id, url=url, title=title, published_at=_date(deposit), text=text,
        summary=summary[:1000], lang=_first(deposit.get("language_s")) or guess_language(text), guid=hal_id,
        content_hash=content_hash(title, text), publication=publication,
    )


def publication_line(publication: Publication) -> str:
    """Authors, venue and DOI in one line (the item's summary)."""
    authors = list(publication.authors[:SUMMARY_AUTHORS]) + (["et al."] if len(publication.authors) > SUMMARY_AUTHORS else [])
    parts = [", ".join(authors), publication.journal or publication.conference,
             f"DOI {publication.doi}" if publication.doi else ""]
    return ". ".join(p for p in parts if p)


def _date(deposit: dict[str, Any]) -> datetime | None:
    for field in ("publicationDate_tdate", "producedDate_tdate", "submittedDate_tdate"):
        value = parse_date_value(_first(deposit.get(field)))
        if value is not None:
            return value
    return None


def _doi(value: str) -> str | None:
    value = value.strip().lower().removeprefix("https://doi.org/").removeprefix("doi:")
    return value if value.startswith("10.") else None


def _first(value: Any) -> str:
    values = _list(value)
    return values[0] if values else ""


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [str(v) for v in items if v is not None and str(v).strip()]


def hal_target(url: str) -> tuple[str, str] | None:
    """("collection", code) or ("structure", id) when `url` is a HAL page of a collection or of a
    structure's deposits (hal.science/LPEM, a HAL portal's search filtered on collCode_s or
    structId_i); None otherwise."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not (host == "hal.science" or host.endswith((".hal.science", "archives-ouvertes.fr")) or host.startswith("hal.")):
        return None
    for name, value in parse_qsl(parts.query):
        if re.fullmatch(r"(?:qa\[)?collCode_s(?:\]\[\])?", name) and re.fullmatch(r"[A-Za-z0-9_-]{2,64}", value):
            return "collection", value.upper()
        if re.fullmatch(r"(?:qa\[)?structId_i(?:\]\[\])?", name) and value.isdigit():
            return "structure", value
    match = COLLECTION_PATH.match(parts.path)
    return ("collection", match.group(1)) if match else None
