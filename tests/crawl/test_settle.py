"""settle_items: the template of one crawl's pages applied to its items, pages that are no item left out."""

from __future__ import annotations

from pipeline.crawl.settle import ItemPage, settle_items
from pipeline.models import FetchResult, Item
from pipeline.normalize import content_hash, item_id

SITE = "http://127.0.0.1:8000"
NAMES = ["Fête de la science", "Nuit des chercheurs", "Conférence sur les volcans", "Visite du synchrotron",
         "Concours de vulgarisation"]


def html(heading: str) -> str:
    return (f"<html><head><title>Le Labo des Sables</title></head><body><div><h1>Le Labo des Sables</h1></div>"
            f"<div><h1>{heading}</h1><p>Un récit de l'événement « {heading} » écrit par l'équipe du laboratoire.</p>"
            f"</div><div>Le Labo des Sables, bâtiment 4, campus nord</div></body></html>")


def extracted(path: str, heading: str, title: str) -> tuple[Item, ItemPage]:
    """An item as extract_item gave it, page by page (its title may be the site's name), and its page."""
    url = SITE + path
    text = f"Un récit de l'événement « {heading} » écrit par l'équipe du laboratoire.\nLe Labo des Sables, bâtiment 4, campus nord"
    item = Item(item_id=item_id(url), source_id="sables", url=url, title=title, published_at=None, text=text,
                summary="", lang="fr", image_url=None, guid=None, content_hash=content_hash(title, text))
    body = html(heading).encode()
    return item, ItemPage(FetchResult(url=url, final_url=url, status=200, body=body, content_type="text/html",
                                      text=body.decode()))


def test_titles_and_text_without_the_template_and_no_home_page():
    pairs = [extracted(f"/evenements/{i}/", name, "Le Labo des Sables") for i, name in enumerate(NAMES)]
    pairs.append(extracted("/", "Bienvenue", "Le Labo des Sables"))
    settled = settle_items([item for item, _ in pairs], {item.url: page for item, page in pairs})
    assert [item.title for item in settled.items] == NAMES
    assert all("campus nord" not in item.text and item.text for item in settled.items)
    assert all(item.content_hash == content_hash(item.title, item.text) for item in settled.items)
    assert settled.not_items == {"home": 1}


def test_a_feed_title_is_kept_and_a_feed_entry_is_always_an_item():
    item, page = extracted("/", NAMES[0], "Le titre du flux")
    settled = settle_items([item], {item.url: ItemPage(page.page, from_feed=True)})
    assert [i.title for i in settled.items] == ["Le titre du flux"] and not settled.not_items


def test_items_without_a_page_are_kept_as_they_are():
    item, _ = extracted("/evenements/9/", NAMES[1], NAMES[1])
    assert settle_items([item], {}).items == (item,)
