"""Learn the weights of the worthiness signals from graded examples (0-3).

The examples are the hand-written ones of classifiers/worthiness/examples.yaml (fictional, in the
styles real sites use) plus the grades the officer gave to digest entries. Each example becomes the
vector of its signals (pipeline.digest.rank: 1 when a cue fired, the share for substance and
coverage); a ridge regression learns how far each weight should move from its prior
(`rank.DEFAULT_WEIGHTS`) so that the score predicts the grade. A weight never changes sign: a
signal that reads as a reason for the officer stays a reason, a penalty stays a penalty. Fast (a
few milliseconds for a few hundred examples): the nightly run re-learns at each run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
import yaml
from sklearn.linear_model import Ridge

from pipeline.digest.rank import DEFAULT_WEIGHTS, LEARNED_SIGNALS, WorthinessWeights, score_parts_static
from pipeline.models import Item

logger = logging.getLogger(__name__)

EXAMPLES_FILE = Path(__file__).resolve().parents[2] / "classifiers" / "worthiness" / "examples.yaml"
RIDGE_ALPHA = 3.0  # how strongly the weights stay near their prior
OFFICER_WEIGHT = 3.0  # an officer's grade counts as this many hand-written examples


@dataclass(frozen=True)
class GradedExample:
    source: str
    grade: float  # 0-3
    title: str
    text: str
    sources: int = 1  # how many sources carried the story
    from_officer: bool = False


def load_graded(path: Path = EXAMPLES_FILE) -> list[GradedExample]:
    """Graded examples from a YAML list of {source, grade, title, text}."""
    rows = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    return [GradedExample(str(r["source"]), float(r["grade"]), str(r["title"]), str(r.get("text", "")),
                          int(r.get("sources", 1))) for r in rows]


def officer_example(item: Item, grade: int, sources: int = 1) -> GradedExample:
    return GradedExample(item.source_id, float(grade), item.title, item.text or item.summary, sources, True)


def signal_units(example: GradedExample, prior: WorthinessWeights = DEFAULT_WEIGHTS) -> np.ndarray:
    """How much of each learned signal fired (points divided by the prior weight)."""
    points = dict(_parts(example, prior))
    unit = []
    for name in LEARNED_SIGNALS:
        weight = _weight_of(prior, name)
        unit.append(points.get(name, 0.0) / weight if weight else 0.0)
    return np.array(unit)


def fit_weights(examples: Sequence[GradedExample], prior: WorthinessWeights = DEFAULT_WEIGHTS,
                alpha: float = RIDGE_ALPHA) -> WorthinessWeights:
    """The prior weights moved towards what the graded examples show."""
    if len(examples) < 5:
        return prior
    units = np.array([signal_units(e, prior) for e in examples])
    prior_scores = np.array([sum(p for _, p in _parts(e, prior)) for e in examples])
    residual = np.array([e.grade for e in examples]) - prior_scores
    sample_weight = np.array([OFFICER_WEIGHT if e.from_officer else 1.0 for e in examples])
    model = Ridge(alpha=alpha).fit(units, residual, sample_weight=sample_weight)
    changes = {"base": prior.base + float(model.intercept_)}
    for name, delta in zip(LEARNED_SIGNALS, model.coef_):
        old = _weight_of(prior, name)
        changes[_field_of(name)] = _same_sign(old, old + float(delta))
    return replace(prior, **{k: round(v, 4) for k, v in changes.items()})


def current_weights(officer: Sequence[GradedExample] = ()) -> WorthinessWeights:
    """Weights learned from the hand-written examples and the officer's grades."""
    return _learned(tuple(officer))


def weights_from_grades(graded: Sequence[tuple[Item, int, int]]) -> WorthinessWeights:
    """Weights learned from the hand-written examples and the officer's (item, grade, sources)."""
    return current_weights(tuple(officer_example(item, grade, sources) for item, grade, sources in graded))


@lru_cache(maxsize=4)
def _learned(officer: tuple[GradedExample, ...]) -> WorthinessWeights:
    weights = fit_weights(load_graded() + list(officer))
    logger.info("worthiness weights learned from %d officer grade(s): %s", len(officer), weights)
    return weights


def _parts(example: GradedExample, weights: WorthinessWeights) -> list[tuple[str, float]]:
    item = Item("x", example.source, "", example.title, None, example.text)
    names = tuple(f"source {i}" for i in range(max(example.sources, 1)))
    return [(name, points) for name, points, _ in score_parts_static(item, names, 1.0, weights)]


def _field_of(signal: str) -> str:
    return "per_extra_source" if signal == "coverage" else signal


def _weight_of(weights: WorthinessWeights, signal: str) -> float:
    return float(getattr(weights, _field_of(signal)))


def _same_sign(old: float, new: float) -> float:
    if old > 0:
        return max(new, 0.0)
    if old < 0:
        return min(new, 0.0)
    return new


