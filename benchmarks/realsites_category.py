"""Score the shipped category model on real sites it has never seen (`../shared/real-sites/`).

Run: `.venv/bin/python benchmarks/realsites_category.py [--data ../shared/real-sites]`. The model is trained
on this repository's data only (`classifiers/`); the real sites' ground truth (`gt/*.jsonl`, every
countable item: title, body, URL path, category) is read at run time and never stored here. Two
figures, as `realsites.py run` measures them after a crawl:

- declared: each site declares its own category (`sites.json`), the model combines it with the text;
- mixed: every site declares `mixed`, the classifier reads the text alone.

Prints accuracy, macro-F1 and per-class recall for both, one line per site, and how many items
overrode their declared category. Exits 0 with a message when the data folder is absent.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, recall_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.classify.model import load_seed, predict_log_proba, train_model  # noqa: E402
from pipeline.models import CATEGORIES  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "real-sites"


def load_sites(data: Path) -> list[dict]:
    """Every countable ground-truth item, with its site's id, port and declared category."""
    sites = json.loads((data / "sites.json").read_text(encoding="utf-8"))["sites"]
    rows = []
    for site in sites:
        for line in (data / "gt" / f"{site['id']}.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.get("subcategory") != "page" and record.get("category") in CATEGORIES:
                rows.append({"site": site["id"], "declared": site["category"], "label": record["category"],
                             "url": f"http://127.0.0.1:{site['port']}{record['url_path']}",
                             "title": record.get("title") or "", "text": record.get("body_text") or ""})
    return rows


def scores(rows: list[dict], predicted: np.ndarray) -> str:
    truth = np.array([CATEGORIES.index(r["label"]) for r in rows])
    present = sorted(set(truth))
    recalls = recall_score(truth, predicted, labels=list(range(len(CATEGORIES))), average=None, zero_division=0)
    recall_text = " ".join(f"{c} {recalls[k]:.2f}" for k, c in enumerate(CATEGORIES) if k in present)
    return (f"accuracy {np.mean(truth == predicted):.3f}  "
            f"macro-F1 {f1_score(truth, predicted, labels=present, average='macro', zero_division=0):.3f}  "
            f"recall {recall_text}")


def report(name: str, rows: list[dict], logp: np.ndarray) -> None:
    predicted = logp.argmax(axis=1)
    print(f"\n{name}: {len(rows)} items, {scores(rows, predicted)}")
    for site in sorted({r["site"] for r in rows}):
        index = [n for n, r in enumerate(rows) if r["site"] == site]
        wrong = Counter(f"{rows[n]['label']}->{CATEGORIES[predicted[n]]}" for n in index
                        if CATEGORIES[predicted[n]] != rows[n]["label"])
        right = sum(CATEGORIES[predicted[n]] == rows[n]["label"] for n in index)
        print(f"  {site:<16} {rows[index[0]]['declared']:<9} {right:>3}/{len(index):<3} "
              + " ".join(f"{k}:{v}" for k, v in sorted(wrong.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    if not (args.data / "sites.json").exists():
        print(f"skipped: no real sites at {args.data} (see benchmarks/realsites.py)")
        return
    rows = load_sites(args.data)
    model = train_model(load_seed())
    docs = [(r["url"], r["title"], r["text"]) for r in rows]
    declared = predict_log_proba(model, docs, [r["declared"] for r in rows])
    report("declared categories", rows, declared)
    overrides = sum(CATEGORIES[k] != r["declared"] for k, r in zip(declared.argmax(axis=1), rows))
    print(f"  overrides of the declared category: {overrides}")
    report("every source mixed", rows, predict_log_proba(model, docs, ["mixed"] * len(rows)))


if __name__ == "__main__":
    main()
