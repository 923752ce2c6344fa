"""Mediation-worthiness: the ordering on typical stories, the French reasons, the weights."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.models import Candidate, Item
from pipeline.normalize import item_id
from pipeline.digest.rank import DEFAULT_WEIGHTS, Worthiness, reason_line, score_candidate, score_item_static

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)


def story(title: str, text: str, *, sources: tuple[str, ...] = ("Labo A",), age_days: float = 1.0,
          confidence: float = 0.9, image_url: str | None = None) -> Candidate:
    url = "https://labo-a.example.fr/actualites/" + str(abs(hash((title, text))))
    published = NOW - timedelta(days=age_days)
    item = Item(item_id(url), "labo-a", url, title, published, text, image_url=image_url)
    return Candidate(item, sources[0], published, "research", confidence, "c-" + item.item_id, sources)


PRIZE = story("Médaille d'argent du CNRS pour Julie Marchand",
              "La physicienne est récompensée pour ses travaux sur les supraconducteurs.")
JOB = story("Offre de poste : technicien(ne) de laboratoire",
            "Le laboratoire recrute un technicien en CDD de 12 mois. Candidature avant le 15 décembre.")
ADMIN = story("Fermeture administrative du 21 décembre au 4 janvier",
              "Le secrétariat sera fermé ; calendrier administratif disponible sur l'intranet.")
PUBLIC = story("Fête de la science : le labo ouvre ses portes",
               "Ateliers et démonstrations pour les familles, entrée libre, samedi 12 décembre de 10h à 18h.")
PLAIN = story("Séminaire interne de l'équipe Matériaux", "Exposé de Paul Girard sur les alliages à mémoire de forme.")


def score(c: Candidate) -> float:
    return score_candidate(c, NOW).score


def test_prize_beats_a_routine_job_posting():
    assert score(PRIZE) > score(PLAIN) > score(JOB)


def test_public_event_beats_an_administrative_notice():
    assert score(PUBLIC) > score(PLAIN) > score(ADMIN)


def test_routine_notices_score_below_zero():
    assert score(JOB) < 0 and score(ADMIN) < 0


def test_relayed_by_three_sources_beats_a_single_source():
    relayed = replace(PLAIN, cluster_sources=("Labo A", "Institut B", "Université"))
    assert score(relayed) > score(PLAIN)
    assert "relayé par 3 sources" in score_candidate(relayed, NOW).reasons


def test_coverage_is_capped():
    many = replace(PLAIN, cluster_sources=tuple(f"Source {n}" for n in range(10)))
    four = replace(PLAIN, cluster_sources=tuple(f"Source {n}" for n in range(4)))
    assert score(many) == score(four)


def test_fresh_beats_stale_and_stale_is_said():
    stale = story(PRIZE.item.title, PRIZE.item.text, age_days=40)
    assert score(PRIZE) > score(stale)
    assert any(r.startswith("moins récent") for r in score_candidate(stale, NOW).reasons)


def test_higher_confidence_ranks_higher_all_else_equal():
    assert score(replace(PLAIN, confidence=0.95)) > score(replace(PLAIN, confidence=0.4))


def test_discovery_in_a_major_journal():
    paper = story("Des chercheurs découvrent une nouvelle espèce de tardigrade",
                  "Les résultats sont publiés dans la revue Nature Communications.")
    w = score_candidate(paper, NOW)
    assert "résultat ou découverte" in w.reasons
    assert "publication dans Nature Communications" in w.reasons
    assert score(paper) > score(PLAIN)


def test_ordinary_words_are_not_journals_or_prizes():
    text = ("Étude de la nature des sols. Science et société : travaux de recherche en cours. "
            "Prix d'entrée : 5 euros. Exposition aux pesticides.")
    w = score_candidate(story("Journée d'étude", text), NOW)
    names = {name for name, _ in w.contributions}
    assert not names & {"major_journal", "prize", "administrative", "public_event"}


def test_student_initiative_and_thesis_defence_are_signals():
    club = story("L'association étudiante Hydrogène lance un projet de voiture solaire", "Le BDE soutient l'équipe.")
    defence = story("Soutenance de thèse de Marie Curie-Dupont", "La soutenance aura lieu en salle 12.")
    assert "initiative étudiante" in score_candidate(club, NOW).reasons
    assert "soutenance de thèse" in score_candidate(defence, NOW).reasons
    assert score(club) > score(PLAIN) and score(defence) > score(PLAIN)


def test_contact_and_image_add_a_little():
    with_contact = story(PLAIN.item.title, PLAIN.item.text + " Contact : paul.girard@univ.example.fr")
    with_phone = story(PLAIN.item.title, PLAIN.item.text + " Tél. 04 76 51 00 00")
    with_image = story(PLAIN.item.title, PLAIN.item.text, image_url="https://labo-a.example.fr/photo.jpg")
    for better in (with_contact, with_phone, with_image):
        assert score(PLAIN) < score(better) < score(PRIZE)


def test_upcoming_date_counts_but_not_for_routine_notices():
    coming = story("Conférence sur les exoplanètes", "Jeudi 10 décembre à 18h, amphi Kastler.")
    assert "date à venir" in score_candidate(coming, NOW).reasons
    assert "date à venir" not in score_candidate(JOB, NOW).reasons


def test_contributions_add_up_to_the_score():
    for c in (PRIZE, JOB, ADMIN, PUBLIC, PLAIN):
        w = score_candidate(c, NOW)
        assert abs(sum(points for _, points in w.contributions) - w.score) < 1e-6


def test_weights_are_honoured():
    no_prize = replace(DEFAULT_WEIGHTS, prize=0.0)
    without = score_candidate(PRIZE, NOW, no_prize)
    assert without.score == pytest.approx(score(PRIZE) - DEFAULT_WEIGHTS.prize)
    assert "prix ou distinction" not in without.reasons


def test_static_part_does_not_depend_on_time():
    first = score_item_static(PRIZE.item, PRIZE.cluster_sources, PRIZE.confidence)
    later = score_item_static(PRIZE.item, PRIZE.cluster_sources, PRIZE.confidence)
    assert first == later
    assert not {name for name, _ in first.contributions} & {"freshness", "upcoming_event"}
    assert score(PRIZE) > first.score  # the fresh story gains its freshness on top


def test_reason_line_is_one_french_line_strongest_first():
    relayed_prize = replace(PRIZE, cluster_sources=("Labo A", "Institut B", "Université"))
    line = reason_line(score_candidate(relayed_prize, NOW))
    assert line.startswith("Prix ou distinction ; relayé par 3 sources")
    assert "\n" not in line
    assert reason_line(Worthiness(0.0, ())) == "Aucun signal particulier"


def test_a_speakers_medal_does_not_make_a_talk_a_prize_story():
    bio = ("Conférence grand public sur la supraconductivité, le mercredi 9 décembre à 18h30 en amphithéâtre Curie. "
           "Entrée libre. " + "Des expériences de lévitation seront montrées au public. " * 6 +
           "Elle sera animée par Thibault Marchand, récent lauréat de la médaille de bronze du CNRS.")
    talk = score_candidate(story("La supraconductivité expliquée à tous", bio), NOW)
    prize = score_candidate(story("Médaille de bronze du CNRS pour Thibault Marchand",
                                  "Le physicien Thibault Marchand reçoit la médaille de bronze du CNRS."), NOW)
    assert "prix ou distinction" not in talk.reasons
    assert "événement ouvert au public" in talk.reasons
    assert "prix ou distinction" in prize.reasons


def test_a_grant_that_will_fund_positions_is_no_job_posting_and_an_internal_seminar_no_public_event():
    grant = story("ERC Consolidator Grant pour Maëlle Kerbrat",
                  "La physicienne Maëlle Kerbrat obtient une ERC Consolidator Grant de 2 millions d'euros. "
                  + "Le projet explorera les supraconducteurs bidimensionnels. " * 5
                  + "Ce financement va permettre de recruter deux doctorants et deux post-doctorants.")
    seminar = story("Séminaire du jeudi : Marco Bellini (INGV Rome)",
                    "Déformation crustale des Apennins. Les séminaires du jeudi sont ouverts à tous les membres "
                    "de l'institut.")
    job = story("Offre de post-doctorat en spectroscopie Raman", "Le laboratoire recrute un·e post-doctorant·e.")
    assert "annonce de recrutement (routine)" not in score_candidate(grant, NOW).reasons
    assert "événement ouvert au public" not in score_candidate(seminar, NOW).reasons
    course = story("Nouvelle UE « Climat et transitions »", "Une unité d'enseignement ouverte à tous les L2.")
    assert "événement ouvert au public" not in score_candidate(course, NOW).reasons
    assert "annonce de recrutement (routine)" in score_candidate(job, NOW).reasons


def test_a_hal_deposit_gives_its_journal_and_an_open_access_release_its_reason():
    from pipeline.models import Publication

    paper = story("Supraconductivité sous pression", "Nous mesurons la résistance d'un hydrure sous pression.")
    nature = Publication("hal-04000007", "ART", ("C. Martin",), journal="Nature", open_access=True)
    minor = Publication("hal-04000008", "ART", ("C. Martin",), journal="Revue de physique appliquée")
    deposit_only = replace(paper, publications=(nature,), news_items=0)
    announced = replace(paper, publications=(nature,), news_items=1)
    assert score_candidate(deposit_only, NOW).reasons[0] == "publication dans Nature"
    reasons = score_candidate(announced, NOW).reasons
    assert "article en accès ouvert avec un communiqué" in reasons and "publication dans Nature" in reasons
    assert score(announced) > score(deposit_only) > score(replace(paper, publications=(minor,), news_items=0))


def reasons_of(title: str, text: str, summary: str = "") -> tuple[str, ...]:
    c = story(title, text)
    return score_candidate(replace(c, item=replace(c.item, summary=summary)), NOW).reasons


def test_ordinary_french_words_are_no_humour_price_or_committee_cues():
    modelling = reasons_of("Modéliser une épidémie avec une courbe logistique",
                           "Même avec peu de données, la même courbe décrit bien le début de la vague.")
    dinner = reasons_of("Souper de fin d'année", "Le prix est fixé à 20 euros par personne, boissons comprises dans le prix du repas.")
    debate = reasons_of("Ciné-débat : les robots au cinéma",
                        "Le comité de l'association vous invite à un ciné-débat ouvert à tous, gratuit.")
    assert "billet d'humour" not in modelling
    assert "prix ou distinction" not in dinner and "vie interne d'un groupe" in dinner
    assert "vie interne d'un groupe" not in debate and "pour un large public" in debate


def test_a_recruitment_fair_is_no_job_posting_and_a_late_closure_no_notice():
    fair = reasons_of("Forum entreprises 2025", "Le forum de recrutement revient : rencontrez les recruteurs de 40 entreprises.")
    story_text = ("Notre article explique comment les réseaux de neurones apprennent. " * 8
                  + "Le laboratoire sera en fermeture pendant les congés.")
    assert "annonce de recrutement (routine)" not in fair
    assert "information administrative (routine)" not in reasons_of("Comment apprend un réseau de neurones", story_text)
    assert "information administrative (routine)" in reasons_of("Fermeture du laboratoire", "Le bâtiment ferme lundi.")


def test_a_byline_summary_does_not_hide_the_start_of_the_text():
    text = "Notre équipe a remporté la première place de la finale régionale de programmation, devant 30 équipes."
    assert "classement dans une compétition" in reasons_of("Résultats du concours", text, summary="12 mars 2025 - admin")


def test_english_prizes_and_a_lab_presenting_its_paper():
    assert "prix ou distinction" in reasons_of("Best paper award for our team", "Our work on robot curiosity received the award.")
    post = reasons_of("Teaching robots to ask questions", "This blog post presents our recent ICML paper on curious agents.")
    assert "résultat ou découverte" in post


def test_an_audience_addressed_counts_a_named_one_does_not():
    addressed = reasons_of("Install party", "Une soirée pour tous ceux qui veulent essayer Linux, débutants bienvenus.")
    named = reasons_of("Portrait d'une ancienne", "Sa société propose des stages sportifs : les enfants de 6 à 12 ans y apprennent la voile.")
    thanks = reasons_of("Bilan de la saison", "Merci à tous ceux qui nous ont soutenus pendant la compétition.")
    assert "pour un large public" in addressed
    assert "pour un large public" not in named and "pour un large public" not in thanks


def test_pupils_on_a_course_page_are_its_class_not_a_public():
    course = reasons_of("Cours de maths du 3 mars", "Chapitre 5 : exercices 2 à 6 pour les élèves, corrigé du devoir jeudi.")
    outreach = reasons_of("Des ateliers de chimie pour les élèves", "Dix étudiants animent des expériences dans quatre collèges.")
    assert "support ou organisation de cours" in course and "pour un large public" not in course
    assert "pour un large public" in outreach


def test_only_the_strongest_soft_penalty_counts():
    both = story("Rentrée du club : cours de soudure pour les nouveaux membres",
                 "Chers membres, cours de soudure et d'électronique pour les nouveaux adhérents jeudi au local.")
    worth = score_candidate(both, NOW)
    penalties = [name for name, points in worth.contributions if points < 0]
    assert len(penalties) == 1
    assert len([r for r in worth.reasons if r in ("vie interne d'un groupe", "support ou organisation de cours")]) == 1


def test_a_team_in_a_competition_is_a_student_initiative_and_an_address_no_seminar():
    cup = reasons_of("Retour sur la coupe de robotique", "L'équipe du club a participé à l'édition 2024 de la coupe "
                     "nationale ; éliminée en demi-finale, elle vise le podium l'an prochain.")
    debate = reasons_of("Soirée débat sur l'énergie", "Ouvert au public, 12 rue du Séminaire, à 19h.")
    assert "initiative étudiante" in cup and "classement dans une compétition" in cup
    assert "pour spécialistes" not in debate
    assert "pour spécialistes" in reasons_of("Webinaire : inversion sismique", "Keynote et abstract en ligne.")
