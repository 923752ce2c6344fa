"""Group the editions of one initiative: Pint of Science 2025 and 2026 of a lab are one initiative.

Two proposals are the same initiative when they belong to the same *series* and share an organiser:
the same known event brand (Pint of Science, Fête de la science...) or the same quoted name
(« Octets et neurones »), or titles whose significant words (years, edition numbers, dates and
stop words removed) largely agree with compatible kinds. Two announcements of the very same event by
different sources (identical series words and the same date) are merged as well. Two different
workshops of one lab are not: their significant words differ.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from dataclasses import replace
from itertools import combinations
from typing import Sequence

from pipeline.outreach.catalogue import Edition, Initiative
from pipeline.normalize import fold_for_matching

logger = logging.getLogger(__name__)

BRANDS: tuple[str, ...] = (
    "pint of science", "fete de la science", "nuit europeenne des chercheurs", "nuit des chercheurs",
    "semaine du cerveau", "these en 180 secondes", "mt180", "nuit des etoiles", "rendez vous aux jardins",
    "olympiades de physique", "olympiades de chimie", "math en jeans", "cordees de la reussite",
    "concours castor", "made in science", "fresque du climat", "semaine du code", "jeudis de la science",
    "salon culture et jeux mathematiques", "semaine des mathematiques", "journees europeennes du patrimoine",
)
_BRAND_ALIASES = {"nuit des chercheurs": "nuit europeenne des chercheurs", "mt180": "these en 180 secondes"}
STOP_WORDS = frozenset(
    "le la les l de du des d un une et a au aux en pour sur dans avec par ou the of s nos notre vos votre "
    "ses son sa leur leurs ce cette ces qui que est sont edition editions saison episode numero n no nouvelle "
    "nouveau nouvel annuel annuelle retour grand grande premier premiere 1er er e eme ieme deux trois quatre cinq dix".split()
)
MONTH_WORDS = frozenset(
    "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre "
    "lundi mardi mercredi jeudi vendredi samedi dimanche".split()
)
QUOTED = re.compile(r"[«“\"]\s*([^»”\"]{3,80}?)\s*[»”\"]")
NUMBERISH = re.compile(r"^\d+(?:e|er|eme|ieme|nd|th)?$")
SAME_SERIES_JACCARD = 0.5
SAME_EVENT_JACCARD = 0.75
MAX_BLOCK = 200  # words shared by more proposals than this do not form comparison blocks


def series_key(title: str) -> tuple[str, ...]:
    """The significant words of a title: no years, numbers, dates, edition words or stop words."""
    words = fold_for_matching(title).split()
    kept = (w for w in words if w not in STOP_WORDS and w not in MONTH_WORDS and not NUMBERISH.match(w))
    return tuple(dict.fromkeys(_stem(w) for w in kept))


def _stem(word: str) -> str:
    """Plural and feminine endings off, so "ateliers" and "atelier" agree."""
    for ending in ("es", "s", "x"):
        if len(word) > 4 and word.endswith(ending):
            return word[: -len(ending)]
    return word


def series_name(initiative: Initiative) -> str | None:
    """The brand or quoted name that names the series, folded; None when the title has neither."""
    folded = fold_for_matching(initiative.title)
    for brand in BRANDS:
        if re.search(rf"\b{brand}\b", folded):
            return _BRAND_ALIASES.get(brand, brand)
    quoted = QUOTED.search(initiative.title)
    return " ".join(series_key(quoted.group(1))) or None if quoted else None


def same_initiative(a: Initiative, b: Initiative) -> bool:
    """Are `a` and `b` editions (or announcements) of one initiative?"""
    shared_organiser = bool(set(map(fold_for_matching, a.organisers)) & set(map(fold_for_matching, b.organisers)))
    name_a, name_b = series_name(a), series_name(b)
    if shared_organiser and name_a and name_a == name_b:
        return True
    if name_a and name_b and name_a != name_b:
        return False
    similarity = _jaccard(series_key(a.title), series_key(b.title))
    compatible = a.kind == b.kind or "autre" in (a.kind, b.kind)
    if shared_organiser:
        return compatible and similarity >= SAME_SERIES_JACCARD
    same_day = bool({e.start for e in a.editions if e.start} & {e.start for e in b.editions if e.start})
    return compatible and same_day and similarity >= SAME_EVENT_JACCARD


def _jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    first, second = set(a), set(b)
    return len(first & second) / len(first | second) if first and second else 0.0


def merge_editions(initiatives: Sequence[Initiative]) -> list[Initiative]:
    """One initiative per group of editions of the same initiative (see `same_initiative`)."""
    parent = list(range(len(initiatives)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in _candidate_pairs(initiatives):
        if find(i) != find(j) and same_initiative(initiatives[i], initiatives[j]):
            parent[find(i)] = find(j)
    groups: dict[int, list[Initiative]] = defaultdict(list)
    for index, initiative in enumerate(initiatives):
        groups[find(index)].append(initiative)
    return sorted((_combine(g) for g in groups.values()), key=lambda i: i.initiative_id)


def _candidate_pairs(initiatives: Sequence[Initiative]) -> set[tuple[int, int]]:
    """Pairs sharing a series name or a not-too-common significant word (blocking)."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for index, initiative in enumerate(initiatives):
        name = series_name(initiative)
        keys = {f"name:{name}"} if name else set()
        keys |= {f"word:{w}" for w in series_key(initiative.title)}
        for key in keys:
            blocks[key].append(index)
    pairs: set[tuple[int, int]] = set()
    for key, members in blocks.items():
        if len(members) > MAX_BLOCK and not key.startswith("name:"):
            continue
        pairs.update(combinations(members, 2))
    return pairs


def _combine(group: list[Initiative]) -> Initiative:
    if len(group) == 1:
        return group[0]
    ordered = sorted(group, key=lambda i: (i.origin != "manual", not i.validated, i.initiative_id))
    head = ordered[0]
    latest = max(group, key=lambda i: (max(i.years, default=0), i.initiative_id))
    editions = _merge_edition_list([e for i in group for e in i.editions])
    kinds = Counter(i.kind for i in group if i.kind != "autre")
    years = {e.year for e in editions}
    return replace(
        head,
        title=head.title if head.origin == "manual" or head.validated else _series_title(latest.title),
        kind=head.kind if head.validated or not kinds else kinds.most_common(1)[0][0],
        organisers=tuple(dict.fromkeys(o for i in ordered for o in i.organisers)),
        audience=tuple(dict.fromkeys(a for i in ordered for a in i.audience)),
        status=head.status if head.validated else ("recurrente" if len(years) > 1 else latest.status),
        editions=editions,
        place=head.place or latest.place,
        contact=head.contact or latest.contact,
        evidence=tuple(dict.fromkeys(u for i in ordered for u in i.evidence)),
        description=head.description if head.validated else latest.description,
    )


def _merge_edition_list(editions: list[Edition]) -> tuple[Edition, ...]:
    """One edition per year, the one with the most details."""
    by_year: dict[int, Edition] = {}
    for edition in editions:
        kept = by_year.get(edition.year)
        if kept is None or (_detail(edition) > _detail(kept)):
            by_year[edition.year] = edition
    return tuple(by_year[y] for y in sorted(by_year))


def _detail(edition: Edition) -> int:
    return (edition.start is not None) + (edition.end is not None) + bool(edition.place)


def _series_title(title: str) -> str:
    """The title without its year or edition number: "Pint of Science 2026 : ..." -> "Pint of Science : ..."."""
    stripped = re.sub(r"\s*\b(?:19|20)\d\d\b\s*", " ", title)
    stripped = re.sub(r"\b\d+(?:e|ème|eme|è)\s+édition\b", "", stripped, flags=re.IGNORECASE)
    stripped = re.sub(r"\s+([:,])", r"\1", re.sub(r"\s{2,}", " ", stripped)).strip(" :-–,")
    return stripped or title
