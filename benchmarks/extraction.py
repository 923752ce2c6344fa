"""Main-text extraction quality on ../shared/extraction-benchmark: token precision, recall and F1.

Usage: python benchmarks/extraction.py [--all]
Without --all only pipeline.crawl.extract.extract_main_text (what the crawler uses) is measured; with --all
the trafilatura settings we compared are measured too. Tokens are whitespace-separated words,
lower-cased, punctuation stripped; P/R/F1 are computed per page on token multisets and averaged.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Callable

import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.crawl.extract import extract_main_text  # noqa: E402

BENCHMARK = ROOT.parent / "shared" / "extraction-benchmark"
_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> Counter[str]:
    return Counter(_TOKEN.findall((text or "").lower()))


def score_page(predicted: str, expected: str) -> tuple[float, float, float]:
    """Token precision, recall, F1 of one page (1.0 when both are empty)."""
    got, want = tokens(predicted), tokens(expected)
    common = sum((got & want).values())
    if not got and not want:
        return 1.0, 1.0, 1.0
    precision = common / sum(got.values()) if got else 0.0
    recall = common / sum(want.values()) if want else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def load_pages() -> list[tuple[str, str]]:
    truth = json.loads((BENCHMARK / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key, record in sorted(truth.items()):
        html = gzip.decompress((BENCHMARK / "html" / f"{key}.html.gz").read_bytes()).decode("utf-8", "replace")
        pages.append((html, record["articleBody"]))
    return pages


def measure(name: str, extract: Callable[[str], str], pages: list[tuple[str, str]]) -> dict[str, float]:
    started = time.perf_counter()
    scores = [score_page(extract(html), expected) for html, expected in pages]
    elapsed = time.perf_counter() - started
    n = len(scores)
    figures = {
        "precision": sum(s[0] for s in scores) / n,
        "recall": sum(s[1] for s in scores) / n,
        "f1": sum(s[2] for s in scores) / n,
        "ms_per_page": 1000 * elapsed / n,
    }
    print(f"{name:<42} P={figures['precision']:.3f} R={figures['recall']:.3f} "
          f"F1={figures['f1']:.3f}  {figures['ms_per_page']:.0f} ms/page  ({n} pages)")
    return figures


VARIANTS: dict[str, Callable[[str], str]] = {
    "trafilatura default": lambda h: trafilatura.extract(h) or "",
    "trafilatura tables, no dedupe": lambda h: trafilatura.extract(h, include_tables=True, deduplicate=False) or "",
    "trafilatura favor_precision": lambda h: trafilatura.extract(h, favor_precision=True) or "",
    "trafilatura favor_recall": lambda h: trafilatura.extract(h, favor_recall=True) or "",
    "trafilatura fast": lambda h: trafilatura.extract(h, fast=True) or "",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--all", action="store_true", help="also measure the trafilatura variants")
    args = parser.parse_args()
    if not BENCHMARK.exists():
        print(f"no benchmark at {BENCHMARK}: nothing measured")
        return 0
    pages = load_pages()
    measure("pipeline.crawl.extract.extract_main_text", extract_main_text, pages)
    if args.all:
        for name, extract in VARIANTS.items():
            measure(name, extract, pages)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
