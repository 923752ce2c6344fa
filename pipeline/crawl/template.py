"""A source's template: the texts most of its pages share -> never a title, never part of an item's text.

Pages of one site repeat their template: the site-name heading, a "| Site" suffix in <title>, an
og:title that names the site, a banner line, a footer sentence. `learn_template` counts, over the
pages of one crawl, on how many pages each short text appears; a text present on at least
REPEATED_SHARE of them (and on MIN_PAGES pages or more) belongs to the template. Titles that only a
few items share (five posts called "Séminaire") stay titles.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import lxml.html

from pipeline.normalize import clean_text, fold_for_matching

TITLE_SEPARATORS = re.compile(r"\s+[|–—-]\s+|\s+::\s+|\s+»\s+|\s+·\s+")
REPEATED_SHARE = 0.6
MIN_PAGES = 3
MAX_TEXT_CHARS = 300  # longer lines are content, never template


@dataclass(frozen=True)
class Template:
    """Folded texts that the source's pages share."""

    texts: frozenset[str] = frozenset()

    def has(self, text: str) -> bool:
        folded = fold_for_matching(text)
        return bool(folded) and folded in self.texts

    def strip(self, text: str) -> str:
        """`text` without its lines that belong to the template."""
        return "\n".join(line for line in text.split("\n") if not self.has(line))


def title_parts(title: str) -> list[str]:
    """The segments of a <title> ("Post – Site – Tagline" -> three parts)."""
    return [part.strip() for part in TITLE_SEPARATORS.split(clean_text(title).replace("\n", " ")) if part.strip()]


def page_texts(tree: lxml.html.HtmlElement, text: str = "") -> set[str]:
    """The short texts of one page that a template may repeat, folded: headings, <title> and its
    parts, og:title, og:site_name, and the lines of its extracted text."""
    found = [node.text_content() for node in tree.xpath("//h1|//h2|//h3")]
    doc_title = " ".join(tree.xpath("//title//text()"))
    found += [doc_title, *title_parts(doc_title)]
    found += tree.xpath("//meta[@property='og:title' or @property='og:site_name']/@content")
    found += text.split("\n")
    return {fold_for_matching(t) for t in found if t and len(t) <= MAX_TEXT_CHARS} - {""}


def learn_template(pages: Iterable[set[str]]) -> Template:
    """The texts present on most of `pages` (each the `page_texts` of one page of the source)."""
    pages = list(pages)
    counts = Counter(text for page in pages for text in page)
    needed = max(MIN_PAGES, math.ceil(REPEATED_SHARE * len(pages)))
    return Template(frozenset(text for text, count in counts.items() if count >= needed))
