"""The digest's Publications block: the week's most notable HAL deposits, each once."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from pipeline.digest.build import build_digest, render_html, render_text
from pipeline.models import Candidate, Item, Publication
from pipeline.normalize import item_id

WEEK = "2026-W48"
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)
IN_WEEK = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)


def candidate(n: int, title: str, *, publication: Publication | None = None, news_items: int = 1) -> Candidate:
    url = f"https://hal.science/hal-0400000{n}" if publication and not news_items else f"https://lab.example.org/{n}"
    item = Item(item_id(url), "src", url, title, IN_WEEK - timedelta(hours=3), "Un texte assez court.", lang="fr")
    return Candidate(item, "HAL LPEM" if publication else "Labo A", IN_WEEK, "research", 0.9, f"c{n}", ("Labo A",),
                     publications=(publication,) if publication else (), news_items=news_items)


def paper(n: int, journal: str, open_access: bool = True) -> Publication:
    return Publication(f"hal-0400000{n}", "ART", ("Camille Martin", "Yanis Benali", "A. Trois", "B. Quatre", "C. Cinq"),
                       journal=journal, doi=f"10.1000/p{n}", open_access=open_access)


def stories() -> list[Candidate]:
    return [
        candidate(1, "Hydrures supraconducteurs sous pression", publication=paper(1, "Nature"), news_items=0),
        candidate(2, "Notre article sur les hydrures paraît", publication=paper(2, "Physical Review Letters")),
        candidate(3, "Un modèle de croissance des dendrites", publication=paper(3, "Revue locale", False), news_items=0),
        candidate(4, "Séminaire interne de l'équipe Matériaux"),
    ]


def test_the_block_lists_deposits_by_worth_and_a_lone_deposit_only_there() -> None:
    d = build_digest(stories(), WEEK, [], NOW)
    assert [p.title for p in d.publications][:2] == ["Notre article sur les hydrures paraît",
                                                      "Hydrures supraconducteurs sous pression"]
    assert len(d.publications) == 3
    research = [e.title for e in d.sections[0].entries]
    assert "Notre article sur les hydrures paraît" in research  # the news announcing a deposit is a story
    assert all(not p.title.startswith("Séminaire") for p in d.publications)  # no deposit, no block entry
    assert "Hydrures supraconducteurs sous pression" not in research
    lone = next(p for p in d.publications if p.title.startswith("Hydrures"))
    assert lone.url == "https://hal.science/hal-04000001" and lone.doi_url == "https://doi.org/10.1000/p1"
    assert lone.authors == "Camille Martin, Yanis Benali, A. Trois, B. Quatre et al." and lone.venue == "Nature"
    assert lone.reason == "Publication dans Nature"
    announced = d.publications[0]
    assert announced.announced and "article en accès ouvert avec un communiqué" in announced.reason


def test_html_and_text_show_the_block_and_only_when_there_is_one() -> None:
    d = build_digest(stories(), WEEK, [], NOW)
    html, text = render_html(d), render_text(d)
    assert "Publications" in html and "<em>Nature</em>" in html and 'href="https://doi.org/10.1000/p1"' in html
    assert "PUBLICATIONS (DÉPÔTS HAL)" in text and "https://hal.science/hal-04000001" in text
    plain = build_digest([stories()[3]], WEEK, [], NOW)
    assert plain.publications == () and "PUBLICATIONS" not in render_text(plain)
    assert "dépôts HAL" not in render_html(plain)


def test_the_block_keeps_to_the_few_most_notable() -> None:
    many = [replace(candidate(n, f"Article {n}", publication=paper(n, "Revue"), news_items=0), cluster_id=f"p{n}")
            for n in range(1, 10)]
    assert len(build_digest(many, WEEK, [], NOW).publications) == 5
