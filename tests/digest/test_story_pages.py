"""Pages that are no story: listings, indexes, section and about pages, empty placeholders."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from pipeline.digest.pages import is_story, non_story_pages, story_code
from pipeline.models import Item

WHEN = datetime(2026, 11, 20, tzinfo=timezone.utc)
BODY = ("Les étudiantes et étudiants du club ont construit un robot qui trie des déchets, présenté samedi "
        "au salon de l'innovation devant plusieurs centaines de visiteurs.")


def page(path: str, title: str, text: str = BODY, source: str = "club") -> Item:
    url = f"https://club.example.org{path}"
    return Item(f"id-{source}-{path}", source, url, title, WHEN, text)


def test_a_story_is_a_story():
    story = page("/news/2026/robot-trieur/", "Notre robot trieur présenté au salon de l'innovation")
    assert story_code(story) is None
    assert is_story(story, [story])
    assert non_story_pages([story]) == {}


def test_the_parent_of_several_pages_is_an_index():
    section = page("/news/", "Ce qui se passe au club", "Bienvenue ! " + BODY)
    children = [page(f"/news/2026/{n}/", f"Nouvelle numéro {n} du club de robotique", BODY + f" {n}") for n in range(3)]
    assert non_story_pages([section, *children]) == {section.item_id: "index"}


def test_a_page_quoting_the_titles_of_other_pages_is_a_listing():
    titles = ["Victoire à la coupe régionale de robotique", "Atelier soudure pour les débutants du club",
              "Visite du laboratoire d'automatique"]
    posts = [page(f"/{n}-post/", t, f"Texte complet de l'article {n}. " + BODY) for n, t in enumerate(titles)]
    listing = page("/le-fil/", "Le fil du club", "\n".join(f"{t}\nLire la suite" for t in titles))
    assert non_story_pages([listing, *posts]) == {listing.item_id: "index"}


def test_section_titles_and_placeholders():
    assert story_code(page("/a-propos/", "À propos")) == "section"
    assert story_code(page("/x/", "Actualités du laboratoire")) == "section"
    assert story_code(page("/y/", "Contact")) == "section"
    assert story_code(page("/z/", "Thanks for your message")) == "section"
    assert story_code(page("/w/", "Prochain atelier", "À venir.")) == "placeholder"
    assert story_code(page("/v/", "Présentation du club de robotique")) is None  # a story can present something


def test_pages_of_other_sources_do_not_count():
    section = page("/news/", "Ce qui se passe au club", "Bienvenue ! " + BODY, source="club")
    others = [page(f"/news/2026/{n}/", f"Nouvelle {n} d'un autre site", BODY, source="autre") for n in range(3)]
    assert non_story_pages([section, *others]) == {}


def test_a_story_followed_by_a_latest_news_box_is_still_a_story():
    titles = ["Victoire à la coupe régionale de robotique", "Atelier soudure pour les débutants du club"]
    posts = [page(f"/{n}-post/", t, f"Texte complet de l'article {n}. " + BODY) for n, t in enumerate(titles)]
    story = page("/robot-trieur/", "Notre robot trieur au salon", BODY * 3 + "\nÀ lire aussi\n" + "\n".join(titles))
    assert non_story_pages([story, *posts]) == {}


def test_a_site_header_every_page_starts_with_is_no_quotation():
    header = "Laboratoire de robotique et de systèmes embarqués, université d'exemple. "
    posts = [replace(page(f"/{n}-post/", f"Nouvelle numéro {n} du laboratoire", header + f"Article {n}. " + BODY),
                     summary="Laboratoire de robotique | accueil | contact")  # the header recurs after the summary
             for n in range(4)]
    assert non_story_pages(posts) == {}


def test_pagination_archive_tag_and_error_pages_are_no_stories():
    for title in ("Page 2 sur 5", "Le fil des robots - Page 3", "Archives mars 2021", "2023", "Posts tagged robotics",
                  "Catégorie : Robotique"):
        assert story_code(page("/p/", title)) == "index", title
    for title in ("Séminaires 2022-2023", "Événements à venir", "Galerie", "404 - Page not found", "About the network"):
        assert story_code(page("/s/", title)) == "section", title
    for title in ("Fête de la science 2023", "Tags et attributs en HTML : le guide", "Photos de la fête de la science",
                  "About time: how cells keep their clocks", "Coupe 2016 : notre robot"):
        assert story_code(page("/t/", title)) is None, title
