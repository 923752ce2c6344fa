"""Repeated link blocks: the lists of a page, found by their structure, whatever the URLs look like.

A listing shows its items as one block repeated over and over (`<article class="post">`, `<li>`,
`<div class="card">`...), each holding a link to one item. Links whose DOM path (the tags and
classes of the link and its ancestors, without positions) is the same form a group; a group with
MIN_REPEAT distinct URLs or more is a list. Links in navigation, headers, footers, sidebars and
forms are not considered. `link_groups` returns the lists of a page, best first: the one with the
most links carrying title-like text (several words), dated blocks counting extra.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import lxml.html

from pipeline.normalize import clean_text, join_url

MIN_REPEAT = 5
MAX_WORDS_COUNTED = 6
DATE_BONUS = 3
BOILERPLATE_TAGS = frozenset({"nav", "footer", "aside", "form", "header"})
BOILERPLATE_CLASS = re.compile(
    r"(^|[\s_-])(nav|navbar|navigation|menu|footer|sidebar|breadcrumbs?|pagination|pager|widget|share|"
    r"sharing|social|cookie|skip|comments?)([\s_-]|$)", re.IGNORECASE)
CONTENT_TAGS = frozenset({"article", "main"})
DATE_LIKE = re.compile(r"\b(\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}(er)?\s+[a-zéû]{3,9}\.?\s+\d{4}|"
                       r"[A-Z][a-z]{2,8}\.?\s+\d{1,2},?\s+\d{4})\b")


@dataclass(frozen=True)
class BlockLink:
    """One link of a repeated block: its URL, its text and the block (the repeated element) around it."""

    url: str
    anchor: lxml.html.HtmlElement
    block: lxml.html.HtmlElement

    @property
    def text(self) -> str:
        return clean_text(self.anchor.text_content()).replace("\n", " ")


@dataclass(frozen=True)
class LinkGroup:
    """Links sharing one DOM path, one per distinct URL, in page order."""

    path: str
    links: tuple[BlockLink, ...]

    @property
    def score(self) -> float:
        words = sum(min(len(link.text.split()), MAX_WORDS_COUNTED) for link in self.links)
        dated = sum(bool(DATE_LIKE.search(link.block.text_content() or "")) for link in self.links)
        return words + DATE_BONUS * dated


def link_groups(tree: lxml.html.HtmlElement, base_url: str, accept: Callable[[str], bool],
                min_repeat: int = MIN_REPEAT) -> list[LinkGroup]:
    """The groups of `min_repeat` or more accepted links that share a DOM path, best first."""
    by_path: dict[str, dict[str, lxml.html.HtmlElement]] = {}
    for anchor in tree.xpath("//body//a[@href]"):
        url = join_url(base_url, anchor.get("href", ""))  # None for an href that cannot be a link ("http://[::1")
        if not url or not accept(url) or _in_boilerplate(anchor):
            continue
        by_path.setdefault(_dom_path(anchor), {}).setdefault(url, anchor)
    groups = []
    for path, anchors in by_path.items():
        if len(anchors) >= min_repeat:
            members = list(anchors.values())
            groups.append(LinkGroup(path, tuple(BlockLink(u, a, _block(a, members)) for u, a in anchors.items())))
    return sorted(groups, key=lambda g: g.score, reverse=True)


def _dom_path(node: lxml.html.HtmlElement) -> str:
    steps = []
    while node is not None and node.tag not in ("body", "html"):
        classes = sorted(c for c in (node.get("class") or "").split() if not any(ch.isdigit() for ch in c))
        steps.append(".".join([str(node.tag), *classes]))
        node = node.getparent()
    return "/".join(reversed(steps))


def _in_boilerplate(anchor: lxml.html.HtmlElement) -> bool:
    parents = list(anchor.iterancestors())
    in_content = any(p.tag in CONTENT_TAGS or p.get("role") == "main" for p in parents)
    for parent in parents:
        if parent.tag in BOILERPLATE_TAGS and not (parent.tag == "header" and in_content):
            return True
        names = f"{parent.get('class') or ''} {parent.get('id') or ''} {parent.get('role') or ''}"
        if parent.get("role") in ("navigation", "banner", "contentinfo") or BOILERPLATE_CLASS.search(names):
            return True
    return False


def _block(anchor: lxml.html.HtmlElement, members: list[lxml.html.HtmlElement]) -> lxml.html.HtmlElement:
    """The largest ancestor of `anchor` that holds no other link of its group: the repeated element."""
    others = {id(m) for m in members if m is not anchor}
    block = anchor
    for parent in anchor.iterancestors():
        if parent.tag in ("body", "html") or any(id(a) in others for a in parent.iter("a")):
            break
        block = parent
    return block
