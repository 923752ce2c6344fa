"""The map's agenda.ics (read back by icalendar and by vobject; UIDs stable across nightly refreshes),
and the links of every page to both subscriptions (the agenda and the Atom feed)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import icalendar
import vobject

from pipeline.outreach.catalogue import Edition, Initiative
from pipeline.outreach.site.publish import publish_map

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def catalogue() -> list[Initiative]:
    return [
        Initiative("pint", "Pint of Science", "festival", ("LPEM", "Asso Pint"), ("grand_public",), "recurrente",
                   (Edition(2025, date(2025, 5, 19), date(2025, 5, 21), "Bar Le Comptoir"),
                    Edition(2026, date(2026, 5, 18), date(2026, 5, 20), "Bar Le Comptoir")),
                   contact="Écrire à pint@univ-exemple.fr", evidence=("javascript:alert(1)", "https://lpem.example.org/pint"),
                   validated=True),
        Initiative("portes", "Portes ouvertes, « labo » ; chimie", "visite_laboratoire", ("Chimie",), ("grand_public",),
                   "programmee", (Edition(2026, date(2026, 3, 1)),), place="Bâtiment C\u0007, salle 12"),
        Initiative("passe", "Conférence passée", "conference_grand_public", ("LPEM",), ("grand_public",), "realisee",
                   (Edition(2026, date(2026, 2, 10)),), validated=True),
        Initiative("sans-date", "Podcast", "mediatisation", ("Informatique",), ("grand_public",), "en_projet",
                   (Edition(2026),), origin="manual", validated=True),
    ]


def events_of(folder) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical((folder / "agenda.ics").read_bytes())
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def test_agenda_has_every_coming_dated_edition_with_place_link_and_organiser(tmp_path) -> None:
    publish_map(catalogue(), tmp_path, generated_at=NOW)
    events = events_of(tmp_path)
    assert sorted(events) == ["pint-2026@veille-scientifique.invalid", "portes-2026@veille-scientifique.invalid"]
    pint = events["pint-2026@veille-scientifique.invalid"]
    assert pint.decoded("dtstart") == date(2026, 5, 18) and pint.decoded("dtend") == date(2026, 5, 21)
    assert str(pint["location"]) == "Bar Le Comptoir" and str(pint["url"]) == "https://lpem.example.org/pint"
    assert str(pint["organizer"]) == "mailto:pint@univ-exemple.fr" and pint["organizer"].params["CN"] == "LPEM"
    assert "Organisé par : LPEM, Asso Pint" in str(pint["description"]) and str(pint["status"]) == "CONFIRMED"
    portes = events["portes-2026@veille-scientifique.invalid"]
    assert str(portes["summary"]) == "Portes ouvertes, « labo » ; chimie" and str(portes["status"]) == "TENTATIVE"
    assert str(portes["location"]) == "Bâtiment C, salle 12"


def test_a_second_reader_reads_the_same_agenda(tmp_path) -> None:
    publish_map(catalogue(), tmp_path, generated_at=NOW)
    text = (tmp_path / "agenda.ics").read_bytes().decode("utf-8")
    second = vobject.readOne(text)
    assert sorted(e.uid.value for e in second.vevent_list) == sorted(events_of(tmp_path))
    assert {e.summary.value for e in second.vevent_list} == {"Pint of Science", "Portes ouvertes, « labo » ; chimie"}
    assert all(len(line.encode("utf-8")) <= 75 for line in text.split("\r\n"))


def test_a_nightly_refresh_changes_no_uid_of_an_unchanged_event(tmp_path) -> None:
    publish_map(catalogue(), tmp_path, generated_at=NOW)
    before = events_of(tmp_path)
    moved = replace(catalogue()[1], editions=(Edition(2026, date(2026, 3, 8)),))
    added = Initiative("fete", "Fête de la science", "festival", ("Faculté",), ("grand_public",), "programmee",
                       (Edition(2026, date(2026, 10, 3)),), validated=True)
    publish_map([catalogue()[0], moved, added], tmp_path, generated_at=NOW + timedelta(days=1))
    after = events_of(tmp_path)
    assert set(before) <= set(after) and len(after) == 3
    assert after["portes-2026@veille-scientifique.invalid"].decoded("dtstart") == date(2026, 3, 8)
    unchanged = "pint-2026@veille-scientifique.invalid"
    assert {k: v for k, v in after[unchanged].items() if k != "DTSTAMP"} == \
        {k: v for k, v in before[unchanged].items() if k != "DTSTAMP"}


def test_every_page_links_both_subscriptions(tmp_path) -> None:
    publish_map(catalogue(), tmp_path, generated_at=NOW)
    for page in [tmp_path / "index.html", tmp_path / "chronologie.html", tmp_path / "initiatives" / "pint.html"]:
        html = page.read_text(encoding="utf-8")
        root = "../" if page.parent.name == "initiatives" else ""
        assert f'href="{root}agenda.ics"' in html and f'href="{root}initiatives.atom"' in html


def test_a_proposal_held_by_a_confirmed_initiative_is_one_event(tmp_path) -> None:
    entered = Initiative("fete-labo", "Fête de la science au labo", "festival", ("LPEM",), ("grand_public",),
                         "programmee", (Edition(2026, date(2026, 10, 3)),), evidence=("https://lpem.example.org/fete",),
                         origin="manual", validated=True)
    proposed = Initiative("d-123", "Fête de la science", "festival", ("LPEM",), ("grand_public",), "programmee",
                          (Edition(2026, date(2026, 10, 3), date(2026, 10, 4)),), evidence=entered.evidence)
    elsewhere = replace(proposed, initiative_id="d-456", evidence=("https://lpem.example.org/autre",))
    publish_map([entered, proposed, elsewhere], tmp_path, generated_at=NOW)
    assert sorted(events_of(tmp_path)) == ["d-456-2026@veille-scientifique.invalid",
                                           "fete-labo-2026@veille-scientifique.invalid"]
