"""The digest's coming events as an iCalendar file (RFC 5545), written by hand.

One VEVENT per upcoming event: text values escaped (backslash, semicolon, comma, newline), lines
ending in CRLF and folded at 75 octets without splitting a UTF-8 character.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from datetime import date, datetime, timedelta, timezone

from pipeline.digest.entries import Digest, UpcomingEvent, format_event_when, safe_link

logger = logging.getLogger(__name__)

CRLF = "\r\n"
LINE_OCTETS = 75
PRODID = "-//veille-scientifique//digest 0.1//FR"
UID_DOMAIN = "veille-scientifique.invalid"


def render_ics(d: Digest) -> str:
    """A VCALENDAR with a VEVENT for every event of the digest's "À venir" list."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:" + escape_text(f"Veille scientifique - à venir ({d.week})"),
    ]
    for upcoming in d.upcoming:
        lines.extend(event_lines(upcoming, d.generated_at))
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) + CRLF for line in lines)


def event_lines(u: UpcomingEvent, stamp: datetime) -> list[str]:
    """The unfolded content lines of one VEVENT."""
    event = u.event
    uid = hashlib.sha1(f"{u.cluster_id}|{event.start.isoformat()}".encode()).hexdigest()[:24]
    lines = ["BEGIN:VEVENT", f"UID:{uid}@{UID_DOMAIN}", f"DTSTAMP:{_utc(stamp)}"]
    if event.all_day:
        last = event.end_day or event.start_day
        lines.append(f"DTSTART;VALUE=DATE:{_day(event.start_day)}")
        lines.append(f"DTEND;VALUE=DATE:{_day(last + timedelta(days=1))}")
    else:
        lines.append(f"DTSTART:{_utc(event.start)}")
        if event.end:
            lines.append(f"DTEND:{_utc(event.end)}")
    lines.append("SUMMARY:" + escape_text(u.title))
    link = safe_link(u.url)
    details = [format_event_when(event), "Source : " + ", ".join(u.sources)]
    if link:
        details.append(link)
        lines.append("URL:" + link)
    lines.append("DESCRIPTION:" + escape_text("\n".join(details)))
    lines.append("END:VEVENT")
    return lines


def escape_text(value: str) -> str:
    """A TEXT value: control characters dropped, backslash ; , and newlines escaped."""
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    value = "".join(ch for ch in value if ch == "\n" or unicodedata.category(ch)[0] != "C")
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\n", "\\n")


def fold_line(line: str) -> str:
    """`line` folded into chunks of at most 75 octets, continuations starting with one space."""
    chunks: list[str] = []
    current, size, limit = [], 0, LINE_OCTETS
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            chunks.append("".join(current))
            current, size, limit = [], 0, LINE_OCTETS - 1
        current.append(ch)
        size += width
    chunks.append("".join(current))
    return (CRLF + " ").join(chunks)


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _day(day: date) -> str:
    return day.strftime("%Y%m%d")
