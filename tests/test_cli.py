"""The command line on real database files: the officer's review round-trips and clear failures."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline import store
from pipeline.cli import main
from pipeline.models import CrawlResult, Item, Prediction, Source, SourceOutcome
from pipeline.normalize import content_hash, item_id

NOW = datetime.now(timezone.utc)
TITLES = {
    "https://lab.univ-exemple.fr/actualites/portes-ouvertes": ("Journée portes ouvertes du master de chimie", 0.41),
    "https://lab.univ-exemple.fr/actualites/erc": ("Une ERC Starting Grant pour l'équipe Matériaux", 0.97),
    "https://lab.univ-exemple.fr/actualites/club": ("Le club d'astronomie observe Saturne", 0.52),
}


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    path = tmp_path / "veille.duckdb"
    items = []
    for url, (title, _) in TITLES.items():
        text = f"{title}. Un texte de quelques phrases pour décrire l'actualité du laboratoire."
        items.append(Item(item_id(url), "lab-a", url, title, NOW - timedelta(days=2), text, lang="fr",
                          content_hash=content_hash(title, text)))
    with store.open_store(path) as conn:
        store.save_sources(conn, [Source("lab-a", "Labo A", "html", "https://lab.univ-exemple.fr/", "research")], NOW)
        store.save_crawl(conn, "r1", [CrawlResult("lab-a", SourceOutcome("lab-a", NOW, "ok"), tuple(items))], NOW)
        store.save_predictions(conn, [Prediction(i.item_id, "research", TITLES[i.url][1], "m1") for i in items], NOW)
    store.publish_snapshot(path)
    return path


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)


def test_label_round_trip(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "a-verifier.csv"
    assert main(["label", "export", "--db", str(db), "--out", str(out), "--limit", "2"]) == 0
    rows = read_rows(out)
    assert [r["titre"] for r in rows] == ["Journée portes ouvertes du master de chimie",
                                          "Le club d'astronomie observe Saturne"]  # least sure first
    rows[0]["catégorie corrigée"] = "enseignement"
    rows[1]["catégorie corrigée"] = "étudiant"
    write_rows(out, rows)
    assert main(["label", "import", "--db", str(db), str(out)]) == 0
    assert "2 correction(s) stored" in capsys.readouterr().out
    with store.open_store(db) as conn:
        labels = {i.title: c for i, c in store.load_labelled_items(conn)}
    assert labels == {"Journée portes ouvertes du master de chimie": "teaching",
                      "Le club d'astronomie observe Saturne": "student"}


def test_malformed_corrections_are_refused_with_their_line(db: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "a-verifier.csv"
    assert main(["label", "export", "--db", str(db), "--out", str(out)]) == 0
    rows = read_rows(out)
    rows[0]["catégorie corrigée"] = "astrologie"
    rows[1]["identifiant"] = "0000000000000000"
    rows[1]["catégorie corrigée"] = "enseignement"
    rows[2]["catégorie corrigée"] = "recherche"
    write_rows(out, rows)
    assert main(["label", "import", "--db", str(db), str(out)]) == 2
    captured = capsys.readouterr()
    assert f"{out}:2:" in captured.err and "astrologie" in captured.err
    assert f"{out}:3:" in captured.err
    assert "2 row(s) refused" in captured.err
    assert "1 correction(s) stored" in captured.out  # the good row is not lost
    with store.open_store(db) as conn:
        assert [c for _, c in store.load_labelled_items(conn)] == ["research"]


def test_a_file_that_is_no_corrections_csv_is_refused_whole(db: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    wrong = tmp_path / "notes.csv"
    wrong.write_text("nom;prénom\nDupont;Marie\n", encoding="utf-8")
    assert main(["label", "import", "--db", str(db), str(wrong)]) == 2
    assert "nothing was imported" in capsys.readouterr().err


def test_digest_without_a_database_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--db", str(tmp_path / "none.duckdb")]) == 1
    assert "run `veille run` first" in capsys.readouterr().err


def test_sources_prints_one_line_per_source(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sources", "--db", str(db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["source", "last"]
    assert lines[1].split()[:2] == ["lab-a", "ok"]


def test_sources_says_how_far_a_backfill_got(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    later = NOW + timedelta(days=1)
    with store.open_store(db) as conn:
        outcome = SourceOutcome("lab-a", later, "ok", backfill_done=120, backfill_total=400)
        store.save_crawl(conn, "r2", [CrawlResult("lab-a", outcome)], later)
    assert main(["sources", "--db", str(db)]) == 0
    assert "(backfill in progress: 120 of 400 pages)" in capsys.readouterr().out.splitlines()[1]


def test_check_lists_the_errors_of_both_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  - {id: a, name: A, kind: blog, url: 'https://a.org/', category: research}\n",
                       encoding="utf-8")
    initiatives = tmp_path / "initiatives.yaml"
    initiatives.write_text("initiatives:\n  - id: x\n    title: Fête\n    kind: kermesse\n    status: programmee\n",
                           encoding="utf-8")
    assert main(["check", "--sources", str(sources), "--initiatives", str(initiatives)]) == 2
    err = capsys.readouterr().err
    assert "sources.yaml:2: sources[0].kind" in err
    assert "initiatives.yaml:4: initiatives[0].kind" in err
    assert "initiatives.yaml:2: initiatives[0].organisers" in err


def test_export_writes_the_views_as_parquet(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--db", str(db), "--out", str(tmp_path / "parquet")]) == 0
    assert "items:" in capsys.readouterr().out
    folders = [p.name for p in (tmp_path / "parquet" / "items").iterdir()]
    assert folders == [f"month={NOW:%Y-%m}"]  # the month the items were first seen, in UTC
    assert (tmp_path / "parquet" / "clusters.parquet").exists()
    assert main(["export", "--db", str(tmp_path / "none.duckdb")]) == 1


@pytest.mark.parametrize("verbose", [False, True])
def test_trafilatura_is_quiet_on_a_page_without_text_unless_verbose(db: Path, verbose: bool,
                                                                   caplog: pytest.LogCaptureFixture,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    from pipeline.crawl.extract import extract_main_text

    quiet = logging.getLogger("trafilatura")
    monkeypatch.setattr(quiet, "level", quiet.level)  # the command sets it: restored after the test
    assert main([*(["--verbose"] if verbose else []), "sources", "--db", str(db)]) == 0
    with caplog.at_level(logging.DEBUG, logger="pipeline"):
        extract_main_text("<html><head><title>x</title></head><body><div>a a a</div></body></html>")
    said = [r for r in caplog.records if r.name.startswith("trafilatura") and r.levelno >= logging.WARNING]
    assert bool(said) == verbose
