"""Measure the classifier as it will be used: on sources it has never seen.

`evaluate_grouped` cross-validates with folds grouped by source (no source on both sides);
`evaluate_holdout` trains on one set and scores another made of different sources. Both return an
EvalReport (macro-F1, per-class precision/recall, confusion matrix), which `format_report` prints
for `veille eval`, `write_report` saves as Markdown + JSON + a PNG of the confusion matrix
(matplotlib, Agg backend), and `check_floor` compares with classifiers/quality-floor.json.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import GroupKFold

from pipeline.classify.model import UNCERTAIN_BELOW, LabelledItem, predict_log_proba, train_model
from pipeline.models import CATEGORIES, CATEGORY_LABELS_FR

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassScore:
    category: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class EvalReport:
    name: str  # "grouped-cv" or "holdout"
    n_items: int
    n_sources: int
    macro_f1: float
    accuracy: float
    per_class: tuple[ClassScore, ...]
    confusion: tuple[tuple[int, ...], ...]  # rows: true category, columns: predicted (CATEGORIES order)
    fold_macro_f1: tuple[float, ...] = ()
    uncertain_share: float = 0.0  # share of items under UNCERTAIN_BELOW
    uncertain_accuracy: float = 0.0  # accuracy on those items
    confident_accuracy: float = 0.0  # accuracy on the others

    def recall(self, category: str) -> float:
        return next(c.recall for c in self.per_class if c.category == category)


def score_predictions(name: str, examples: Sequence[LabelledItem], logp: np.ndarray,
                      fold_scores: Sequence[float] = ()) -> EvalReport:
    y_true = np.array([CATEGORIES.index(e.label) for e in examples])
    y_pred = logp.argmax(axis=1)
    labels = list(range(len(CATEGORIES)))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    confidence = np.exp(logp.max(axis=1))
    unsure = confidence < UNCERTAIN_BELOW
    correct = y_true == y_pred
    return EvalReport(
        name=name, n_items=len(examples), n_sources=len({e.source_id for e in examples}),
        macro_f1=float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        accuracy=float(correct.mean()),
        per_class=tuple(ClassScore(c, float(p), float(r), float(f), int(s))
                        for c, p, r, f, s in zip(CATEGORIES, precision, recall, f1, support)),
        confusion=tuple(tuple(int(v) for v in row) for row in confusion_matrix(y_true, y_pred, labels=labels)),
        fold_macro_f1=tuple(float(s) for s in fold_scores),
        uncertain_share=float(unsure.mean()),
        uncertain_accuracy=float(correct[unsure].mean()) if unsure.any() else 0.0,
        confident_accuracy=float(correct[~unsure].mean()) if (~unsure).any() else 0.0,
    )


def predict_examples(model, examples: Sequence[LabelledItem]) -> np.ndarray:
    docs = [(e.url, e.title, e.text) for e in examples]
    return predict_log_proba(model, docs, [e.declared_category for e in examples])


def evaluate_grouped(examples: Sequence[LabelledItem], folds: int = 5) -> EvalReport:
    """Cross-validation where each fold's test sources are absent from its training set."""
    groups = np.array([e.source_id for e in examples])
    logp = np.zeros((len(examples), len(CATEGORIES)))
    fold_scores = []
    for train, test in GroupKFold(n_splits=folds).split(np.zeros(len(examples)), groups=groups):
        model = train_model([examples[i] for i in train])
        logp[test] = predict_examples(model, [examples[i] for i in test])
        truth = [CATEGORIES.index(examples[i].label) for i in test]
        fold_scores.append(f1_score(truth, logp[test].argmax(axis=1), average="macro", zero_division=0))
    return score_predictions("grouped-cv", examples, logp, fold_scores)


def evaluate_holdout(train: Sequence[LabelledItem], holdout: Sequence[LabelledItem]) -> EvalReport:
    """Train on `train`, score on `holdout` (whose sources must not appear in `train`)."""
    shared = {e.source_id for e in train} & {e.source_id for e in holdout}
    if shared:
        raise ValueError(f"held-out sources also in training: {sorted(shared)}")
    model = train_model(train)
    return score_predictions("holdout", holdout, predict_examples(model, holdout))


def check_floor(report: EvalReport, floor_path: Path | str) -> list[str]:
    """The ways `report` falls below the quality floor (empty list: it holds)."""
    floor = json.loads(Path(floor_path).read_text(encoding="utf-8"))
    failures = []
    if report.macro_f1 < floor["macro_f1"]:
        failures.append(f"{report.name}: macro-F1 {report.macro_f1:.3f} < {floor['macro_f1']}")
    for score in report.per_class:
        if score.recall < floor["class_recall"]:
            failures.append(f"{report.name}: recall[{score.category}] {score.recall:.3f} < {floor['class_recall']}")
    return failures


def format_report(report: EvalReport) -> str:
    """Plain-text summary for the terminal."""
    lines = [
        f"{report.name}: {report.n_items} items, {report.n_sources} sources",
        f"macro-F1 {report.macro_f1:.3f}  accuracy {report.accuracy:.3f}",
    ]
    if report.fold_macro_f1:
        lines.append("folds: " + " ".join(f"{s:.3f}" for s in report.fold_macro_f1))
    lines.append(f"{'category':<10} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>5}")
    lines += [f"{c.category:<10} {c.precision:>9.3f} {c.recall:>7.3f} {c.f1:>6.3f} {c.support:>5}" for c in report.per_class]
    lines.append("confusion (rows true, columns predicted): " + " | ".join(CATEGORIES))
    lines += [f"  {cat:<10} " + " ".join(f"{v:>5}" for v in row) for cat, row in zip(CATEGORIES, report.confusion)]
    lines.append(f"below {UNCERTAIN_BELOW:.2f} confidence: {report.uncertain_share:.1%} of items, "
                 f"accuracy {report.uncertain_accuracy:.3f} (others {report.confident_accuracy:.3f})")
    return "\n".join(lines)


def format_markdown(report: EvalReport) -> str:
    rows = "\n".join(f"| {c.category} | {c.precision:.3f} | {c.recall:.3f} | {c.f1:.3f} | {c.support} |"
                     for c in report.per_class)
    matrix = "\n".join(f"| **{cat}** | " + " | ".join(str(v) for v in row) + " |"
                       for cat, row in zip(CATEGORIES, report.confusion))
    return (f"# Classifier evaluation: {report.name}\n\n"
            f"{report.n_items} items from {report.n_sources} sources. **Macro-F1 {report.macro_f1:.3f}**, "
            f"accuracy {report.accuracy:.3f}.\n\n"
            "| category | precision | recall | F1 | n |\n|---|---|---|---|---|\n" + rows + "\n\n"
            "Confusion matrix (rows: true category, columns: predicted):\n\n"
            "| | " + " | ".join(CATEGORIES) + " |\n|---|---|---|---|\n" + matrix + "\n\n"
            f"Items under {UNCERTAIN_BELOW:.2f} confidence: {report.uncertain_share:.1%} "
            f"(accuracy {report.uncertain_accuracy:.3f}; others {report.confident_accuracy:.3f}).\n")


def plot_confusion(report: EvalReport, path: Path) -> None:
    """PNG heat map of the confusion matrix, counts written in the cells."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    matrix = np.array(report.confusion)
    names = [CATEGORY_LABELS_FR[c] for c in CATEGORIES]
    figure = Figure(figsize=(5.2, 4.4), dpi=110)
    axes = figure.add_subplot()
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(names)), names, rotation=20)
    axes.set_yticks(range(len(names)), names)
    axes.set_xlabel("Catégorie prédite")
    axes.set_ylabel("Catégorie réelle")
    axes.set_title(f"{report.name} — macro-F1 {report.macro_f1:.3f}")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, col), value in np.ndenumerate(matrix):
        axes.text(col, row, str(value), ha="center", va="center",
                  color="white" if value > threshold else "black")
    figure.tight_layout()
    figure.savefig(path)


def write_report(report: EvalReport, folder: Path | str) -> list[Path]:
    """Write <name>.md, <name>.json and <name>-confusion.png into `folder`; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    markdown, data, image = (folder / f"{report.name}.md", folder / f"{report.name}.json",
                             folder / f"{report.name}-confusion.png")
    markdown.write_text(format_markdown(report), encoding="utf-8")
    data.write_text(json.dumps(asdict(report), indent=2, ensure_ascii=False), encoding="utf-8")
    plot_confusion(report, image)
    return [markdown, data, image]
