"""Is a stored page a story? Listings, indexes, about pages and empty placeholders are not.

The crawl may store such pages (a sitemap lists them, a listing links to them); they are kept for
their links but never become a digest entry or an initiative proposal. The decision reads the page
itself and the other pages of its source, never a site's name or its own URL conventions:

- `index`: the page is the parent of several other pages of its source (its path is their prefix),
  or its text starts with, and repeats, the titles or openings of several of them (a news listing,
  a tag page; a story followed by a "latest news" box is still a story), or its title is that of a
  listing's pagination, a date archive or a tag page ("Page 2 sur 5", "Archives mars 2021", "Tag : robotique");
- `section`: its title is only the name of a section or a site page ("Actualités", "Blog",
  "À propos", "Contact", "Publications", "Talks 2021", "Galerie", "404 - Page not found"...);
- `placeholder`: there is nearly no text ("à venir", a thank-you page).

`non_story_pages` returns {item_id: code}; `story_code` judges one page alone (no siblings known).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Iterable, Sequence
from urllib.parse import unquote, urlsplit

from pipeline.models import Item
from pipeline.normalize import fold_for_matching

MIN_STORY_WORDS = 5  # an empty placeholder ("à venir"); a feed may give only a one-line summary
MIN_CHILDREN = 2  # a path that prefixes this many sibling pages is an index
MIN_REPEATED = 2  # a text quoting this many sibling titles or openings is a listing
OPENING_CHARS = 60  # how much of a sibling's opening must recur
MIN_TITLE_CHARS = 12  # shorter titles are too common to prove a quotation
LISTING_START_CHARS = 200  # a listing quotes its first entry within this many characters...
LISTING_START_SHARE = 0.2  # ...or this share of its text

# Folded titles of section and site pages, in French and English.
SECTION_WORDS = (
    "accueil", "home", "actualites", "actualite", "actus", "news", "nouvelles", "dernieres nouvelles", "blog",
    "blogs", "articles", "billets", "posts", "archives", "archive", "evenements", "evenement", "events", "agenda",
    "calendrier", "seminaires", "talks", "conferences", "activites", "activities", "publications", "projets",
    "projects", "a propos", "about", "about us", "qui sommes nous", "contact", "contacts",
    "nous contacter", "equipe", "team", "membres", "members", "people", "personnes", "partenaires", "partners",
    "liens", "links", "ressources", "resources", "tags", "tag", "categories", "categorie", "category",
    "mentions legales", "plan du site", "sitemap", "recherche", "search", "merci", "thanks", "page not found",
    "page introuvable", "newsletter", "faq", "cours", "courses", "enseignements", "seances", "sessions",
    "galerie", "galeries", "gallery", "photos", "videos", "medias", "documents", "telechargements", "downloads",
    "adherer", "nous rejoindre", "rejoignez nous", "join us", "historique", "history",
    "sponsors", "ressources pedagogiques", "planning", "evenements a venir", "evenements passes", "upcoming events",
    "past events", "prochains seminaires", "prochains evenements", "resultats de recherche", "search results",
    "page non trouvee", "not found", "erreur 404", "404", "lectures", "enseignement", "commentaires", "comments",
    "licence", "license", "featured posts", "a la une",
)
_SECTION_TITLE = re.compile(
    r"^(?:(?:les|nos|la|le|l|our|all|toutes les|tous les)\s+)?(?:" + "|".join(SECTION_WORDS) + r")"
    r"(?:\s+(?:du|de la|des|de l|of the|of|de|d)\s+\S+(?:\s+\S+)?)?(?:\s+(?:page|par|by)\s+\S+)?"
    r"(?:\s+(?:19|20)\d\d(?:\s+(?:19|20)\d\d)?)?$"
)
_THANKS = re.compile(r"^(?:thanks?|thank you|merci)\b")
# An error page served with 200, "About <site name>".
_SITE_PAGE_TITLE = re.compile(
    r"^(?:404|erreur 404)\b|\bpage (?:not found|introuvable|non trouvee)$|^(?:about|a propos)(?: \S+){0,2}$"
)
# Titles of pages the crawl reaches through a listing: its pagination, an archive by date, a tag or category page.
_MONTHS = ("janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre|january|february"
           "|march|april|may|june|july|august|september|october|november|december")
_LISTING_TITLE = re.compile(
    r"^(?:\S+ ){0,5}page \d+(?: (?:sur|of|de) \d+)?$"  # "Blog - Page 3", "Page 2 sur 5"
    r"|^(?:archives?(?: (?:for|of|de|du|des))? )?(?:(?:" + _MONTHS + r") )?(?:19|20)\d\d(?: (?:19|20)\d\d)?$"
    r"|^(?:(?:posts?|articles?|billets?|entries) )?(?:tagged|tagges?|taggues?|tags?|categor(?:y|ies|ie)|archives?)(?: \S+){0,3}$"
)


def non_story_pages(items: Sequence[Item]) -> dict[str, str]:
    """{item_id: "index" | "section" | "placeholder"} for the pages that are no story."""
    found: dict[str, str] = {}
    for siblings in _by_source(items).values():
        for item in siblings:
            code = story_code(item) or _index_code(item, siblings)
            if code:
                found[item.item_id] = code
    return found


def story_code(item: Item) -> str | None:
    """Why this page alone is no story ("section", "placeholder"), or None."""
    title = fold_for_matching(item.title)
    if not title or _SECTION_TITLE.match(title) or _THANKS.match(title):
        return "section"
    if _SITE_PAGE_TITLE.search(title):
        return "section"
    if _LISTING_TITLE.search(title):
        return "index"
    if len(fold_for_matching(item.text or item.summary).split()) < MIN_STORY_WORDS:
        return "placeholder"
    return None


def is_story(item: Item, siblings: Sequence[Item] = ()) -> bool:
    return story_code(item) is None and _index_code(item, siblings) is None


def _by_source(items: Iterable[Item]) -> dict[str, list[Item]]:
    groups: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        groups[item.source_id].append(item)
    return groups


def _index_code(item: Item, siblings: Sequence[Item]) -> str | None:
    others = [s for s in siblings if s.item_id != item.item_id]
    if _children(item, others) >= MIN_CHILDREN or _quoted(item, others) >= MIN_REPEATED:
        return "index"
    return None


def _path(url: str) -> str:
    parts = urlsplit(url)
    path = unquote(parts.path).lower()
    for suffix in ("index.html", "index.htm", ".html", ".htm"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    return f"{parts.netloc.lower()}{path.rstrip('/')}/"


def _children(item: Item, others: Sequence[Item]) -> int:
    mine = _path(item.url)
    return sum(1 for o in others if _path(o.url).startswith(mine) and _path(o.url) != mine)


def _quoted(item: Item, others: Sequence[Item]) -> int:
    """How many sibling titles or openings the text repeats, when it starts with them (a listing);
    a story followed by a "latest news" box starts with its own text."""
    text = fold_for_matching(f"{item.summary}\n{item.text}")
    if not text:
        return 0
    own_title = fold_for_matching(item.title)
    openings = [fold_for_matching(o.text or o.summary)[:OPENING_CHARS] for o in others]
    shared = {o for o, n in Counter(openings).items() if n > 1}  # a site header every page starts with
    positions = []
    for other, opening in zip(others, openings):
        title = fold_for_matching(other.title)
        if len(title) >= MIN_TITLE_CHARS and title != own_title and title in text:
            positions.append(text.find(title))
        elif len(opening) >= OPENING_CHARS and opening not in shared and text.find(opening) > 0:
            positions.append(text.find(opening))  # at 0: a template this page shares, not a quote
    if not positions or min(positions) > max(LISTING_START_CHARS, LISTING_START_SHARE * len(text)):
        return 0
    return len(positions)
