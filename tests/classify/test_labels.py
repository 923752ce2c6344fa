"""Officer's corrections: spreadsheet export, import with per-line errors, retraining on them."""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipeline.classify.model import load_seed, predict, train_model
from pipeline.classify.labels import (
    Correction, ReviewRow, export_for_review, labelled_from_corrections, parse_category, read_corrections,
)
from pipeline.models import Item
from pipeline.normalize import item_id

CLASSIFIERS = Path(__file__).resolve().parents[2] / "classifiers"


def make_item(source_id: str, url: str, title: str, text: str) -> Item:
    return Item(item_id(url), source_id, url, title, datetime(2024, 5, 2, tzinfo=timezone.utc), text)


def review_rows() -> list[ReviewRow]:
    return [
        ReviewRow("a1", "lab-x", "https://lab-x.fr/1", "Soutenance ; « thèse »", "research", 0.91),
        ReviewRow("b2", "bde", "https://bde.fr/2", "Gala, soirée", "student", 0.42),
        ReviewRow("c3", "dept", "https://dept.fr/3", "Examens", "teaching", 0.55),
    ]


def fill_corrections(path: Path, values: dict[str, str], comment: str = "") -> None:
    """Do what the officer does in the spreadsheet: fill the correction column, save as CSV."""
    with path.open(encoding="utf-8-sig", newline="") as source:
        rows = list(csv.reader(source, delimiter=";"))
    for row in rows[1:]:
        row[6] = values.get(row[0], "")
        row[7] = comment if row[0] in values else ""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out, delimiter=";").writerows(rows)


def test_export_writes_least_certain_first_for_a_spreadsheet(tmp_path):
    path = tmp_path / "a-verifier.csv"
    assert export_for_review(review_rows(), path, limit=2) == 2
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].split(";")[6] == "catégorie corrigée"
    assert lines[1].startswith("b2;") and ";étudiant;0,42;;" in lines[1]
    assert lines[2].startswith("c3;") and len(lines) == 3
    assert export_for_review(review_rows(), tmp_path / "all.csv") == 3
    with (tmp_path / "all.csv").open(encoding="utf-8-sig", newline="") as source:
        titles = [row[3] for row in csv.reader(source, delimiter=";")]
    assert "Soutenance ; « thèse »" in titles  # separator inside a title survives


def test_export_puts_departures_from_the_source_category_first_and_shows_them(tmp_path):
    rows = review_rows() + [ReviewRow("d4", "club", "https://club.fr/4", "Cours de master", "teaching", 0.97,
                                      declared="student"),
                            ReviewRow("e5", "club", "https://club.fr/5", "Soirée du club", "student", 0.99,
                                      declared="student")]
    path = tmp_path / "a-verifier.csv"
    export_for_review(rows, path)
    with path.open(encoding="utf-8-sig", newline="") as source:
        lines = list(csv.reader(source, delimiter=";"))
    assert [line[0] for line in lines[1:]] == ["b2", "c3", "d4", "a1", "e5"]
    assert lines[0][8] == "écart à la source"
    assert [line[8] for line in lines[1:]] == ["", "", "source : étudiant", "", ""]


def test_read_keeps_good_rows_and_reports_bad_ones_with_lines(tmp_path):
    path = tmp_path / "corrections.csv"
    export_for_review(review_rows(), path)
    path.write_text(
        "\ufeffidentifiant;source;url;titre;catégorie prédite;confiance;catégorie corrigée;commentaire\r\n"
        "b2;bde;https://bde.fr/2;Gala;étudiant;0,42;Enseignement;c'est un cours\r\n"
        "c3;dept;https://dept.fr/3;Examens;enseignement;0,55;;\r\n"
        "a1;lab-x;https://lab-x.fr/1;\"Titre sur\ndeux lignes\";recherche;0,91;ETUDIANT;\r\n"
        "zz;x;https://x.fr;X;recherche;0,5;recherche;\r\n"
        "b2;bde;https://bde.fr/2;Gala;étudiant;0,42;research;\r\n"
        ";bde;https://bde.fr/9;Sans id;étudiant;0,42;student;\r\n"
        "c3;dept;https://dept.fr/3;Examens;enseignement;0,55;cuisine;\r\n",
        encoding="utf-8", newline="")
    corrections, errors = read_corrections(path, known_item_ids={"a1", "b2", "c3"})
    assert corrections == [Correction("b2", "teaching", "c'est un cours"), Correction("a1", "student", "")]
    assert [(e.line, e.code) for e in errors] == [
        (6, "unknown_item"), (7, "duplicate_item"), (8, "missing_item_id"), (9, "bad_category")]
    assert "cuisine" in errors[-1].reason and str(errors[-1]).startswith("ligne 9")


def test_read_accepts_windows_1252_and_reports_it(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("identifiant;catégorie corrigée;commentaire\r\nb2;étudiant;déjà vu\r\n".encode("cp1252"))
    corrections, errors = read_corrections(path)
    assert corrections == [Correction("b2", "student", "déjà vu")]
    assert [(e.line, e.code) for e in errors] == [(0, "encoding")]


def test_read_reports_missing_column_and_empty_file(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("identifiant;titre\nb2;Gala\n", encoding="utf-8")
    corrections, errors = read_corrections(path)
    assert corrections == [] and errors[0].line == 1 and errors[0].code == "missing_column"
    assert "catégorie corrigée" in errors[0].reason
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert read_corrections(empty)[1][0].code == "missing_column"


def test_read_accepts_commas_and_english_headers(tmp_path):
    path = tmp_path / "en.csv"
    path.write_text("item_id,title,corrected category,comment\nb2,\"Gala, soirée\",Teaching,\nc3,Examens,,\n",
                    encoding="utf-8")
    assert read_corrections(path) == ([Correction("b2", "teaching", "")], [])


@pytest.mark.parametrize("word,category", [
    ("recherche", "research"), ("Research", "research"), ("enseignement", "teaching"), ("TEACHING", "teaching"),
    ("étudiant", "student"), ("Etudiants", "student"), ("Initiatives étudiantes", "student"), (" student ", "student"),
    ("autre", None), ("mixed", None),
])
def test_parse_category_french_and_english(word, category):
    assert parse_category(word) == category


def test_export_edit_import_retrain_changes_corrected_predictions(tmp_path):
    """The officer's loop: what they correct, the next model predicts."""
    items = [
        make_item("bu-sciences", "https://bu.univ-exemple.fr/actus/horaires-revisions",
                  "Horaires étendus pendant les révisions",
                  "Pendant la période des examens, la bibliothèque reste ouverte jusqu'à 22h. "
                  "Des salles de travail en groupe sont réservables."),
        make_item("radio-campus", "https://radio-campus.fr/emissions/chroniques-sciences",
                  "Chroniques sciences à l'antenne",
                  "Chaque semaine, deux étudiants de l'équipe de la radio présentent une découverte récente "
                  "en biologie ou en physique, à écouter le jeudi à 18h."),
        make_item("radio-campus", "https://radio-campus.fr/emissions/interview-chercheur",
                  "Interview d'un chercheur en climatologie",
                  "Notre émission reçoit un chercheur du laboratoire de climatologie pour parler des épisodes "
                  "de sécheresse et des modèles régionaux."),
    ]
    declared = {"bu-sciences": "mixed", "radio-campus": "student"}
    seed = load_seed(CLASSIFIERS)
    model = train_model(seed)
    before = predict(model, items, declared)
    wanted = {"bu-sciences": "teaching", "radio-campus": "student"}
    assert [p.category for p in before] != [wanted[i.source_id] for i in items]

    path = tmp_path / "a-verifier.csv"
    by_id = {i.item_id: i for i in items}
    export_for_review([ReviewRow(p.item_id, by_id[p.item_id].source_id, by_id[p.item_id].url, by_id[p.item_id].title,
                                 p.category, p.confidence) for p in before], path)
    fill_corrections(path, {i.item_id: {"teaching": "enseignement", "student": "étudiant"}[wanted[i.source_id]]
                            for i in items}, comment="vu par la chargée de veille")
    corrections, errors = read_corrections(path, known_item_ids=set(by_id))
    assert errors == [] and len(corrections) == 3

    retrained = train_model(seed + labelled_from_corrections(items, corrections, declared))
    after = predict(retrained, items, declared)
    assert retrained.version != model.version
    assert [p.category for p in after] == [wanted[i.source_id] for i in items]
    changed = [b.item_id for b, a in zip(before, after) if b.category != a.category]
    assert changed, "a retrain on corrections must change the corrected items' predictions"
