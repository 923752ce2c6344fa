"""Pages that are no item: a home page, a listing or index of other pages, an about page.

`not_item_reason(tree, url)` gives a stable code, or None for a page that may be an item:
    home         the site's root page
    pagination   a numbered page of a listing (/page/2/, /page2/, ?page=2)
    about        a page about the site itself (about, contact, team, legal notice) or an index of
                 its tags, categories or authors, by the last segment of its path; or the page of one
                 tag, category, author or member (/tag/x/, /author/x/, /members/x.html)
    listing      a page that is mostly lists of links to other pages of the site: repeated link
                 blocks (blocks.py) hold at least LISTING_SHARE of its content text
and `is_placeholder(tree, template)` tells a page whose article is empty once the source's template
is set aside (settle.py: code "empty").
"""

from __future__ import annotations

import copy
import re
from urllib.parse import parse_qs, urlsplit

import lxml.html

from pipeline.crawl.blocks import link_groups
from pipeline.crawl.parse import html_to_text
from pipeline.crawl.template import Template
from pipeline.normalize import clean_text

PAGINATION_PATH = re.compile(r"/page/?\d+/?$", re.IGNORECASE)
PAGINATION_QUERY = frozenset({"page", "paged", "p_page", "start", "offset"})
ABOUT_SEGMENT = re.compile(
    r"^(a-propos|about|about-?us|about-?me|aboutme|qui-sommes-nous|presentation|contact|contacts|contact-?us|"
    r"nous-contacter|equipe|equipes|team|membres|members|people|personnel|annuaire|mentions-legales|legal|"
    r"credits|accessibilite|plan-du-site|sitemap|tags?|categories|category|categorie|etiquettes?|archives?|"
    r"authors?|auteurs?|search|recherche|thanks|merci|404)(\.html?)?$", re.IGNORECASE)
TAXONOMY_SEGMENT = re.compile(r"^(tags?|categories|category|categorie|etiquettes?|authors?|auteurs?|members|membres|"
                              r"people|team|equipes?)$", re.IGNORECASE)
LISTING_SHARE = 0.5
MIN_ARTICLE_CHARS = 40
CONTENT_JUNK = ".//script|.//style|.//nav|.//footer|.//header|.//aside|.//form|.//noscript"


def not_item_reason(tree: lxml.html.HtmlElement, url: str) -> str | None:
    """Why the page at `url` is no item (a code of the module docstring), or None."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if not path or path.lower() in ("/index.html", "/index.htm", "/index.php"):
        return "home"
    if PAGINATION_PATH.search(parts.path) or PAGINATION_QUERY & set(parse_qs(parts.query)):
        return "pagination"
    segments = path.split("/")
    if ABOUT_SEGMENT.match(segments[-1]) or (len(segments) > 2 and TAXONOMY_SEGMENT.match(segments[-2])):
        return "about"
    if listing_share(tree, url) >= LISTING_SHARE:
        return "listing"
    return None


def listing_share(tree: lxml.html.HtmlElement, url: str) -> float:
    """The share of the page's content text held by repeated blocks of links to the same site. On a
    page with a single <article>, only that article counts (a "recent posts" column beside it does not)."""
    host = urlsplit(url).netloc.lower()
    here = url.split("#", 1)[0]
    groups = link_groups(tree, url, lambda link: urlsplit(link).netloc.lower() == host and link != here)
    articles = tree.xpath("//article[not(ancestor::article)]")
    scope = articles[0] if len(articles) == 1 else None
    blocks = {link.block for g in groups for link in g.links if scope is None or _inside(link.block, scope)}
    if not blocks:
        return 0.0
    outermost = [b for b in blocks if not any(parent in blocks for parent in b.iterancestors())]
    content = _content_chars(scope if scope is not None else tree)
    listed = sum(len(clean_text(b.text_content())) for b in outermost)
    return min(1.0, listed / content) if content else 1.0


def _inside(node: lxml.html.HtmlElement, scope: lxml.html.HtmlElement) -> bool:
    return node is scope or any(parent is scope for parent in node.iterancestors())


def _content_chars(root: lxml.html.HtmlElement) -> int:
    bodies = root.xpath("//body") if root.tag == "html" else [root]
    if not bodies:
        return 0
    body = copy.deepcopy(bodies[0])
    for junk in body.xpath(CONTENT_JUNK):
        if not junk.xpath("ancestor::article|ancestor::main"):
            junk.drop_tree()
    return len(clean_text(body.text_content()))


def is_placeholder(tree: lxml.html.HtmlElement, template: Template) -> bool:
    """The page's single <article> holds less than MIN_ARTICLE_CHARS of text besides the source's
    template (a post that only points elsewhere, an empty page)."""
    articles = tree.xpath("//article[not(ancestor::article)]")
    if len(articles) != 1:
        return False
    lines = html_to_text(lxml.html.tostring(articles[0], encoding="unicode")).split("\n")
    return len(" ".join(line for line in lines if not template.has(line))) < MIN_ARTICLE_CHARS
