"""Classifier: seed data, quality floor on unseen sources, prior, calibration, skops persistence."""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
import skops.io
from sklearn.preprocessing import StandardScaler

from pipeline.classify.model import (
    DECLARED, UNCERTAIN_BELOW, LabelledItem, ModelUntrusted, char_doc, char_transform, label_set_version,
    load_labelled, load_model, load_seed, predict, predict_log_proba, save_model, train_model, url_tokens,
)
from pipeline.classify.evaluate import (
    check_floor, evaluate_grouped, evaluate_holdout, format_report, predict_examples, write_report,
)
from pipeline.models import CATEGORIES, Item
from pipeline.normalize import item_id

CLASSIFIERS = Path(__file__).resolve().parents[2] / "classifiers"
FLOOR = CLASSIFIERS / "quality-floor.json"


@pytest.fixture(scope="module")
def seed() -> list[LabelledItem]:
    return load_seed(CLASSIFIERS)


@pytest.fixture(scope="module")
def holdout() -> list[LabelledItem]:
    return load_labelled(CLASSIFIERS / "holdout.jsonl")


@pytest.fixture(scope="module")
def model(seed):
    return train_model(seed)


def make_item(source_id: str, url: str, title: str, text: str) -> Item:
    return Item(item_id(url), source_id, url, title, datetime(2024, 3, 4, tzinfo=timezone.utc), text)


def test_seed_covers_many_sources_and_all_categories(seed):
    sources = Counter(e.source_id for e in seed)
    labels = Counter(e.label for e in seed)
    assert len(seed) >= 600
    assert len(sources) >= 40
    assert max(sources.values()) < len(seed) / 10
    assert set(labels) == set(CATEGORIES) and min(labels.values()) >= 150
    assert {e.declared_category for e in seed} == set(DECLARED)
    off_category = [e for e in seed if e.declared_category not in ("mixed", e.label)]
    assert len(off_category) >= 40, "hard cases: sources posting outside their declared category"


def test_holdout_sources_never_appear_in_seed(seed, holdout):
    assert len(holdout) >= 60
    assert not {e.source_id for e in holdout} & {e.source_id for e in seed}
    assert {e.label for e in holdout} == set(CATEGORIES)


def test_grouped_cv_holds_quality_floor(seed):
    report = evaluate_grouped(seed, folds=5)
    assert report.n_items == len(seed) and len(report.fold_macro_f1) == 5
    assert sum(map(sum, report.confusion)) == len(seed)
    assert check_floor(report, FLOOR) == []


def test_holdout_holds_quality_floor(seed, holdout):
    report = evaluate_holdout(seed, holdout)
    assert report.n_sources == len({e.source_id for e in holdout})
    assert check_floor(report, FLOOR) == [], format_report(report)


def test_holdout_refuses_shared_sources(seed):
    with pytest.raises(ValueError, match="held-out sources"):
        evaluate_holdout(seed[:300], seed[250:320])


def test_check_floor_reports_each_shortfall(tmp_path, seed, model):
    strict = tmp_path / "floor.json"
    strict.write_text(json.dumps({"macro_f1": 1.01, "class_recall": 1.01}))
    report = evaluate_holdout(seed, load_labelled(CLASSIFIERS / "holdout.jsonl"))
    failures = check_floor(report, strict)
    assert any("macro-F1" in f for f in failures)
    assert sum("recall[" in f for f in failures) == sum(c.recall < 1.01 for c in report.per_class) == 3


def test_strong_text_overrides_declared_prior(model):
    item = make_item("lab-x", "https://lab-x.fr/actualites/examens",
                     "Calendrier des examens et session de rattrapage",
                     "Les examens du semestre auront lieu en janvier. Convocations sur l'ENT, "
                     "la session de rattrapage est prévue en juin pour toutes les UE de licence.")
    [prediction] = predict(model, [item], {"lab-x": "research"})
    assert prediction.category == "teaching"
    assert prediction.model_version == model.version


def test_declared_prior_shifts_an_ambiguous_item(model):
    doc = ("https://site.fr/news/journee", "Une journée au campus",
           "Une journée de rencontres et d'échanges aura lieu sur le campus.")
    logp = {d: predict_log_proba(model, [doc], [d])[0] for d in DECLARED}
    for category in CATEGORIES:
        k = CATEGORIES.index(category)
        assert logp[category][k] == max(logp[d][k] for d in DECLARED), f"declared {category} favours it"
    # mixed (and an undeclared source) is the text alone: flat prior
    assert np.allclose(model.prior_log[DECLARED.index("mixed")], np.log(1 / 3))
    item = make_item("src", *doc)
    assert predict(model, [item], {})[0] == predict(model, [item], {"src": "mixed"})[0]


def test_training_holds_the_style_set_with_its_styles(seed):
    styles = [e for e in seed if e.source_id.startswith("sty-")]
    assert len(styles) >= 800 and {e.label for e in styles} == set(CATEGORIES)
    assert all(e.style for e in seed), "every training item names its style: calibration leaves styles out"
    assert len({e.style for e in styles}) >= 25
    english = [e for e in styles if e.label == "research" and " the " in f" {e.text.lower()} "]
    assert len(english) >= len([e for e in styles if e.label == "research"]) / 3, "a third of lab items in English"


def test_declared_category_stands_against_weak_text_evidence(model):
    club_talk = make_item("club-x", "https://club-x.fr/blog/conference", "Soirée conférence : les exoplanètes",
                          "Nous accueillons une astrophysicienne pour parler d'exoplanètes, suivie d'un pot. "
                          "Entrée libre.")
    [as_declared] = predict(model, [club_talk], {"club-x": "student"})
    [text_alone] = predict(model, [club_talk], {"club-x": "mixed"})
    assert as_declared.category == "student" and as_declared.confidence > text_alone.confidence


def test_confidence_is_a_probability_and_larger_when_right(model, holdout):
    logp = predict_examples(model, holdout)
    assert np.allclose(np.exp(logp).sum(axis=1), 1.0)
    confidence = np.exp(logp.max(axis=1))
    assert confidence.min() >= 1 / 3 - 1e-9 and confidence.max() <= 1.0 + 1e-9
    right = logp.argmax(axis=1) == np.array([CATEGORIES.index(e.label) for e in holdout])
    assert confidence[right].mean() > confidence[~right].mean()
    assert 0 < UNCERTAIN_BELOW < 1


def test_predict_handles_empty_and_summary_only(model):
    assert predict(model, [], {}) == []
    item = Item("id1", "s", "https://x.fr/a", "Soutenance de thèse", None, "", summary="Soutenance de thèse publique.")
    [prediction] = predict(model, [item], {})
    assert prediction.category == "research" and prediction.item_id == "id1"


def test_save_and_load_give_identical_predictions(tmp_path, model, holdout):
    path = tmp_path / "model.skops"
    save_model(model, path)
    assert zipfile.is_zipfile(path)  # skops format, not a pickle
    loaded = load_model(path)
    assert loaded.version == model.version and loaded.trained_at == model.trained_at
    items = [make_item(e.source_id, e.url, e.title, e.text) for e in holdout[:40]]
    declared = {e.source_id: e.declared_category for e in holdout}
    assert predict(loaded, items, declared) == predict(model, items, declared)


def test_load_refuses_untrusted_types(tmp_path):
    path = tmp_path / "evil.skops"
    skops.io.dump({"version": "x", "scaler": StandardScaler()}, path)
    with pytest.raises(ModelUntrusted, match="StandardScaler"):
        load_model(path)


def test_version_is_a_hash_of_the_label_set(seed):
    changed = [seed[0].__class__(**{**seed[0].__dict__, "label": "student" if seed[0].label != "student" else "research"})]
    assert label_set_version(seed) == label_set_version(list(reversed(seed)))
    assert label_set_version(seed) != label_set_version(changed + seed[1:])


def test_training_needs_two_sources(seed):
    one_source = [e for e in seed if e.source_id == seed[0].source_id]
    with pytest.raises(ValueError, match="two sources"):
        train_model(one_source)


def test_fast_char_features_equal_the_vectorizer(model, holdout):
    docs = [char_doc(e.title, e.text) for e in holdout] + ["", "   ", "ÉTÉ  à l'école !!\tdéjà"]
    fast, reference = char_transform(model.char, docs), model.char.transform(docs)
    assert fast.shape == reference.shape
    assert abs(fast - reference).max() < 1e-6


def test_url_tokens_keep_path_words_not_host():
    tokens = url_tokens("https://www.lab-physique.fr/actualites/2024/03/soutenance-these.html?p=12&rub=agenda").split()
    assert "u_soutenance" in tokens and "u_these" in tokens and "u_agenda" in tokens
    assert not any("physique" in t or "lab" in t or t[2:].isdigit() for t in tokens)


def test_write_report_makes_markdown_json_and_png(tmp_path, seed, holdout):
    pytest.importorskip("matplotlib", reason="matplotlib draws the confusion-matrix PNG")
    report = evaluate_holdout(seed, holdout)
    markdown, data, image = write_report(report, tmp_path / "eval")
    assert "Macro-F1" in markdown.read_text(encoding="utf-8")
    assert json.loads(data.read_text(encoding="utf-8"))["macro_f1"] == pytest.approx(report.macro_f1)
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image.stat().st_size > 5000
    text = format_report(report)
    assert f"{report.macro_f1:.3f}" in text and "teaching" in text
