"""The weekly digest: selection, French subject, and renderers that stay harmless on hostile input."""

from __future__ import annotations

import html
import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest

from pipeline.digest.build import (
    all_entries, build_digest, digest_subject, render_html, render_ics, render_json, render_text, summarize,
    write_digest,
)
from pipeline.models import Candidate, Item, SourceHealth
from pipeline.normalize import item_id

UTC = timezone.utc
WEEK = "2026-W48"  # Monday 23 to Sunday 29 November 2026
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # Monday morning after the week
IN_WEEK = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def story(n: int, title: str, text: str, *, category: str = "research", confidence: float = 0.9,
          sources: tuple[str, ...] = ("Labo A",), seen: datetime = IN_WEEK, url: str | None = None,
          cluster: str | None = None) -> Candidate:
    link = url or f"https://www.univ.example.fr/actualites/{n}"
    item = Item(item_id(link + str(n)), "labo-a", link, title, seen - timedelta(hours=5), text, lang="fr")
    return Candidate(item, sources[0], seen, category, confidence, cluster or f"cluster-{n}", sources)


HEALTH = [
    SourceHealth("a", "Labo A", "ok", None, 0, NOW, NOW, 10, False),
    SourceHealth("geo", "Laboratoire de Géosciences", "error", "timeout", 3, NOW - timedelta(days=4), None, 0, False),
    SourceHealth("bio", "Unité de Biologie", "ok", None, 0, NOW, datetime(2026, 9, 1, tzinfo=UTC), 0, True),
]
HOSTILE_TITLE = 'Prix <script>alert("x")</script> Nobel\r\nBcc: victime@evil.example'
HOSTILE = story(
    99, HOSTILE_TITLE,
    'Lauréate ! <img src="https://tracker.evil.example/p.gif" width="1" height="1"> Conférence grand public '
    'le jeudi 10 décembre 2026 à 18h ; "quotes" & <b onmouseover="steal()">gras</b>',
    url="javascript:alert(document.cookie)",
)


def sample() -> list[Candidate]:
    return [
        story(1, "Médaille d'argent du CNRS pour Julie Marchand",
              "La physicienne est récompensée pour ses travaux sur les supraconducteurs.",
              sources=("Labo A", "Institut B", "Université")),
        story(2, "Séminaire interne de l'équipe Matériaux", "Exposé sur les alliages à mémoire de forme."),
        story(3, "Offre de poste : technicien de laboratoire", "Le laboratoire recrute en CDD. Candidature avant le 15 décembre."),
        story(4, "Nouvelle licence de physique-chimie", "Présentation aux lycéens lors des portes ouvertes le 5 décembre à 10h.",
              category="teaching", confidence=0.45),
        story(5, "Le club d'astronomie organise une nuit des étoiles",
              "L'association étudiante accueille le public le samedi 12 décembre de 21h à 23h.", category="student"),
        story(6, "Article vu la semaine d'avant", "Découverte majeure publiée dans Nature.",
              seen=datetime(2026, 11, 20, 10, tzinfo=UTC)),
        story(7, "Déjà envoyé", "Prix de thèse de la fondation.", cluster="cluster-sent"),
    ]


def build(candidates=None, **options):
    """The selection mechanics, every kept story shown (the short list has its own tests)."""
    options.setdefault("worthy_score", float("-inf"))
    return build_digest(sample() if candidates is None else candidates, WEEK, HEALTH, NOW, **options)


def test_selection_keeps_the_week_ranks_and_drops_routine_and_sent():
    d = build(exclude_cluster_ids=frozenset({"cluster-sent"}))
    titles = [e.title for e in all_entries(d)]
    assert [s.label for s in d.sections] == ["Recherche", "Enseignement", "Initiatives étudiantes"]
    assert titles[:2] == ["Médaille d'argent du CNRS pour Julie Marchand", "Séminaire interne de l'équipe Matériaux"]
    assert "Offre de poste : technicien de laboratoire" not in titles  # routine, below min_score
    assert "Article vu la semaine d'avant" not in titles and "Déjà envoyé" not in titles
    assert d.stories_seen == 5
    assert d.highlights[0].title == "Médaille d'argent du CNRS pour Julie Marchand"


def test_entry_fields_relay_count_and_uncertain_flag():
    d = build()
    prize = d.sections[0].entries[0]
    assert prize.sources == ("Labo A", "Institut B", "Université")
    assert "relayé par 3 sources" in prize.reason and prize.reason.startswith("Prix ou distinction")
    teaching = d.sections[1].entries[0]
    assert teaching.uncertain and not prize.uncertain
    assert not build(uncertain_below=0.4).sections[1].entries[0].uncertain


def test_one_entry_per_cluster_with_the_best_item():
    twin_a = story(10, "Portes ouvertes de la faculté", "Journée portes ouvertes le 5 décembre.", cluster="same")
    twin_b = story(11, "Portes ouvertes", "Venez nombreux.", cluster="same")
    d = build([twin_a, twin_b])
    assert [e.item_id for e in all_entries(d)] == [twin_a.item.item_id]


def test_max_per_section():
    many = [story(n, f"Découverte numéro {n}", "Résultats publiés dans la revue.") for n in range(12)]
    assert len(build(many, max_per_section=5).sections[0].entries) == 5


def test_upcoming_events_within_four_weeks_in_date_order():
    d = build()
    assert [(u.title, u.event.start_day) for u in d.upcoming] == [
        ("Nouvelle licence de physique-chimie", date(2026, 12, 5)),
        ("Le club d'astronomie organise une nuit des étoiles", date(2026, 12, 12)),
    ]


def test_health_lines_name_failing_and_silent_sources():
    lines = build().health_lines
    assert lines[0] == "1 source sur 3 en bon état."
    assert build_digest([], WEEK, HEALTH[:1], NOW).health_lines == ("La source suivie a répondu normalement.",)
    two_ok = [HEALTH[0], replace(HEALTH[0], source_id="b", name="Labo B")]
    assert build_digest([], WEEK, two_ok, NOW).health_lines == ("Les 2 sources suivies ont répondu normalement.",)
    assert any("Laboratoire de Géosciences : en échec depuis 3 collectes (timeout)" in line for line in lines)
    assert any("Unité de Biologie : silencieuse" in line for line in lines)


def test_health_lines_say_how_far_a_backfill_got():
    backfilling = replace(HEALTH[0], backfill_done=120, backfill_total=400)
    lines = build_digest([], WEEK, [backfilling], NOW).health_lines
    assert lines == ("La source suivie a répondu normalement.",
                     "Collecte initiale en cours pour « Labo A » : 120 pages sur 400, la suite à la prochaine collecte.")


@pytest.mark.parametrize(
    ("week", "period"),
    [("2026-W48", "23-29 nov. 2026"), ("2026-W49", "30 nov.-6 déc. 2026"), ("2026-W53", "28 déc. 2026-3 janv. 2027"),
     ("2027-W10", "8-14 mars 2027"), ("2026-W23", "1er-7 juin 2026")],
)
def test_subject_periods(week, period):
    d = build_digest([], week, [], NOW)
    assert digest_subject(d) == f"Veille scientifique - semaine {int(week[-2:])} ({period}) : aucun sujet"


def test_subject_counts_topics():
    assert build().subject == "Veille scientifique - semaine 48 (23-29 nov. 2026) : 5 sujets"
    one = build([sample()[0]])
    assert one.subject.endswith(": 1 sujet")


def test_summary_is_cut_cleanly_on_a_word():
    text = "Les chercheuses ont mesuré " + "une propriété remarquable " * 30
    cut = summarize("Titre", text, limit=120)
    assert len(cut) <= 121 and cut.endswith("…")
    assert text.startswith(cut[:-1])
    assert cut[:-1].split()[-1] in text.split()  # the last word is whole
    assert summarize("Titre du sujet", "Titre du sujet. Le corps du texte.") == "Le corps du texte."
    assert summarize("T", "Première phrase complète. " * 3 + "Fin " * 40, limit=100).endswith(".")


class Inspector(HTMLParser):
    """Collects what matters for safety: tags, attributes, and the text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self.html_lang: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")
        if tag == "html":
            self.html_lang = dict(attrs).get("lang")

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_harmless_with_hostile_input():
    d = build([*sample(), HOSTILE])
    html = render_html(d)
    page = Inspector()
    page.feed(html)
    assert page.html_lang == "fr"
    assert "script" not in page.tags and "img" not in page.tags and "iframe" not in page.tags
    assert not [name for name, _ in page.attrs if name.startswith("on")]
    assert page.links and all(link.startswith(("https://", "http://")) for link in page.links)
    assert "javascript:" not in html.lower() and "tracker.evil.example" not in html
    assert "src=" not in html  # nothing is loaded from anywhere
    text = "".join(page.text)
    assert 'Prix alert("x") Nobel Bcc: victime@evil.example' in text  # shown as text, on one line
    assert "(lien non valide)" in text


def test_html_structure_and_accessibility():
    page = Inspector()
    page.feed(render_html(build()))
    assert page.tags.count("h1") == 1
    assert page.tags.count("h2") >= 5  # à la une, 3 sections, à venir, état des sources
    assert "table" in page.tags and any(name == "role" and value == "presentation" for name, value in page.attrs)


def test_text_is_harmless_with_hostile_input():
    text = render_text(build([*sample(), HOSTILE]))
    assert "javascript:" not in text and "<script" not in text and "tracker.evil.example" not in text
    assert "\r" not in text
    assert '* Prix alert("x") Nobel Bcc: victime@evil.example' in text
    assert "(lien non valide)" in text


def test_json_round_trip():
    d = build()
    data = json.loads(render_json(d))
    assert data["week"] == WEEK and data["entry_count"] == d.entry_count
    assert data["sections"][0]["entries"][0]["sources"] == ["Labo A", "Institut B", "Université"]
    assert data["upcoming"][0]["event"]["start"].startswith("2026-12-05T09:00:00")


def unfold(ics: str) -> list[str]:
    logical: list[str] = []
    for line in ics.split("\r\n")[:-1]:
        if line.startswith(" "):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    return logical


def test_ics_is_valid_folded_and_escaped():
    long_title = "Conférence, débat ; « Les trous noirs » \\ expliqués " + "très longuement " * 8
    lively = story(20, long_title, "Conférence grand public le jeudi 10 décembre 2026 de 18h à 20h.")
    d = build([*sample(), lively, HOSTILE])
    ics = render_ics(d)
    assert ics.endswith("\r\n") and "\n" not in ics.replace("\r\n", "")
    physical = ics.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in physical)
    assert any(line.startswith(" ") for line in physical)  # something was folded
    lines = unfold(ics)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR" and "VERSION:2.0" in lines
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == len(d.upcoming) == 4
    expected = long_title.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").strip()
    assert f"SUMMARY:{expected}" in lines
    assert "DTSTART:20261210T170000Z" in lines and "DTEND:20261210T190000Z" in lines
    assert "DTSTART;VALUE=DATE:20261212" not in lines  # 12 Dec has hours: a timed event
    assert not any("javascript" in line for line in lines)
    assert all(":" in line for line in lines)
    uids = [line for line in lines if line.startswith("UID:")]
    assert len(set(uids)) == len(uids)


def test_write_digest_files(tmp_path):
    d = build()
    paths = write_digest(d, tmp_path / "digests")
    assert sorted(paths) == ["html", "ics", "json", "txt"]
    assert paths["html"].name == "2026-W48.html"
    assert b"\r\n" in paths["ics"].read_bytes()
    assert paths["txt"].read_text(encoding="utf-8") == render_text(d)


def test_empty_week_renders():
    d = replace(build([]), health_lines=("Aucune source suivie.",))
    assert "Rien de notable cette semaine." in render_html(d)
    assert "Aucun événement daté" in render_text(d)
    assert unfold(render_ics(d)).count("BEGIN:VEVENT") == 0


def quiet_week() -> list[Candidate]:
    prize = story(20, "Prix Irène-Joliot-Curie pour la chimiste Awa Diallo",
                  "La chimiste Awa Diallo reçoit le prix pour ses travaux sur les batteries au sodium, expliqués "
                  "lors d'une conférence grand public le jeudi 3 décembre 2026 à 18h, entrée libre.")
    weak = [
        story(21, "Réunion d'équipe reportée", "La réunion d'équipe de lundi est reportée à mardi même heure."),
        story(22, "Séminaire : inversion de données sismiques", "Abstract : méthodes d'inversion pour spécialistes."),
        story(23, "Fermeture du bâtiment", "Le bâtiment sera fermé pour maintenance pendant les congés."),
    ]
    return [prize, *weak]


def test_a_quiet_week_shows_a_short_list_not_filler():
    d = build_digest(quiet_week(), WEEK, HEALTH, NOW)
    research = d.sections[0]
    assert [e.title for e in research.entries] == ["Prix Irène-Joliot-Curie pour la chimiste Awa Diallo"]
    assert research.left_out == 3
    assert research.note == "1 sujet cette semaine ; 3 autres écartés (peu d'intérêt pour la médiation)."
    assert research.note in " ".join(render_text(d).split())
    assert research.note in html.unescape(render_html(d))
    assert json.loads(render_json(d))["sections"][0]["note"] == research.note


def test_a_busy_section_is_still_capped():
    many = [story(30 + n, f"Prix de l'Académie des sciences pour l'équipe {n}",
                  "Une distinction pour des travaux expliqués au grand public lors d'une conférence.") for n in range(10)]
    d = build_digest(many, WEEK, HEALTH, NOW, max_per_section=8)
    assert len(d.sections[0].entries) == 8 and d.sections[0].left_out == 2


def test_pages_that_are_no_story_never_reach_the_digest():
    listing = story(40, "Actualités", "Prix Irène-Joliot-Curie pour la chimiste Awa Diallo\nLire la suite\n"
                    "Conférence grand public le 3 décembre\nLire la suite", url="https://www.univ.example.fr/actualites/")
    d = build_digest([*quiet_week(), listing], WEEK, HEALTH, NOW, worthy_score=float("-inf"))
    assert "Actualités" not in [e.title for e in all_entries(d)]
    assert d.stories_seen == 4


def test_an_undated_page_of_a_new_source_is_no_news_of_the_week():
    about = story(50, "Le laboratoire en quelques mots", "Une équipe qui étudie les exoplanètes et les présente au grand public "
                  "lors de la fête de la science.")
    undated = replace(about, item=replace(about.item, published_at=None), undated_backlog=True)
    dated_later = replace(about, item=replace(about.item, published_at=None), undated_backlog=False, cluster_id="c-51")
    d = build_digest([undated, dated_later], WEEK, HEALTH, NOW, worthy_score=float("-inf"))
    assert [e.cluster_id for e in all_entries(d)] == ["c-51"]
