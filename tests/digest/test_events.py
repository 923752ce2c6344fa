"""Event dates written in French: forms, time zones, year-less dates, noise that must not match."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from pipeline.digest.events import EventDate, events_between, extract_event_dates

UTC = timezone.utc
REFERENCE = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)  # a Friday, Paris is UTC+1


def only(text: str, reference: datetime = REFERENCE) -> EventDate:
    found = extract_event_dates(text, reference)
    assert len(found) == 1, found
    return found[0]


def test_full_date_with_weekday_and_hour_is_paris_time_in_utc():
    event = only("Conférence le jeudi 3 décembre 2026 à 14h en amphi Pasteur.")
    assert event.start == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    assert not event.all_day and event.end is None
    assert event.text == "jeudi 3 décembre 2026 à 14h"


def test_summer_time_is_two_hours_ahead_of_utc():
    event = only("Fête de la science : le 3 juillet 2027 à 14h30")
    assert event.start == datetime(2027, 7, 3, 12, 30, tzinfo=UTC)


def test_yearless_date_with_minutes():
    event = only("Rendez-vous 3 décembre à 18h30, bar Le Zinc")
    assert event.start == datetime(2026, 12, 3, 17, 30, tzinfo=UTC)


def test_day_range_is_all_day_with_inclusive_end():
    event = only("Exposition du 2 au 5 décembre 2026 dans le hall.")
    assert event.all_day
    assert event.start_day == date(2026, 12, 2) and event.end_day == date(2026, 12, 5)


def test_range_across_new_year_takes_year_from_the_end():
    event = only("Stage intensif du 30 décembre au 2 janvier 2027")
    assert (event.start_day, event.end_day) == (date(2026, 12, 30), date(2027, 1, 2))


def test_range_written_with_et():
    event = only("Le hackathon aura lieu les 5 et 6 décembre au fablab.")
    assert (event.start_day, event.end_day) == (date(2026, 12, 5), date(2026, 12, 6))


def test_numeric_date_and_time():
    event = only("Date : 03/12/2026 14:00 - salle B12")
    assert event.start == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)


def test_numeric_date_followed_by_a_full_stop():
    assert only("Publié le 12/11/2026.").start_day == date(2026, 11, 12)


def test_iso_date_time():
    assert only("start=2026-12-03T09:30").start == datetime(2026, 12, 3, 8, 30, tzinfo=UTC)


def test_first_of_month_with_weekday_is_all_day():
    event = only("Atelier mardi 1er décembre, inscription conseillée")
    assert event.all_day and event.start_day == date(2026, 12, 1)


def test_weekday_picks_the_year_whose_calendar_agrees():
    # Seen on 20 Nov 2025: 1 Dec 2025 is a Monday, 1 Dec 2026 a Tuesday.
    event = only("Atelier mardi 1er décembre", datetime(2025, 11, 20, tzinfo=UTC))
    assert event.start_day == date(2026, 12, 1)
    event = only("Atelier lundi 1er décembre", datetime(2025, 11, 20, tzinfo=UTC))
    assert event.start_day == date(2025, 12, 1)


def test_weekday_of_a_recent_past_date_wins_over_a_disagreeing_future():
    # Written on 20 Nov 2026 about Tuesday 3 November 2026 (3 Nov 2027 is a Wednesday).
    assert only("Retour sur la conférence du mardi 3 novembre").start_day == date(2026, 11, 3)
    # Without a weekday, the next occurrence.
    assert only("Retour sur la conférence du 3 novembre").start_day == date(2027, 11, 3)


def test_yearless_dates_resolve_to_the_next_occurrence():
    assert only("le 12 mars").start_day == date(2027, 3, 12)
    assert only("le 25 novembre").start_day == date(2026, 11, 25)
    assert only("le 20 novembre").start_day == date(2026, 11, 20)  # the reference day itself


def test_dernier_means_the_past_occurrence():
    assert only("Lors de la cérémonie du 12 novembre dernier").start_day == date(2026, 11, 12)


def test_start_and_end_hours():
    event = only("Soutenance le 8 déc. de 14 h 30 à 17h")
    assert event.start == datetime(2026, 12, 8, 13, 30, tzinfo=UTC)
    assert event.end == datetime(2026, 12, 8, 16, 0, tzinfo=UTC)


def test_impossible_dates_and_hours():
    assert extract_event_dates("le 31 février 2027", REFERENCE) == []
    event = only("le 3 décembre 2026 à 25h")
    assert event.all_day  # the hour is not a time of day, the date stands


def test_text_without_dates():
    noise = "Version 2.0 publiée ; 3 personnes ; rendez-vous à 14h ; 12/2026 ; 1,5 million ; mars 2026"
    assert extract_event_dates(noise, REFERENCE) == []


def test_several_dates_in_order_of_appearance():
    text = "Inscription avant le 15/12/2026. Finale le samedi 9 janvier 2027 à 10h. Jury le 5 décembre."
    days = [e.start_day for e in extract_event_dates(text, REFERENCE)]
    assert days == [date(2026, 12, 15), date(2027, 1, 9), date(2026, 12, 5)]


def test_reference_must_be_timezone_aware():
    with pytest.raises(ValueError):
        extract_event_dates("le 3 décembre", datetime(2026, 11, 20))


def test_events_between_keeps_running_and_coming_events():
    events = extract_event_dates(
        "du 18 au 22 novembre 2026 ; 1er décembre 2026 ; 5 janvier 2027 ; 10 novembre 2026", REFERENCE
    )
    kept = events_between(events, REFERENCE, datetime(2026, 12, 18, tzinfo=UTC))
    assert [e.start_day for e in kept] == [date(2026, 11, 18), date(2026, 12, 1)]
