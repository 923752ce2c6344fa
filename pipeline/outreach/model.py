"""The outreach detector: does an item describe an outreach action (vulgarisation, médiation)?

A TF-IDF (words + character n-grams) logistic regression trained on the hand-labelled French items
of classifiers/outreach/items.yaml; classes are weighted (outreach is the minority class among the
ordinary faculty news). `evaluate_grouped` measures it with cross-validation grouped by source (a
source's wording never helps to score itself); `evaluate_model` measures a trained model on the
held-out file written from other sources. DEFAULT_THRESHOLD favours precision: it is the lowest
threshold whose grouped-CV precision reaches TARGET_PRECISION (`choose_threshold`, printed by
benchmarks/outreach_quality.py; it is not recomputed at each nightly training, which must stay fast).
Saved with skops (no pickle).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import sklearn
import yaml
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import FeatureUnion, Pipeline

from pipeline.models import Item

logger = logging.getLogger(__name__)

CLASSIFIER_DIR = Path(__file__).resolve().parents[2] / "classifiers" / "outreach"
TRAIN_FILE = CLASSIFIER_DIR / "items.yaml"
HELDOUT_FILE = CLASSIFIER_DIR / "heldout.yaml"
DEFAULT_THRESHOLD = 0.50  # choose_threshold(load_examples()) on 543 items: precision 0.975, recall 0.946
TARGET_PRECISION = 0.97
THRESHOLD_GRID = tuple(round(0.30 + 0.05 * i, 2) for i in range(11))  # 0.30 .. 0.80
TEXT_CHARS = 1500


@dataclass(frozen=True)
class Example:
    source: str
    label: int  # 1: outreach action
    title: str
    text: str


@dataclass(frozen=True)
class OutreachModel:
    pipeline: Any  # fitted sklearn Pipeline
    threshold: float
    version: str


@dataclass(frozen=True)
class Metrics:
    precision: float
    recall: float
    f1: float
    n: int
    positives: int
    false_positives: tuple[str, ...] = ()  # titles, to read
    false_negatives: tuple[str, ...] = ()


def load_examples(path: Path = TRAIN_FILE) -> list[Example]:
    """Labelled items from a YAML list of {source, label, title, text}."""
    rows = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    return [Example(str(r["source"]), int(r["label"]), str(r["title"]), str(r.get("text", ""))) for r in rows]


def model_text(title: str, text: str) -> str:
    """What the model reads: the title twice (it carries the most signal), then the start of the text."""
    return f"{title}. {title}. {text[:TEXT_CHARS]}"


def item_text(item: Item) -> str:
    return model_text(item.title, item.text or item.summary)


def build_pipeline() -> Pipeline:
    words = TfidfVectorizer(strip_accents="unicode", lowercase=True, ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    chars = TfidfVectorizer(strip_accents="unicode", lowercase=True, analyzer="char_wb", ngram_range=(3, 5),
                            sublinear_tf=True, min_df=2)
    features = FeatureUnion([("words", words), ("chars", chars)])
    classifier = LogisticRegression(C=30.0, class_weight="balanced", max_iter=2000)
    return Pipeline([("features", features), ("classifier", classifier)])


def train_outreach_model(examples: Sequence[Example], threshold: float = DEFAULT_THRESHOLD) -> OutreachModel:
    texts = [model_text(e.title, e.text) for e in examples]
    labels = [e.label for e in examples]
    pipeline = build_pipeline().fit(texts, labels)
    digest = hashlib.sha1("\n".join(f"{e.label}|{e.title}|{e.text}" for e in examples).encode()).hexdigest()[:10]
    return OutreachModel(pipeline, threshold, f"outreach-{digest}-sk{sklearn.__version__}")


def score_texts(model: OutreachModel, texts: Sequence[str]) -> list[float]:
    """Probability that each text describes an outreach action."""
    if not texts:
        return []
    return [float(p) for p in model.pipeline.predict_proba(list(texts))[:, 1]]


def score_items(model: OutreachModel, items: Sequence[Item]) -> list[float]:
    return score_texts(model, [item_text(i) for i in items])


def evaluate_grouped(examples: Sequence[Example], n_splits: int = 5, threshold: float = DEFAULT_THRESHOLD) -> Metrics:
    """Out-of-fold precision/recall, folds grouped by source."""
    return _metrics(examples, score_grouped(examples, n_splits), threshold)


def score_grouped(examples: Sequence[Example], n_splits: int = 5) -> np.ndarray:
    """Out-of-fold scores of every example, folds grouped by source."""
    texts = np.array([model_text(e.title, e.text) for e in examples], dtype=object)
    labels = np.array([e.label for e in examples])
    groups = np.array([e.source for e in examples])
    scores = np.zeros(len(examples))
    for train, test in GroupKFold(n_splits=n_splits).split(texts, labels, groups):
        fitted = clone(build_pipeline()).fit(list(texts[train]), labels[train])
        scores[test] = fitted.predict_proba(list(texts[test]))[:, 1]
    return scores


def choose_threshold(examples: Sequence[Example], min_precision: float = TARGET_PRECISION,
                     n_splits: int = 5) -> tuple[float, Metrics]:
    """The lowest threshold of THRESHOLD_GRID whose grouped-CV precision reaches `min_precision`
    (the highest one when none does), with its metrics: recall as high as precision allows."""
    scores = score_grouped(examples, n_splits)
    chosen = [(t, _metrics(examples, scores, t)) for t in THRESHOLD_GRID]
    for threshold, metrics in chosen:
        if metrics.precision >= min_precision:
            return threshold, metrics
    return chosen[-1]


def evaluate_model(model: OutreachModel, examples: Sequence[Example]) -> Metrics:
    scores = np.array(score_texts(model, [model_text(e.title, e.text) for e in examples]))
    return _metrics(examples, scores, model.threshold)


def _metrics(examples: Sequence[Example], scores: np.ndarray, threshold: float) -> Metrics:
    predicted = scores >= threshold
    truth = np.array([e.label == 1 for e in examples])
    tp = int((predicted & truth).sum())
    fp = int((predicted & ~truth).sum())
    fn = int((~predicted & truth).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Metrics(
        precision, recall, f1, len(examples), int(truth.sum()),
        tuple(e.title for e, p, t in zip(examples, predicted, truth) if p and not t),
        tuple(e.title for e, p, t in zip(examples, predicted, truth) if t and not p),
    )


def save_outreach_model(model: OutreachModel, path: Path) -> None:
    """Write the model with skops, and its threshold/version in a JSON file next to it."""
    import skops.io as sio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(model.pipeline, path)
    meta = {"threshold": model.threshold, "version": model.version, "trusted": sio.get_untrusted_types(file=path)}
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2), encoding="utf-8")


def load_outreach_model(path: Path) -> OutreachModel:
    """Read a model written by `save_outreach_model`; refuses types it did not write itself."""
    import skops.io as sio

    path = Path(path)
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    unexpected = set(sio.get_untrusted_types(file=path)) - set(meta["trusted"])
    if unexpected:
        raise ValueError(f"{path}: unexpected types in the model file: {sorted(unexpected)}")
    pipeline = sio.load(path, trusted=meta["trusted"])
    return OutreachModel(pipeline, float(meta["threshold"]), str(meta["version"]))
