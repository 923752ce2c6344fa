"""Find event dates written in French in an item's text.

"le jeudi 3 décembre 2026 à 14h", "3 décembre à 18h30", "du 2 au 5 décembre 2026", "les 5 et 6 mai",
"03/12/2026 14:00", "mardi 1er décembre", "2026-12-03T14:00": each becomes an `EventDate`.

Times are read as Europe/Paris wall-clock time and stored in UTC. A date without a year is the next
occurrence on or after the reference day (the item's publication date); when a weekday is written
("mardi 1er décembre") the year whose calendar agrees with it is preferred.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)

PARIS = ZoneInfo("Europe/Paris")
UID_DOMAIN = "veille-scientifique.invalid"  # the domain of the UIDs of every event we put in a calendar
RECENT_PAST_DAYS = 183  # "jeudi 12 juin" written in July is last June's Thursday, not next year's

MONTHS: dict[str, int] = {
    "janvier": 1, "janv": 1, "jan": 1,
    "fevrier": 2, "février": 2, "fevr": 2, "févr": 2, "fev": 2, "fév": 2,
    "mars": 3,
    "avril": 4, "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7, "juil": 7,
    "aout": 8, "août": 8,
    "septembre": 9, "sept": 9, "sep": 9,
    "octobre": 10, "oct": 10,
    "novembre": 11, "nov": 11,
    "decembre": 12, "décembre": 12, "dec": 12, "déc": 12,
}
WEEKDAYS: dict[str, int] = {
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6,
}

_MONTH = "(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?(?![\w])"
_WEEKDAY = "(?:" + "|".join(WEEKDAYS) + ")"
_DAY = r"\d{1,2}(?:er|ᵉʳ)?"
_TIME = r"\d{1,2}\s?(?:heures?|h)\s?(?:[0-5]\d)?(?![\w])|\d{1,2}:[0-5]\d(?![\d])"
_TIME_LEAD = r"(?:\s*,\s*|\s*[-–—]\s*|\s+(?:à|a|de|dès|des|à\s+partir\s+de|a\s+partir\s+de)\s+|\s+)"
_TIME_TO = r"\s*(?:à|a|-|–|—|jusqu['’]à)\s*"
_TIMES = rf"(?:{_TIME_LEAD}(?P<t1>{_TIME})(?:{_TIME_TO}(?P<t2>{_TIME}))?)?"

RANGE_WORDS = re.compile(
    rf"\b(?:du|des|les)\s+(?:{_WEEKDAY}\s+)?(?P<d1>{_DAY})(?:\s+(?P<m1>{_MONTH}))?(?:\s+(?P<y1>\d{{4}}))?"
    rf"\s+(?:au|jusqu['’]au|et)\s+(?:{_WEEKDAY}\s+)?(?P<d2>{_DAY})\s+(?P<m2>{_MONTH})(?:\s+(?P<y2>\d{{4}}))?",
    re.IGNORECASE,
)
SINGLE_WORDS = re.compile(
    rf"(?:\b(?P<wd>{_WEEKDAY})\s+)?\b(?P<day>{_DAY})\s+(?P<month>{_MONTH})(?:\s+(?P<year>\d{{4}})(?![\d]))?{_TIMES}(?P<past>\s+derniers?)?",
    re.IGNORECASE,
)
SINGLE_NUMERIC = re.compile(
    rf"(?<![\w/.])(?P<day>\d{{1,2}})[/.](?P<month>\d{{1,2}})[/.](?P<year>\d{{4}}|\d{{2}})(?![\d/]|\.\d){_TIMES}",
    re.IGNORECASE,
)
SINGLE_ISO = re.compile(
    r"(?<![\d-])(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?:[T ](?P<t1>\d{2}:\d{2}))?(?![\d])"
)
_TIME_PARTS = re.compile(r"(\d{1,2})\s?(?:heures?|h|:)\s?(\d{2})?", re.IGNORECASE)


@dataclass(frozen=True)
class EventDate:
    """One date found in a text. `start`/`end` are UTC; for an all-day event they are the
    Paris midnight of the first / last day (`end` inclusive, None for a single day)."""

    start: datetime
    end: datetime | None
    all_day: bool
    text: str  # the words that were matched

    @property
    def over_at(self) -> datetime:
        """The instant the event is over: the end of its last day when it is all-day."""
        last = self.end or self.start
        return last + timedelta(days=1) if self.all_day else last

    @property
    def start_day(self) -> date:
        return self.start.astimezone(PARIS).date()

    @property
    def end_day(self) -> date | None:
        return self.end.astimezone(PARIS).date() if self.end else None


def extract_event_dates(text: str, reference: datetime) -> list[EventDate]:
    """Every event date in `text`, in order of appearance; year-less dates resolved after `reference`."""
    if reference.tzinfo is None:
        raise ValueError("reference must be timezone-aware")
    ref_day = _paris_day(reference)
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, EventDate]] = []
    readers = ((RANGE_WORDS, _read_range), (SINGLE_WORDS, _read_single_words),
               (SINGLE_NUMERIC, _read_numeric), (SINGLE_ISO, _read_numeric))
    for pattern, read in readers:
        for match in pattern.finditer(text or ""):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            event = read(match, ref_day)
            if event is None:
                continue
            taken.append(match.span())
            found.append((match.start(), event))
    return [event for _, event in sorted(found, key=lambda pair: pair[0])]


def _paris_day(moment: datetime) -> date:
    """The Paris calendar day of `moment`; at the very edges of the calendar (year 1 or 9999, where
    the conversion overflows) its own day, so that a stored impossible date never stops a run."""
    try:
        return moment.astimezone(PARIS).date()
    except OverflowError:
        return moment.date()


def _read_range(match: re.Match[str], ref_day: date) -> EventDate | None:
    d1, d2 = _day_number(match["d1"]), _day_number(match["d2"])
    m2 = _month_number(match["m2"])
    m1 = _month_number(match["m1"]) if match["m1"] else m2
    y2 = int(match["y2"]) if match["y2"] else None
    y1 = int(match["y1"]) if match["y1"] else None
    last = _make_date(y2, m2, d2) if y2 else _next_occurrence(m2, d2, None, ref_day)
    if last is None:
        return None
    year1 = y1 if y1 else (last.year if (m1, d1) <= (m2, d2) else last.year - 1)
    first = _make_date(year1, m1, d1)
    if first is None or first > last or (last - first).days > 366:
        return None
    return EventDate(_paris_to_utc(first, None), _paris_to_utc(last, None), True, _matched(match))


def _read_single_words(match: re.Match[str], ref_day: date) -> EventDate | None:
    day, month = _day_number(match["day"]), _month_number(match["month"])
    weekday = WEEKDAYS.get(match["wd"].lower()) if match["wd"] else None
    if match["year"]:
        when = _make_date(int(match["year"]), month, day)
    elif match["past"]:
        when = _previous_occurrence(month, day, ref_day)
    else:
        when = _next_occurrence(month, day, weekday, ref_day)
    return _timed_event(when, match, match["t1"], match["t2"])


def _read_numeric(match: re.Match[str], ref_day: date) -> EventDate | None:
    year = int(match["year"])
    year = year + 2000 if year < 100 else year
    when = _make_date(year, int(match["month"]), int(match["day"]))
    end_time = match.groupdict().get("t2")
    return _timed_event(when, match, match["t1"], end_time)


def _timed_event(when: date | None, match: re.Match[str], t1: str | None, t2: str | None) -> EventDate | None:
    if when is None:
        return None
    start_time = _parse_time(t1)
    if start_time is None:
        return EventDate(_paris_to_utc(when, None), None, True, _matched(match))
    end_time = _parse_time(t2)
    end = _paris_to_utc(when, end_time) if end_time and end_time > start_time else None
    return EventDate(_paris_to_utc(when, start_time), end, False, _matched(match))


def _next_occurrence(month: int, day: int, weekday: int | None, ref_day: date) -> date | None:
    """The first date (month, day) on or after `ref_day`. With a weekday, the first of the next
    two that agrees; failing that, a recent past one that agrees (an item written after the event)."""
    options = [d for d in (_make_date(ref_day.year + k, month, day) for k in range(0, 8)) if d and d >= ref_day]
    if not options:
        return None
    if weekday is not None:
        agreeing = [d for d in options[:2] if d.weekday() == weekday]
        if agreeing:
            return agreeing[0]
        recent = _previous_occurrence(month, day, ref_day)
        if recent and recent.weekday() == weekday and (ref_day - recent).days <= RECENT_PAST_DAYS:
            return recent
    return options[0]


def _previous_occurrence(month: int, day: int, ref_day: date) -> date | None:
    """The last date (month, day) on or before `ref_day` ("le 12 novembre dernier")."""
    options = [d for d in (_make_date(ref_day.year - k, month, day) for k in range(0, 8)) if d and d <= ref_day]
    return options[0] if options else None


def _make_date(year: int | None, month: int, day: int) -> date | None:
    if year is None or not 1900 <= year <= 2100:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _parse_time(raw: str | None) -> time | None:
    if not raw:
        return None
    parts = _TIME_PARTS.match(raw.strip())
    if parts is None:
        return None
    hour, minute = int(parts[1]), int(parts[2] or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _paris_to_utc(day: date, at: time | None) -> datetime:
    local = datetime.combine(day, at or time(0, 0), tzinfo=PARIS)
    return local.astimezone(timezone.utc)


def _day_number(raw: str) -> int:
    return int(re.match(r"\d+", raw)[0])  # type: ignore[index]


def _month_number(raw: str) -> int:
    return MONTHS[raw.lower().rstrip(".")]


def _matched(match: re.Match[str]) -> str:
    return " ".join(match[0].split())


def events_between(events: list[EventDate], start: datetime, end: datetime) -> list[EventDate]:
    """The events that are still running at `start` and begin before `end`."""
    return [event for event in events if running_between(event.start, event.over_at, start, end)]


def running_between(begins: datetime, over_at: datetime, start: datetime, end: datetime) -> bool:
    """Whether an event from `begins` to `over_at` is still running at `start` and begins before `end`."""
    return over_at > start and begins < end


def today_in_paris(now: datetime | None = None) -> date:
    return (now or datetime.now(timezone.utc)).astimezone(PARIS).date()
