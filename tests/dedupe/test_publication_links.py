"""Linking a news item to the HAL deposit it cites (DOI or HAL id), and only then."""

from __future__ import annotations

from pipeline.dedupe.publications import cited_references, citation_merges, deposit_references
from pipeline.models import Item, Publication


def item(item_id: str, text: str, publication: Publication | None = None) -> Item:
    return Item(item_id, "lab", f"https://lab.example.org/{item_id}", "Une actualité", None, text,
                publication=publication)


def test_dois_and_hal_ids_are_read_in_the_text() -> None:
    news = item("n1", "Publié dans Nature (DOI : 10.1038/S41586-026-00007-X). Version ouverte : "
                      "https://hal.science/hal-04000007v2.")
    assert cited_references(news) == {"doi:10.1038/s41586-026-00007-x", "hal:hal-04000007"}
    assert cited_references(item("n2", "Rendez-vous le 12/10/2026, salle 10.12 ; tél. 01 23 45 67 89.")) == set()


def test_a_deposit_has_its_own_references() -> None:
    publication = Publication("hal-04000007", "ART", doi="10.1038/s41586-026-00007-x")
    assert deposit_references(publication) == {"hal:hal-04000007", "doi:10.1038/s41586-026-00007-x"}


def test_the_citing_story_joins_the_deposit_story() -> None:
    deposits = {"doi:10.1000/a": "dep-a", "hal:hal-00000001": "dep-a", "doi:10.1000/b": "dep-b"}
    citing = [
        item("n1", "Notre article 10.1000/a est paru."),
        item("n2", "Deux articles : 10.1000/a et 10.1000/b."),  # two stories: ambiguous, nothing linked
        item("n3", "Liste : 10.1000/a 10.1000/c 10.1000/d 10.1000/e."),  # a publication list
        item("n4", "hal-00000001 et 10.1000/a, le même article."),
        item("d2", "Cite 10.1000/a.", Publication("hal-00000002", "ART")),  # a deposit citing a paper
    ]
    clusters = {"n1": "story-1", "n2": "story-2", "n3": "story-3", "n4": "dep-a", "d2": "dep-2"}
    assert citation_merges(citing, deposits, clusters) == {"story-1": "dep-a"}


def test_chains_are_followed_and_cycles_dropped() -> None:
    deposits = {"doi:10.1000/a": "c-a", "doi:10.1000/b": "c-b"}
    chain = [item("1", "10.1000/b"), item("2", "10.1000/a")]
    assert citation_merges(chain, deposits, {"1": "c-a", "2": "c-y"}) == {"c-a": "c-b", "c-y": "c-b"}
    cycle = [item("1", "10.1000/b"), item("2", "10.1000/a")]
    assert citation_merges(cycle, deposits, {"1": "c-a", "2": "c-b"}) == {}
