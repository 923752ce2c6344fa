"""The item's own title on its page, never the site's name.

Candidates are the page's <h1> headings, minus those that name the site: a text of the source's
template (see template.py), the og:site_name, a heading that links to the site's root, or one whose
element or parents are classed like a site title (site-name, site-title, logo, brand, masthead).
Among them, the heading that og:title or a part of <title> repeats wins, then the first one in the
article or main content; without a candidate, og:title, then the longest part of <title> that is not
the site's name.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import lxml.html

from pipeline.crawl.template import Template, title_parts
from pipeline.normalize import clean_text, fold_for_matching

SITE_NAME_CLASS = re.compile(r"(site|blog)[-_]?(name|title|logo|brand|branding)|brand|logo|masthead", re.IGNORECASE)
ROOT_HREFS = frozenset({"", "/", "./", "index.html", "/index.html"})
PARENTS_LOOKED_AT = 3


def find_title(tree: lxml.html.HtmlElement, template: Template = Template()) -> str:
    """The title of the item on the page `tree` (see the module docstring)."""
    site_name = _meta(tree, "og:site_name")
    og_title = _meta(tree, "og:title")
    if template.has(og_title, "og") or _same(og_title, site_name):
        og_title = ""
    doc_title = " ".join(tree.xpath("//title//text()"))
    parts = [p for p in title_parts(doc_title) if not template.has(p, "title") and not _same(p, site_name)]
    headings = [h for h in tree.xpath("//h1") if _text(h) and not template.has(_text(h), "h1") and not _names_site(h, site_name)]
    agreed = {fold_for_matching(og_title)} | {fold_for_matching(p) for p in parts}
    for heading in headings:
        if fold_for_matching(_text(heading)) in agreed:
            return _text(heading)
    reference = " ".join(agreed)
    for heading in headings:
        if fold_for_matching(_text(heading)) in reference:
            return _text(heading)
    in_content = [h for h in headings if h.xpath("ancestor::article|ancestor::main|ancestor::*[@role='main']")]
    if in_content:
        return _text(in_content[0])
    if og_title:
        return og_title
    if headings:
        return _text(headings[0])
    return max(parts, key=len) if parts else ""


def _text(node: lxml.html.HtmlElement) -> str:
    return clean_text(node.text_content()).replace("\n", " ")


def _meta(tree: lxml.html.HtmlElement, prop: str) -> str:
    values = tree.xpath(f"//meta[@property='{prop}' or @name='{prop}']/@content")
    return clean_text(values[0]).replace("\n", " ") if values else ""


def _same(text: str, other: str) -> bool:
    return bool(other) and fold_for_matching(text) == fold_for_matching(other)


def _names_site(heading: lxml.html.HtmlElement, site_name: str) -> bool:
    """The heading is the site's name: og:site_name, a link to the root, or a site-title class."""
    if _same(_text(heading), site_name):
        return True
    links = heading.xpath("ancestor-or-self::a[@href]|.//a[@href]")
    if links and all(_is_root(a.get("href")) for a in links) and len(_text(links[0])) >= len(_text(heading)) / 2:
        return True
    node = heading
    for _ in range(PARENTS_LOOKED_AT + 1):
        if node is None or node.tag in ("article", "main", "body"):
            break
        if SITE_NAME_CLASS.search(f"{node.get('class') or ''} {node.get('id') or ''}"):
            return True
        node = node.getparent()
    return False


def _is_root(href: str | None) -> bool:
    href = (href or "").strip()
    return href in ROOT_HREFS or (urlsplit(href).path in ("", "/") and not urlsplit(href).query and href[:1] != "#")
