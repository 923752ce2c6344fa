"""Benchmark the classifier: training time on 50,000 items, prediction throughput.

Run: `.venv/bin/python benchmarks/classify.py [--items 50000]`. Items are synthesised from the seed
set (resampled, words shuffled and dropped, so vocabularies grow as on a real crawl). Prints the
figures and their ratio to the targets (training < 60 s, prediction >= 5,000 items/s).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.classify.model import LabelledItem, load_seed, predict, train_model  # noqa: E402
from pipeline.models import Item  # noqa: E402

TRAIN_TARGET_S = 60.0
PREDICT_TARGET_PER_S = 5000.0


def perturb(text: str, rng: random.Random) -> str:
    """Shuffle words inside a window and drop a few, keeping the text's length and vocabulary."""
    words = text.split()
    for start in range(0, len(words), 6):
        window = words[start:start + 6]
        rng.shuffle(window)
        words[start:start + 6] = window
    return " ".join(w for w in words if rng.random() > 0.08)


def synthesise(seed: list[LabelledItem], count: int, rng: random.Random) -> list[LabelledItem]:
    examples = []
    for n in range(count):
        base = rng.choice(seed)
        examples.append(LabelledItem(f"bench-{n}", base.source_id, base.declared_category,
                                     f"{base.url}?v={n}", perturb(base.title, rng), perturb(base.text, rng),
                                     base.label))
    return examples


def as_items(examples: list[LabelledItem]) -> list[Item]:
    now = datetime.now(timezone.utc)
    return [Item(e.item_id, e.source_id, e.url, e.title, now, e.text) for e in examples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--predict-items", type=int, default=20_000)
    args = parser.parse_args()
    rng = random.Random(7)
    seed = load_seed(Path(__file__).resolve().parents[1] / "classifiers")
    train = synthesise(seed, args.items, rng)
    started, cpu_started = time.perf_counter(), time.process_time()
    model = train_model(train)
    train_s, train_cpu_s = time.perf_counter() - started, time.process_time() - cpu_started

    items = as_items(synthesise(seed, args.predict_items, rng))
    declared = {e.source_id: e.declared_category for e in seed}
    predict(model, items[:200], declared)  # warm-up
    started, cpu_started = time.perf_counter(), time.process_time()
    predictions = predict(model, items, declared)
    predict_s, predict_cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    per_s = len(predictions) / predict_s

    print(f"training: {len(train)} items in {train_s:.1f} s "
          f"(target < {TRAIN_TARGET_S:.0f} s, ratio {train_s / TRAIN_TARGET_S:.2f} of budget); CPU {train_cpu_s:.1f} s")
    print(f"prediction: {len(predictions)} items in {predict_s:.2f} s = {per_s:,.0f} items/s "
          f"(target >= {PREDICT_TARGET_PER_S:,.0f}/s, ratio {per_s / PREDICT_TARGET_PER_S:.2f}x); "
          f"CPU {len(predictions) / predict_cpu_s:,.0f} items/s (wall figures suffer when the machine is shared)")


if __name__ == "__main__":
    main()
