"""The map's agenda.ics: every coming (or ongoing) dated edition of the initiatives shown on the map,
for staff to subscribe to in the calendar app they already use.

One all-day VEVENT per edition with a start date and no end before today: title, dates, place,
link (the first web evidence), organisers, kind and audience; STATUS:CONFIRMED once the officer
validated the initiative (or entered it by hand), TENTATIVE for a proposal. The UID is the
initiative id and the edition's year, so a nightly refresh updates an event (new date, new place)
rather than duplicating it, and leaves every unchanged event's UID as it was. Written with the
`icalendar` library (pipeline.digest.ics shares the calendar header).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Sequence

import icalendar

from pipeline.digest.entries import safe_link
from pipeline.digest.ics import UID_DOMAIN, clean_value, event_days, new_calendar
from pipeline.outreach.catalogue import AUDIENCE_LABELS_FR, KIND_LABELS_FR, Edition, Initiative
from pipeline.outreach.site.views import page_name

PRODID = "-//veille-scientifique//agenda 0.1//FR"
CALENDAR_NAME = "Médiation scientifique - Faculté des sciences"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def render_agenda(initiatives: Sequence[Initiative], today: date, generated_at: datetime) -> bytes:
    """agenda.ics for the initiatives shown on the map, editions ordered by start."""
    calendar = new_calendar(CALENDAR_NAME, PRODID)
    calendar.add("x-wr-timezone", "Europe/Paris")
    calendar.add("refresh-interval", timedelta(days=1), parameters={"VALUE": "DURATION"})
    coming = [(e, i) for i in initiatives for e in i.editions if e.start and (e.end or e.start) >= today]
    for edition, initiative in sorted(coming, key=lambda pair: (pair[0].start, pair[1].initiative_id)):
        calendar.add_component(edition_event(initiative, edition, generated_at))
    return calendar.to_ical()


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
    vevent.add("status", "CONFIRMED" if initiative.validated or initiative.origin == "manual" else "TENTATIVE")
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
