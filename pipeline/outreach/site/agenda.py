"""The map's agenda.ics: every coming (or ongoing) dated edition of the initiatives shown on the map,
and every coming public event announced by a stored story that is no initiative
(pipeline.outreach.public_events), for staff to subscribe to in the calendar app they already use.

One all-day VEVENT per edition with a start date and no end before today: title, dates, place,
link (the first web evidence), organisers, kind and audience; STATUS:CONFIRMED once the officer
validated the initiative (or entered it by hand), TENTATIVE for a proposal; a proposal's edition
that a confirmed initiative with the same evidence holds on the same days is left out. The UID is the
initiative id and the edition's year, so a nightly refresh updates an event (new date, new place)
rather than duplicating it, and leaves every unchanged event's UID as it was. Written with the
`icalendar` library (pipeline.digest.ics shares the calendar header).

A story's event is timed (Europe/Paris, with its VTIMEZONE) when the text gives a time, all-day
otherwise: title, dates, place when the text names one, link, the publishing source as organiser
(and its relays), categories. Its UID is the story's and the event's first day (public_events).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Sequence

import icalendar

from pipeline.digest.entries import format_event_when, safe_link
from pipeline.digest.events import PARIS, UID_DOMAIN
from pipeline.digest.ics import clean_value, event_days, new_calendar
from pipeline.outreach.catalogue import AUDIENCE_LABELS_FR, KIND_LABELS_FR, Edition, Initiative
from pipeline.outreach.public_events import PublicEvent
from pipeline.outreach.site.views import page_name

PRODID = "-//veille-scientifique//agenda 0.1//FR"
CALENDAR_NAME = "Médiation scientifique - Faculté des sciences"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
TIMEZONE_YEARS = 3  # the VTIMEZONE covers the coming years only (every rule since 1970 is long)


def render_agenda(initiatives: Sequence[Initiative], today: date, generated_at: datetime,
                  public_events: Sequence[PublicEvent] = ()) -> bytes:
    """agenda.ics for the initiatives shown on the map and the stories' public events, by start."""
    calendar = new_calendar(CALENDAR_NAME, PRODID)
    calendar.add("x-wr-timezone", "Europe/Paris")
    calendar.add("refresh-interval", timedelta(days=1), parameters={"VALUE": "DURATION"})
    coming = [(e, i) for i in initiatives for e in i.editions if e.start and (e.end or e.start) >= today]
    coming = [(e, i) for e, i in coming if not _confirmed_elsewhere(i, e, coming)]
    events = [((e.start, i.initiative_id), edition_event(i, e, generated_at)) for e, i in coming]
    events += [((p.when.start_day, p.uid), story_event(p, generated_at)) for p in public_events]
    for _, vevent in sorted(events, key=lambda pair: pair[0]):
        calendar.add_component(vevent)
    if any(not p.when.all_day for p in public_events):
        calendar.add_missing_timezones(first_date=today - timedelta(days=1),
                                       last_date=today + timedelta(days=366 * TIMEZONE_YEARS))
    return calendar.to_ical()


def _confirmed_elsewhere(initiative: Initiative, edition: Edition, coming: list[tuple[Edition, Initiative]]) -> bool:
    """A detected proposal's edition that a confirmed initiative (validated or hand-entered) holds
    too: same evidence, days that meet. The calendar then shows only the confirmed one."""
    if _confirmed(initiative):
        return False
    for other_edition, other in coming:
        if _confirmed(other) and set(other.evidence) & set(initiative.evidence) \
                and other_edition.start <= (edition.end or edition.start) \
                and edition.start <= (other_edition.end or other_edition.start):
            return True
    return False


def _confirmed(initiative: Initiative) -> bool:
    return initiative.validated or initiative.origin == "manual"


def edition_uid(initiative: Initiative, edition: Edition) -> str:
    return f"{initiative.initiative_id}-{edition.year}@{UID_DOMAIN}"


def edition_event(initiative: Initiative, edition: Edition, stamp: datetime) -> icalendar.Event:
    vevent = icalendar.Event()
    vevent.add("uid", edition_uid(initiative, edition))
    vevent.add("dtstamp", stamp.astimezone(timezone.utc))
    event_days(vevent, edition.start, edition.end)
    vevent.add("summary", clean_value(initiative.title))
    place = edition.place or initiative.place
    if place:
        vevent.add("location", clean_value(place))
    link = next((url for url in map(safe_link, initiative.evidence) if url), None)
    if link:
        vevent.add("url", link)
    email = EMAIL.search(initiative.contact or "")
    if email and initiative.organisers:
        vevent.add("organizer", f"mailto:{email.group(0)}", parameters={"CN": clean_value(initiative.organisers[0])})
    vevent.add("categories", [KIND_LABELS_FR[initiative.kind]])
    vevent.add("status", "CONFIRMED" if _confirmed(initiative) else "TENTATIVE")
    vevent.add("description", clean_value(_description(initiative, link)))
    return vevent


def _description(initiative: Initiative, link: str | None) -> str:
    lines = [f"Organisé par : {', '.join(initiative.organisers)}",
             f"Type : {KIND_LABELS_FR[initiative.kind]}"]
    if initiative.audience:
        lines.append("Public : " + ", ".join(AUDIENCE_LABELS_FR[a] for a in initiative.audience))
    if initiative.contact:
        lines.append(f"Contact : {initiative.contact}")
    if link:
        lines.append(f"Annonce : {link}")
    lines.append(f"Fiche sur la carte : initiatives/{page_name(initiative.initiative_id)}")
    return "\n".join(lines)


def story_event(event: PublicEvent, stamp: datetime) -> icalendar.Event:
    """The VEVENT of a public event announced by a story (no initiative)."""
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", stamp.astimezone(timezone.utc))
    when = event.when
    if when.all_day:
        event_days(vevent, when.start_day, when.end_day)
    else:
        vevent.add("dtstart", when.start.astimezone(PARIS))
        if when.end:
            vevent.add("dtend", when.end.astimezone(PARIS))
    vevent.add("summary", clean_value(event.title))
    if event.place:
        vevent.add("location", clean_value(event.place))
    link = safe_link(event.url)
    if link:
        vevent.add("url", link)
    email = EMAIL.search(event.contact)
    if email and event.organiser:
        vevent.add("organizer", f"mailto:{email.group(0)}", parameters={"CN": clean_value(event.organiser)})
    vevent.add("categories", list(event.categories))
    vevent.add("description", clean_value(_story_description(event, link)))
    return vevent


def _story_description(event: PublicEvent, link: str | None) -> str:
    lines = [f"Quand : {format_event_when(event.when)}", f"Organisé par : {event.organiser}"]
    if event.relayed_by:
        lines.append("Relayé par : " + ", ".join(event.relayed_by))
    if event.contact:
        lines.append(f"Contact : {event.contact}")
    if link:
        lines.append(f"Annonce : {link}")
    return "\n".join(lines)
