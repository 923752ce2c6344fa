"""Word shingles, MinHash signatures and LSH band keys, vectorised with numpy.

Everything here is deterministic across processes and machines: band keys are stored in the
database and compared with keys computed on another night, so no use of Python's salted `hash()`.

- `match_tokens` folds a text into lower-case accent-free words (as `normalize.fold_for_matching`,
  plus ligatures) and `content_tokens` drops French and English stop words.
- `shingle_hashes` hashes runs of `width` consecutive tokens to unsigned 64-bit integers.
- `minhash_signatures` computes the signatures of many shingle sets at once (one matrix product-like
  pass per chunk, then `np.minimum.reduceat` per set).
- `band_keys` turns signatures into one signed 64-bit key per band; keys of different bands or
  different signals never collide by construction (the band number and a salt are mixed in).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Sequence

import numpy as np

from pipeline.normalize import fold_for_matching

STOP_WORDS = frozenset(
    """a au aux avec ce ces cet cette d dans de des du elle en et est il ils je l la le les leur leurs
    lui m ma mais me meme mes moi mon n ne nos notre nous on ou par pas pour qu que qui s sa se ses
    son sur t ta te tes toi ton tu un une vos votre vous y ete etre sont a ont aussi plus tres ainsi
    donc car comme ou si sous entre vers chez lors the of and to in for on with by at from is are an
    be this that it as or""".split()
)
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "Oe", "æ": "ae", "Æ": "Ae", "ß": "ss"})
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_MIX_A = np.uint64(0xBF58476D1CE4E5B9)
_MIX_B = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_WORD_CACHE: dict[str, int] = {}
_FOLD_CACHE: dict[str, tuple[str, ...]] = {}
_WORD = re.compile(r"\w+", re.UNICODE)
_WORD_CACHE_LIMIT = 2_000_000
_CHUNK_CELLS = 4_000_000  # permutations x shingles per vectorised pass (32 MB of uint64)


def match_tokens(text: str) -> list[str]:
    """Lower-case words without accents, ligatures unfolded ("cœur" -> "coeur"): the words of
    `normalize.fold_for_matching`, with each distinct word folded once (cached)."""
    if len(_FOLD_CACHE) > _WORD_CACHE_LIMIT:
        _FOLD_CACHE.clear()
    lowered = (text or "").lower()
    if lowered.isascii():
        return _WORD.findall(lowered)
    out: list[str] = []
    for word in _WORD.findall(lowered):
        if word.isascii():
            out.append(word)
        else:
            out.extend(fold_word(word))
    return out


def fold_word(word: str) -> tuple[str, ...]:
    """The folded word(s) of one lower-case word ("œuvre" -> ("oeuvre",)), cached."""
    folded = _FOLD_CACHE.get(word)
    if folded is None:
        folded = _FOLD_CACHE[word] = tuple(fold_for_matching(word.translate(_LIGATURES)).split())
    return folded


def content_tokens(tokens: Sequence[str]) -> list[str]:
    """The tokens that carry meaning: no stop words, no one-letter words (digits are kept)."""
    return [t for t in tokens if t not in STOP_WORDS and (len(t) > 1 or t.isdigit())]


def stable_hash64(text: str) -> int:
    """A 64-bit unsigned hash of `text` that never changes between runs."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def signed_key(text: str) -> int:
    """A non-zero signed 64-bit key (DuckDB BIGINT) for an exact-match value such as a URL."""
    value = stable_hash64(text)
    value = value - (1 << 64) if value >= (1 << 63) else value
    return value or 1


def word_hashes(tokens: Sequence[str]) -> np.ndarray:
    """uint64 hash of each token (cached per distinct word)."""
    cache = _WORD_CACHE
    if len(cache) > _WORD_CACHE_LIMIT:
        cache.clear()
    for token in tokens:
        if token not in cache:
            cache[token] = stable_hash64(token)
    return np.fromiter(map(cache.__getitem__, tokens), dtype=np.uint64, count=len(tokens))


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on a uint64 array (wrapping arithmetic)."""
    values = values ^ (values >> np.uint64(30))
    values = values * _MIX_A
    values = values ^ (values >> np.uint64(27))
    values = values * _MIX_B
    return values ^ (values >> np.uint64(31))


def shingle_hashes(hashes: np.ndarray, width: int) -> np.ndarray:
    """Sorted distinct uint64 hashes of every run of `width` consecutive token hashes.
    A text shorter than `width` gives one shingle made of all its tokens (none when empty)."""
    return np.unique(shingle_sequence(hashes, width))


def shingle_sequence(hashes: np.ndarray, width: int) -> np.ndarray:
    """The hashes of `shingle_hashes` in text order, repeats kept (where a shared passage sits)."""
    n = len(hashes)
    if n == 0:
        return np.empty(0, dtype=np.uint64)
    width = min(width, n)
    combined = hashes[: n - width + 1].copy()
    for offset in range(1, width):
        combined = _mix(combined * _GOLDEN + hashes[offset : n - width + 1 + offset])
    return combined


def anchor_keys(hashes: np.ndarray, width: int, rate: int, limit: int) -> np.ndarray:
    """Signed keys of the first `limit` shingles (in text order) whose hash is 0 modulo `rate`.
    A text contained in another one (a summary, a relay) has the same anchors where they overlap."""
    n = len(hashes)
    if n < width:
        return np.empty(0, dtype=np.int64)
    combined = hashes[: n - width + 1].copy()
    for offset in range(1, width):
        combined = _mix(combined * _GOLDEN + hashes[offset : n - width + 1 + offset])
    sampled = combined[combined % np.uint64(rate) == 0]
    _, first = np.unique(sampled, return_index=True)
    chosen = _mix(sampled[np.sort(first)][:limit] ^ np.uint64(0xA5A5A5A5A5A5A5A5)).view(np.int64)
    chosen[chosen == 0] = 1
    return chosen


def permutations(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The (odd multiplier, offset) pairs of `count` multiply-shift hash functions."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=count, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=count, dtype=np.uint64)
    return a, b


def minhash_signatures(sets: Sequence[np.ndarray], perms: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """MinHash signatures, one row (uint32 per permutation) per shingle set; empty sets give a row
    of 0xFFFFFFFF and must be skipped by the caller."""
    a, b = perms
    count = len(a)
    out = np.full((len(sets), count), 0xFFFFFFFF, dtype=np.uint64)
    lengths = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    nonempty = np.flatnonzero(lengths)
    if len(nonempty) == 0:
        return out.astype(np.uint32)
    per_chunk = max(1, _CHUNK_CELLS // count)
    start = 0
    while start < len(nonempty):
        stop, cells = start, 0
        while stop < len(nonempty) and (cells == 0 or cells + lengths[nonempty[stop]] <= per_chunk):
            cells += lengths[nonempty[stop]]
            stop += 1
        rows = nonempty[start:stop]
        flat = np.concatenate([sets[r] for r in rows])
        hashed = (a[:, None] * flat[None, :] + b[:, None]) >> _SHIFT32
        offsets = np.concatenate(([0], np.cumsum(lengths[rows])[:-1]))
        out[rows] = np.minimum.reduceat(hashed, offsets, axis=1).T
        start = stop
    return out.astype(np.uint32)


def band_keys(signatures: np.ndarray, rows: int, salt: int) -> np.ndarray:
    """Signed 64-bit LSH keys, shape (n_sets, n_bands): one per band of `rows` signature values.
    `salt` separates signals (two signals with different salts never share a key)."""
    n, count = signatures.shape
    bands = count // rows
    sig = signatures[:, : bands * rows].astype(np.uint64).reshape(n, bands, rows)
    band_ids = np.arange(bands, dtype=np.uint64) + np.uint64(salt) * np.uint64(1000)
    keys = np.broadcast_to(_mix(band_ids * _GOLDEN), (n, bands)).copy()
    for r in range(rows):
        keys = _mix(keys ^ (sig[:, :, r] + _GOLDEN))
    signed = keys.view(np.int64)
    signed[signed == 0] = 1
    return signed


def strip_accents(text: str) -> str:
    """Lower-case ASCII text: accents removed, ligatures unfolded, other non-ASCII characters
    dropped, punctuation kept (for date and time patterns)."""
    decomposed = unicodedata.normalize("NFKD", (text or "").translate(_LIGATURES).lower())
    return decomposed.encode("ascii", "ignore").decode("ascii")
