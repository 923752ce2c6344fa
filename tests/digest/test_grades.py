"""The officer's grades round trip on a real database file: export, fill, import, learn."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline import store
from pipeline.cli import main
from pipeline.digest import learn
from pipeline.digest.grades import EntryToGrade, read_grades, teaching_order
from pipeline.models import CrawlResult, Item, Prediction, Source, SourceOutcome
from pipeline.normalize import content_hash, item_id

NOW = datetime.now(timezone.utc)
WEEK = "2026-W48"
STORIES = {  # url -> (title, estimated grade)
    "https://lab.univ-exemple.fr/actualites/seminaire": ("Séminaire de l'équipe Optique", 2.3),
    "https://lab.univ-exemple.fr/actualites/erc": ("Une ERC Starting Grant pour l'équipe Matériaux", 3.6),
    "https://lab.univ-exemple.fr/actualites/colloque": ("Colloque de physique des plasmas", 2.0),
}


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    path = tmp_path / "veille.duckdb"
    items = []
    for url, (title, _) in STORIES.items():
        text = f"{title}. Exposé pour spécialistes, abstract en ligne, questions à la fin de la séance."
        items.append(Item(item_id(url), "lab-a", url, title, NOW - timedelta(days=2), text, lang="fr",
                          content_hash=content_hash(title, text)))
    with store.open_store(path) as conn:
        store.save_sources(conn, [Source("lab-a", "Labo A", "html", "https://lab.univ-exemple.fr/", "research")], NOW)
        store.save_crawl(conn, "r1", [CrawlResult("lab-a", SourceOutcome("lab-a", NOW, "ok"), tuple(items))], NOW)
        store.save_predictions(conn, [Prediction(i.item_id, "research", 0.9, "m1") for i in items], NOW)
        store.save_worthiness(conn, [(i.item_id, STORIES[i.url][1], "Pour spécialistes") for i in items], NOW)
        store.save_digest_items(conn, WEEK, [(i.item_id, i.item_id, "research", rank) for rank, i in enumerate(items, 1)])
    store.publish_snapshot(path)
    return path


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def write(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)


def test_grades_round_trip_and_the_next_ranking_learns(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "a-noter.csv"
    assert main(["grade", "export", "--db", str(db), "--out", str(out)]) == 0
    rows = rows_of(out)
    # nearest the short list's threshold (2.2) first: the ranking is least sure of those
    assert [r["titre"] for r in rows] == ["Séminaire de l'équipe Optique", "Colloque de physique des plasmas",
                                          "Une ERC Starting Grant pour l'équipe Matériaux"]
    assert rows[0]["semaine"] == WEEK and rows[0]["rubrique"] == "Recherche" and rows[0]["note estimée"] == "2,3"
    for row in rows:
        row["note (0-3)"] = "3"
    write(out, rows)
    assert main(["grade", "import", "--db", str(db), str(out)]) == 0
    assert "3 grade(s) stored" in capsys.readouterr().out
    with store.open_store(db) as conn:
        graded = store.load_graded_items(conn)
        assert sorted(g for _, g, _ in graded) == [3, 3, 3]
        assert store.digest_entries_to_grade(conn, 4) == []  # graded entries are not asked again
    assert learn.weights_from_grades(graded).specialist > learn.current_weights().specialist


def test_bad_grades_are_reported_with_their_line(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "a-noter.csv"
    assert main(["grade", "export", "--db", str(db), "--out", str(out)]) == 0
    rows = rows_of(out)
    rows[0]["note (0-3)"] = "5"
    rows[1]["note (0-3)"] = "2"
    rows[2]["identifiant"] = "inconnu"
    rows[2]["note (0-3)"] = "1"
    write(out, rows)
    assert main(["grade", "import", "--db", str(db), str(out)]) == 2
    err = capsys.readouterr().err
    assert "ligne 2" in err or ":2:" in err
    assert "note non reconnue" in err and "identifiant inconnu" in err
    with store.open_store(db) as conn:
        assert [g for _, g, _ in store.load_graded_items(conn)] == [2]


def test_a_file_without_a_grade_column_is_refused(tmp_path: Path):
    wrong = tmp_path / "autre.csv"
    wrong.write_text("identifiant;catégorie corrigée\nabc;recherche\n", encoding="utf-8")
    grades, errors = read_grades(wrong)
    assert grades == [] and [e.code for e in errors] == ["missing_column"]


def test_teaching_order_puts_the_uncertain_first():
    item = Item("i", "s", "https://x.example/", "t", None, "")
    entries = [EntryToGrade(WEEK, "research", item, score, "") for score in (0.5, 3.5, 2.1, 2.6)]
    assert [e.score for e in teaching_order(entries, threshold=2.2)] == [2.1, 2.6, 3.5, 0.5]
