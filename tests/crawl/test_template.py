"""learn_template and the titles it protects: texts most pages of a source repeat, by role."""

from __future__ import annotations

import lxml.html

from pipeline.crawl.template import Template, learn_template, page_texts, title_parts
from pipeline.crawl.title import find_title


def blog_page(title: str, sidebar: list[str] = ()) -> lxml.html.HtmlElement:
    """A page of a small hand-written blog whose first <h1> is the site's name."""
    column = "".join(f"<li><a href='/{i}/'>{t}</a></li>" for i, t in enumerate(sidebar))
    return lxml.html.document_fromstring(
        f"<html><head><title>{title} – Atelier Polymères</title></head><body>"
        f"<div class='top'><h1>Atelier Polymères</h1><p>Le carnet de l'équipe</p></div>"
        f"<div class='post'><h1>{title}</h1><p>Un texte propre à la page « {title} ».</p></div>"
        f"<div><ul>{column}</ul></div><div class='bas'>Tous droits réservés, Atelier Polymères</div></body></html>")


TITLES = ["Soutenance de thèse de Jeanne", "Nouvelle presse à injecter", "Journée portes ouvertes", "Prix du poster"]


def test_texts_on_most_pages_are_the_template_by_role():
    template = learn_template(page_texts(blog_page(t)) for t in TITLES)
    assert template.has("Atelier Polymères", "h1") and template.has("atelier polymeres", "title")
    assert template.has("Tous droits réservés, Atelier Polymères")
    assert not template.has(TITLES[0], "h1")
    assert template.strip("Le carnet de l'équipe\nUn vrai paragraphe.") == "Un vrai paragraphe."


def test_site_name_heading_is_never_the_title():
    pages = [blog_page(t) for t in TITLES]
    template = learn_template(page_texts(p) for p in pages)
    assert [find_title(p, template) for p in pages] == TITLES


def test_a_recent_posts_column_does_not_hide_each_post_title():
    pages = [blog_page(t, sidebar=TITLES) for t in TITLES]
    template = learn_template(page_texts(p) for p in pages)
    assert template.has(TITLES[1])  # a line of every page...
    assert [find_title(p, template) for p in pages] == TITLES  # ...but the <h1> of one page only


def test_few_pages_or_few_shared_titles_make_no_template():
    assert learn_template(page_texts(blog_page(t)) for t in TITLES[:3]) == Template({})
    same = [blog_page("Séminaire")] * 2 + [blog_page(t) for t in TITLES * 2]
    assert not learn_template(page_texts(p) for p in same).has("Séminaire", "h1")


def test_title_parts():
    assert title_parts("Un titre : deux points | Le site — sa devise") == ["Un titre : deux points", "Le site", "sa devise"]
