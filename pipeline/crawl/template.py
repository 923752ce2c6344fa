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
from dataclasses import dataclass, field

import lxml.html

from pipeline.normalize import clean_text, fold_for_matching

TITLE_SEPARATORS = re.compile(r"\s+[|–—-]\s+|\s+::\s+|\s+»\s+|\s+·\s+")
REPEATED_SHARE = 0.6
MIN_PAGES = 4
MAX_TEXT_CHARS = 300  # longer lines are content, never template
BLOCK_XPATH = ("//body//*[self::p or self::li or self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6 "
               "or self::div or self::section or self::a or self::span or self::td or self::dt or self::dd]")


@dataclass(frozen=True)
class Template:
    """Folded texts that most of the source's pages share, by the role they play on the page:
    "h1" (a first-level heading), "title" (<title> or one of its parts), "og" (og:title,
    og:site_name), "line" (the text of any element of the body, a line of the extracted text)."""

    texts: dict[str, frozenset[str]] = field(default_factory=dict)

    def has(self, text: str, role: str = "line") -> bool:
        known = self.texts.get(role)
        if not known:  # nothing to compare with: no need to fold the text
            return False
        folded = fold_for_matching(text)
        return bool(folded) and folded in known

    def strip(self, text: str) -> str:
        """`text` without its lines that belong to the template."""
        return "\n".join(line for line in text.split("\n") if not self.has(line))


def title_parts(title: str) -> list[str]:
    """The segments of a <title> ("Post – Site – Tagline" -> three parts)."""
    return [part.strip() for part in TITLE_SEPARATORS.split(clean_text(title).replace("\n", " ")) if part.strip()]


def page_texts(tree: lxml.html.HtmlElement, text: str = "") -> set[tuple[str, str]]:
    """The short texts of one page that a template may repeat, as (role, folded text) pairs (roles:
    see Template); the lines of its extracted `text` count as "line"."""
    doc_title = " ".join(tree.xpath("//title//text()"))
    found = [("h1", node.text_content()) for node in tree.xpath("//h1")]
    found += [("title", part) for part in (doc_title, *title_parts(doc_title))]
    found += [("og", value) for value in tree.xpath("//meta[@property='og:title' or @property='og:site_name']/@content")]
    found += [("line", node.text_content()) for node in tree.xpath(BLOCK_XPATH)]
    found += [("line", line) for line in text.split("\n")]
    return {(role, folded) for role, t in found if t and len(t) <= MAX_TEXT_CHARS and (folded := fold_for_matching(t))}


def learn_template(pages: Iterable[set[tuple[str, str]]]) -> Template:
    """The texts present, in one role, on most of `pages` (each the `page_texts` of one page)."""
    pages = list(pages)
    counts = Counter(pair for page in pages for pair in page)
    needed = max(MIN_PAGES, math.ceil(REPEATED_SHARE * len(pages)))
    texts: dict[str, set[str]] = {}
    for (role, text), count in counts.items():
        if count >= needed:
            texts.setdefault(role, set()).add(text)
    return Template({role: frozenset(found) for role, found in texts.items()})
