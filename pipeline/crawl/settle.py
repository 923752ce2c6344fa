"""The items of one crawl of one source, settled once all its pages are in: the source's template
learned from them and applied, pages that are no item left out.

Each item page was extracted on its own; only together do the pages show what their site repeats.
`settle_items` learns the template (template.py) from every page fetched, then for each item: its
title is chosen again without the template (unless a feed gave it), template lines leave its text
(a text left short is read again from the page's article or main element, without the template),
and a page that `not_item_reason` (pagekind.py) recognises as a home, listing, pagination or about
page, or one whose article is empty without the template (is_placeholder), is dropped (logged with its code; a feed's own entries are always items).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import lxml.etree
import lxml.html

from pipeline.crawl.extract import MIN_TEXT_CHARS, container_text, without_title
from pipeline.crawl.pagekind import is_placeholder, not_item_reason
from pipeline.crawl.template import MIN_PAGES, Template, learn_template, page_texts
from pipeline.crawl.title import find_title
from pipeline.models import FetchResult, Item
from pipeline.normalize import content_hash

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ItemPage:
    """The page an item was extracted from; `from_feed`: a feed listed it (with its own title)."""

    page: FetchResult
    from_feed: bool = False


@dataclass(frozen=True)
class Settled:
    items: tuple[Item, ...]
    left_out: tuple[tuple[str, str], ...] = ()  # (url, reason) of each page left out
    learned: Template | None = None  # the template learned from this crawl's pages (None: too few)

    @property
    def not_items(self) -> Counter[str]:
        """The pages left out, counted by not_item_reason code."""
        return Counter(reason for _, reason in self.left_out)


def settle_items(items: Sequence[Item], pages: dict[str, ItemPage], known: Template = Template()) -> Settled:
    """`items` with the template of their pages applied and the pages that are no item left out;
    `pages` maps an item's url to its page (items without one are kept as they are). A crawl with
    fewer than MIN_PAGES pages (a night with one new post) cannot learn the template: `known`, the
    one learned by an earlier crawl of the source, is applied instead."""
    trees = {url: tree for url, record in pages.items() if (tree := _parse(record.page)) is not None}
    texts = [page_texts(trees[i.url], i.text) for i in items if i.url in trees]
    learned = learn_template(texts) if len(texts) >= MIN_PAGES else None
    template = learned or known
    settled, left_out = [], []
    for item in items:
        tree, record = trees.get(item.url), pages.get(item.url)
        if tree is None or record is None:
            settled.append(item)
            continue
        reason = None if record.from_feed else _not_item(tree, record.page.final_url or item.url, template)
        if reason:
            logger.info("source %s: %s is no item (%s)", item.source_id, item.url, reason)
            left_out.append((item.url, reason))
            continue
        settled.append(_without_template(item, tree, template, keep_title=record.from_feed))
    return Settled(tuple(settled), tuple(left_out), learned)


def _not_item(tree: lxml.html.HtmlElement, url: str, template: Template) -> str | None:
    return not_item_reason(tree, url) or ("empty" if is_placeholder(tree, template) else None)


def _without_template(item: Item, tree: lxml.html.HtmlElement, template: Template, keep_title: bool) -> Item:
    title = item.title if keep_title else (find_title(tree, template) or item.title)
    text = template.strip(item.text)
    if len(text) < MIN_TEXT_CHARS:  # what was left may be a column beside a short article: read the article
        container = without_title(template.strip(container_text(tree)), title)
        text = container if len(container) > len(text) else text
    text = text or item.text
    if (title, text) == (item.title, item.text):
        return item
    return replace(item, title=title, text=text, content_hash=content_hash(title, text))


def _parse(page: FetchResult) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.document_fromstring(page.text) if page.text.strip() else None
    except (lxml.etree.ParserError, ValueError):
        return None
