"""The digest's .ics, written with the icalendar library: read back by it and by a second reader
(vobject), with stable UIDs."""

from __future__ import annotations

from datetime import date, datetime, timezone

import icalendar
import vobject

from pipeline.digest.entries import Digest, UpcomingEvent
from pipeline.digest.events import EventDate
from pipeline.digest.ics import render_ics

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)


def digest(generated_at: datetime = NOW) -> Digest:
    talk = EventDate(datetime(2026, 12, 10, 17, 0, tzinfo=timezone.utc), datetime(2026, 12, 10, 19, 0, tzinfo=timezone.utc),
                     False, "10 décembre de 18h à 20h")
    fair = EventDate(datetime(2026, 12, 11, 23, 0, tzinfo=timezone.utc), datetime(2026, 12, 12, 23, 0, tzinfo=timezone.utc),
                     True, "12 et 13 décembre")
    upcoming = (
        UpcomingEvent("c1", "i1", "Conférence, débat ; « trous noirs » \\ " + "très longuement " * 6,
                      "https://lab.example.org/conf", ("Labo A",), talk),
        UpcomingEvent("c2", "i2", "Salon\u0007 des sciences", "javascript:alert(1)", ("Asso B", "Faculté"), fair),
    )
    return Digest("2026-W48", date(2026, 11, 23), date(2026, 11, 29), (), (), upcoming, (), "", generated_at, 2)


def test_the_library_and_a_second_reader_read_the_same_events() -> None:
    text = render_ics(digest())
    parsed = icalendar.Calendar.from_ical(text)
    events = parsed.walk("VEVENT")
    assert [str(e["summary"]) for e in events][0].startswith("Conférence, débat ; « trous noirs » \\ très")
    assert events[0].decoded("dtstart") == datetime(2026, 12, 10, 17, 0, tzinfo=timezone.utc)
    assert events[1].decoded("dtstart") == date(2026, 12, 12) and events[1].decoded("dtend") == date(2026, 12, 14)
    assert "url" not in events[1] and str(events[1]["summary"]) == "Salon des sciences"
    second = vobject.readOne(text)
    assert [e.summary.value for e in second.vevent_list] == [str(e["summary"]) for e in events]
    assert [e.uid.value for e in second.vevent_list] == [str(e["uid"]) for e in events]
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_uids_do_not_change_from_one_run_to_the_next() -> None:
    first = icalendar.Calendar.from_ical(render_ics(digest()))
    later = icalendar.Calendar.from_ical(render_ics(digest(datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc))))
    uids = [str(e["uid"]) for e in first.walk("VEVENT")]
    assert uids == [str(e["uid"]) for e in later.walk("VEVENT")] and len(set(uids)) == 2
