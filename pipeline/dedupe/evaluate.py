"""Measure deduplication on labelled pairs: precision and recall of "same story".

The labelled set lives in tests/dedupe/fixtures/: stories.yaml (versions of one story: reposts,
edited titles, rewritten intros, feed summaries, relays, typo fixes) and templates.yaml (families
of templated announcements: instances are different items; relays of one instance are the same).
`load_pairs` turns them into `LabelledPair`s: every two versions of one story or instance are the
same story; two versions of different stories, or of different instances, are not.

`evaluate_pairs` decides each pair as the nightly step would for these two items alone
(candidates through shared band keys, then verification); `evaluate_clusters` runs a full
re-clustering of all the items and reads pairs off the clusters (transitivity included).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from itertools import combinations
from pathlib import Path
from typing import Any, Sequence

import yaml

from pipeline.dedupe.cluster import DEFAULT_WINDOW_DAYS, cluster_items, fingerprint_items
from pipeline.dedupe.verify import profile_item, verify_pair
from pipeline.models import Item
from pipeline.normalize import clean_url, content_hash, item_id

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?»])\s+(?=[A-ZÀ-ÖØ-Þ«])")


@dataclass(frozen=True)
class LabelledPair:
    a: Item
    b: Item
    same: bool
    kind: str  # what relates them: "title_edit", "summary", ... or "template:<family>", "different"


@dataclass(frozen=True)
class PairReport:
    precision: float
    recall: float
    true_pos: int
    false_pos: int
    false_neg: int
    negatives: int
    errors: tuple[tuple[str, LabelledPair], ...] = field(default=())  # ("false merge"|"missed", pair)
    by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (right, total)


def load_pairs(folder: Path) -> list[LabelledPair]:
    """All labelled pairs of the fixture folder (stories.yaml and templates.yaml)."""
    groups: list[tuple[str, list[tuple[str, Item]]]] = []  # (family or "", versions of one story)
    stories = yaml.safe_load((folder / "stories.yaml").read_text(encoding="utf-8"))["stories"]
    for story in stories:
        groups.append(("", [(v.get("kind", "version"), build_item(story["title"], story["text"], v)) for v in story["versions"]]))
    families = yaml.safe_load((folder / "templates.yaml").read_text(encoding="utf-8"))["families"]
    for family in families:
        for instance in family["instances"]:
            title = family["title"].format_map(instance["slots"])
            text = family["text"].format_map(instance["slots"])
            groups.append((family["id"], [("template_relay", build_item(title, text, v)) for v in instance["versions"]]))
    return _pairs_of(groups)


def _pairs_of(groups: list[tuple[str, list[tuple[str, Item]]]]) -> list[LabelledPair]:
    pairs = []
    for _family, versions in groups:
        for (_, a), (kind, b) in combinations(versions, 2):
            pairs.append(LabelledPair(a, b, True, kind))
    for (fam_a, left), (fam_b, right) in combinations(groups, 2):
        kind = f"template:{fam_a}" if fam_a and fam_a == fam_b else "different"
        pairs.extend(LabelledPair(a, b, False, kind) for _, a in left for _, b in right)
    return pairs


def build_item(title: str, text: str, version: dict[str, Any]) -> Item:
    """One version of a story: the story's title and text with the version's edits applied."""
    title = version.get("title", title)
    text = " ".join(version.get("text", text).split())
    if version.get("drop_sentences"):
        text = " ".join(_SENTENCE_SPLIT.split(text)[version["drop_sentences"] :])
    if version.get("prefix"):
        text = f"{version['prefix']} {text}"
    for old, new in version.get("replace", []):
        if old not in text:
            raise ValueError(f"fixture edit {old!r} not found in {title!r}")
        text = text.replace(old, new)
    if version.get("truncate_words"):
        text = " ".join(text.split()[: version["truncate_words"]])
    text += version.get("suffix", "")
    summary = ""
    if version.get("summary_only"):
        summary, text = text, ""
    published = version["date"]
    if isinstance(published, date) and not isinstance(published, datetime):
        published = datetime.combine(published, time(9, 0), tzinfo=timezone.utc)
    url = version["url"]
    return Item(
        item_id=item_id(url), source_id=version["source"], url=clean_url(url), title=title,
        published_at=published, text=text, summary=summary, lang="fr", guid=version.get("guid"),
        content_hash=content_hash(title, text),
    )


def predict_pairs(pairs: Sequence[LabelledPair], window_days: float = DEFAULT_WINDOW_DAYS) -> list[bool]:
    """For each pair: would the two items, alone, be put in one cluster?"""
    items: dict[int, Item] = {}
    for pair in pairs:
        items.setdefault(id(pair.a), pair.a)
        items.setdefault(id(pair.b), pair.b)
    keys = dict(zip(items, (set(fp.band_keys) for fp in fingerprint_items(list(items.values())))))
    profiles = {k: profile_item(item) for k, item in items.items()}
    return [
        bool(keys[id(p.a)] & keys[id(p.b)]) and verify_pair(profiles[id(p.a)], profiles[id(p.b)], window_days).same
        for p in pairs
    ]


def evaluate_pairs(pairs: Sequence[LabelledPair], window_days: float = DEFAULT_WINDOW_DAYS) -> tuple[float, float]:
    """(precision, recall) of "same story" over the labelled pairs."""
    report = report_pairs(pairs, predict_pairs(pairs, window_days))
    return report.precision, report.recall


def evaluate_clusters(pairs: Sequence[LabelledPair], window_days: float = DEFAULT_WINDOW_DAYS) -> PairReport:
    """Cluster all the items of the pairs at once and score the pairs from the clusters."""
    items: dict[int, Item] = {}
    for pair in pairs:
        items.setdefault(id(pair.a), pair.a)
        items.setdefault(id(pair.b), pair.b)
    assignments = cluster_items(list(items.values()), window_days=window_days)
    cluster_of = {k: a.cluster_id for k, a in zip(items, assignments)}
    return report_pairs(pairs, [cluster_of[id(p.a)] == cluster_of[id(p.b)] for p in pairs])


def report_pairs(pairs: Sequence[LabelledPair], predicted: Sequence[bool]) -> PairReport:
    tp = fp = fn = 0
    errors: list[tuple[str, LabelledPair]] = []
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for pair, guess in zip(pairs, predicted):
        kind = pair.kind.split(":")[0] if not pair.same else pair.kind
        total[kind] += 1
        right[kind] += guess == pair.same
        if guess and pair.same:
            tp += 1
        elif guess:
            fp += 1
            errors.append(("false merge", pair))
        elif pair.same:
            fn += 1
            errors.append(("missed", pair))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return PairReport(precision, recall, tp, fp, fn, sum(1 for p in pairs if not p.same), tuple(errors),
                      {k: (right[k], total[k]) for k in sorted(total)})
