"""The digest's coming events as an iCalendar file (RFC 5545), written with the `icalendar` library.

One VEVENT per upcoming event, with a UID stable across runs (the story and the event's start), so a
calendar app that imports the file twice updates the event rather than duplicating it. The library
escapes text values, folds lines at 75 octets and ends them in CRLF. `new_calendar` and
`event_days` / `event_times` are shared with the outreach map's agenda.
"""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import date, datetime, timedelta, timezone

import icalendar

from pipeline.digest.entries import Digest, UpcomingEvent, format_event_when, safe_link
from pipeline.digest.events import UID_DOMAIN

PRODID = "-//veille-scientifique//digest 0.1//FR"


def render_ics(d: Digest) -> str:
    """A VCALENDAR with a VEVENT for every event of the digest's "À venir" list."""
    calendar = new_calendar(f"Veille scientifique - à venir ({d.week})", PRODID)
    for upcoming in d.upcoming:
        calendar.add_component(upcoming_event(upcoming, d.generated_at))
    return calendar.to_ical().decode("utf-8")


def new_calendar(name: str, prodid: str) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", prodid)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    return calendar


def upcoming_event(u: UpcomingEvent, stamp: datetime) -> icalendar.Event:
    """The VEVENT of one coming event of the digest."""
    event = u.event
    uid = hashlib.sha1(f"{u.cluster_id}|{event.start.isoformat()}".encode()).hexdigest()[:24]
    vevent = icalendar.Event()
    vevent.add("uid", f"{uid}@{UID_DOMAIN}")
    vevent.add("dtstamp", stamp.astimezone(timezone.utc))
    if event.all_day:
        event_days(vevent, event.start_day, event.end_day)
    else:
        event_times(vevent, event.start, event.end)
    vevent.add("summary", clean_value(u.title))
    link = safe_link(u.url)
    details = [format_event_when(event), "Source : " + ", ".join(u.sources)]
    if link:
        details.append(link)
        vevent.add("url", link)
    vevent.add("description", clean_value("\n".join(details)))
    return vevent


def event_days(vevent: icalendar.Event, first: date, last: date | None) -> None:
    """An all-day event from `first` to `last` included (DTEND is the day after, as RFC 5545 wants)."""
    vevent.add("dtstart", first)
    vevent.add("dtend", (last or first) + timedelta(days=1))


def event_times(vevent: icalendar.Event, start: datetime, end: datetime | None) -> None:
    vevent.add("dtstart", start.astimezone(timezone.utc))
    if end:
        vevent.add("dtend", end.astimezone(timezone.utc))


def clean_value(value: str) -> str:
    """Text without control or format characters (newlines kept), which no calendar line may carry."""
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in value if ch == "\n" or unicodedata.category(ch)[0] != "C")
