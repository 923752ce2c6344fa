"""Canonical URLs, cleaned URLs, item ids, text clean-up and content hashes."""

from __future__ import annotations

import pytest

from pipeline.normalize import canonical_url, clean_text, clean_url, content_hash, fold_for_matching, item_id

SAME_PAGE = [
    ("http://www.Lab.univ-exemple.fr/actualites/", "https://lab.univ-exemple.fr/actualites"),
    ("https://lab.univ-exemple.fr:443/actualites/index.html", "https://lab.univ-exemple.fr/actualites"),
    ("https://lab.univ-exemple.fr/actualites/index.php?utm_source=lettre&utm_medium=mail",
     "https://lab.univ-exemple.fr/actualites"),
    ("https://lab.univ-exemple.fr/news?b=2&fbclid=xyz&a=1#commentaires", "https://lab.univ-exemple.fr/news?a=1&b=2"),
    ("https://lab.univ-exemple.fr//actualites//seminaire", "https://lab.univ-exemple.fr/actualites/seminaire"),
    ("  https://lab.univ-exemple.fr./x  ", "https://lab.univ-exemple.fr/x"),
    # edge cases added with deduplication
    ("https://lab.univ-exemple.fr/actualit%c3%a9s/", "https://lab.univ-exemple.fr/actualit%C3%A9s"),
    ("https://lab.univ-exemple.fr/actualités", "https://lab.univ-exemple.fr/actualit%C3%A9s"),
    ("https://lab.univ-exemple.fr/news;jsessionid=0A1B2C?PHPSESSID=abc&id=3", "https://lab.univ-exemple.fr/news?id=3"),
    ("//lab.univ-exemple.fr/x", "https://lab.univ-exemple.fr/x"),
    ("https://université-exemple.fr/x", "https://xn--universit-exemple-jtb.fr/x"),
    ("https://XN--UNIVERSIT-EXEMPLE-JTB.fr/x", "https://xn--universit-exemple-jtb.fr/x"),
]


@pytest.mark.parametrize(("url", "expected"), SAME_PAGE)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_keeps_what_names_a_page() -> None:
    assert canonical_url("https://lab.fr/app#!/news/12") != canonical_url("https://lab.fr/app#!/news/13")
    assert canonical_url("https://lab.fr/a%2Fb") != canonical_url("https://lab.fr/a/b")
    assert canonical_url("https://lab.fr:8443/x") == "https://lab.fr:8443/x"
    assert canonical_url("http://[2001:db8::1]:8080/x") == "https://[2001:db8::1]:8080/x"
    assert canonical_url("mailto:veille@example.org") == "mailto:veille@example.org"
    assert canonical_url("https://lab.fr/?id=1") != canonical_url("https://lab.fr/?id=2")


def test_malformed_port_does_not_raise() -> None:
    assert canonical_url("https://lab.fr:abc/x") == "https://lab.fr/x"


def test_clean_url_is_still_fetchable() -> None:
    assert clean_url("http://Lab.fr/Actu/?utm_campaign=x&id=3#haut") == "http://lab.fr/Actu/?id=3"
    assert clean_url("https://lab.fr/app#!/news/12") == "https://lab.fr/app#!/news/12"
    assert clean_url("https://lab.fr/news;jsessionid=0A1B?x=1") == "https://lab.fr/news?x=1"


def test_item_id_is_stable_and_shared_by_spellings_of_one_page() -> None:
    first = item_id("http://www.lab.fr/actualites/seminaire/?utm_source=rss")
    assert first == item_id("https://lab.fr/actualites/seminaire")
    assert len(first) == 16 and int(first, 16) >= 0
    assert first != item_id("https://lab.fr/actualites/seminaire-2")


def test_clean_text_and_folding() -> None:
    assert clean_text("  Un\u00a0texte \x07 avec\t\tdes   blancs \n\n\n et  des lignes ") == "Un texte avec des blancs\net des lignes"
    assert fold_for_matching("Séminaire : l’Équipe « Matière molle » !") == "seminaire l equipe matiere molle"


def test_content_hash_ignores_markup_and_case_but_not_words() -> None:
    assert content_hash("Fête de la science", "Le campus ouvre ses portes.") == content_hash(
        "FÊTE DE LA SCIENCE ", "Le  campus ouvre\nses portes !")
    assert content_hash("Fête de la science", "Le campus ouvre ses portes.") != content_hash(
        "Fête de la science", "Le campus ferme ses portes.")
