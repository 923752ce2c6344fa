"""Property-based tests (hypothesis) for reading dates, URLs and French event dates from whatever
text the web sends: a value or None, never an exception, and never a date off the calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.dates import find_date_in_text, parse_date_value, plausible_date
from pipeline.digest.events import events_between, extract_event_dates
from pipeline.normalize import canonical_url, clean_url, item_id, join_url

PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NEXT_YEAR = datetime.now(UTC).year + 1

DATE_WORDS = [
    "le", "du", "au", "les", "et", "à", "de", "dès", "lundi", "jeudi", "dimanche", "1er", "3", "29", "31", "00",
    "99", "février", "févr.", "décembre", "août", "sept", "mai", "2026", "0001", "9999", "0000", "12h", "14h30",
    "18:45", "25:99", "h", "dernier", "jusqu'au", "/", "-", ".", "T", "Z", "+01:00", "-23:59", ",", " ", "\n",
    "Fri, 31 Dec 9999 23:59:59 GMT", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00", "31/12/9999",
    "29/02/2025", "2026-02-30", "Publié le", "Mon, 03 Feb 2025 10:00:00 +1400", "☃", "٣", "²",
]
date_text = st.lists(st.one_of(st.sampled_from(DATE_WORDS), st.text(max_size=8)), max_size=30).map(" ".join)
offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
any_moment = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59),
                          timezones=st.one_of(st.just(UTC), offsets))


def plausible(moment: datetime | None) -> bool:
    return moment is None or (moment.tzinfo is not None and 1990 <= moment.year <= NEXT_YEAR)


@PROPERTIES
@given(date_text)
def test_dates_in_text_are_plausible_or_none(text: str) -> None:
    assert plausible(find_date_in_text(text))
    assert plausible(parse_date_value(text))


@PROPERTIES
@given(any_moment)
def test_any_moment_written_any_way_reads_as_plausible_or_none(moment: datetime) -> None:
    assert plausible(plausible_date(moment))
    for written in (moment.isoformat(), moment.strftime("%a, %d %b %Y %H:%M:%S %z"), moment.strftime("%d/%m/%Y")):
        assert plausible(parse_date_value(written)), written


URL_PARTS = ["http://", "https://", "HTTP://", "ftp://", "javascript:", "//", "[::1", "[::1]", ":80", ":99999",
             ":-1", "@", "user:pw@", "www.", "Exemple.FR", "xn--", "é", "/", "./", "../", "?", "&", "=", "#",
             "utm_source=x", "sid=1", "%", "%zz", "%00", " ", "\t", "\x00", "index.html"]
url_text = st.lists(st.one_of(st.sampled_from(URL_PARTS), st.text(max_size=6)), max_size=14).map("".join)


@PROPERTIES
@given(url_text, url_text)
def test_url_normalisation_never_raises(url: str, href: str) -> None:
    for normalised in (canonical_url(url), clean_url(url)):
        assert isinstance(normalised, str)
    key = item_id(url)
    assert len(key) == 16 and int(key, 16) >= 0
    joined = join_url("http://127.0.0.1:8000/actualites/", href)
    assert joined is None or (joined.lower().startswith(("http://", "https://")) and "#" not in joined)


@PROPERTIES
@given(date_text, any_moment)
def test_french_event_dates_never_leave_the_calendar(text: str, reference: datetime) -> None:
    events = extract_event_dates(text, reference)
    for event in events:
        assert event.start.tzinfo is not None and event.start_day.year >= 1900
        assert event.end is None or event.end >= event.start
        assert event.end_day is None or event.end_day >= event.start_day
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert set(map(id, events_between(events, start, start + timedelta(days=365)))) <= set(map(id, events))
