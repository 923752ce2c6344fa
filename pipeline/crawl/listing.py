"""Find the item links and the next page of an html listing page (a "news" or "actualités" page).

With `source.item_selector` the selector decides. Otherwise the items are the links of the page's
repeated blocks (blocks.py: the same DOM path five times or more), whatever their URLs look like.
On a page without such a list, every link is scored: a link to the same
site, inside an article-like block (article, .post, .views-row, ...) or a heading, with a date near
it, a title-like text, a deep or slug-like path, and a block shape repeated on the page looks like an
item. Links in navigation, headers, footers, sidebars, and links to about/team/contact/tag/category/
pagination/login pages are never items. The next page comes from `source.next_selector`, rel=next,
"suivant"/"next" links, or the link to page n+1.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import lxml.etree
import lxml.html

from pipeline.crawl.blocks import link_groups
from pipeline.dates import find_date_in_text, parse_date_value
from pipeline.models import FetchResult, Source
from pipeline.normalize import canonical_url, clean_text, join_url

if TYPE_CHECKING:  # bs4 is imported when a listing is first read (60 ms): a night whose listings all answer 304 reads none
    from bs4 import BeautifulSoup, Tag

SKIP_PATH = re.compile(
    r"/(a-propos|about|qui-sommes-nous|presentation|equipe|equipes|team|membres?|members|people|personnel|"
    r"annuaire|contact|contacts|nous-contacter|tag|tags|etiquettes?|category|categories|categorie|rubriques?|"
    r"author|auteurs?|page|login|connexion|wp-login\.php|wp-admin|user|search|recherche|mentions-legales|"
    r"legal|plan-du-site|sitemap|feed|rss|newsletter|credits|accessibilite|cookies?|comments?)(/|$|\.|\?)",
    re.IGNORECASE,
)
SKIP_QUERY = frozenset({"page", "paged", "replytocom", "share", "print", "s", "q", "lang"})
FILE_EXTENSION = re.compile(r"\.(pdf|jpe?g|png|gif|svg|webp|zip|docx?|xlsx?|odt|pptx?|mp[34]|ics|xml|rss|css|js)$", re.I)
BOILERPLATE_CLASS = re.compile(
    r"(^|[\s_-])(nav|navbar|navigation|menu|footer|sidebar|breadcrumbs?|pagination|pager|widget|share|"
    r"sharing|social|cookie|skip|related|comments?)([\s_-]|$)", re.IGNORECASE)
ITEM_CLASS = re.compile(r"(post|entry|article|news|actu|item|teaser|node|card|views-row|billet|breve|summary)", re.I)
BOILERPLATE_TAGS = frozenset({"nav", "footer", "aside", "form"})
BLOCK_TAGS = frozenset({"article", "li", "div", "tr", "section"})
GENERIC_TEXT = re.compile(r"^(lire la suite|lire plus|en savoir plus|la suite|suite|plus|read more|more|continuer|voir)\W*$", re.I)
NEXT_TEXT = re.compile(r"^(suivant|suivante|page suivante|next|next page|›|»|→|>|>>|articles plus anciens|"
                       r"plus anciens|older|older posts|older entries|entrées précédentes|articles précédents)\W*$",
                       re.IGNORECASE)
SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+){2,}", re.IGNORECASE)
ITEM_PATH = re.compile(r"(/\d{4}/|/node/\d+|[?&]p=\d+|/\d{4}-\d{2}-\d{2}|\.html?$)")
MIN_SCORE = 4
SECOND_LIST_SHARE = 0.5  # another repeated list is taken too when it scores at least this share of the best


@dataclass(frozen=True)
class ItemLink:
    url: str
    title: str
    published_at: datetime | None = None


@dataclass(frozen=True)
class ListingPage:
    links: tuple[ItemLink, ...]
    next_url: str | None


def url_selected(url: str, source: Source) -> bool:
    """The source's include (any) and exclude (none) regular expressions accept `url`."""
    if source.include and not any(re.search(p, url) for p in source.include):
        return False
    return not any(re.search(p, url) for p in source.exclude)


def find_item_links(result: FetchResult, source: Source) -> ListingPage:
    """Item links (deduplicated, in page order) and the next listing page of `result`."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(result.text or result.body.decode("utf-8", "replace"), "lxml")
    base = _base_url(soup, result.final_url)
    if source.item_selector:
        links = _selected_links(soup, source.item_selector, base, source)
    else:
        links = _repeated_links(result.text or result.body.decode("utf-8", "replace"), base, source)
        links = links or _scored_links(soup, base, source)
    return ListingPage(links=tuple(links), next_url=_next_url(soup, base, source))


def _is_tag(node: object) -> bool:
    from bs4 import Tag  # already imported by find_item_links

    return isinstance(node, Tag)


def _base_url(soup: BeautifulSoup, url: str) -> str:
    base = soup.find("base", href=True)
    return (join_url(url, base["href"]) or url) if _is_tag(base) else url


def _selected_links(soup: BeautifulSoup, selector: str, base: str, source: Source) -> list[ItemLink]:
    found: dict[str, ItemLink] = {}
    for element in soup.select(selector):
        anchor = element if element.name == "a" else element.find("a", href=True)
        if not _is_tag(anchor) or not anchor.get("href"):
            continue
        url = join_url(base, anchor["href"])
        if url and url_selected(url, source) and url not in found:
            block = _block_of(anchor)
            found[url] = ItemLink(url, _title_of(anchor, block), _date_near(block))
    return list(found.values())


def _repeated_links(html: str, base: str, source: Source) -> list[ItemLink]:
    """The links of the page's main repeated blocks (see blocks.py): the best list, and the lists
    that score at least half as well (a page with news and events)."""
    try:
        tree = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return []
    listing_key = canonical_url(base)
    groups = link_groups(tree, base, lambda url: _may_be_item(url, base, listing_key, source))
    chosen = [g for g in groups if groups and g.score >= SECOND_LIST_SHARE * groups[0].score]
    found: dict[str, ItemLink] = {}
    for link in sorted((link for g in chosen for link in g.links), key=lambda link: _position(link.anchor)):
        title = "" if GENERIC_TEXT.match(link.text) else link.text
        if link.url not in found or len(title) > len(found[link.url].title):
            found[link.url] = ItemLink(link.url, title or found.get(link.url, ItemLink("", "")).title,
                                       _block_date(link.block))
    return list(found.values())


def _position(node: lxml.html.HtmlElement) -> int:
    return node.sourceline or 0


def _block_date(block: lxml.html.HtmlElement) -> datetime | None:
    for node in block.iter("time"):
        found = parse_date_value(node.get("datetime") or "") or find_date_in_text(node.text_content())
        if found:
            return found
    return find_date_in_text(clean_text(block.text_content())[:400])


def _scored_links(soup: BeautifulSoup, base: str, source: Source) -> list[ItemLink]:
    listing_key = canonical_url(base)
    candidates: list[tuple[str, Tag, Tag | None]] = []
    for anchor in soup.find_all("a", href=True):
        url = join_url(base, anchor["href"])
        if url and _may_be_item(url, base, listing_key, source) and not _in_boilerplate(anchor):
            candidates.append((url, anchor, _block_of(anchor)))
    shapes = Counter(_shape(block) for _, _, block in candidates if block is not None)
    best: dict[str, tuple[int, ItemLink]] = {}
    for url, anchor, block in candidates:
        score = _score(url, anchor, block, base, shapes)
        if score < MIN_SCORE:
            continue
        link = ItemLink(url, _title_of(anchor, block), _date_near(block))
        if url not in best or (len(link.title), score) > (len(best[url][1].title), best[url][0]):
            best[url] = (max(score, best.get(url, (0,))[0]), link)
    return [link for _, link in best.values()]


def _may_be_item(url: str, base: str, listing_key: str, source: Source) -> bool:
    parts, here = urlsplit(url), urlsplit(base)
    if parts.scheme not in ("http", "https") or _site(parts.netloc) != _site(here.netloc):
        return False
    if canonical_url(url) == listing_key or (parts.path.rstrip("/") in ("", here.path.rstrip("/")) and not parts.query):
        return False
    if SKIP_PATH.search(parts.path) or FILE_EXTENSION.search(parts.path):
        return False
    if SKIP_QUERY & set(parse_qs(parts.query)):
        return False
    return url_selected(url, source)


def _site(netloc: str) -> str:
    netloc = netloc.lower()
    return netloc[4:] if netloc.startswith("www.") else netloc


def _in_boilerplate(anchor: Tag) -> bool:
    for parent in anchor.parents:
        if parent.name in BOILERPLATE_TAGS:
            return True
        if parent.name == "header" and not parent.find_parent(["article", "main"]):
            return True
        classes = " ".join(parent.get("class") or []) + " " + str(parent.get("id") or "") + " " + str(parent.get("role") or "")
        if BOILERPLATE_CLASS.search(classes):
            return True
    return False


def _block_of(anchor: Tag) -> Tag | None:
    """The nearest article-like ancestor: the block that holds one item's teaser."""
    for depth, parent in enumerate(anchor.parents):
        if depth > 6 or parent.name in ("body", "main", "html"):
            return None
        if parent.name in BLOCK_TAGS and (parent.name in ("article", "li", "tr") or parent.get("class")):
            return parent
    return None


def _shape(block: Tag) -> str:
    return block.name + "." + ".".join(sorted(block.get("class") or []))


def _score(url: str, anchor: Tag, block: Tag | None, base: str, shapes: Counter[str]) -> int:
    score = 0
    if anchor.find_parent("article") or any(ITEM_CLASS.search(" ".join(p.get("class") or [])) for p in anchor.parents):
        score += 3
    if anchor.find_parent(["h1", "h2", "h3", "h4", "h5", "h6"]) or anchor.find(["h2", "h3", "h4"]):
        score += 2
    if _date_near(block):
        score += 2
    if len(clean_text(anchor.get_text(" ")).split()) >= 4:
        score += 1
    path = urlsplit(url).path
    deeper = path.rstrip("/").count("/") > urlsplit(base).path.rstrip("/").count("/")
    if deeper or SLUG.search(path) or ITEM_PATH.search(url):
        score += 1
    if block is not None and shapes[_shape(block)] >= 3:
        score += 1
    return score


def _title_of(anchor: Tag, block: Tag | None) -> str:
    text = clean_text(anchor.get_text(" ")).replace("\n", " ")
    if text and not GENERIC_TEXT.match(text):
        return text
    if block is not None:
        heading = block.find(["h1", "h2", "h3", "h4", "h5"])
        if _is_tag(heading):
            return clean_text(heading.get_text(" ")).replace("\n", " ")
    return clean_text(str(anchor.get("title") or text))


def _date_near(block: Tag | None) -> datetime | None:
    if block is None:
        return None
    time_tag = block.find("time")
    if _is_tag(time_tag):
        found = parse_date_value(str(time_tag.get("datetime") or "")) or find_date_in_text(time_tag.get_text(" "))
        if found:
            return found
    return find_date_in_text(clean_text(block.get_text(" "))[:400])


def _next_url(soup: BeautifulSoup, base: str, source: Source) -> str | None:
    anchors: list[Tag] = []
    if source.next_selector:
        anchors = [a if a.name == "a" else a.find("a", href=True) for a in soup.select(source.next_selector)]
    else:
        anchors = soup.find_all(["link", "a"], rel="next", href=True)
        anchors += [a for a in soup.find_all("a", href=True) if _says_next(a)]
        anchors += _numbered_next(soup, base)
    here = canonical_url(base)
    for anchor in anchors:
        if _is_tag(anchor) and anchor.get("href"):
            url = join_url(base, anchor["href"])
            if url and canonical_url(url) != here and _site(urlsplit(url).netloc) == _site(urlsplit(base).netloc):
                return url
    return None


def _says_next(anchor: Tag) -> bool:
    classes = " ".join(anchor.get("class") or [])
    label = clean_text(anchor.get_text(" ") or str(anchor.get("aria-label") or ""))
    return bool(re.search(r"(^|[\s_-])(next|older)([\s_-]|$)", classes)) or bool(NEXT_TEXT.match(label))


def _numbered_next(soup: BeautifulSoup, base: str) -> list[Tag]:
    """The link whose text is the number of the page after this one."""
    parts = urlsplit(base)
    query_page = parse_qs(parts.query).get("page", [None])[0]
    path_page = re.search(r"/page/(\d+)/?$", parts.path)
    if query_page is not None and query_page.isdigit():
        current = int(query_page) + 1  # Drupal counts ?page=0 as the first page
    elif path_page:
        current = int(path_page.group(1))
    else:
        current = 1
    wanted = str(current + 1)
    return [a for a in soup.find_all("a", href=True) if clean_text(a.get_text(" ")) == wanted]
