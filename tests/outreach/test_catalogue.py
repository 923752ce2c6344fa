"""initiatives.yaml, edition merging floors, the review CSV round-trip and how decisions stick."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import yaml

from pipeline.outreach.catalogue import (
    Edition, Initiative, apply_decisions, load_initiatives_file, published_initiatives,
)
from pipeline.outreach.catalogue import Decision
from pipeline.outreach.review import export_proposals, read_decisions
from pipeline.normalize import fold_for_matching
from pipeline.outreach.detect import detect_kind, proposal_id
from pipeline.outreach.merge import merge_editions

ROOT = Path(__file__).resolve().parents[2]
PAIRS = ROOT / "classifiers" / "outreach" / "pairs.yaml"


def proposal(title: str, organiser: str, year: int, url: str, start: date | None = None, **changes) -> Initiative:
    base = Initiative(
        initiative_id=proposal_id(organiser, title), title=title,
        kind=detect_kind(fold_for_matching(title), ""),  # type: ignore[arg-type]
        organisers=(organiser,), audience=("grand_public",), status="programmee",
        editions=(Edition(year, start, start, ""),), evidence=(url,),
    )
    return replace(base, **changes)


# ----------------------------------------------------------------------------- initiatives.yaml


def test_repository_example_file_loads():
    initiatives, errors = load_initiatives_file(ROOT / "initiatives.yaml")
    assert errors == []
    assert len(initiatives) >= 3
    assert all(i.origin == "manual" and i.validated for i in initiatives)


def test_every_error_comes_back_at_once_with_its_line(tmp_path):
    path = tmp_path / "initiatives.yaml"
    path.write_text(
        "initiatives:\n"                                   # 1
        "  - id: bon-exemple\n"                            # 2
        "    title: Bar des sciences\n"                    # 3
        "    kind: conference_grand_public\n"              # 4
        "    organisers: [Département de biologie]\n"      # 5
        "    status: recurrente\n"                         # 6
        "  - id: Mauvais Id\n"                             # 7
        "    title: Atelier\n"                             # 8
        "    kind: atelier_enfants\n"                      # 9
        "    organisers: [Club]\n"                         # 10
        "    status: programmee\n"                         # 11
        "    lieu: Médiathèque\n"                          # 12
        "  - id: sans-titre\n"                             # 13
        "    kind: exposition\n"                           # 14
        "    organisers: [BU]\n"                           # 15
        "    status: programmee\n"                         # 16
        "    editions:\n"                                  # 17
        "      - {year: 2025, start: 2024-05-02}\n",       # 18
        encoding="utf-8",
    )
    initiatives, errors = load_initiatives_file(path)
    assert initiatives == []
    found = {(e.line, e.location) for e in errors}
    assert (7, "initiatives[1].id") in found
    assert (9, "initiatives[1].kind") in found
    assert (12, "initiatives[1].lieu") in found
    assert (13, "initiatives[2].title") in found
    assert (18, "initiatives[2].editions[0]") in found
    assert any("unknown key 'lieu'" == e.message for e in errors)


def test_duplicate_ids_are_refused_with_line(tmp_path):
    entry = "  - {{id: {id}, title: Visite, kind: visite_laboratoire, organisers: [LPEM], status: programmee}}\n"
    path = tmp_path / "initiatives.yaml"
    path.write_text("initiatives:\n" + entry.format(id="visite") + entry.format(id="visite"), encoding="utf-8")
    initiatives, errors = load_initiatives_file(path)
    assert initiatives == [] and [(e.line, e.message) for e in errors] == [(3, "duplicate initiative id 'visite'")]


# ----------------------------------------------------------------------------- edition merging


def _side(record: dict, index: int) -> Initiative:
    return proposal(record["title"], record["organiser"], record["year"], f"https://ex.org/{index}",
                    record.get("start"))


def test_merge_pairs_meet_floors():
    pairs = yaml.safe_load(PAIRS.read_text(encoding="utf-8"))
    tp = fp = fn = 0
    for n, pair in enumerate(pairs):
        merged = len(merge_editions([_side(pair["a"], 2 * n), _side(pair["b"], 2 * n + 1)])) == 1
        tp += merged and pair["same"]
        fp += merged and not pair["same"]
        fn += (not merged) and pair["same"]
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(f"\nedition merge pairs: precision={precision:.3f} recall={recall:.3f} pairs={len(pairs)}")
    assert len(pairs) >= 60
    assert precision >= 0.95 and recall >= 0.90


def test_merge_keeps_editions_and_manual_entry_wins():
    manual = Initiative("pint-of-science-ville", "Pint of Science", "festival", ("LPEM",), ("grand_public",),
                        "recurrente", (Edition(2025, date(2025, 5, 19), date(2025, 5, 21), "Bars"),),
                        origin="manual", validated=True)
    detected = proposal("Pint of Science 2026 : trois soirées", "LPEM", 2026, "https://lpem.fr/pint26",
                        date(2026, 5, 18))
    other = proposal("Atelier « Lumière » à la médiathèque", "LPEM", 2026, "https://lpem.fr/atelier")
    merged = merge_editions([detected, manual, other])
    assert len(merged) == 2
    pint = next(i for i in merged if i.initiative_id == "pint-of-science-ville")
    assert pint.title == "Pint of Science" and pint.years == (2025, 2026) and pint.validated
    assert pint.evidence == ("https://lpem.fr/pint26",)


# ----------------------------------------------------------------------------- review CSV


def test_csv_round_trip_validate_correct_merge_reject(tmp_path):
    a = proposal("Café des sciences : les volcans", "Géosciences", 2025, "https://geo.fr/cafe")
    b = proposal("Exposition « Roches » au Muséum", "Géosciences", 2025, "https://geo.fr/expo")
    c = proposal("Expo Roches : dernières semaines", "Faculté", 2025, "https://fac.fr/roches")
    d = proposal("Offre de stage en médiation", "Faculté", 2025, "https://fac.fr/stage")
    path = tmp_path / "revue.csv"
    assert export_proposals([a, b, c, d], path) == 4
    raw = path.read_text(encoding="utf-8-sig")
    assert raw.splitlines()[0].startswith("identifiant;decision;fusionner_dans;titre")
    rows = raw.splitlines()
    edited = [rows[0]]
    for line in rows[1:]:
        if line.startswith(a.initiative_id):
            line = line.replace(f"{a.initiative_id};;", f"{a.initiative_id};valider;", 1)
        elif line.startswith(b.initiative_id):
            line = line.replace(f"{b.initiative_id};;", f"{b.initiative_id};Corriger;", 1)
            line = line.replace("Exposition « Roches » au Muséum", "Exposition « Roches de Provence »")
            line = line.replace(";grand_public;", ";Grand public | Scolaires;")
        elif line.startswith(c.initiative_id):
            line = line.replace(f"{c.initiative_id};;", f"{c.initiative_id};fusionner;{b.initiative_id}", 1)
        elif line.startswith(d.initiative_id):
            line = line.replace(f"{d.initiative_id};;", f"{d.initiative_id};rejeter;", 1)
        edited.append(line)
    path.write_text("\r\n".join(edited) + "\r\n", encoding="utf-8-sig")
    decisions, errors = read_decisions(path, known_ids={i.initiative_id for i in (a, b, c, d)})
    assert errors == []
    assert sorted(d_.action for d_ in decisions) == ["correct", "merge", "reject", "validate"]
    catalogue = {i.initiative_id: i for i in apply_decisions([a, b, c, d], [], decisions)}
    assert catalogue[a.initiative_id].validated
    corrected = catalogue[b.initiative_id]
    assert corrected.title == "Exposition « Roches de Provence »" and corrected.validated
    assert corrected.audience == ("grand_public", "scolaires")
    assert "https://fac.fr/roches" in corrected.evidence
    assert catalogue[c.initiative_id].merged_into == b.initiative_id
    assert catalogue[d.initiative_id].rejected
    assert {i.initiative_id for i in published_initiatives([], list(catalogue.values()))} == {
        a.initiative_id, b.initiative_id}


def test_malformed_csv_is_refused_with_line_and_reason(tmp_path):
    a = proposal("Café des sciences : les volcans", "Géosciences", 2025, "https://geo.fr/cafe")
    b = proposal("Atelier ADN", "Génétique", 2025, "https://gen.fr/adn")
    path = tmp_path / "revue.csv"
    export_proposals([a, b], path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    lines[1] = lines[1].replace(f"{a.initiative_id};;", f"{a.initiative_id};valider;", 1)  # fine on its own
    lines[2] = lines[2].replace(f"{b.initiative_id};;", f"{b.initiative_id};corriger;", 1).replace(";atelier;", ";atelier_geant;")
    lines.append("inconnu;rejeter;;x;autre;Org;grand_public;programmee;;;;;;non;détectée")
    lines.append("trop;peu;de;cellules")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    decisions, errors = read_decisions(path, known_ids={a.initiative_id, b.initiative_id})
    assert decisions == []  # nothing half-applied
    assert {(e.line, e.column) for e in errors} == {(3, "type"), (4, "identifiant"), (5, "")}
    assert "cells where the header has" in next(e.message for e in errors if e.line == 5)


def test_csv_saved_again_by_a_french_spreadsheet_in_cp1252(tmp_path):
    a = proposal("Fête de la science : atelier", "Génétique", 2025, "https://gen.fr/fds")
    path = tmp_path / "revue.csv"
    export_proposals([a], path)
    text = path.read_text(encoding="utf-8-sig").replace(f"{a.initiative_id};;", f"{a.initiative_id};Rejeter;", 1)
    path.write_bytes(text.encode("cp1252"))
    decisions, errors = read_decisions(path)
    assert errors == [] and [(d.initiative_id, d.action) for d in decisions] == [(a.initiative_id, "reject")]


def test_missing_columns_refused(tmp_path):
    path = tmp_path / "revue.csv"
    path.write_text("identifiant,decision\nabc,valider\n", encoding="utf-8")
    decisions, errors = read_decisions(path)
    assert decisions == [] and errors[0].line == 1 and "missing column" in errors[0].message


# ----------------------------------------------------------------------------- nights after review


def test_rejected_proposal_does_not_come_back_next_night():
    tonight = proposal("Stage de médiation : offre", "Faculté", 2025, "https://fac.fr/stage")
    night1 = apply_decisions([tonight], [], [Decision(tonight.initiative_id, "reject")])
    night2 = apply_decisions([tonight], night1, [])
    assert [i.visible for i in night2] == [False]
    # detected again under another id (title changed) but from the same page: still rejected
    renamed = replace(tonight, initiative_id="d-autre", title="Offre de stage en médiation")
    night3 = apply_decisions([renamed], night2, [])
    assert [i.initiative_id for i in night3 if i.visible] == []


def test_validated_initiative_is_never_overwritten_by_detection():
    first = proposal("Bar des sciences : les OGM", "Biologie", 2025, "https://bio.fr/bar25", date(2025, 1, 16))
    night1 = apply_decisions([first], [], [Decision(first.initiative_id, "correct",
                                                       (("title", "Bar des sciences"), ("place", "Bar L'Intermédiaire")))])
    again = replace(first, title="Bar des sciences : les OGM (détecté)", place="ailleurs", kind="autre",
                    evidence=("https://bio.fr/bar26",), editions=(Edition(2026, date(2026, 1, 15), None, ""),))
    night2 = apply_decisions([again], night1, [])
    kept = night2[0]
    assert (kept.title, kept.place, kept.kind, kept.validated) == ("Bar des sciences", "Bar L'Intermédiaire",
                                                                   first.kind, True)
    assert kept.evidence == ("https://bio.fr/bar25", "https://bio.fr/bar26")
    assert kept.years == (2025, 2026)


def test_unvalidated_proposal_is_refreshed_and_merge_target_absorbs_later_editions():
    old = proposal("Nuit des étoiles", "Observatoire", 2024, "https://obs.fr/ne24")
    target = proposal("Soirées d'observation", "Observatoire", 2024, "https://obs.fr/obs")
    night1 = apply_decisions([old, target], [], [Decision(old.initiative_id, "merge", merge_into=target.initiative_id)])
    later = replace(old, evidence=("https://obs.fr/ne25",), editions=(Edition(2025),))
    night2 = {i.initiative_id: i for i in apply_decisions([later], night1, [])}
    assert night2[old.initiative_id].merged_into == target.initiative_id
    assert "https://obs.fr/ne25" in night2[target.initiative_id].evidence
    assert night2[target.initiative_id].years == (2024, 2025)
