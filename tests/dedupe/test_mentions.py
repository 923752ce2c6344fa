"""Containment is not duplication: newsletters and listings mention the items they hold; relays with
edits (new title, added sentence, dropped or cut paragraphs, days later) stay one story."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from pipeline import store
from pipeline.dedupe import cluster as dedupe
from pipeline.dedupe.verify import profile_item, verify_pair
from pipeline.models import CrawlResult, Item, Source, SourceOutcome
from pipeline.normalize import content_hash, item_id
from pipeline.steps import nightly

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
ROBOTS = ("Coupe régionale de robotique : l'équipe du club termine deuxième", [
    "Les six membres du club de robotique ont présenté samedi leur machine autonome au gymnase de "
    "Villeneuve, face à vingt-deux équipes venues de toute la région.",
    "Leur robot devait trier des cubes colorés puis les empiler sur une plateforme mobile en moins de "
    "quatre-vingt-dix secondes ; il a réussi neuf manches sur dix et perdu la finale d'un seul point.",
    "Le club remercie l'atelier de mécanique du département de physique, qui a usiné les pièces du bras "
    "articulé pendant les vacances d'hiver, ainsi que les enseignants qui ont prêté leurs capteurs.",
    "Prochaine étape : la sélection nationale en mai, pour laquelle les étudiants cherchent encore un "
    "sponsor capable de financer le déplacement et une batterie de rechange.",
])
OPEN_DAY = ("Portes ouvertes du laboratoire de géologie marine", [
    "Le laboratoire de géologie marine ouvre ses salles de carottage au public le premier samedi du mois "
    "prochain, de dix heures à dix-sept heures, sans inscription.",
    "Les visiteurs pourront manipuler des sédiments prélevés à trois mille mètres de profondeur, observer "
    "des foraminifères au microscope et suivre en direct la position du navire océanographique.",
    "Des doctorantes animeront un atelier pour les enfants sur la formation des roches, avec un quiz et "
    "des échantillons à emporter.",
])
PRIZE = ("Prix de thèse de la fondation pour une doctorante en chimie verte", [
    "La fondation régionale pour la recherche a distingué cette année les travaux d'une doctorante de "
    "l'institut de chimie sur les solvants issus de déchets agricoles.",
    "Ses catalyseurs à base de fer remplacent des métaux rares dans la synthèse de plusieurs molécules "
    "utilisées par l'industrie pharmaceutique, avec un rendement comparable.",
    "Le prix, doté de cinq mille euros, lui sera remis lors de la cérémonie annuelle au conseil régional.",
])


def make(url: str, title: str, paragraphs: list[str], *, days: float = 0, source: str = "lab") -> Item:
    text = "\n".join(paragraphs)
    return Item(item_id(url), source, url, title, T0 + timedelta(days=days), text, content_hash=content_hash(title, text))


def originals() -> list[Item]:
    return [make("https://club.example.org/coupe", *ROBOTS, source="club"),
            make("https://geo.example.org/portes-ouvertes", *OPEN_DAY, days=1, source="geo"),
            make("https://chimie.example.org/prix-these", *PRIZE, days=2, source="chimie")]


def newsletter(days: float = 5) -> Item:
    paragraphs = ["Bonjour à toutes et à tous, voici les nouvelles de la quinzaine."]
    for title, body in (ROBOTS, OPEN_DAY, PRIZE):
        paragraphs += [title, *body]
    return make("https://faculte.example.org/lettre-12", "La lettre de la faculté n°12", paragraphs, days=days,
                source="faculte")


def relay(days: float = 8) -> Item:
    title, body = ROBOTS
    paragraphs = ["Information relayée par la Faculté des Sciences.", body[0], body[1], body[3]]
    return make("https://faculte.example.org/relais-coupe", f"Retour sur « {title} »", paragraphs, days=days,
                source="faculte")


def cluster_of(assignments: list[dedupe.ClusterAssignment], item: Item) -> str:
    return next(a.cluster_id for a in assignments if a.item_id == item.item_id)


def test_a_newsletter_mentions_the_items_it_holds_and_joins_none_of_their_stories() -> None:
    items = originals() + [newsletter()]
    assignments = dedupe.cluster_items(items)
    letter = items[-1]
    assert cluster_of(assignments, letter) == letter.item_id
    assert all(cluster_of(assignments, item) == item.item_id for item in items[:3])
    mentions = {m for a in assignments for m in a.mentions}
    assert mentions == {(letter.item_id, item.item_id) for item in items[:3]}


def test_a_relay_with_a_new_title_an_added_sentence_and_a_dropped_paragraph_is_the_same_story() -> None:
    items = originals() + [relay()]
    assignments = dedupe.cluster_items(items)
    assert cluster_of(assignments, items[-1]) == items[0].item_id
    assert all(not a.mentions for a in assignments)


def test_a_relay_cut_after_its_first_paragraphs_is_the_same_story_not_a_mention() -> None:
    title, body = ROBOTS
    long_original = make("https://club.example.org/coupe", title, body + OPEN_DAY[1] + PRIZE[1])
    cut = make("https://faculte.example.org/coupe", f"Nouveau : {title}", body[:2], days=6, source="faculte")
    verdict = verify_pair(profile_item(long_original), profile_item(cut))
    assert verdict.same and verdict.container is None
    assert verdict.coverage < 0.6  # the relay covers little of the original, yet the titles name one story


def test_a_relay_never_joins_the_newsletter_that_holds_its_original() -> None:
    for relay_day in (3, 8):  # before and after the newsletter
        items = originals() + [newsletter(days=5), relay(days=relay_day)]
        assignments = dedupe.cluster_items(items)
        letter, relayed = items[3], items[4]
        assert cluster_of(assignments, relayed) == items[0].item_id
        assert cluster_of(assignments, letter) == letter.item_id


def test_a_listing_of_titles_and_first_sentences_mentions_what_it_lists() -> None:
    short = [make(f"https://club.example.org/breve-{k}", title, body[:1], days=k, source="club")
             for k, (title, body) in enumerate((ROBOTS, OPEN_DAY, PRIZE))]
    listing = make("https://club.example.org/actualites", "Toutes les actualités",
                   [f"{item.title} ({item.published_at:%d/%m/%Y}) : {item.text}" for item in short], days=4,
                   source="club")
    assignments = dedupe.cluster_items(short + [listing])
    assert cluster_of(assignments, listing) == listing.item_id
    assert {m for a in assignments for m in a.mentions} >= {(listing.item_id, short[0].item_id)}


def test_the_nightly_step_stores_mentions_and_a_later_relay_joins_the_original(tmp_path: Path) -> None:
    db = tmp_path / "veille.duckdb"
    first_night, second_night = originals() + [newsletter()], [relay()]
    for night, items in enumerate((first_night, second_night)):
        now = T0 + timedelta(days=10 + night)
        with store.open_store(db) as conn:
            sources = sorted({i.source_id for i in items})
            store.save_sources(conn, [Source(s, s, "feed", f"https://{s}.example.org/feed", "mixed") for s in sources], now)
            results = [CrawlResult(s, SourceOutcome(s, now, "ok", items_found=1), tuple(i for i in items if i.source_id == s), ())
                       for s in sources]
            new, _ = store.save_crawl(conn, "run", results, now)
        nightly.cluster_new_items(db, [i.item_id for i in new], 60, now)
    with duckdb.connect(str(store.working_path(db)), read_only=True) as conn:
        mentions = conn.execute("SELECT container_title, title FROM v_mentions ORDER BY title").fetchall()
        clusters = dict(conn.execute("SELECT url, cluster_id FROM items").fetchall())
    # the newsletter, known to hold items, also holds the story the relay tells
    assert [title for _, title in mentions] == sorted([t for t, _ in (ROBOTS, OPEN_DAY, PRIZE)] + [relay().title])
    assert {container for container, _ in mentions} == {"La lettre de la faculté n°12"}
    assert clusters["https://faculte.example.org/relais-coupe"] == item_id("https://club.example.org/coupe")
    assert clusters["https://faculte.example.org/lettre-12"] == item_id("https://faculte.example.org/lettre-12")
