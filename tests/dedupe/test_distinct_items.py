"""Causes of wrong links found by the relay benchmark on real text: two distinct items of one source
(a shared boilerplate block, a follow-up page days later), a newsletter dominated by one long article
or holding an item with a one-word title, two containers holding excerpts of the same items. The
texts are written for this test."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipeline.dedupe import cluster as dedupe
from pipeline.dedupe.verify import profile_item, verify_pair
from pipeline.models import Item
from pipeline.normalize import content_hash, item_id

T0 = datetime(2026, 2, 2, 8, 0, tzinfo=timezone.utc)

WEEKLY_RULES = [
    "Quelques rappels pour cette semaine",
    "Vous pouvez me joindre à tout moment de la journée par courriel ou en laissant un message sous cet "
    "article ; je réponds le soir même, sauf le dimanche.",
    "Les messages laissés sous les articles sont relus avant publication, ce qui évite les publicités "
    "envoyées par des programmes automatiques ; ils apparaissent donc avec un peu de retard.",
    "Le corrigé des exercices sera mis en ligne à la fin de la semaine, dans un lien ajouté à ce billet.",
]
CONFERENCE = [
    "La conférence annuelle du réseau de modélisation des territoires se tiendra du 5 au 7 octobre, "
    "accueillie cette année par l'université de Lausanne, avec des sessions sur l'eau et l'agriculture.",
    "Son thème spécial portera sur la modélisation participative : comment associer les habitants, les "
    "élus et les associations à la construction des scénarios d'aménagement de leur vallée.",
    "Les propositions de communication courtes sont attendues jusqu'à la fin du mois de juin et seront "
    "relues par deux membres du comité scientifique du réseau.",
]
LONG_ARTICLE = [
    "Ce billet présente une méthode simple pour estimer la vitesse de refroidissement d'une tasse de thé "
    "à partir de quelques mesures prises avec un thermomètre de cuisine et un chronomètre.",
    "On relève la température toutes les deux minutes pendant une demi-heure, puis on trace le logarithme "
    "de l'écart avec la température de la pièce en fonction du temps écoulé depuis le début.",
    "Si les points s'alignent, la loi de Newton décrit bien le refroidissement, et la pente de la droite "
    "donne directement la constante de temps propre à la tasse, au liquide et au couvercle choisis.",
    "Les élèves constatent vite qu'une tasse en porcelaine épaisse garde la chaleur bien plus longtemps "
    "qu'un gobelet en carton, et qu'un couvercle divise presque par deux la perte de chaleur.",
    "Pour aller plus loin, on peut comparer l'eau pure et l'eau sucrée, ou mesurer l'effet d'un courant "
    "d'air produit par un petit ventilateur posé à un mètre de la table de travail.",
    "Les fichiers de mesures des trois classes de seconde sont disponibles en bas de page, avec une "
    "feuille de calcul qui refait toutes les étapes et trace les graphiques automatiquement.",
]


def make(url: str, title: str, paragraphs: list[str], *, days: float = 0, source: str = "lab") -> Item:
    text = "\n".join(paragraphs)
    return Item(item_id(url), source, url, title, T0 + timedelta(days=days), text, content_hash=content_hash(title, text))


def verdict(a: Item, b: Item):
    return verify_pair(profile_item(a), profile_item(b))


def test_two_pages_of_one_source_sharing_a_boilerplate_block_are_two_items() -> None:
    maths_work = ["Programme du jour : lire le chapitre sur les suites récurrentes et faire les exercices 4 à 9 "
                  "de la feuille distribuée vendredi, en rédigeant soigneusement les récurrences.",
                  "Les plus rapides peuvent chercher le problème de la tour de Hanoï, qui servira d'exemple au "
                  "prochain cours sur les suites définies par une relation à deux termes.",
                  "Pensez à photographier vos copies et à me les envoyer avant dix-huit heures."]
    maths = make("https://classe.example.org/maths-lundi", "Travail de maths du lundi", WEEKLY_RULES + maths_work)
    physics = make("https://classe.example.org/physique-lundi", "Travail de physique du lundi",
                   WEEKLY_RULES + ["Programme du jour : le sujet d'annales sur les circuits oscillants."])
    found = verdict(maths, physics)
    assert not found.same and "two pages of one source" in found.reasons[0]
    # a relay elsewhere that dropped paragraphs is the same story
    kept = make("https://faculte.example.org/maths-lundi", maths.title, WEEKLY_RULES[:2] + maths_work[:2],
                source="faculte")
    assert verdict(maths, kept).same


def test_a_follow_up_page_of_one_source_days_later_is_another_item() -> None:
    announced = make("https://reseau.example.org/conference-2026", "Conférence annuelle 2026", CONFERENCE)
    registration = make("https://reseau.example.org/conference-2026-inscriptions", "Conférence annuelle 2026 : inscriptions",
                        ["Les inscriptions à la conférence sont ouvertes, gratuites et obligatoires : formulaire en ligne.",
                         *CONFERENCE[:2]], days=15)
    found = verdict(announced, registration)
    assert not found.same and "follow-up" in found.reasons[0]
    # a corrected copy days later (one word fixed) stays the same story
    fixed = make("https://reseau.example.org/conference-2026-corrige", "Conférence annuelle 2026",
                 [CONFERENCE[0].replace("Lausanne", "Lausane"), *CONFERENCE[1:]], days=6)
    assert verdict(fixed, announced).same
    # and another source relaying the follow-up days later is the follow-up's story
    relay = make("https://faculte.example.org/inscriptions", "Nouveau : inscriptions à la conférence annuelle",
                 registration.text.split("\n") + ["Information relayée par la faculté."], days=18, source="faculte")
    assignments = dedupe.cluster_items([announced, registration, relay])
    assert [a.cluster_id for a in assignments] == [announced.item_id, registration.item_id, registration.item_id]


def newsletter_with(held: Item, other_title: str, other_paragraphs: list[str], *, opening: bool = True) -> Item:
    paragraphs = ["Bonjour à toutes et à tous, voici les nouvelles du mois."] if opening else []
    paragraphs += [held.title, *held.text.split("\n"), other_title, *other_paragraphs]
    return make("https://faculte.example.org/lettre-3", "La lettre de la faculté n°3", paragraphs, days=4, source="faculte")


def test_a_newsletter_dominated_by_one_long_article_mentions_it() -> None:
    article = make("https://lycee.example.org/refroidissement", "Refroidissement d'une tasse de thé", LONG_ARTICLE)
    letter = newsletter_with(article, "Conférence annuelle 2026", CONFERENCE[:1])
    found = verdict(article, letter)
    assert 0.6 <= found.coverage < 0.9  # the article is most of the letter
    assert not found.same and found.container == letter.item_id
    # a relay that only adds a sentence is still the article's story
    relay = make("https://faculte.example.org/tasse", "Nouveau : Refroidissement d'une tasse de thé",
                 ["Information relayée par la faculté.", *LONG_ARTICLE, "Contact : service communication."],
                 days=3, source="faculte")
    assert verdict(article, relay).same


def test_a_newsletter_holding_an_item_with_a_one_word_title_mentions_it() -> None:
    item = make("https://cours.example.org/thermodynamique", "Thermodynamique", LONG_ARTICLE[:3])
    letter = newsletter_with(item, "Conférence annuelle 2026", CONFERENCE + LONG_ARTICLE[3:])
    found = verdict(item, letter)
    assert not found.same and found.container == letter.item_id


def test_two_pages_holding_excerpts_of_the_same_items_are_not_one_story() -> None:
    listing = make("https://reseau.example.org/archives", "Archives - page 2",
                   [f"Conférence annuelle 2026 (02/02/2026) : {CONFERENCE[0]}",
                    f"Refroidissement d'une tasse de thé (03/02/2026) : {LONG_ARTICLE[0]}",
                    "Atelier de cartographie (04/02/2026) : une matinée pour apprendre à dessiner des cartes "
                    "des usages de l'eau avec les habitants d'un bassin versant."], source="reseau")
    letter = make("https://faculte.example.org/lettre-4", "La lettre de la faculté n°4",
                  ["Bonjour à toutes et à tous, voici les nouvelles du mois.", CONFERENCE[0], LONG_ARTICLE[0],
                   *LONG_ARTICLE[1:4]], days=2, source="faculte")
    found = verdict(listing, letter)
    assert not found.same


def test_a_follow_up_never_joins_a_story_through_a_relay_of_its_announcement() -> None:
    announced = make("https://reseau.example.org/conference-2026", "Conférence annuelle 2026", CONFERENCE)
    relay = make("https://faculte.example.org/conference", "[Agenda] Conférence annuelle 2026",
                 [*CONFERENCE, "Information relayée par la faculté."], days=3, source="faculte")
    registration = make("https://reseau.example.org/conference-2026-inscriptions", "Conférence annuelle 2026 : inscriptions",
                        ["Les inscriptions à la conférence sont ouvertes, gratuites et obligatoires : formulaire en ligne.",
                         *CONFERENCE[:2]], days=15)
    assert verdict(relay, registration).same  # alone, the relay and the follow-up look like one story
    night_one = dedupe.cluster_items([announced, relay])
    assert [a.cluster_id for a in night_one] == [announced.item_id] * 2
    stored = [announced, relay]
    window = dedupe.Window.from_fingerprints(dedupe.fingerprint_items(stored), [a.cluster_id for a in night_one],
                                             [i.published_at.timestamp() for i in stored],
                                             lambda ids: [i for i in stored if i.item_id in ids])
    for assignments in (dedupe.cluster_items(stored + [registration]), dedupe.assign_clusters([registration], window)):
        assert assignments[-1].cluster_id == registration.item_id


def test_a_page_holding_an_item_after_other_things_holds_it_despite_a_common_phrase_before() -> None:
    held = make("https://lycee.example.org/thermique", "Une expérience de thermique au lycée", LONG_ARTICLE[:4])
    page = make("https://faculte.example.org/semaine", "Les nouvelles de la semaine",
                ["Au programme cette semaine, alors que la température de la pièce monte avec le printemps :",
                 *CONFERENCE, *LONG_ARTICLE[:4]], days=5, source="faculte")
    found = verdict(held, page)
    assert found.coverage < 0.6 and found.similarity > 0.9
    assert not found.same and found.container == page.item_id


def test_a_relay_under_a_decorated_title_is_held_by_a_newsletter_heading_the_plain_title() -> None:
    item = make("https://cours.example.org/thermodynamique", "Thermodynamique", LONG_ARTICLE)
    relay = make("https://faculte.example.org/thermo", "Thermodynamique - les informations pratiques",
                 ["Information relayée par la faculté.", *LONG_ARTICLE[:2]], days=2, source="faculte")
    letter = newsletter_with(item, "Conférence annuelle 2026", CONFERENCE)
    assert verdict(item, relay).same
    found = verdict(relay, letter)
    assert not found.same and found.container == letter.item_id


def test_a_relay_that_dropped_a_heading_of_its_original_is_still_its_story() -> None:
    original = make("https://reseau.example.org/modalites", "Conférence annuelle : modalités",
                    [CONFERENCE[0], "Modalités", CONFERENCE[1], CONFERENCE[2], LONG_ARTICLE[0]])
    relay = make("https://faculte.example.org/modalites", "[Recherche] Conférence annuelle : modalités",
                 [CONFERENCE[0], CONFERENCE[1], LONG_ARTICLE[0]], days=2, source="faculte")
    found = verdict(original, relay)
    assert 0.6 <= found.coverage < 0.9
    assert found.same and found.container is None
