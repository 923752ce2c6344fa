"""Deduplication quality on the labelled pairs of tests/dedupe/fixtures: precision and recall.

Prints the figures per kind of pair and every error with the verifier's reasons; asserts nothing.
Usage: python benchmarks/dedupe_quality.py
"""

from __future__ import annotations

from pathlib import Path

from pipeline.dedupe.evaluate import evaluate_clusters, load_pairs, predict_pairs, report_pairs
from pipeline.dedupe.verify import profile_item, verify_pair

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "dedupe" / "fixtures"


def main() -> None:
    pairs = load_pairs(FIXTURES)
    pairwise = report_pairs(pairs, predict_pairs(pairs))
    clustered = evaluate_clusters(pairs)
    print(f"labelled pairs: {len(pairs):,} ({pairwise.true_pos + pairwise.false_neg} same story, "
          f"{pairwise.negatives:,} different, of which "
          f"{sum(1 for p in pairs if p.kind.startswith('template:'))} templated look-alikes)")
    for name, report in (("pairwise (two items alone)", pairwise), ("full re-clustering", clustered)):
        print(f"{name}: precision {report.precision:.3f} (target 0.98), recall {report.recall:.3f} (target 0.90); "
              f"false merges {report.false_pos}, missed {report.false_neg}")
    print("per kind (right/total):", ", ".join(f"{k} {r}/{t}" for k, (r, t) in pairwise.by_kind.items()))
    for what, pair in pairwise.errors:
        verdict = verify_pair(profile_item(pair.a), profile_item(pair.b))
        print(f"  {what} [{pair.kind}] {pair.a.title!r} / {pair.b.title!r}: "
              f"similarity {verdict.similarity:.2f}, {'; '.join(verdict.reasons)}")


if __name__ == "__main__":
    main()
