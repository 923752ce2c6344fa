"""The analysts' full-text index: a real SQLite FTS5 file."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from pipeline import search
from pipeline.models import Item

NOW = datetime(2026, 11, 25, tzinfo=timezone.utc)


def item(item_id: str, title: str, text: str) -> Item:
    return Item(item_id, "lab-a", f"https://a.org/{item_id}", title, NOW, text)


def test_search_folds_accents_and_case_and_finds_phrases(tmp_path: Path) -> None:
    index = tmp_path / "veille.search.sqlite"
    written = search.update_index(index, [
        item("a", "Hydrogène vert", "Un électrolyseur au laboratoire."),
        item("b", "Glaciers", "Le recul des glaciers et l'hydrogène."),
        item("c", "Master", "Inscriptions ouvertes."),
    ])
    assert written == 3
    assert sorted(search.search(index, "HYDROGENE")) == ["a", "b"]
    assert search.search(index, search.phrase("hydrogène vert")) == ["a"]
    assert search.search(index, "electrolyseur") == ["a"]


def test_an_updated_item_replaces_its_text(tmp_path: Path) -> None:
    index = tmp_path / "veille.search.sqlite"
    first = item("a", "Conférence", "Sur la supraconductivité.")
    search.update_index(index, [first])
    search.update_index(index, [replace(first, text="Sur les glaciers.")])
    assert search.search(index, "supraconductivite") == []
    assert search.search(index, "glaciers") == ["a"]


def test_index_sits_beside_the_snapshot() -> None:
    assert search.index_path(Path("/srv/veille/veille.duckdb")) == Path("/srv/veille/veille.search.sqlite")
