"""What each page of the outreach map shows: initiatives turned into plain view values (French labels).

Nothing here writes files or escapes HTML (the templates autoescape); it only prepares values:
cards for the catalogue, the organisers x kinds matrix, the timeline of editions, French dates.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Sequence
from urllib.parse import urlsplit

from pipeline.outreach.catalogue import AUDIENCE_LABELS_FR, KIND_LABELS_FR, STATUS_LABELS_FR, Edition, Initiative
from pipeline.normalize import fold_for_matching

MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")
WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
KIND_SHORT_FR = {**KIND_LABELS_FR, "festival": "Festival", "mediatisation": "Médiatisation",
                 "conference_grand_public": "Conférence"}


@dataclass(frozen=True)
class EvidenceLink:
    text: str
    href: str | None  # None: not an http(s) URL, shown as text only


def page_name(initiative_id: str) -> str:
    """File name of an initiative's page (ids are slugs; anything else is replaced)."""
    return re.sub(r"[^a-z0-9-]", "-", initiative_id.lower()) + ".html"


def day_label(day: date, *, weekday: bool = True) -> str:
    """"samedi 11 octobre 2025"."""
    first = "1er" if day.day == 1 else str(day.day)
    label = f"{first} {MONTHS_FR[day.month - 1]} {day.year}"
    return f"{WEEKDAYS_FR[day.weekday()]} {label}" if weekday else label


def edition_dates(edition: Edition) -> str:
    if edition.start is None:
        return ""
    if edition.end is None or edition.end == edition.start:
        return day_label(edition.start)
    return f"du {day_label(edition.start, weekday=False)} au {day_label(edition.end, weekday=False)}"


def next_edition(initiative: Initiative, today: date) -> Edition | None:
    coming = [e for e in initiative.editions if e.start and (e.end or e.start) >= today]
    return min(coming, key=lambda e: e.start or today) if coming else None


def card_of(initiative: Initiative, today: date) -> dict:
    """Everything the catalogue and the initiative page show about one initiative."""
    coming = next_edition(initiative, today)
    return {
        "initiative_id": initiative.initiative_id,
        "page": page_name(initiative.initiative_id),
        "title": initiative.title,
        "kind": initiative.kind,
        "kind_label": KIND_LABELS_FR[initiative.kind],
        "status": initiative.status,
        "status_label": STATUS_LABELS_FR[initiative.status],
        "organisers": initiative.organisers,
        "audience": initiative.audience,
        "audience_labels": [AUDIENCE_LABELS_FR[a] for a in initiative.audience],
        "years": initiative.years,
        "place": initiative.place,
        "contact": initiative.contact,
        "description": initiative.description,
        "validated": initiative.validated,
        "origin": initiative.origin,
        "next_label": edition_dates(coming) if coming else "",
        "edition_rows": [{"year": e.year, "dates": edition_dates(e), "place": e.place}
                         for e in sorted(initiative.editions, key=lambda e: (e.year, e.start or date(e.year, 1, 1)),
                                         reverse=True)],
        "evidence_links": [evidence_link(url) for url in initiative.evidence],
    }


def evidence_link(url: str) -> EvidenceLink:
    """A link only for http(s) URLs: a crawled "javascript:" or "data:" string stays inert text."""
    parts = urlsplit(url.strip())
    if parts.scheme in ("http", "https") and parts.netloc:
        return EvidenceLink(url.strip(), url.strip())
    return EvidenceLink(url, None)


def search_record(initiative: Initiative) -> dict:
    """The entry of window.INITIATIVES: filter values and the folded text searched."""
    searched = " ".join([
        initiative.title, " ".join(initiative.organisers), initiative.description, initiative.place,
        KIND_LABELS_FR[initiative.kind], " ".join(str(y) for y in initiative.years),
    ])
    return {
        "id": initiative.initiative_id,
        "o": list(initiative.organisers),
        "k": initiative.kind,
        "a": list(initiative.audience),
        "st": initiative.status,
        "y": [str(y) for y in initiative.years],
        "s": fold_for_matching(searched),
    }


def filter_options(initiatives: Sequence[Initiative]) -> list[dict]:
    organisers = sorted({o for i in initiatives for o in i.organisers}, key=str.casefold)
    years = sorted({y for i in initiatives for y in i.years}, reverse=True)
    return [
        {"id": "organisateur", "label": "Organisateur", "options": [(o, o) for o in organisers]},
        {"id": "type", "label": "Type d'action", "options": list(KIND_LABELS_FR.items())},
        {"id": "public", "label": "Public", "options": list(AUDIENCE_LABELS_FR.items())},
        {"id": "statut", "label": "Statut", "options": list(STATUS_LABELS_FR.items())},
        {"id": "annee", "label": "Année", "options": [(str(y), str(y)) for y in years]},
    ]


def matrix_rows(initiatives: Sequence[Initiative]) -> tuple[list[tuple[str, str]], list[dict]]:
    """Kinds (columns) and one row per organiser with its count per kind."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for initiative in initiatives:
        for organiser in initiative.organisers:
            counts[organiser][initiative.kind] += 1
    kinds = [(k, KIND_SHORT_FR[k]) for k in KIND_LABELS_FR if any(c[k] for c in counts.values())]
    rows = [
        {"organiser": organiser, "total": sum(counts[organiser].values()),
         "cells": [{"kind": k, "label": label, "count": counts[organiser][k]} for k, label in kinds]}
        for organiser in sorted(counts, key=lambda o: (-sum(counts[o].values()), o.casefold()))
    ]
    return kinds, rows


def timeline_sections(initiatives: Sequence[Initiative], today: date) -> list[dict]:
    """"À venir" (soonest first) and "Passées" (latest first), editions grouped by year."""
    coming, past = [], []
    for initiative in initiatives:
        for edition in initiative.editions:
            row = {"title": initiative.title, "page": page_name(initiative.initiative_id), "place": edition.place,
                   "organisers": ", ".join(initiative.organisers), "dates": edition_dates(edition),
                   "year": edition.year, "sort": edition.start or date(edition.year, 12, 31)}
            last = edition.end or edition.start
            is_coming = last >= today if last else edition.year >= today.year
            (coming if is_coming else past).append(row)
    coming.sort(key=lambda r: (r["sort"], r["title"]))
    past.sort(key=lambda r: (r["sort"], r["title"]), reverse=True)
    return [{"id": "a-venir", "title": "À venir", "groups": _by_year(coming)},
            {"id": "passees", "title": "Passées", "groups": _by_year(past)}]


def _by_year(rows: list[dict]) -> list[dict]:
    groups: list[dict] = []
    for row in rows:
        if not groups or groups[-1]["year"] != row["year"]:
            groups.append({"year": row["year"], "editions": []})
        groups[-1]["editions"].append(row)
    return groups
