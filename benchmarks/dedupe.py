"""Deduplication benchmark: the nightly step and a full re-clustering. Prints figures; asserts nothing.

1. Nightly: 2,000 new items against a stored window of 1,000,000 items (targets: < 10 s, < 2 GB).
   The stored window already has its band keys (they were computed when each item arrived), so
   building them is setup, not timed. Generating 1M texts and fingerprinting them would only slow
   the setup down, so the window is made of
     - 20,000 items with real synthetic texts, fingerprinted for real (the stories the new items
       repost, and templated announcements the new items resemble), and
     - 980,000 items whose band keys are drawn at random (as many keys per item as a real one):
       they cost the lookup exactly what real keys cost and match nothing, like unrelated items.
   `load_items` serves the real items from memory (the store would read them from DuckDB).
   Timed: Window.from_arrays on one row per (item, band key) as store.load_window returns them,
   then assign_clusters (fingerprints of the new items, candidate lookup, loading, verification).
2. Full re-clustering of 100,000 items with synthetic texts (target: < 60 s), fingerprints included.

Usage: python benchmarks/dedupe.py [WINDOW_ITEMS] [NEW_ITEMS] [RECLUSTER_ITEMS]
"""

from __future__ import annotations

import os
import random
import resource
import sys
import time
import tracemalloc
from datetime import datetime, timedelta, timezone

import numpy as np

from pipeline.dedupe import cluster as dedupe
from pipeline.models import Item
from pipeline.normalize import content_hash, item_id

SYLLABLES = ("ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo fu ga ge gi go la le li lo lu ma me mi mo "
             "mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo vu "
             "tion ment eur ique ance ette ier oir").split()
STOP = "le la les de des du et un une pour dans sur avec au aux qui que est sont par en à".split()
FIRST = "Marie Paul Chloé Mehdi Julie Hugo Nadia Lucas Emma Karim Léa Thomas Inès Bruno Sarah".split()
LAST = "Dupont Martin Bernard Saïdi Fabre Perrin Benali Ferreira Morel Haddad Roche Lebrun Klein".split()
MONTHS = "janvier février mars avril mai juin juillet septembre octobre novembre décembre".split()
NOW = datetime(2025, 3, 1, tzinfo=timezone.utc)


def make_vocabulary(rng: random.Random, size: int = 30_000) -> list[str]:
    words = {"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(size * 2)}
    return sorted(words)[:size]


class Writer:
    """Random French-looking texts: Zipf-distributed words, stop words, names and dates."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.words = make_vocabulary(self.rng)
        weights = 1.0 / np.arange(1, len(self.words) + 1) ** 0.9
        self.cum = np.cumsum(weights / weights.sum())
        self.np_rng = np.random.default_rng(seed)

    def sentence(self, n: int) -> str:
        picks = np.searchsorted(self.cum, self.np_rng.random(n))
        out = []
        for k, index in enumerate(picks):
            out.append(self.rng.choice(STOP) if k % 3 == 1 else self.words[index])
        return " ".join(out).capitalize() + "."

    def text(self, words: int = 150) -> str:
        parts, total = [], 0
        while total < words:
            n = self.rng.randint(12, 25)
            parts.append(self.sentence(n))
            total += n
        return " ".join(parts)

    def slots(self) -> str:
        name = f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"
        return f"{name}, le {self.rng.randint(1, 28)} {self.rng.choice(MONTHS)} à {self.rng.randint(9, 18)}h"


def make_item(url: str, source: str, title: str, text: str, when: datetime, summary: str = "") -> Item:
    return Item(item_id(url), source, url, title, when, text, summary=summary, lang="fr",
                content_hash=content_hash(title, text))


def repost(writer: Writer, original: Item, k: int) -> Item:
    """A relay of `original`: new title, a new intro, truncated or not, another source."""
    rng = writer.rng
    words = original.text.split()
    mode = k % 3
    if mode == 0:
        text = writer.sentence(15) + " " + original.text
    elif mode == 1:
        text = " ".join(words[: rng.randint(40, 80)]) + " […]"
    else:
        text = original.text.replace(words[10], words[10] + "s", 1)
    title = writer.sentence(9).rstrip(".") if mode != 2 else original.title
    when = original.published_at + timedelta(days=rng.randint(0, 10))
    return make_item(f"https://relais{k % 40}.example.fr/actu/{k}", f"relay-{k % 40}", title, text, when)


def templated(writer: Writer, template: tuple[str, str], k: int, when: datetime, source: str) -> Item:
    title, text = template
    slot = writer.slots()
    return make_item(f"https://{source}.example.fr/agenda/{k}", source, f"{title} : {slot}",
                     f"{text} Intervenant : {slot}. {writer.sentence(20)}", when)


def real_window_items(writer: Writer, n: int) -> tuple[list[Item], list[tuple[str, str]]]:
    templates = [(writer.sentence(5).rstrip("."), writer.text(90)) for _ in range(50)]
    items = []
    for k in range(n):
        when = NOW - timedelta(hours=writer.rng.randint(1, 59 * 24))
        if k % 10 == 0:
            items.append(templated(writer, templates[k % 50], k, when, f"lab{k % 50}"))
        else:
            items.append(make_item(f"https://lab{k % 300}.example.fr/actualites/{k}", f"lab-{k % 300}",
                                   writer.sentence(10).rstrip("."), writer.text(writer.rng.randint(100, 220)), when))
    return items, templates


def window_rows(real: list[Item], n_random: int, keys_per_item: int, seed: int):
    """One row per (item, band key), ORDER BY item_id as the store returns them: the real items
    (hexadecimal ids) first, then the random ones (ids "r...", which sort after them). Filled in
    place, chunk by chunk, so that the setup's own peak memory stays below the step's."""
    fingerprints = sorted(dedupe.fingerprint_items(real), key=lambda fp: fp.item_id)
    dates_of = {i.item_id: i.published_at.timestamp() for i in real}
    real_keys = [k for fp in fingerprints for k in fp.band_keys]
    n_real_rows = len(real_keys)
    total = n_real_rows + n_random * keys_per_item
    item_ids = np.empty(total, dtype=object)
    cluster_ids = np.empty(total, dtype=object)
    keys = np.empty(total, dtype=np.int64)
    ts = np.empty(total, dtype=np.float64)
    item_ids[:n_real_rows] = [fp.item_id for fp in fingerprints for _ in fp.band_keys]
    cluster_ids[:n_real_rows] = [str(fp.item_id) for fp in fingerprints for _ in fp.band_keys]
    keys[:n_real_rows] = real_keys
    ts[:n_real_rows] = [dates_of[fp.item_id] for fp in fingerprints for _ in fp.band_keys]
    rng = np.random.default_rng(seed)
    chunk = 100_000
    for first in range(0, n_random, chunk):
        count = min(chunk, n_random - first)
        ids = np.array([f"r{k:015d}" for k in range(first, first + count)], dtype=object)
        clusters = np.array([f"c{k:015d}" for k in range(first, first + count)], dtype=object)
        lo = n_real_rows + first * keys_per_item
        hi = lo + count * keys_per_item
        item_ids[lo:hi] = np.repeat(ids, keys_per_item)
        cluster_ids[lo:hi] = np.repeat(clusters, keys_per_item)
        keys[lo:hi] = rng.integers(-(2**63), 2**63 - 1, size=hi - lo, dtype=np.int64)
        ts[lo:hi] = np.repeat(NOW.timestamp() - rng.uniform(0, 59 * 86400, size=count), keys_per_item)
    return {"item_id": item_ids, "cluster_id": cluster_ids, "band_key": keys, "ts": ts}


def new_batch(writer: Writer, real: list[Item], templates, n: int) -> list[Item]:
    items = []
    for k in range(n):
        when = NOW - timedelta(hours=writer.rng.randint(0, 24))
        if k % 10 < 4:
            items.append(repost(writer, real[writer.rng.randrange(len(real))], k))
        elif k % 10 == 4:
            items.append(templated(writer, templates[k % 50], 10_000_000 + k, when, f"lab{k % 50}"))
        else:
            items.append(make_item(f"https://new{k % 100}.example.fr/n/{k}", f"new-{k % 100}",
                                   writer.sentence(10).rstrip("."), writer.text(writer.rng.randint(100, 220)), when))
    return items


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def nightly(n_window: int, n_new: int) -> None:
    writer = Writer(7)
    t0 = time.perf_counter()
    n_real = min(20_000, n_window)
    real, templates = real_window_items(writer, n_real)
    by_id = {i.item_id: i for i in real}
    keys_per_item = round(np.mean([len(fp.band_keys) for fp in dedupe.fingerprint_items(real[:500])]))
    rows = window_rows(real, n_window - n_real, keys_per_item, seed=11)
    new_items = new_batch(writer, real, templates, n_new)
    input_mb = sum(a.nbytes for a in rows.values()) / 2**20
    print(f"setup: {n_window:,} window items, {len(rows['band_key']):,} band-key rows "
          f"({input_mb:,.0f} MB of arrays as the store hands them over, strings not counted), "
          f"{n_new:,} new items ({time.perf_counter() - t0:.1f} s, not timed)")
    loaded: list[int] = []

    def load_items(ids: list[str]) -> list[Item]:
        loaded.append(len(ids))
        return [by_id[i] for i in ids if i in by_id]

    def step():
        window = dedupe.Window.from_arrays(**rows, load_items=load_items)
        return window, dedupe.assign_clusters(new_items, window)

    rss_before = peak_rss_mb()
    t0 = time.perf_counter()
    window = dedupe.Window.from_arrays(**rows, load_items=load_items)
    t_load = time.perf_counter() - t0
    assignments = dedupe.assign_clusters(new_items, window)
    t_total = time.perf_counter() - t0
    tracemalloc.start()
    step()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    matches = {m: sum(1 for a in assignments if a.match == m) for m in ("new", "exact", "near")}
    expected_reposts = sum(1 for k in range(n_new) if k % 10 < 4)
    print(f"nightly: {t_total:.2f} s (window from arrays {t_load:.2f} s, assign {t_total - t_load:.2f} s); "
          f"target 10 s -> {t_total / 10:.2f} of target")
    print(f"  candidates loaded: {loaded[0] if loaded else 0:,}; matches {matches} "
          f"(the batch holds {expected_reposts} reposts of window items)")
    print(f"  peak memory: process {peak_rss_mb():,.0f} MB (setup included; before the step {rss_before:,.0f} MB), "
          f"step alone (tracemalloc) {traced_peak / 2**20:,.0f} MB; target 2048 MB -> "
          f"{peak_rss_mb() / 2048:.2f} of target")


def recluster(n: int) -> None:
    writer = Writer(23)
    t0 = time.perf_counter()
    real, templates = real_window_items(writer, int(n * 0.8))
    items = real + new_batch(writer, real, templates, n - len(real))
    print(f"setup: {len(items):,} items with texts ({time.perf_counter() - t0:.1f} s, not timed)")
    t0 = time.perf_counter()
    assignments = dedupe.cluster_items(items)
    elapsed = time.perf_counter() - t0
    clusters = len({a.cluster_id for a in assignments})
    print(f"re-clustering: {elapsed:.2f} s for {n:,} items -> {clusters:,} clusters; target 60 s -> "
          f"{elapsed / 60:.2f} of target; peak process memory {peak_rss_mb():,.0f} MB")


def main() -> None:
    args = [int(a) for a in sys.argv[1:]]
    n_window, n_new, n_recluster = (args + [1_000_000, 2_000, 100_000][len(args):])[:3]
    print(f"cores: {os.cpu_count()}, numpy {np.__version__}")
    nightly(n_window, n_new)
    recluster(n_recluster)


if __name__ == "__main__":
    main()
