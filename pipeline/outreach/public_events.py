"""Stored stories -> the coming dated public events the map's agenda.ics lists beside the initiatives.

A story gives an event when (all read from its own text, never from a site's name or URLs):
- it is a story, not a listing, index, section or about page (pipeline.digest.pages);
- it says near its start that the event is open to the public: the digest's "événement ouvert au
  public" and "pour un large public" cues, or a thesis / HDR defence (public by law); a seminar or a
  group's internal life that names no public is left out, as are course material and routine notices;
- it announces a date (pipeline.digest.events) on or after the day it was published (a report of
  a past event is no announcement), not a deadline ("avant le", "date limite"...) nor the page's own
  date line (a bare day in the text equal to the publication day), still to come today.

One event per story: a story relayed by several sources (one cluster) gives one event, read from
the cluster's representative when it qualifies, else from the first relay that does. A story that
is the evidence of an initiative's edition on the same days is left to that initiative (one event,
the initiative's). The UID comes from the story (cluster id) and the event's first day, so it
survives nightly refreshes, re-crawls and a change of representative.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Iterable, Sequence

from pipeline.digest.events import PARIS, UID_DOMAIN, EventDate, extract_event_dates
from pipeline.digest.pages import is_story
from pipeline.digest.rank import (
    ADMIN_CUES, COURSE_CUES, INSIDER_CUES, JOB_CUES, PUBLIC_AUDIENCE_CUES, PUBLIC_EVENT_CUES, REPEATED_CUES,
    THESIS_CUES,
)
from pipeline.models import CATEGORY_LABELS_FR, Candidate, Item
from pipeline.normalize import clean_text, fold_for_matching
from pipeline.outreach.catalogue import Initiative
from pipeline.outreach.detect import PUBLIC_LEAD_CHARS, TEXT_CHARS, find_contact, find_place

PUBLIC_LABEL = "Événement ouvert au public"
DEFENCE_LABEL = "Soutenance"
SIBLING_CHARS = 400  # of another page of the source: enough for the opening a listing would quote
CONTEXT_CHARS = 25  # how far before a date a deadline or a publication stamp is looked for
NOT_AN_EVENT_BEFORE = re.compile(
    r"\b(?:avant le|avant|jusqu['’]au|jusqu['’]à|date limite|au plus tard|limite le|publié le|publiée le|mis à jour le"
    r"|mise à jour le|modifié le|posté le|deadline)\s*(?:[:,]\s*)?(?:le\s+)?(?:\w+\s+)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PublicEvent:
    """One coming public event announced by a stored story."""

    uid: str  # stable: the story and the event's first day
    title: str
    url: str
    organiser: str  # the name of the source that published the announcement
    relayed_by: tuple[str, ...]  # the other sources that carried the story
    when: EventDate
    place: str
    contact: str
    categories: tuple[str, ...]  # French labels: the kind of event, the story's category


def coming_public_events(stories: Sequence[Candidate], initiatives: Sequence[Initiative], today: date) -> list[PublicEvent]:
    """The coming public events of `stories` (one Candidate per stored item, each cluster's
    representative first), minus those an initiative's edition already stands for; by start."""
    siblings = _by_source(c.item for c in stories)
    found = []
    for cluster_id, members in _by_cluster(stories).items():
        event = _first_announced(members, siblings, today)
        if event is None:
            continue
        member, when = event
        if _an_initiative_stands_for(members, when, initiatives):
            continue
        found.append(_public_event(member, when, members, cluster_id))
    return sorted(found, key=lambda e: (e.when.start, e.title))


def _by_source(items: Iterable[Item]) -> dict[str, list[Item]]:
    """Each source's pages, their texts cut to their openings: all a listing check reads of them."""
    sources: dict[str, list[Item]] = {}
    for item in items:
        opening = replace(item, text=item.text[:SIBLING_CHARS], summary=item.summary[:SIBLING_CHARS])
        sources.setdefault(item.source_id, []).append(opening)
    return sources


def _by_cluster(stories: Iterable[Candidate]) -> dict[str, list[Candidate]]:
    clusters: dict[str, list[Candidate]] = {}
    for story in stories:
        clusters.setdefault(story.cluster_id, []).append(story)
    return clusters


def when_end(when: EventDate) -> date:
    return when.end_day or when.start_day


def is_public_event(item: Item) -> bool:
    """The story names its public near the start (or is a thesis defence), and is neither course
    material, a group's internal life nor a routine notice."""
    title = fold_for_matching(item.title)
    if any(cues.search(title) for cues in (INSIDER_CUES, COURSE_CUES, JOB_CUES, ADMIN_CUES)):
        return False
    lead = fold_for_matching(f"{item.title}\n{(item.text or item.summary)[:PUBLIC_LEAD_CHARS]}")
    if not any(cues.search(lead) for cues in (PUBLIC_EVENT_CUES, PUBLIC_AUDIENCE_CUES, THESIS_CUES)):
        return False
    folded = fold_for_matching(f"{item.title}\n{(item.text or item.summary)[:TEXT_CHARS]}")
    return len({m.group(0) for m in COURSE_CUES.finditer(folded)}) < REPEATED_CUES


def announced_date(candidate: Candidate) -> EventDate | None:
    """The event date the story announces: the first date in its title, else in its text, that
    is no earlier than its publication day and no deadline or publication stamp."""
    item = candidate.item
    reference = item.published_at or candidate.first_seen_at
    published_day = _paris_day(reference)
    for part, in_body in ((item.title, False), ((item.text or item.summary)[:TEXT_CHARS], True)):
        text = " ".join(clean_text(part).split())
        for when in extract_event_dates(text, reference):
            if when_end(when) >= published_day and not _is_deadline(text, when) \
                    and not (in_body and _is_date_stamp(when, item, published_day)):
                return when
    return None


def _paris_day(moment: datetime) -> date:
    """The Paris day of `moment`; its own day at the edges of the calendar (a stored year 9999)."""
    try:
        return moment.astimezone(PARIS).date()
    except OverflowError:
        return moment.date()


def _is_date_stamp(when: EventDate, item: Item, published_day: date) -> bool:
    """A bare day in the text that is the publication day: the page's own date line, not an event."""
    return item.published_at is not None and when.all_day and when.end is None and when.start_day == published_day


def _is_deadline(text: str, when: EventDate) -> bool:
    position = text.find(when.text)
    return position > 0 and bool(NOT_AN_EVENT_BEFORE.search(text[max(0, position - CONTEXT_CHARS):position]))


def _first_announced(members: Iterable[Candidate], siblings: dict[str, list[Item]],
                     today: date) -> tuple[Candidate, EventDate] | None:
    """The first member that is a public story announcing an event still to come. The page checks
    against the source's other pages (a listing?) come last: they are the costly ones."""
    for member in members:
        if is_public_event(member.item):
            when = announced_date(member)
            if when is not None and when_end(when) >= today and is_story(member.item, siblings[member.item.source_id]):
                return member, when
    return None


def _an_initiative_stands_for(members: Sequence[Candidate], when: EventDate, initiatives: Sequence[Initiative]) -> bool:
    """An initiative whose evidence is one of the story's items, or whose title is the story's, has
    an edition on days that meet the event's."""
    urls = {m.item.url for m in members}
    titles = {fold_for_matching(m.item.title) for m in members}
    for initiative in initiatives:
        if not (urls & set(initiative.evidence) or fold_for_matching(initiative.title) in titles):
            continue
        for edition in initiative.editions:
            if edition.start and edition.start <= when_end(when) and when.start_day <= (edition.end or edition.start):
                return True
    return False


def _public_event(member: Candidate, when: EventDate, members: Sequence[Candidate], cluster_id: str) -> PublicEvent:
    item = member.item
    text = clean_text(item.text or item.summary)
    others = tuple(dict.fromkeys(m.source_name for m in members if m.source_name != member.source_name))
    kind = DEFENCE_LABEL if THESIS_CUES.search(fold_for_matching(f"{item.title}\n{text[:PUBLIC_LEAD_CHARS]}")) \
        else PUBLIC_LABEL
    category = CATEGORY_LABELS_FR.get(member.category or "")
    return PublicEvent(
        uid=event_uid(cluster_id, when),
        title=" ".join(clean_text(item.title).split()) or "(sans titre)",
        url=item.url,
        organiser=member.source_name,
        relayed_by=others,
        when=when,
        place=find_place(text),
        contact=find_contact(text[:TEXT_CHARS]),
        categories=tuple(c for c in (kind, category) if c),
    )


def event_uid(cluster_id: str, when: EventDate) -> str:
    digest = hashlib.sha1(f"{cluster_id}|{when.start_day.isoformat()}".encode("utf-8")).hexdigest()[:24]
    return f"story-{digest}@{UID_DOMAIN}"
