"""Deduplication: exact and near duplicates, templated announcements kept apart, the window API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import numpy as np
import pytest

from pipeline.dedupe import cluster as dedupe
from pipeline.dedupe.evaluate import evaluate_clusters, evaluate_pairs, load_pairs
from pipeline.dedupe.verify import find_dates, find_times, profile_item, verify_pair
from pipeline.dedupe.minhash import strip_accents
from pipeline.models import Item
from pipeline.normalize import content_hash, item_id

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)
STORY = (
    "Des chercheurs du Laboratoire de physique et d'étude des matériaux ont mis en évidence une "
    "supraconductivité inattendue dans un oxyde de nickel en couches minces. Le matériau conduit "
    "l'électricité sans résistance en dessous de 42 kelvins, sous pression ambiante. Les échantillons "
    "ont été fabriqués par épitaxie au laboratoire, puis caractérisés au synchrotron SOLEIL. L'équipe "
    "cherche maintenant à comprendre le rôle des lacunes d'oxygène, qui semblent stabiliser la phase."
)
SEMINAR = (
    "Dans le cadre du séminaire de l'équipe Matière molle, nous aurons le plaisir d'accueillir {who} "
    "le {day} à 11h en salle 4B12 du bâtiment Lavoisier. Le séminaire est ouvert à toutes et à tous ; "
    "il sera suivi d'un café. Contact : Jean-Marc Olivier."
)


def make(url: str, title: str, text: str, *, source: str = "lab", days: float = 0, summary: str = "",
         guid: str | None = None) -> Item:
    return Item(item_id(url), source, url, title, T0 + timedelta(days=days), text, summary=summary, guid=guid,
                content_hash=content_hash(title, text))


def window_of(items: list[Item], clusters: list[str] | None = None) -> dedupe.Window:
    """A window as the store hands it over: one row per (item, band key), ORDER BY item_id."""
    clusters = clusters or [i.item_id for i in items]
    cluster_of = dict(zip((i.item_id for i in items), clusters))
    fingerprints = sorted(dedupe.fingerprint_items(items), key=lambda fp: fp.item_id)
    date_of = {i.item_id: i.published_at.timestamp() for i in items}
    rows = [(fp.item_id, cluster_of[fp.item_id], key, date_of[fp.item_id]) for fp in fingerprints for key in fp.band_keys]
    by_id = {i.item_id: i for i in items}
    return dedupe.Window.from_arrays(
        item_id=np.array([r[0] for r in rows], dtype=object), cluster_id=np.array([r[1] for r in rows], dtype=object),
        band_key=np.array([r[2] for r in rows], dtype=np.int64), ts=np.array([r[3] for r in rows]),
        load_items=lambda ids: [by_id[i] for i in ids if i in by_id],
    )


# --- the labelled set -------------------------------------------------------------------------

def test_labelled_set_is_large_and_varied() -> None:
    pairs = load_pairs(FIXTURES)
    templated = [p for p in pairs if p.kind.startswith("template:")]
    positive_kinds = {p.kind for p in pairs if p.same}
    assert len(templated) >= 50
    assert {"title_edit", "rewritten_intro", "summary", "student_relay", "cross_source", "typo_fix"} <= positive_kinds


def test_precision_and_recall_on_labelled_pairs() -> None:
    precision, recall = evaluate_pairs(load_pairs(FIXTURES))
    assert precision >= 0.98
    assert recall >= 0.90


def test_full_clustering_of_the_labelled_items_keeps_templates_apart() -> None:
    report = evaluate_clusters(load_pairs(FIXTURES))
    assert report.precision >= 0.98
    assert report.recall >= 0.90
    right, total = report.by_kind["template"]
    assert right == total


# --- exact duplicates and updates --------------------------------------------------------------

def test_edited_item_keeps_its_cluster() -> None:
    stored = make("https://lab.fr/actualites/nickel", "Un supraconducteur au nickel", STORY)
    window = window_of([stored], ["story-7"])
    edited = make("http://www.lab.fr/actualites/nickel/?utm_source=x", "Un supraconducteur au nickel découvert",
                  STORY.replace("inattendue", "tout à fait inattendue"), days=7)
    [assignment] = dedupe.assign_clusters([edited], window)
    assert assignment == dedupe.ClusterAssignment(edited.item_id, "story-7", stored.item_id, "exact")


def test_same_content_elsewhere_is_an_exact_duplicate() -> None:
    lab = make("https://lab.fr/a", "Un supraconducteur au nickel", STORY)
    fac = make("https://fac.fr/b", "Un supraconducteur au nickel", " " + STORY.upper(), source="fac", days=1)
    assert [a.match for a in dedupe.cluster_items([lab, fac])] == ["new", "exact"]


def test_global_guid_matches_but_bare_guids_only_within_their_source() -> None:
    a = make("https://lab.fr/?p=12", "Titre un", "Texte court.", guid="https://lab.fr/?p=12")
    b = make("https://lab.fr/2024/03/titre-un", "Titre un modifié", "Autre texte.", days=1, guid="https://lab.fr/?p=12")
    c = make("https://autre.fr/x", "Rien à voir", "Vraiment rien.", source="autre", guid="12")
    d = make("https://encore.fr/y", "Toujours rien", "Aucun rapport.", source="encore", guid="12")
    matches = {x.item_id: x.match for x in dedupe.cluster_items([a, b, c, d])}
    assert matches[b.item_id] == "exact"
    assert matches[d.item_id] == "new"


# --- near duplicates ----------------------------------------------------------------------------

def test_summary_and_relay_join_the_stored_story() -> None:
    original = make("https://lab.fr/a", "Un supraconducteur au nickel", STORY)
    window = window_of([original], ["story-1"])
    summary = make("https://lab.fr/feed/a", "Un supraconducteur au nickel", "",
                   summary=" ".join(STORY.split()[:35]) + " […]", source="lab-feed")
    relay = make("https://bde.fr/relais", "Nos labos ont du talent !", "On relaie cette belle nouvelle ! " + STORY,
                 source="bde", days=3)
    result = dedupe.assign_clusters([summary, relay], window)
    assert [(a.cluster_id, a.match) for a in result] == [("story-1", "near"), ("story-1", "near")]


def test_templated_seminars_stay_apart_but_their_relay_joins() -> None:
    seminars = [
        make(f"https://lab.fr/seminaires/{k}", f"Séminaire de l'équipe Matière molle : {who}, {day}",
             SEMINAR.format(who=who, day=day), days=7 * k)
        for k, (who, day) in enumerate([("Nadia Benali", "7 mars"), ("Lucas Ferreira", "14 mars"),
                                        ("Émilie Garnier", "21 mars"), ("Hugo Perrin", "28 mars")])
    ]
    relay = make("https://ed.fr/agenda/benali", "Séminaire Matière molle – Nadia Benali – 7 mars",
                 SEMINAR.format(who="Nadia Benali", day="7 mars"), source="ed", days=2)
    result = dedupe.cluster_items([*seminars, relay])
    assert [a.match for a in result[:4]] == ["new"] * 4
    assert result[4].cluster_id == seminars[0].item_id


def test_verification_says_what_differs() -> None:
    a = make("https://lab.fr/s/1", "Soutenance de thèse de Marie Dupont",
             "Marie Dupont soutiendra sa thèse le 17 juin à 14h en amphithéâtre Curie. La soutenance est publique.")
    b = make("https://lab.fr/s/2", "Soutenance de thèse de Paul Martin",
             "Paul Martin soutiendra sa thèse le 17 juin à 14h en amphithéâtre Curie. La soutenance est publique.")
    verdict = verify_pair(profile_item(a), profile_item(b))
    assert not verdict.same
    assert any("marie dupont" in reason and "paul martin" in reason for reason in verdict.reasons)


def test_recurring_notice_of_one_source_is_not_merged() -> None:
    text = "Le club d'échecs organise son tournoi rapide ce jeudi à 18h à la cafétéria. Tous niveaux acceptés."
    weeks = [make(f"https://echecs.fr/tournoi/{k}", "Tournoi d'échecs du jeudi", text, days=7 * k) for k in range(3)]
    assert [a.match for a in dedupe.cluster_items(weeks)] == ["new", "new", "new"]


def test_rolling_window_limits_merges() -> None:
    original = make("https://lab.fr/a", "Un supraconducteur au nickel", STORY)
    late_text = make("https://fac.fr/a", "Supraconducteur au nickel : retour", STORY + " Mise à jour.", source="fac", days=90)
    assert dedupe.cluster_items([original, late_text], window_days=60)[1].match == "new"
    assert dedupe.cluster_items([original, late_text], window_days=120)[1].match == "near"


def test_dates_and_times_are_read_in_french_forms() -> None:
    text = strip_accents("Le mardi 1er avril, puis le 12/03/2024 et le 2024-05-06, de 9h30 à 14 h, ou 18:45.")
    assert find_dates(text) == {(1, 4), (12, 3), (6, 5)}
    assert find_times(text) == {"09:30", "14:00", "18:45"}


# --- the window API ------------------------------------------------------------------------------

def test_window_rows_in_any_order_give_the_same_window() -> None:
    items = [make(f"https://lab.fr/{k}", f"Titre numéro {k} du laboratoire", f"{STORY} Variante {k}.") for k in range(3)]
    ordered = window_of(items)
    perm = np.random.default_rng(1).permutation(len(ordered.band_keys))
    rows = {"item_id": ordered.item_ids[ordered.band_items][perm], "cluster_id": ordered.cluster_ids[ordered.band_items][perm],
            "band_key": ordered.band_keys[perm], "ts": ordered.dates[ordered.band_items][perm]}
    shuffled = dedupe.Window.from_arrays(**rows, load_items=ordered.load_items)
    pairs = lambda w: sorted(zip(w.item_ids[w.band_items].tolist(), w.band_keys.tolist()))  # noqa: E731
    assert pairs(shuffled) == pairs(ordered)
    assert dict(zip(shuffled.item_ids, shuffled.cluster_ids)) == dict(zip(ordered.item_ids, ordered.cluster_ids))


def test_window_from_a_real_duckdb_query(tmp_path: Path) -> None:
    stored = make("https://lab.fr/a", "Un supraconducteur au nickel", STORY)
    fingerprint = dedupe.fingerprint_item(stored)
    with duckdb.connect(str(tmp_path / "bands.duckdb")) as conn:
        conn.execute("CREATE TABLE item_bands (item_id VARCHAR, cluster_id VARCHAR, band_key BIGINT, ts TIMESTAMPTZ)")
        conn.executemany("INSERT INTO item_bands VALUES (?, ?, ?, ?)",
                         [(stored.item_id, "story-1", key, T0) for key in fingerprint.band_keys])
        arrays = conn.execute("SELECT item_id, cluster_id, band_key, epoch(ts) AS ts FROM item_bands ORDER BY item_id").fetchnumpy()
    window = dedupe.Window.from_arrays(**{k: arrays[k] for k in ("item_id", "cluster_id", "band_key", "ts")},
                                       load_items=lambda ids: [stored] if stored.item_id in ids else [])
    relay = make("https://fac.fr/relais", "Le LPEM et son supraconducteur", "À lire : " + STORY, source="fac", days=2)
    [assignment] = dedupe.assign_clusters([relay], window)
    assert (assignment.cluster_id, assignment.duplicate_of, assignment.match) == ("story-1", stored.item_id, "near")


def test_band_keys_are_stable_across_processes() -> None:
    item = make("https://lab.fr/a", "Un supraconducteur au nickel", STORY)
    here = list(dedupe.fingerprint_item(item).band_keys)
    code = (
        "import json, sys; from pipeline.dedupe import cluster as dedupe; from pipeline.models import Item;"
        f"item = Item('x', 'lab', {item.url!r}, {item.title!r}, None, {item.text!r});"
        "print(json.dumps(list(dedupe.fingerprint_item(item).band_keys)))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=env)
    there = json.loads(out.stdout)
    assert there == here
    assert all(key != 0 and -(2**63) <= key < 2**63 for key in here)


def test_empty_inputs() -> None:
    assert dedupe.assign_clusters([], dedupe.Window.empty()) == []
    lone = make("https://lab.fr/a", "Titre", "")
    assert dedupe.cluster_items([lone]) == [dedupe.ClusterAssignment(lone.item_id, lone.item_id, None, "new")]


# --- representative -------------------------------------------------------------------------------

def test_representative_is_the_earliest_complete_version() -> None:
    summary = make("https://lab.fr/feed", "Titre", "", summary="Début du texte…", days=0)
    full_late = make("https://fac.fr/b", "Titre", STORY, source="fac", days=2)
    full_early = make("https://lab.fr/a", "Titre", STORY + " Fin.", days=1)
    undated = Item(item_id("https://x.fr"), "x", "https://x.fr", "Titre", None, STORY)
    assert dedupe.choose_representative([summary, full_late, full_early, undated]) == full_early
    assert dedupe.choose_representative([summary]) == summary
    with pytest.raises(ValueError):
        dedupe.choose_representative([])


def test_representative_of_a_fixed_typo_is_the_corrected_post() -> None:
    typo = make("https://lab.fr/conference", "La supraconductivité expliqée", STORY, days=1)
    fixed = make("https://lab.fr/conference-2", "La supraconductivité expliquée", STORY, days=3)
    relay = make("https://fac.fr/conference", "La supraconductivité expliquée", STORY, source="fac", days=4)
    assert dedupe.choose_representative([relay, typo, fixed]) == fixed
