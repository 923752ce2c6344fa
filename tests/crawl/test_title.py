"""find_title on single pages, without any template: the page's own heading, never the site's name."""

from __future__ import annotations

import lxml.html
import pytest

from pipeline.crawl.title import find_title


def title_of(head: str, body: str) -> str:
    return find_title(lxml.html.document_fromstring(f"<html><head>{head}</head><body>{body}</body></html>"))


@pytest.mark.parametrize("head,body,expected", [
    # the first <h1> links to the home page
    ("<title>Bilan du hackathon – Club Info – le blog</title>",
     "<header><h1><a href='/'>Club Info</a></h1></header><article><h1>Bilan du hackathon</h1><p>x</p></article>",
     "Bilan du hackathon"),
    # the first <h1> is classed as the site's title, the post's heading is outside <article>
    ("<title>GdR Mésoscopie</title>",
     "<div class='site-title'><h1>GdR Mésoscopie</h1></div><div><h1>École d'été 2025</h1></div>",
     "École d'été 2025"),
    # og:site_name names the site; og:title gives the post
    ("<meta property='og:site_name' content='Réseau Capteurs'><meta property='og:title' content='Appel à projets'>",
     "<h1>Réseau Capteurs</h1><h1>Appel à projets</h1>", "Appel à projets"),
    # no <h1>: the <title> part that is not the site's name
    ("<meta property='og:site_name' content='Labo Optique'><title>Labo Optique | Un laser record</title>",
     "<h2>Un laser record</h2>", "Un laser record"),
    # a plain article page keeps its heading, colon included
    ("<title>Projet tutoré : une maison connectée - IUT</title>",
     "<h1>Projet tutoré : une maison connectée</h1>", "Projet tutoré : une maison connectée"),
])
def test_the_page_heading_not_the_site_name(head, body, expected):
    assert title_of(head, body) == expected
