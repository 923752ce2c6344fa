"""Select the week's stories for the officer's digest: the `Digest` value and how it is built.

`build_digest` keeps the stories first seen during the ISO week (Europe/Paris), one entry per
cluster, drops clusters already sent in an earlier digest and routine notices scoring below
`min_score`, ranks each category by mediation-worthiness (pipeline.digest.rank) and lists the dated events
of the coming weeks. The types are in pipeline.digest.entries, the renderers in pipeline.digest.render
(HTML, text, JSON, files) and pipeline.digest.ics; all are re-exported here.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Sequence

from pipeline.digest.entries import (
    MONTH_ABBR_FR, WEEKDAY_ABBR_FR, Digest, DigestEntry, DigestSection, UpcomingEvent, all_entries,
    digest_subject, format_day, format_event_when, format_period,
)
from pipeline.digest.events import PARIS, events_between, extract_event_dates
from pipeline.digest.ics import render_ics
from pipeline.digest.publications import deposit_only, select_publications
from pipeline.models import CATEGORIES, CATEGORY_LABELS_FR, Candidate, Category, SourceHealth
from pipeline.normalize import clean_text
from pipeline.digest.pages import non_story_pages
from pipeline.digest.rank import DEFAULT_WEIGHTS, Worthiness, WorthinessWeights, reason_line, score_candidate
from pipeline.digest.render import render_html, render_json, render_text, write_digest

__all__ = [
    "MONTH_ABBR_FR", "WEEKDAY_ABBR_FR", "Digest", "DigestEntry", "DigestSection", "UpcomingEvent", "all_entries",
    "build_digest", "digest_subject", "format_day", "format_event_when", "format_period", "health_lines",
    "iso_week_of", "paris_midnight", "render_html", "render_ics", "render_json", "render_text", "summarize",
    "week_bounds", "write_digest",
]

logger = logging.getLogger(__name__)

SUMMARY_CHARS = 280
HIGHLIGHTS = 3
MAX_UPCOMING = 15  # "À venir" lines, at most...
MAX_DATES_PER_STORY = 3  # ...and per story (a programme listing ten dates would flood it)
WORTHY_SCORE = 2.2  # the estimated grade from which a story is "worth a line" (grades: classifiers/worthiness/GUIDE.md)
WEEK_FORMAT = re.compile(r"^(\d{4})-W(\d{2})$")
_TAG = re.compile(r"<[^<>]{0,300}>")


def build_digest(
    candidates: Sequence[Candidate],
    week: str,
    health: Sequence[SourceHealth],
    now: datetime,
    *,
    max_per_section: int = 8,
    uncertain_below: float = 0.6,
    exclude_cluster_ids: frozenset[str] = frozenset(),
    min_score: float = 0.0,
    worthy_score: float = WORTHY_SCORE,
    max_age_days: int = 30,
    upcoming_days: int = 28,
    weights: WorthinessWeights = DEFAULT_WEIGHTS,
) -> Digest:
    """The digest of `week`: stories first seen that week, not yet sent, ranked per category.

    Left out: pages that are no story (listings, indexes, about pages: pipeline.digest.pages), stories
    published more than `max_age_days` before the week and undated pages found by the first crawl of
    their source (a backlog, not the week's news), stories scoring below `min_score` (routine
    notices). A section shows only the stories scoring at least `worthy_score` (a short list, not
    filler) and says how many it left out."""
    monday, sunday = week_bounds(week)
    start, end = paris_midnight(monday), paris_midnight(sunday + timedelta(days=1))
    oldest = start - timedelta(days=max_age_days)
    weekly = [c for c in candidates if start <= c.first_seen_at < end and c.cluster_id not in exclude_cluster_ids]
    no_story = non_story_pages([c.item for c in weekly if not c.publications])  # a deposit is a story
    stories = _best_per_cluster(
        (c, score_candidate(c, now, weights)) for c in weekly
        if c.item.item_id not in no_story and not c.undated_backlog
        and (c.item.published_at is None or c.item.published_at >= oldest)
    )
    kept = [(c, w) for c, w in stories if w.score >= min_score]
    publications = select_publications(kept)
    entries = [_make_entry(c, w, uncertain_below, _story_sources(c)) for c, w in kept if not deposit_only(c)]
    routine = Counter(c.category for c, w in stories if w.score < min_score)
    sections = tuple(_make_section(cat, entries, max_per_section, worthy_score, routine[cat]) for cat in CATEGORIES)
    shown = [e for s in sections for e in s.entries]
    highlights = tuple(sorted(shown, key=_rank_key)[:HIGHLIGHTS])
    upcoming = _collect_upcoming(entries, now, now + timedelta(days=upcoming_days))
    digest = Digest(
        week=week, period_start=monday, period_end=sunday, sections=sections, highlights=highlights,
        upcoming=upcoming, health_lines=health_lines(health), subject="", generated_at=now,
        stories_seen=len(stories), publications=publications,
    )
    logger.info("digest %s: %d stories seen (%d pages no story), %d kept, %d shown",
                week, len(stories), len(no_story), len(kept), len(shown))
    return _with_subject(digest)


def week_bounds(week: str) -> tuple[date, date]:
    """Monday and Sunday of an ISO week written "YYYY-Www"."""
    match = WEEK_FORMAT.match(week)
    if not match:
        raise ValueError(f"week must look like 2026-W48, got {week!r}")
    monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    return monday, monday + timedelta(days=6)


def iso_week_of(moment: datetime) -> str:
    """The "YYYY-Www" week containing `moment` in Paris time."""
    year, week, _ = moment.astimezone(PARIS).isocalendar()
    return f"{year}-W{week:02d}"


def paris_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=PARIS).astimezone(timezone.utc)


def summarize(title: str, text: str, limit: int = SUMMARY_CHARS) -> str:
    """The first sentences of `text`, without markup or a repeated title, cut cleanly on a word."""
    body = " ".join(strip_markup(clean_text(text)).split())
    plain_title = " ".join(strip_markup(title).split())
    if plain_title and body.lower().startswith(plain_title.lower()):
        body = body[len(plain_title):].lstrip(" .:-–—")
    if len(body) <= limit:
        return body
    cut = body[:limit + 1]
    sentence_end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if sentence_end >= limit * 0.6:
        return cut[:sentence_end + 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 0.5 else cut[:limit]).rstrip(" ,;:-–—") + "…"


def strip_markup(text: str) -> str:
    """Text with anything looking like an HTML tag removed (crawled text sometimes carries some)."""
    return _TAG.sub(" ", text or "")


def health_lines(health: Sequence[SourceHealth]) -> tuple[str, ...]:
    """French lines for the footer: the state of the sources, then the backfills still in progress."""
    backfills = [_backfill_line(h) for h in sorted(health, key=lambda h: h.name) if h.backfill_total is not None]
    return (*_state_lines(health), *backfills)


def _backfill_line(h: SourceHealth) -> str:
    return (f"Collecte initiale en cours pour « {h.name} » : {h.backfill_done} pages sur {h.backfill_total}, "
            "la suite à la prochaine collecte.")


def _state_lines(health: Sequence[SourceHealth]) -> tuple[str, ...]:
    """Failing and silent sources first, then a count."""
    failing = sorted((h for h in health if h.consecutive_failures > 0), key=lambda h: (-h.consecutive_failures, h.name))
    silent = sorted((h for h in health if h.silent and h.consecutive_failures == 0), key=lambda h: h.name)
    lines = [_failing_line(h) for h in failing] + [_silent_line(h) for h in silent]
    healthy = len(health) - len(failing) - len(silent)
    if not health:
        return ("Aucune source suivie.",)
    if healthy == len(health):
        if healthy == 1:
            return ("La source suivie a répondu normalement.",)
        return (f"Les {len(health)} sources suivies ont répondu normalement.",)
    word = "source" if healthy <= 1 else "sources"
    return (f"{healthy} {word} sur {len(health)} en bon état.", *lines)


def _failing_line(h: SourceHealth) -> str:
    times = "collecte" if h.consecutive_failures == 1 else "collectes"
    code = f" ({h.last_error_code})" if h.last_error_code else ""
    since = f", dernier succès le {format_day(_paris_day(h.last_success_at))}" if h.last_success_at else ", jamais collectée"
    return f"{_one_line(h.name)} : en échec depuis {h.consecutive_failures} {times}{code}{since}."


def _silent_line(h: SourceHealth) -> str:
    if h.last_new_item_at is None:
        return f"{_one_line(h.name)} : silencieuse, aucun élément reçu à ce jour."
    return f"{_one_line(h.name)} : silencieuse, rien de nouveau depuis le {format_day(_paris_day(h.last_new_item_at))}."


def _paris_day(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def _one_line(text: str) -> str:
    return " ".join(strip_markup(text).split())


def _best_per_cluster(scored: Iterable[tuple[Candidate, Worthiness]]) -> list[tuple[Candidate, Worthiness]]:
    best: dict[str, tuple[Candidate, Worthiness]] = {}
    for candidate, worth in scored:
        known = best.get(candidate.cluster_id)
        if known is None or worth.score > known[1].score:
            best[candidate.cluster_id] = (candidate, worth)
    return list(best.values())


def _story_sources(c: Candidate) -> tuple[str, ...]:
    names = [_one_line(n) for n in (*c.cluster_sources, c.source_name) if n and n.strip()]
    return tuple(dict.fromkeys(names))


def _make_entry(c: Candidate, w: Worthiness, uncertain_below: float, sources: tuple[str, ...]) -> DigestEntry:
    item = c.item
    reference = item.published_at or c.first_seen_at
    text = item.summary if len(item.summary.strip()) >= 80 else (item.text or item.summary)
    return DigestEntry(
        cluster_id=c.cluster_id, item_id=item.item_id, category=c.category, title=_one_line(item.title) or "(sans titre)",
        url=item.url, sources=sources, date=reference, summary=summarize(item.title, text),
        reason=reason_line(w), uncertain=c.confidence < uncertain_below, score=w.score, confidence=c.confidence,
        events=tuple(extract_event_dates("\n".join((item.title, item.summary, item.text)), reference)),
    )


def _make_section(category: Category, entries: list[DigestEntry], limit: int, worthy_score: float,
                  routine: int) -> DigestSection:
    mine = sorted((e for e in entries if e.category == category), key=_rank_key)
    shown = tuple(e for e in mine if e.score >= worthy_score)[:limit]
    return DigestSection(category, CATEGORY_LABELS_FR[category], shown, left_out=len(mine) - len(shown) + routine)


def _rank_key(e: DigestEntry) -> tuple[float, float, str]:
    return (-e.score, -e.date.timestamp(), e.title)


def _collect_upcoming(entries: list[DigestEntry], start: datetime, end: datetime) -> tuple[UpcomingEvent, ...]:
    found = {}
    for entry in entries:
        for event in events_between(list(entry.events), start, end)[:MAX_DATES_PER_STORY]:
            key = (entry.cluster_id, event.start)
            found.setdefault(key, UpcomingEvent(entry.cluster_id, entry.item_id, entry.title, entry.url, entry.sources, event))
    return tuple(sorted(found.values(), key=lambda u: (u.event.start, u.title))[:MAX_UPCOMING])


def _with_subject(d: Digest) -> Digest:
    return replace(d, subject=digest_subject(d))
