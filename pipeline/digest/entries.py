"""The digest's types and its French wording of dates, periods and subject.

Shared by the selection (pipeline.digest.build) and the renderers (pipeline.digest.render, pipeline.digest.ics).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from pipeline.digest.events import PARIS, EventDate
from pipeline.digest.publications import PublicationEntry
from pipeline.models import Category

MONTH_ABBR_FR = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
WEEKDAY_ABBR_FR = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")


@dataclass(frozen=True)
class DigestEntry:
    """One story of the digest (the representative item of its cluster)."""

    cluster_id: str
    item_id: str
    category: Category
    title: str
    url: str
    sources: tuple[str, ...]  # names of every source that carried the story
    date: datetime  # published_at, or first_seen_at when the source gave no date
    summary: str  # 2-3 lines, cut on a word
    reason: str  # French line: why it is worth a look
    uncertain: bool  # category confidence below the threshold: "à vérifier"
    score: float
    confidence: float
    events: tuple[EventDate, ...] = ()


@dataclass(frozen=True)
class DigestSection:
    category: Category
    label: str  # French heading
    entries: tuple[DigestEntry, ...]
    left_out: int = 0  # stories of the section not worth a line this week (a short list, not filler)

    @property
    def note(self) -> str:
        """French line under the heading when stories were left out: "2 sujets cette semaine ; 5 autres écartés"."""
        if not self.left_out:
            return ""
        shown = len(self.entries)
        subjects = "aucun sujet" if not shown else f"{shown} sujet{'s' if shown > 1 else ''}"
        others = f"{self.left_out} autre{'s' if self.left_out > 1 else ''} écarté{'s' if self.left_out > 1 else ''}"
        return f"{subjects[0].upper()}{subjects[1:]} cette semaine ; {others} (peu d'intérêt pour la médiation)."


@dataclass(frozen=True)
class UpcomingEvent:
    """A dated event of the coming weeks, found in one of the week's stories."""

    cluster_id: str
    item_id: str
    title: str
    url: str
    sources: tuple[str, ...]
    event: EventDate


@dataclass(frozen=True)
class Digest:
    week: str  # "YYYY-Www"
    period_start: date  # Monday
    period_end: date  # Sunday
    sections: tuple[DigestSection, ...]  # Recherche, Enseignement, Initiatives étudiantes
    highlights: tuple[DigestEntry, ...]  # the best few entries, all categories
    upcoming: tuple[UpcomingEvent, ...]  # "À venir", by date
    health_lines: tuple[str, ...]  # French lines on source health
    subject: str
    generated_at: datetime
    stories_seen: int  # stories first seen in the week, before selection
    publications: tuple[PublicationEntry, ...] = ()  # the "Publications" block (HAL deposits)

    @property
    def entry_count(self) -> int:
        return sum(len(section.entries) for section in self.sections)


def all_entries(d: Digest) -> list[DigestEntry]:
    """Every entry of the digest, section after section, in rank order."""
    return [entry for section in d.sections for entry in section.entries]


def digest_subject(d: Digest) -> str:
    """"Veille scientifique - semaine 48 (23-29 nov. 2026) : 14 sujets"."""
    week_number = int(d.week.split("-W")[1])
    count = d.entry_count
    topics = "aucun sujet" if count == 0 else f"{count} sujet" + ("s" if count > 1 else "")
    return f"Veille scientifique - semaine {week_number} ({format_period(d.period_start, d.period_end)}) : {topics}"


def format_period(first: date, last: date, sep: str = "-") -> str:
    """"23-29 nov. 2026", "30 nov.-6 déc. 2026", "28 déc. 2026-3 janv. 2027"."""
    if first.year != last.year:
        return f"{format_day(first)}{sep}{format_day(last)}"
    if first.month != last.month:
        return f"{_day_number(first)} {MONTH_ABBR_FR[first.month - 1]}{sep}{format_day(last)}"
    return f"{_day_number(first)}{sep}{format_day(last)}"


def format_day(day: date) -> str:
    """"3 déc. 2026" ("1er" for the first of the month)."""
    return f"{_day_number(day)} {MONTH_ABBR_FR[day.month - 1]} {day.year}"


def format_clock(moment: datetime) -> str:
    """Paris wall-clock time, French style: "14h", "18h30"."""
    local = moment.astimezone(PARIS)
    return f"{local.hour}h{local.minute:02d}" if local.minute else f"{local.hour}h"


def _day_number(day: date) -> str:
    return "1er" if day.day == 1 else str(day.day)


def format_event_when(event: EventDate) -> str:
    """"jeu. 3 déc. 2026 à 14h", "du 2 au 5 déc. 2026", "mar. 1er déc. 2026"."""
    start_day = event.start_day
    if event.all_day and event.end_day and event.end_day != start_day:
        return "du " + format_period(start_day, event.end_day, sep=" au ")
    text = f"{WEEKDAY_ABBR_FR[start_day.weekday()]} {format_day(start_day)}"
    if not event.all_day:
        text += " à " + format_clock(event.start)
        if event.end:
            text = text.replace(" à ", " de ", 1) + " à " + format_clock(event.end)
    return text


_UNSAFE_IN_URL = re.compile(r"[\x00-\x20\x7f<>\"'`\\]")


def safe_link(url: str) -> str | None:
    """`url` when it is a plain http(s) link that is safe to put in a mail; None otherwise
    (javascript:, data:, relative or malformed links, control characters, quotes)."""
    candidate = (url or "").strip()
    if not candidate or _UNSAFE_IN_URL.search(candidate):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return candidate
