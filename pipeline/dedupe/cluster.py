"""Deduplication across sources and time: one story, one cluster.

Each item gets a `Fingerprint`: a few signed 64-bit keys, stored with the item (table item_bands):
- exact keys: canonical URL, feed GUID (see dedupe_verify.guid_key), normalised content hash,
  informative title (3+ content words);
- MinHash-LSH band keys over content-word bigrams of title + text (16 bands of 3 rows: pairs
  with Jaccard 0.5 become candidates 88% of the time, 0.7 almost always, 0.2 rarely);
- anchor keys: the first 10 content-word trigrams of the text that a hash samples (1 in 6),
  so that a feed summary, a truncated relay or a text with a new intro meets the full text
  (shingles sampled by their own hash are kept in both, whatever surrounds them: containment).
  A new item also looks up (without storing them) its later anchors, `probe_keys`: a newsletter or
  a listing meets every stored item whose opening it holds, not only its first one.

Nightly, `assign_clusters` compares only the new items with the stored `Window` (the items of the
last `window_days`, as numpy arrays) and with each other: keys shared with the new items are found
with one vectorised pass over the window, candidates are ranked by the number of shared keys, their
text is loaded through `Window.load_items`, and every candidate is verified (dedupe_verify) before
a new item joins its cluster. Complete linkage: a cluster holding a candidate that the verification
finds to be evidently another item (a slot, a date, one source's follow-up page) is not joined, so a
relay never chains an announcement to its follow-up. A new story's cluster id is its own item id. An item already in the
window (same id: an edited title or text, upserted by the store) keeps its cluster.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Callable, Literal, Sequence

import numpy as np

from pipeline.dedupe import minhash
from pipeline.dedupe.contain import holds
from pipeline.dedupe.verify import MIN_EXACT_TOKENS, Profile, Verdict, guid_key, profile_item, verify_pair
from pipeline.models import Item
from pipeline.normalize import canonical_url, content_hash

logger = logging.getLogger(__name__)

BODY_BANDS, BODY_ROWS = 16, 3
SHINGLE_WIDTH = 2
ANCHOR_WIDTH, ANCHOR_RATE, ANCHORS = 3, 6, 10
MAX_PROBES = 200  # later anchors of a new item, looked up only: a newsletter meets the items it holds
_BODY_PERMS = minhash.permutations(BODY_BANDS * BODY_ROWS, seed=20240601)
DEFAULT_WINDOW_DAYS = 60.0
MAX_CANDIDATES = 30  # verified per new item, best first (most shared keys, then nearest in time)
MAX_GROUP_NEIGHBOURS = 64  # among new items sharing a key, each looks this far back
_PREFILTER_BITS = 24
_CHUNK_ROWS = 1 << 22
GOOD_ENOUGH = 0.9  # a verified candidate this similar (both ways) ends the search

Match = Literal["new", "exact", "near"]


@dataclass(frozen=True)
class Fingerprint:
    """The keys under which an item is stored for candidate lookup (0 never appears)."""

    item_id: str
    band_keys: tuple[int, ...]
    probe_keys: tuple[int, ...] = ()  # looked up, never stored: the anchors past the first ANCHORS

    @property
    def lookup_keys(self) -> tuple[int, ...]:
        return self.band_keys + self.probe_keys


@dataclass(frozen=True)
class ClusterAssignment:
    item_id: str
    cluster_id: str
    duplicate_of: str | None  # the stored or new item it was matched with
    match: Match
    mentions: tuple[tuple[str, str], ...] = ()  # (container item id, item id): pages holding one another


@dataclass(frozen=True, eq=False)
class Window:
    """The stored items of the rolling window: one entry per item (ids, clusters, dates as epoch
    seconds, NaN when unknown) and one entry per band key (key, index of its item)."""

    item_ids: np.ndarray
    cluster_ids: np.ndarray
    dates: np.ndarray
    band_keys: np.ndarray
    band_items: np.ndarray
    load_items: Callable[[list[str]], list[Item]]
    containers: frozenset[str] = frozenset()  # stored items known to hold other items (newsletters, listings)

    @classmethod
    def from_arrays(cls, item_id, cluster_id, band_key, ts, load_items: Callable[[list[str]], list[Item]],
                    containers: Sequence[str] = ()) -> "Window":
        """From one row per (item, band key), as `store.load_window` returns them. Rows of one item
        should be contiguous (ORDER BY item_id); any order works, more slowly."""
        item_id = np.asarray(item_id, dtype=object)
        band_key = np.asarray(np.ma.filled(band_key, 0) if np.ma.isMaskedArray(band_key) else band_key, dtype=np.int64)
        ts = np.asarray(np.ma.filled(ts, np.nan) if np.ma.isMaskedArray(ts) else ts, dtype=np.float64)
        cluster_id = np.asarray(cluster_id, dtype=object)
        if len(item_id) == 0:
            return cls.empty(load_items)
        starts = np.flatnonzero(np.concatenate(([True], item_id[1:] != item_id[:-1])))
        if len(set(item_id[starts].tolist())) == len(starts):  # rows of each item are contiguous
            marks = np.zeros(len(item_id), dtype=np.int32)
            marks[starts] = 1
            band_items = np.cumsum(marks, dtype=np.int32)
            band_items -= 1
        else:
            band_items = _factorize(item_id)
            starts = np.unique(band_items, return_index=True)[1]
        keep = band_key != 0
        if not keep.all():
            band_key, band_items = band_key[keep], band_items[keep]
        return cls(item_id[starts], cluster_id[starts], ts[starts], band_key, band_items, load_items, frozenset(containers))

    @classmethod
    def from_fingerprints(cls, fingerprints: Sequence[Fingerprint], cluster_ids: Sequence[str],
                          dates: Sequence[float], load_items: Callable[[list[str]], list[Item]]) -> "Window":
        """From in-memory fingerprints (one cluster id and one epoch date per fingerprint)."""
        counts = np.array([len(fp.band_keys) for fp in fingerprints], dtype=np.int64)
        keys = np.fromiter((k for fp in fingerprints for k in fp.band_keys), dtype=np.int64, count=int(counts.sum()))
        return cls(np.array([fp.item_id for fp in fingerprints], dtype=object), np.array(list(cluster_ids), dtype=object),
                   np.asarray(dates, dtype=np.float64), keys, np.repeat(np.arange(len(fingerprints)), counts), load_items)

    @classmethod
    def empty(cls, load_items: Callable[[list[str]], list[Item]] | None = None) -> "Window":
        none = np.empty(0, dtype=object)
        return cls(none, none, np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64), load_items or (lambda ids: []))


def _factorize(values: np.ndarray) -> np.ndarray:
    """Code of each value, numbered in order of first appearance."""
    index: dict[str, int] = {}
    return np.fromiter((index.setdefault(v, len(index)) for v in values.tolist()), dtype=np.int64, count=len(values))


def fingerprint_item(item: Item) -> Fingerprint:
    return fingerprint_items([item])[0]


def fingerprint_items(items: Sequence[Item]) -> list[Fingerprint]:
    """Fingerprints of many items at once (MinHash vectorised over the whole batch)."""
    bodies, anchors, exact = [], [], []
    for item in items:
        title = minhash.content_tokens(minhash.match_tokens(item.title))
        text = minhash.content_tokens(minhash.match_tokens(item.text or item.summary))
        hashes = minhash.word_hashes(title + text)
        bodies.append(minhash.shingle_hashes(hashes, SHINGLE_WIDTH))
        anchors.append(minhash.anchor_keys(hashes[len(title):], ANCHOR_WIDTH, ANCHOR_RATE, ANCHORS + MAX_PROBES))
        exact.append(_exact_keys(item, title, len(title) + len(text)))
    body_keys = minhash.band_keys(minhash.minhash_signatures(bodies, _BODY_PERMS), BODY_ROWS, salt=1)
    out = []
    for k, item in enumerate(items):
        keys = list(exact[k]) + anchors[k][:ANCHORS].tolist()
        if len(bodies[k]):
            keys += body_keys[k].tolist()
        stored = tuple(dict.fromkeys(keys))
        probes = tuple(key for key in dict.fromkeys(anchors[k][ANCHORS:].tolist()) if key not in stored)
        out.append(Fingerprint(item.item_id, stored, probes))
    return out


def _exact_keys(item: Item, title_words: list[str], n_words: int) -> list[int]:
    keys = [minhash.signed_key("url:" + canonical_url(item.url))]
    guid = guid_key(item.source_id, item.guid)
    if guid:
        keys.append(minhash.signed_key("guid:" + guid))
    if n_words >= MIN_EXACT_TOKENS:
        keys.append(minhash.signed_key("content:" + (item.content_hash or content_hash(item.title, item.text))))
    if len(title_words) >= 3:
        keys.append(minhash.signed_key("title:" + " ".join(title_words)))
    return keys


def assign_clusters(new_items: Sequence[Item], window: Window, *, window_days: float = DEFAULT_WINDOW_DAYS,
                    max_candidates: int = MAX_CANDIDATES) -> list[ClusterAssignment]:
    """Cluster of each new item (same order as `new_items`), compared with the window and with the
    new items published before it."""
    if not new_items:
        return []
    fingerprints = fingerprint_items(new_items)
    dates = np.array([_epoch(i) for i in new_items], dtype=np.float64)
    order = sorted(range(len(new_items)), key=lambda k: (math.isinf(_sort_date(dates[k])), _sort_date(dates[k]), k))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    keys, owners = _flatten(fingerprints)
    from_window = _window_candidates(keys, owners, dates, window, window_days)
    from_batch = _batch_candidates(keys, rank[owners], dates[order], window_days)
    candidates = _rank_candidates(from_window, from_batch, order, max_candidates)
    stored = _load_candidates(window, {w for per_item in candidates.values() for kind, w, _ in per_item if kind == "w"})
    profiles: dict[int, Profile] = {}
    assigned: dict[int, ClusterAssignment] = {}
    for k in order:
        assigned[k] = _assign_one(k, new_items, candidates.get(k, []), window, stored, profiles, assigned, window_days)
    return [assigned[k] for k in range(len(new_items))]


def cluster_items(items: Sequence[Item], *, window_days: float = DEFAULT_WINDOW_DAYS) -> list[ClusterAssignment]:
    """Full re-clustering of `items` from scratch (earliest items found their clusters)."""
    return assign_clusters(items, Window.empty(), window_days=window_days)


def choose_representative(items: Sequence[Item]) -> Item:
    """The item shown for a cluster: among the complete versions (text at least 80% as long as the
    longest one, so a feed summary never wins over the full text), the original source's: the
    source of the earliest published version (undated last; smallest item id for a stable choice),
    and of that source's versions the latest, so that a typo fixed in a second post wins."""
    if not items:
        raise ValueError("choose_representative needs at least one item")
    lengths = [len((i.text or i.summary or "").split()) for i in items]
    longest = max(lengths)
    complete = [i for i, n in zip(items, lengths) if n >= 0.8 * longest]
    original = min(complete, key=lambda i: (i.published_at is None, _epoch(i) if i.published_at else 0.0, i.item_id))
    same_source = [i for i in complete if i.source_id == original.source_id and i.published_at is not None]
    if not same_source:
        return original
    return max(same_source, key=lambda i: (_epoch(i), i.item_id))


def _epoch(item: Item) -> float:
    return item.published_at.timestamp() if item.published_at is not None else math.nan


def _sort_date(value: float) -> float:
    return math.inf if math.isnan(value) else value


def _flatten(fingerprints: Sequence[Fingerprint]) -> tuple[np.ndarray, np.ndarray]:
    counts = np.array([len(fp.lookup_keys) for fp in fingerprints], dtype=np.int64)
    keys = np.fromiter((k for fp in fingerprints for k in fp.lookup_keys), dtype=np.int64, count=int(counts.sum()))
    return keys, np.repeat(np.arange(len(fingerprints)), counts)


def _close_in_time(left: np.ndarray, right: np.ndarray, window_days: float) -> np.ndarray:
    gap = np.abs(left - right)
    return ~(gap > window_days * 86400.0)  # NaN (unknown date) counts as close


def _window_candidates(keys, owners, dates, window: Window, window_days: float):
    """(new item, window item, shared keys) for every pair sharing at least one key."""
    empty = (np.empty(0, np.int64),) * 3
    if len(window.band_keys) == 0 or len(keys) == 0:
        return empty
    rows = _rows_sharing_keys(keys, window.band_keys)
    by_key = np.argsort(keys, kind="stable")
    sorted_keys = keys[by_key]
    row_keys = window.band_keys[rows]
    lo = np.searchsorted(sorted_keys, row_keys, "left")
    hi = np.searchsorted(sorted_keys, row_keys, "right")
    counts = hi - lo
    ramp = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    new_idx = owners[by_key][np.repeat(lo, counts) + ramp]
    win_idx = np.repeat(window.band_items[rows], counts)
    return _count_pairs(new_idx, win_idx, len(window.item_ids), dates[new_idx], window.dates[win_idx], window_days)


def _rows_sharing_keys(keys: np.ndarray, band_keys: np.ndarray) -> np.ndarray:
    """Indexes of the window rows whose key may be one of `keys`: a bit-table on the low bits of
    the keys (one random read per row, in chunks to bound memory); exact equality is checked later."""
    mask = np.int64((1 << _PREFILTER_BITS) - 1)
    table = np.zeros(1 << _PREFILTER_BITS, dtype=bool)
    table[keys & mask] = True
    found = []
    for start in range(0, len(band_keys), _CHUNK_ROWS):
        chunk = band_keys[start : start + _CHUNK_ROWS]
        found.append(np.flatnonzero(table[chunk & mask]) + start)
    return np.concatenate(found)


def _batch_candidates(keys, ranks, dates_by_rank, window_days: float):
    """(later new item rank, earlier new item rank, shared keys) among the new items."""
    order = np.lexsort((ranks, keys))
    keys, ranks = keys[order], ranks[order]
    later, earlier = [], []
    for gap in range(1, MAX_GROUP_NEIGHBOURS + 1):
        same = np.flatnonzero(keys[gap:] == keys[:-gap])
        if len(same) == 0:
            break
        later.append(ranks[same + gap])
        earlier.append(ranks[same])
    if not later:
        return (np.empty(0, np.int64),) * 3
    a, b = np.concatenate(later), np.concatenate(earlier)
    distinct = a != b
    a, b = a[distinct], b[distinct]
    return _count_pairs(a, b, len(dates_by_rank), dates_by_rank[a], dates_by_rank[b], window_days)


def _count_pairs(left, right, n_right: int, left_dates, right_dates, window_days: float):
    close = _close_in_time(left_dates, right_dates, window_days)
    codes, shared = np.unique(left[close] * n_right + right[close], return_counts=True)
    return codes // n_right, codes % n_right, shared


def _rank_candidates(from_window, from_batch, order: list[int], cap: int) -> dict[int, list[tuple[str, int, int]]]:
    """Per new item (input index): [("w", window index, shared) or ("n", input index, shared)], best first."""
    per_item: dict[int, list[tuple[str, int, int]]] = {}
    for new_idx, win_idx, shared in zip(*(a.tolist() for a in from_window)):
        per_item.setdefault(new_idx, []).append(("w", win_idx, shared))
    for later, earlier, shared in zip(*(a.tolist() for a in from_batch)):
        per_item.setdefault(order[later], []).append(("n", order[earlier], shared))
    for k, found in per_item.items():
        found.sort(key=lambda c: -c[2])
        per_item[k] = found[:cap]
    return per_item


def _load_candidates(window: Window, indexes: set[int]) -> dict[int, Item]:
    if not indexes:
        return {}
    wanted = sorted(indexes)
    loaded = {i.item_id: i for i in window.load_items([window.item_ids[w] for w in wanted])}
    missing = [w for w in wanted if window.item_ids[w] not in loaded]
    if missing:
        logger.warning("%d candidate item(s) of the window could not be loaded", len(missing))
    return {w: loaded[window.item_ids[w]] for w in wanted if window.item_ids[w] in loaded}


def _assign_one(k, new_items, candidates, window: Window, stored, profiles, assigned, window_days) -> ClusterAssignment:
    """Verify the candidates best first; join the best verified one whose cluster holds no item that
    this one contains or is contained in (a newsletter never joins the story it mentions) and no
    candidate that is evidently another item (complete linkage: a relay of an announcement never
    brings in the source's follow-up page)."""
    item = new_items[k]
    checked: list[tuple[Item, tuple, str, Verdict, int, bool]] = []
    settled: set[str] = set()  # clusters of a verified candidate similar enough to stop looking elsewhere
    for kind, index, shared in candidates:
        if kind == "w":
            other = stored.get(index)
            if other is None:
                continue
            key, cluster = ("w", index), str(window.cluster_ids[index])
            container = other.item_id in window.containers
        else:
            other, key, cluster = new_items[index], ("n", index), assigned[index].cluster_id
            container = any(page == other.item_id for page, _ in assigned[index].mentions)
        if settled and cluster not in settled:
            continue  # candidates come best first: only the members of the found cluster remain to check
        verdict = _verify(("n", k), item, key, other, profiles, window_days)
        checked.append((other, key, cluster, verdict, shared, container))
        if verdict.same and (verdict.match == "exact" or min(verdict.similarity, verdict.coverage) >= GOOD_ENOUGH):
            settled.add(cluster)
    mentions = _mentions(item, checked, profiles, ("n", k))
    linked = {m for pair in mentions for m in pair}
    forbidden = {cluster for other, _, cluster, verdict, _, _ in checked if other.item_id in linked or verdict.distinct}
    best: tuple[tuple, str, str, Match] | None = None
    for other, _, cluster, verdict, shared, _ in checked:
        score = (verdict.match == "exact", verdict.coverage, verdict.similarity, shared)
        if verdict.same and cluster not in forbidden and (best is None or score > best[0]):
            best = (score, cluster, other.item_id, verdict.match)
    if best is None:
        return ClusterAssignment(item.item_id, item.item_id, None, "new", mentions)
    return ClusterAssignment(item.item_id, best[1], best[2], best[3], mentions)


def _mentions(item: Item, checked, profiles: dict, key) -> tuple[tuple[str, str], ...]:
    """(container, item) links: those the verdicts found, and those of a page known to hold items
    among other things with every near duplicate it covers as little (its first article, say)."""
    if not checked:
        return ()
    found = [_mention(v.container, item.item_id, other.item_id) for other, _, _, v, _, _ in checked if v.container]
    page = profiles[key]
    item_holds = any(container == item.item_id for container, _ in found)
    for other, other_key, _, verdict, _, other_holds in checked:
        if not verdict.same or verdict.match != "near":
            continue
        other_page = profiles[other_key]
        if item_holds and holds(page, other_page, verdict.coverage):
            found.append((item.item_id, other.item_id))
        elif other_holds and holds(other_page, page, verdict.coverage):
            found.append((other.item_id, item.item_id))
    return tuple(dict.fromkeys(found))


def _mention(container: str, left: str, right: str) -> tuple[str, str]:
    return (container, right if container == left else left)


def _verify(key_a, item_a: Item, key_b, item_b: Item, profiles: dict, window_days: float) -> Verdict:
    for key, item in ((key_a, item_a), (key_b, item_b)):
        if key not in profiles:
            profiles[key] = profile_item(item)
    return verify_pair(profiles[key_a], profiles[key_b], window_days)
