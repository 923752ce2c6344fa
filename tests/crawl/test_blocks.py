"""link_groups: lists of links found by their repeated structure, whatever their URLs look like."""

from __future__ import annotations

import lxml.html

from pipeline.crawl.blocks import link_groups

BASE = "http://127.0.0.1:8000/"


def groups_of(body: str, min_repeat: int = 5):
    tree = lxml.html.document_fromstring(f"<html><body>{body}</body></html>")
    return link_groups(tree, BASE, lambda url: url.startswith(BASE) and url != BASE, min_repeat)


def cards(count: int, words: str = "Compte rendu de la sortie") -> str:
    return "".join(f"<div class='card c{i}'><h3><a href='/{chr(97 + i)}-notes'>{words} {i}</a></h3>"
                   f"<p>Résumé {i}</p><a class='more' href='/{chr(97 + i)}-notes'>Lire</a></div>" for i in range(count))


def test_repeated_cards_with_flat_slug_urls_are_a_list():
    groups = groups_of("<nav>" + "".join(f"<a href='/m{i}'>Menu {i}</a>" for i in range(8)) + "</nav>"
                       + "<main>" + cards(6) + "</main><footer><a href='/legal'>Mentions</a></footer>")
    best = groups[0]
    assert [link.url for link in best.links] == [f"{BASE}{chr(97 + i)}-notes" for i in range(6)]
    assert best.links[0].text == "Compte rendu de la sortie 0"
    assert best.links[0].block.get("class") == "card c0"  # the repeated element, classes with digits ignored
    assert all("m1" not in link.url for g in groups for link in g.links)  # navigation is never a list


def test_fewer_repeats_than_asked_is_no_list():
    assert groups_of("<main>" + cards(4) + "</main>") == []
    assert len(groups_of("<main>" + cards(4) + "</main>", min_repeat=2)[0].links) == 4


def test_title_links_outscore_read_more_links():
    assert groups_of(cards(7))[0].path.endswith("h3/a")


def test_an_href_that_cannot_be_a_url_is_no_link_and_breaks_nothing():
    broken = "".join(f"<li><a href='http://[::1'>Lien cassé {i}</a></li>" for i in range(3))
    groups = groups_of("<ul>" + broken + "".join(f"<li><a href='/n{i}'>Nouvelle {i}</a></li>" for i in range(5)) + "</ul>")
    assert [link.url for link in groups[0].links] == [f"{BASE}n{i}" for i in range(5)]
