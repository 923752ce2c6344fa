"""agenda.ics after real nightly runs over loopback sites: the coming public events announced by the
stored stories sit beside the initiatives' editions, once each, and keep their UIDs night after night."""

from __future__ import annotations

import textwrap
from datetime import date, datetime, time, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import icalendar
import pytest
import vobject

from pipeline.digest.events import PARIS

pytestmark = pytest.mark.usefixtures("prefect_harness")

MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")
FILLER = ("Chacun pourra poser ses questions à la fin de la séance et prolonger la discussion autour d'un verre "
          "avec les membres de l'équipe, qui présenteront aussi leurs instruments et leurs dernières mesures.")


def french_day(day: date) -> str:
    return f"{day.day} {MONTHS_FR[day.month - 1]} {day.year}"


def feed(site: str, entries: list[tuple[str, str, str, datetime]]) -> str:
    items = "".join(
        f"<item><title>{escape(title)}</title><link>__SITE:{site}__/{slug}.html</link>"
        f"<guid>__SITE:{site}__/{slug}.html</guid><pubDate>{format_datetime(published)}</pubDate>"
        f"<description>{escape(text)}</description></item>"
        for slug, title, text, published in entries
    )
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Actualités</title>'
            f"<link>__SITE:{site}__/</link><description>Actualités</description>{items}</channel></rss>")


class Scenario:
    """The stories of two loopback sites, dated from today."""

    def __init__(self, now: datetime) -> None:
        today = now.astimezone(PARIS).date()
        self.talk_day, self.seminar_day = today + timedelta(days=20), today + timedelta(days=22)
        self.defence_day, self.festival_day = today + timedelta(days=27), today + timedelta(days=34)
        self.past_day = today - timedelta(days=3)
        yesterday, earlier = now - timedelta(days=1), now - timedelta(days=12)
        talk = ("Conférence : les ondes gravitationnelles racontées",
                f"Le laboratoire vous invite à une conférence ouverte à tous le {french_day(self.talk_day)} à 18h30 "
                f"dans l'amphithéâtre Curie, bâtiment B. Une chercheuse de l'équipe raconte comment on écoute "
                f"les collisions de trous noirs. {FILLER}")
        self.lab = [
            ("talk", *talk, yesterday),
            ("sky", "Soirée d'observation du ciel d'automne",
             f"Une soirée ouverte au public le {french_day(self.past_day)} à 20h au jardin botanique, avec les "
             f"télescopes du club d'astronomie. {FILLER}", earlier),
            ("seminar", "Séminaire de l'équipe Plasmas : turbulence dans les tokamaks",
             f"Le prochain séminaire de l'équipe aura lieu le {french_day(self.seminar_day)} à 14h en salle 204. "
             f"Exposé sur la turbulence et le transport dans les plasmas de fusion, suivi d'une discussion "
             f"sur les codes gyrocinétiques.", yesterday),
            ("defence", "Soutenance de thèse de Camille Martin",
             f"Camille Martin soutiendra sa thèse de doctorat le {french_day(self.defence_day)} à 14h dans "
             f"l'amphithéâtre Fermi. Sa thèse porte sur les matériaux quantiques bidimensionnels et leurs "
             f"propriétés de transport à très basse température.", yesterday),
            ("festival", "Fête de la science au laboratoire",
             f"Le laboratoire ouvre ses portes au grand public le {french_day(self.festival_day)} : visites des "
             f"salles d'expériences, ateliers pour les enfants et démonstrations. {FILLER}", yesterday),
        ]
        self.relay = [("talk-relay", *talk, yesterday), ("defence-relay", *self.lab[3][1:3], yesterday)]

    def write_sites(self, root: Path) -> Path:
        for site, entries in (("lab", self.lab), ("asso", self.relay)):
            (root / site).mkdir(parents=True)
            (root / site / "feed.rss").write_text(feed(site, entries), encoding="utf-8")
        return root

    def initiatives_yaml(self, lab_url: str) -> str:
        return textwrap.dedent(f"""\
            initiatives:
              - id: fete-science-labo
                title: "Fête de la science : le laboratoire ouvre ses portes"
                kind: festival
                organisers: ["Laboratoire de physique"]
                audience: [grand_public]
                status: programmee
                editions:
                  - year: {self.festival_day.year}
                    start: {self.festival_day.isoformat()}
                    place: "Hall du bâtiment A"
                evidence: ["{lab_url}/festival.html"]
            """)


def sources_yaml(sites) -> str:
    return textwrap.dedent(f"""\
        settings:
          per_origin_delay_s: 0.0
          allowed_networks: ["127.0.0.0/8"]
          max_retries: 0
        sources:
          - id: lab
            name: Laboratoire de physique
            kind: feed
            url: {sites.base_urls["lab"]}/feed.rss
            category: research
            full_text: never
          - id: asso
            name: Association des doctorants
            kind: feed
            url: {sites.base_urls["asso"]}/feed.rss
            category: student
            full_text: never
        """)


@pytest.fixture(scope="module")
def nightly_agendas(tmp_path_factory: pytest.TempPathFactory):
    """Two nightly flows with nothing changed in between; the agenda each left, and the scenario."""
    from pipeline import flows
    from pipeline.demo.server import serve_sites

    scenario = Scenario(datetime.now(timezone.utc))
    out = tmp_path_factory.mktemp("agenda-nightly")
    db, agendas = out / "veille.duckdb", []
    with serve_sites(scenario.write_sites(out / "sites")) as sites:
        (out / "sources.yaml").write_text(sources_yaml(sites), encoding="utf-8")
        (out / "initiatives.yaml").write_text(scenario.initiatives_yaml(sites.base_urls["lab"]), encoding="utf-8")
        for _ in range(2):
            flows.nightly_flow(str(out / "sources.yaml"), str(db), str(out / "initiatives.yaml"))
            agendas.append((out / "map" / "agenda.ics").read_bytes())
    return scenario, agendas


def events_by_day(agenda: bytes) -> dict[date, list[icalendar.Event]]:
    by_day: dict[date, list[icalendar.Event]] = {}
    for event in icalendar.Calendar.from_ical(agenda).walk("VEVENT"):
        start = event.decoded("dtstart")
        day = start.astimezone(PARIS).date() if isinstance(start, datetime) else start
        by_day.setdefault(day, []).append(event)
    return by_day


def test_agenda_holds_each_coming_public_event_once(nightly_agendas) -> None:
    scenario, (agenda, _) = nightly_agendas
    events = events_by_day(agenda)
    assert sorted(events) == [scenario.talk_day, scenario.defence_day, scenario.festival_day]
    assert all(len(found) == 1 for found in events.values()), events  # a relay, an initiative: still one
    assert not str(events[scenario.talk_day][0]["uid"]).startswith("story-")  # detected: the initiative's event
    assert str(events[scenario.festival_day][0]["uid"]).startswith("fete-science-labo-")  # the officer's entry


def test_a_story_event_has_its_time_place_link_organiser_and_categories(nightly_agendas) -> None:
    scenario, (agenda, _) = nightly_agendas
    [defence] = events_by_day(agenda)[scenario.defence_day]
    assert str(defence["uid"]).startswith("story-") and str(defence["summary"]) == "Soutenance de thèse de Camille Martin"
    start = defence.decoded("dtstart")
    assert (start.hour, start.minute, str(start.tzinfo)) == (14, 0, "Europe/Paris")
    assert defence["dtstart"].params["TZID"] == "Europe/Paris"
    assert str(defence["location"]) == "Amphithéâtre Fermi"
    assert str(defence["url"]).endswith("/defence.html") or str(defence["url"]).endswith("/defence-relay.html")
    description = str(defence["description"])
    assert "Organisé par : " in description and "Relayé par : " in description
    assert {"Laboratoire de physique", "Association des doctorants"} <= set(
        description.replace("Organisé par : ", "\n").replace("Relayé par : ", "\n").split("\n"))
    assert "Soutenance" in defence["categories"].cats


def test_a_second_reader_reads_the_same_events(nightly_agendas) -> None:
    scenario, (agenda, _) = nightly_agendas
    text = agenda.decode("utf-8")
    second = vobject.readOne(text)
    assert sorted(e.uid.value for e in second.vevent_list) == \
        sorted(str(e["uid"]) for e in icalendar.Calendar.from_ical(agenda).walk("VEVENT"))
    timed = [e for e in second.vevent_list if isinstance(e.dtstart.value, datetime)]
    paris_two_pm = datetime.combine(scenario.defence_day, time(14, 0), tzinfo=PARIS)
    assert [e.dtstart.value for e in timed] == [paris_two_pm]
    assert all(len(line.encode("utf-8")) <= 75 for line in text.split("\r\n"))


def test_a_second_night_with_nothing_changed_keeps_every_uid(nightly_agendas) -> None:
    _, (first, second) = nightly_agendas
    uids = [{str(e["uid"]): str(e["summary"]) for e in icalendar.Calendar.from_ical(a).walk("VEVENT")}
            for a in (first, second)]
    assert uids[0] == uids[1] and len(uids[0]) == 3
