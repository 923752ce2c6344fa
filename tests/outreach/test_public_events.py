"""Which stored stories give a public event for agenda.ics, and with which date, place and UID."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from pipeline.models import Candidate, Item
from pipeline.outreach.catalogue import Edition, Initiative
from pipeline.outreach.public_events import announced_date, coming_public_events, is_public_event

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
TODAY = date(2026, 12, 7)
MORE = ("Les chercheurs de l'équipe présenteront leurs travaux récents et répondront aux questions du public "
        "pendant une heure, avant un moment d'échange convivial.")


def story(key: str, title: str, text: str, *, source: str = "labo", cluster: str | None = None,
          published: datetime = NOW - timedelta(days=1)) -> Candidate:
    item = Item(item_id=f"i-{key}", source_id=source, url=f"https://{source}.example.org/{key}", title=title,
                published_at=published, text=text)
    return Candidate(item=item, source_name=f"Site {source}", first_seen_at=published, category="research",
                     confidence=0.9, cluster_id=cluster or f"c-{key}", cluster_sources=())


def talk(source: str = "labo", key: str = "talk") -> Candidate:
    return story(key, "Conférence sur les volcans",
                 f"Conférence ouverte à tous le jeudi 14 janvier 2027 à 18h30 dans l'amphithéâtre Darwin. {MORE}",
                 source=source, cluster="c-talk")


def test_a_public_talk_gives_a_timed_event_with_its_place_and_categories() -> None:
    [event] = coming_public_events([talk()], [], TODAY)
    assert event.when.start == datetime(2027, 1, 14, 17, 30, tzinfo=timezone.utc) and not event.when.all_day
    assert event.place == "Amphithéâtre Darwin" and event.organiser == "Site labo"
    assert event.categories == ("Événement ouvert au public", "Recherche")


def test_a_relayed_story_gives_one_event_whose_uid_does_not_depend_on_the_representative() -> None:
    [first] = coming_public_events([talk(), talk("asso", "relay")], [], TODAY)
    [swapped] = coming_public_events([talk("asso", "relay"), talk()], [], TODAY)
    assert first.uid == swapped.uid and first.relayed_by == ("Site asso",) and swapped.organiser == "Site asso"


def test_internal_seminars_past_events_and_reports_give_no_event() -> None:
    seminar = story("sem", "Séminaire de l'équipe", f"Séminaire le 14 janvier 2027 à 14h en salle 204. {MORE}")
    past = story("past", "Portes ouvertes", f"Portes ouvertes au public le 2 décembre 2026. {MORE}",
                 published=NOW - timedelta(days=20))
    report = story("report", "Retour sur la fête de la science",
                   f"Le 10 octobre 2026, la fête de la science a accueilli 300 visiteurs. {MORE}")
    assert not is_public_event(seminar.item) and coming_public_events([seminar, past, report], [], TODAY) == []


def test_an_open_seminar_and_a_thesis_defence_are_public() -> None:
    open_seminar = story("open", "Séminaire ouvert à tous", f"Le 14 janvier 2027 à 14h, salle 204. {MORE}")
    defence = story("phd", "Soutenance de thèse", f"Alex Dupont soutiendra sa thèse le 20 janvier 2027. {MORE}")
    found = coming_public_events([open_seminar, defence], [], TODAY)
    assert [e.title for e in found] == ["Séminaire ouvert à tous", "Soutenance de thèse"]
    assert found[1].categories[0] == "Soutenance" and found[1].when.all_day


def test_a_deadline_is_not_the_event_date() -> None:
    announced = story("reg", "Nuit des étoiles",
                      f"Inscription avant le 5 janvier 2027. Soirée grand public le 9 janvier 2027 à 20h. {MORE}")
    assert announced_date(announced).start_day == date(2027, 1, 9)


def test_a_listing_page_gives_no_event() -> None:
    listing = story("agenda", "Agenda", f"Conférence ouverte à tous le 14 janvier 2027. {MORE}")
    assert coming_public_events([listing], [], TODAY) == []


def test_an_event_that_is_an_initiatives_edition_is_left_to_the_initiative() -> None:
    initiative = Initiative("volcans", "Les volcans en conférence", "conference_grand_public", ("Labo",),
                            ("grand_public",), "programmee", (Edition(2027, date(2027, 1, 14)),),
                            evidence=("https://asso.example.org/relay",))
    assert coming_public_events([talk(), talk("asso", "relay")], [initiative], TODAY) == []
    elsewhere = replace(initiative, editions=(Edition(2027, date(2027, 3, 1)),))
    assert len(coming_public_events([talk()], [elsewhere], TODAY)) == 1  # another edition: another event


def test_the_pages_own_date_line_is_not_the_event_date() -> None:
    stamped = story("stamp", "Nuit des étoiles",
                    f"6 décembre 2026 - Club astro. Soirée grand public le 9 janvier 2027 à 20h. {MORE}")
    assert announced_date(stamped).start_day == date(2027, 1, 9)


def test_an_impossible_stored_date_gives_no_event_and_no_error() -> None:
    far = story("far", "Conférence grand public", f"Le 14 janvier 2027 à 18h. {MORE}",
                published=datetime(9999, 12, 31, 23, 0, tzinfo=timezone.utc))
    assert coming_public_events([far], [], TODAY) == []


def test_a_page_listing_other_stories_gives_no_event() -> None:
    volcans = story("volcans", "Conférence sur les volcans d'Auvergne",
                    f"Conférence ouverte à tous le 14 janvier 2027 à 18h30. {MORE}")
    glaciers = story("glaciers", "Conférence sur les glaciers des Alpes",
                     f"Conférence ouverte à tous le 21 janvier 2027 à 18h30. {MORE}")
    listing = story("rendez-vous", "Nos rendez-vous du trimestre",
                    "Conférence sur les volcans d'Auvergne : ouverte à tous le 14 janvier 2027. "
                    "Conférence sur les glaciers des Alpes : ouverte à tous le 21 janvier 2027. " + MORE)
    found = coming_public_events([listing, volcans, glaciers], [], TODAY)
    assert [e.title for e in found] == ["Conférence sur les volcans d'Auvergne", "Conférence sur les glaciers des Alpes"]
