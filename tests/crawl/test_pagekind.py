"""Pages that are no item: home, pagination, about, listing, empty placeholder."""

from __future__ import annotations

import lxml.html
import pytest

from pipeline.crawl.pagekind import is_placeholder, not_item_reason
from pipeline.crawl.template import Template

SITE = "http://127.0.0.1:8000"
PARAGRAPH = "<p>Les étudiants ont présenté leurs robots au public pendant toute la journée, au gymnase du campus.</p>"


def tree(body: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(f"<html><body>{body}</body></html>")


def teasers(count: int) -> str:
    return "".join(f"<article><h2><a href='/billets/{i}'>Un billet numéro {i}</a></h2><p>Résumé court.</p></article>"
                   for i in range(count))


@pytest.mark.parametrize("url,body,reason", [
    (SITE + "/", PARAGRAPH, "home"),
    (SITE + "/index.html", PARAGRAPH, "home"),
    (SITE + "/actualites/page/3/", teasers(2), "pagination"),
    (SITE + "/blog/page2/", teasers(2), "pagination"),
    (SITE + "/actualites?page=2", teasers(2), "pagination"),
    (SITE + "/a-propos/", PARAGRAPH, "about"),
    (SITE + "/tags/", PARAGRAPH, "about"),
    (SITE + "/author/jeanne-martin/", PARAGRAPH, "about"),
    (SITE + "/members/jeanne.html", PARAGRAPH, "about"),
    (SITE + "/actualites/equipe-de-france-de-robotique/", PARAGRAPH, None),
    (SITE + "/robotique", "<h1>Robotique</h1>" + teasers(8), "listing"),
    (SITE + "/billets/9", "<article><h1>Billet</h1>" + PARAGRAPH + "</article>", None),
])
def test_reasons(url, body, reason):
    assert not_item_reason(tree(body), url) == reason


def test_a_recent_posts_column_beside_a_short_article_is_no_listing():
    column = "<div class='col'><ul>" + "".join(
        f"<li><a href='/billets/{i}'>Billet récent numéro {i}</a></li>" for i in range(10)) + "</ul></div>"
    page = tree("<article><h1>Semaine du 3 mars</h1><p>Exercices sur les suites.</p></article>" + column)
    assert not_item_reason(page, SITE + "/semaine-3-mars/") is None


def test_an_article_empty_but_for_the_template_is_a_placeholder():
    page = tree("<h1>Un billet ailleurs</h1><article><p>Suivez-nous sur Mastodon et abonnez-vous à la lettre.</p></article>")
    assert is_placeholder(page, Template({"line": frozenset({"suivez nous sur mastodon et abonnez vous a la lettre"})}))
    assert not is_placeholder(page, Template())
    assert not is_placeholder(tree("<article>" + PARAGRAPH + "</article>"), Template())
