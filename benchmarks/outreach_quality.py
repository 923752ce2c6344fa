"""Quality of the outreach detector on three sets: grouped-by-source CV, the held-out file, the demo sites.

The demo sites (pipeline/demo/sites, labels in expected.json: `outreach` non-null = an outreach
action) were written independently of the training data and are never used for training: they are
served on 127.0.0.1, crawled with the real crawler, and each item is matched to expected.json by URL
path. Prints precision/recall of each set (at the model's threshold), the threshold grouped CV would
choose now, and the titles the model gets wrong.

    .venv/bin/python benchmarks/outreach_quality.py
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import load_config  # noqa: E402
from pipeline.crawl.source import crawl_source  # noqa: E402
from pipeline.demo.run import SITES, write_sources  # noqa: E402
from pipeline.demo.server import serve_sites  # noqa: E402
from pipeline.crawl.fetch import Fetcher  # noqa: E402
from pipeline.models import Item, SourceState  # noqa: E402
from pipeline.digest.pages import non_story_pages  # noqa: E402
from pipeline.outreach.detect import is_outreach_action  # noqa: E402
from pipeline.outreach.model import (  # noqa: E402
    HELDOUT_FILE, TARGET_PRECISION, OutreachModel, choose_threshold, evaluate_grouped, evaluate_model, load_examples, score_items, train_outreach_model,
)


def crawl_demo_items() -> list[Item]:
    """Every item of the demo sites, crawled as the nightly flow would on its first run."""
    items: list[Item] = []
    now = datetime.now(timezone.utc)
    with serve_sites(SITES) as sites, tempfile.TemporaryDirectory() as tmp:
        config = load_config(write_sources(sites, Path(tmp) / "sources.yaml"))
        with Fetcher(config.crawl, retry_backoff_s=0.0) as fetcher:
            for source in config.sources:
                result = crawl_source(source, fetcher, SourceState(), now)
                items.extend(result.items)
    return items


def read_demo_labels() -> dict[str, bool]:
    """URL path -> is the item an outreach action, from expected.json."""
    expected = json.loads((SITES / "expected.json").read_text(encoding="utf-8"))
    return {row["path"]: row["outreach"] is not None for row in expected["items"]}


def evaluate_demo(model: OutreachModel) -> None:
    labels = read_demo_labels()
    crawled = crawl_demo_items()
    items = [i for i in crawled if urlsplit(i.url).path in labels]
    scores = score_items(model, items)
    evaluate_demo_proposals(crawled, items, scores, labels, model)
    truth = [labels[urlsplit(i.url).path] for i in items]
    predicted = [s >= model.threshold for s in scores]
    tp = sum(p and t for p, t in zip(predicted, truth))
    fp = sum(p and not t for p, t in zip(predicted, truth))
    fn = sum(t and not p for p, t in zip(predicted, truth))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    print(f"demo sites       : precision={precision:.3f} recall={recall:.3f} "
          f"n={len(items)}/{len(labels)} positives={sum(truth)} fp={fp} fn={fn}")
    sweep = []
    for threshold in (0.4, 0.5, 0.55, 0.6, 0.7):  # for information only: never used to choose the threshold
        kept = [t for s, t in zip(scores, truth) if s >= threshold]
        sweep.append(f"{threshold:.2f}: P={sum(kept) / len(kept) if kept else 0.0:.3f} R={sum(kept) / sum(truth):.3f}")
    print("  demo at other thresholds (information, not for tuning): " + " | ".join(sweep))
    for item, score, p, t in sorted(zip(items, scores, predicted, truth), key=lambda r: -r[1]):
        if p != t:
            print(f"  {'FP' if p else 'FN'} {score:.2f} {item.title}")


def evaluate_demo_proposals(crawled: list[Item], items: list[Item], scores: list[float], labels: dict[str, bool],
                            model: OutreachModel) -> None:
    """What becomes a proposal: the detector checked by `is_outreach_action`, listings excluded."""
    no_story = non_story_pages(crawled)
    proposed = [i.item_id not in no_story and is_outreach_action(i, s, model.threshold) for i, s in zip(items, scores)]
    truth = [labels[urlsplit(i.url).path] for i in items]
    tp = sum(p and t for p, t in zip(proposed, truth))
    print(f"demo proposals   : precision={tp / max(sum(proposed), 1):.3f} recall={tp / max(sum(truth), 1):.3f} "
          f"(detector checked by is_outreach_action, pages that are no story excluded)")


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    examples = load_examples()
    held_out = load_examples(HELDOUT_FILE)
    started = time.perf_counter()
    model = train_outreach_model(examples)
    trained_s = time.perf_counter() - started
    print(f"training: {len(examples)} items, {trained_s:.2f} s, threshold={model.threshold:.2f}, {model.version}")
    grouped = evaluate_grouped(examples, n_splits=5)
    print(f"grouped CV       : precision={grouped.precision:.3f} recall={grouped.recall:.3f} "
          f"n={grouped.n} positives={grouped.positives}")
    for title in grouped.false_positives:
        print(f"  FP {title}")
    for title in grouped.false_negatives:
        print(f"  FN {title}")
    threshold, best = choose_threshold(examples)
    print(f"threshold chosen by grouped CV for precision >= {TARGET_PRECISION}: {threshold:.2f} "
          f"(precision={best.precision:.3f} recall={best.recall:.3f}; in use: {model.threshold:.2f})")
    kept = evaluate_model(model, held_out)
    print(f"held-out         : precision={kept.precision:.3f} recall={kept.recall:.3f} "
          f"n={kept.n} positives={kept.positives}")
    for title in kept.false_positives:
        print(f"  FP {title}")
    for title in kept.false_negatives:
        print(f"  FN {title}")
    evaluate_demo(model)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
