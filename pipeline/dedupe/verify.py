"""Verify that two candidate items tell the same story (the second stage of deduplication).

MinHash-LSH only proposes candidates; this module decides. Two items are the same story when

- they are the same item (same id, canonical URL or feed GUID), or have the same normalised content
  (content hash) and enough of it to mean something: an *exact* duplicate; or
- their texts overlap enough (containment of content-word bigrams in the shorter text, so that a
  feed summary or a truncated relay matches the full text) AND nothing that identifies an
  announcement differs: a *near* duplicate.

"Differs" is what separates two announcements built from one template (two seminars, two thesis
defences, two job offers, two weekly meetings):
- dates (day and month) or times found only in one item while the other has others of its own,
  in the titles or anywhere;
- slots: the texts are aligned word by word and a short substituted run with a name (capitalised
  word), a number or a code on both sides ("Marie Dupont" vs "Paul Martin", "L1" vs "L2") is a
  different announcement, unless the two runs are spelling variants (a typo fixed);
- in titles, a short substituted run of content words inside an otherwise shared title
  ("ingénieur en bioinformatique" vs "ingénieur en chimie analytique"); in texts, such runs of equal
  length in several places (a paraphrase changes the length of what it rewrites);
- one source publishing the same text again days apart (a recurring notice), unless both name the
  same event date.
Rewritten intros and edited titles pass: long rewritten runs are not slots, and words only added on
one side are not substitutions.

Containment is not duplication: two texts that cover each other only in part may be a page holding
the other among other things (a newsletter, a listing); `contain.py` decides (`Verdict.container`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from difflib import SequenceMatcher
from typing import Literal

import numpy as np

from pipeline.dedupe import contain
from pipeline.dedupe.contain import MAX_HEADING_WORDS, same_informative_title
from pipeline.dedupe.minhash import (
    STOP_WORDS, content_tokens, fold_word, match_tokens, shingle_hashes, shingle_sequence, strip_accents,
    word_hashes,
)
from pipeline.models import Item
from pipeline.normalize import canonical_url, content_hash

MIN_CONTAINMENT = 0.5  # shared bigrams / bigrams of the shorter item
MIN_CONTAINMENT_SAME_TITLE = 0.25  # when both carry the same informative title
MIN_SHINGLES = 4  # fewer content bigrams than this: too little text to call it a near duplicate
MIN_EXACT_TOKENS = 8  # identical content shorter than this is not evidence of one story
MAX_SLOT = 4  # a substituted run longer than this is a rewrite, not a template slot
MAX_ALIGN_TOKENS = 600
MIN_TITLE_FRAME = 0.6  # titles sharing this much (Dice on words) are one frame with slots
MIN_SLOT_CONTEXT = 2  # shared words needed on each side of a substituted run of plain words
MIN_SOFT_SLOTS = 2  # content words substituted in this many places of the text: another instance
RECURRING_DAYS = 3.0
MIN_FOLLOW_UP_COVERAGE = 0.9  # a source's page days later, changed more than this allows: a follow-up
MIN_OWN_SHARE_COVERED = 0.6  # of two partly overlapping texts, the shorter must be mostly inside the longer
MONTHS = {
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7, "aout": 8,
    "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12, "january": 1, "february": 2,
    "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8, "september": 9,
    "october": 10, "november": 11, "december": 12,
}
_MONTH_RE = "|".join(MONTHS)
_DATE_WORDS = re.compile(rf"\b(\d{{1,2}})(?:er)?\s+({_MONTH_RE})\b")
_DATE_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b|\b(\d{1,2})([.-])(\d{1,2})\5(\d{4}|\d{2}(?!\d))\b")
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_TIME = re.compile(r"\b(\d{1,2})\s?(?:h|:)\s?(\d{2})?(?!\w*[a-gi-z])")
_TOKEN = re.compile(r"\w+", re.UNICODE)
_FULL_HOUR = re.compile(r"^(\d{1,2})h(?:00)?$")
_SENTENCE_END = re.compile(r"[.!?\n]\s*$")
# capitalised words that name no one: they do not identify an announcement
COMMON_CAPITALISED = frozenset(
    """lundi mardi mercredi jeudi vendredi samedi dimanche universite faculte laboratoire labo
    ecole departement institut equipe seminaire soutenance these salle amphi amphitheatre batiment
    campus sciences science master licence doctorat rappel info infos actualite actualites nouveau
    nouvelle h f hf""".split()
) | frozenset(MONTHS)


NAME, NUMBER = 1, 2  # token flags: a name (capitalised inside a sentence, or an acronym), holds a digit


@dataclass(frozen=True)
class Words:
    """The words of a title or text, folded (lower case, no accents), with their NAME/NUMBER flags."""

    words: tuple[str, ...]
    flags: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.words)


@dataclass(frozen=True)
class Profile:
    """What verification needs of an item. The cheap parts are computed at once; the words with
    their flags (for alignment) only when a pair gets that far."""

    item: Item
    canonical: str
    guid_key: str | None
    content_hash: str
    n_words: int
    title_words: tuple[str, ...]  # content words of the title
    shingles: np.ndarray  # sorted distinct content-bigram hashes of title + body
    body_shingles: np.ndarray  # the same over the body alone
    title_shingles: np.ndarray  # the same over the title alone
    dates: frozenset[tuple[int, int]]  # (day, month)
    times: frozenset[str]  # "14:30"

    @property
    def item_id(self) -> str:
        return self.item.item_id

    @property
    def source_id(self) -> str:
        return self.item.source_id

    @property
    def published_at(self) -> datetime | None:
        return self.item.published_at

    @cached_property
    def title(self) -> Words:
        return tokenize(self.item.title)

    @cached_property
    def body(self) -> Words:
        return tokenize(self.item.text or self.item.summary or "")

    @cached_property
    def body_sequence(self) -> np.ndarray:
        """The body's content bigrams in text order."""
        words = content_tokens(match_tokens(self.item.text or self.item.summary or ""))
        return shingle_sequence(word_hashes(words), 2)

    @cached_property
    def title_dates(self) -> frozenset[tuple[int, int]]:
        """The dates a title names ("Cours du 17-3-2020"): two titles naming other days are two items."""
        return find_dates(strip_accents(self.item.title))

    @cached_property
    def heading_lines(self) -> tuple[frozenset[str], ...]:
        """The content words of the body's short lines after the first one: the headings of what the
        page holds."""
        lines = [content_tokens(match_tokens(line)) for line in (self.item.text or "").splitlines()]
        return tuple(frozenset(words) for words in lines[1:] if 1 <= len(words) <= MAX_HEADING_WORDS)

    @cached_property
    def opening(self) -> frozenset[str]:
        """The content words of the body's first line (a page's own heading when it repeats its title)."""
        lines = (self.item.text or "").strip().splitlines()
        return frozenset(content_tokens(match_tokens(lines[0]))) if lines else frozenset()

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        return frozenset(self.title.words + self.body.words)


@dataclass(frozen=True)
class Verdict:
    same: bool
    match: Literal["exact", "near", "none"]
    similarity: float  # containment of the shorter item's bigrams in the other's
    reasons: tuple[str, ...] = ()  # why it was refused (or how it matched)
    container: str | None = None  # item id of the page that mentions the other one among other things
    coverage: float = 0.0  # share of the longer body the shorter one covers (1.0 for exact duplicates)
    distinct: bool = False  # refused on evidence of two items (a slot, a date, a follow-up), not for want of overlap


def guid_key(source_id: str, guid: str | None) -> str | None:
    """A GUID that looks global (a URL, a URN, a tag) is compared as is; a bare one ("1234") only
    within its source."""
    if not guid or not guid.strip():
        return None
    guid = guid.strip()
    if re.match(r"^https?://", guid, re.IGNORECASE):
        return "url:" + canonical_url(guid)
    if re.match(r"^(urn|tag):", guid, re.IGNORECASE):
        return "id:" + guid
    return f"src:{source_id}:{guid}"


def tokenize(text: str) -> Words:
    """Words of `text` with name/number flags read from the original casing."""
    text = text or ""
    words: list[str] = []
    flags: list[int] = []
    previous_end = 0
    for match in _TOKEN.finditer(text):
        word = match.group()
        start = match.start()
        between = text[previous_end:start]
        sentence_start = previous_end == 0 or "." in between or "!" in between or "?" in between or "\n" in between
        previous_end = match.end()
        capitalised = word[0].isupper() and (not sentence_start or (len(word) > 1 and word.isupper()))
        lowered = word.lower()
        for folded in (lowered,) if lowered.isascii() else fold_word(lowered):
            flag = _word_flags(folded)
            if capitalised and flag & _NAME_LIKE:
                flag |= NAME
            words.append(_FULL_HOUR.sub(r"\1h", folded) if flag & NUMBER else folded)
            flags.append(flag & (NAME | NUMBER))
    return Words(tuple(words), tuple(flags))


_NAME_LIKE = 4  # could be a name when capitalised
_FLAG_CACHE: dict[str, int] = {}


def _word_flags(folded: str) -> int:
    flag = _FLAG_CACHE.get(folded)
    if flag is None:
        if len(_FLAG_CACHE) > 1_000_000:
            _FLAG_CACHE.clear()
        digit = any(ch.isdigit() for ch in folded)
        name_like = not digit and folded not in STOP_WORDS and folded not in COMMON_CAPITALISED
        flag = _FLAG_CACHE[folded] = (NUMBER if digit else 0) | (_NAME_LIKE if name_like else 0)
    return flag


def find_dates(folded: str) -> frozenset[tuple[int, int]]:
    """(day, month) of the dates written in `folded` (see minhash.strip_accents): "1er avril",
    "12/03/2024", "2024-03-12"."""
    found: set[tuple[int, int]] = set()
    for day, month in _DATE_WORDS.findall(folded):
        found.add((int(day), MONTHS[month]))
    for groups in _DATE_NUMERIC.findall(folded):
        day, month = (groups[0], groups[1]) if groups[0] else (groups[3], groups[5])
        if 1 <= int(day) <= 31 and 1 <= int(month) <= 12:
            found.add((int(day), int(month)))
    for _year, month, day in _DATE_ISO.findall(folded):
        found.add((int(day), int(month)))
    return frozenset(d for d in found if 1 <= d[0] <= 31)


def find_times(folded: str) -> frozenset[str]:
    """Times of day ("14h", "14 h 30", "9:15") in `folded` (see minhash.strip_accents) as "HH:MM"."""
    found = set()
    for hour, minute in _TIME.findall(folded):
        if int(hour) <= 23 and (not minute or int(minute) < 60):
            found.add(f"{int(hour):02d}:{minute or '00'}")
    return frozenset(found)


def profile_item(item: Item) -> Profile:
    """The verification profile of an Item."""
    body_text = item.text or item.summary or ""
    title_words = match_tokens(item.title)
    body_words = content_tokens(match_tokens(body_text))
    words = title_words + match_tokens(body_text)
    full = strip_accents(f"{item.title}\n{body_text}")
    return Profile(
        item=item,
        canonical=canonical_url(item.url),
        guid_key=guid_key(item.source_id, item.guid),
        content_hash=item.content_hash or content_hash(item.title, item.text),
        n_words=len(words),
        title_words=tuple(content_tokens(title_words)),
        shingles=shingle_hashes(word_hashes(content_tokens(words)), 2),
        body_shingles=shingle_hashes(word_hashes(body_words), 2),
        title_shingles=shingle_hashes(word_hashes(content_tokens(title_words)), 2),
        dates=find_dates(full),
        times=find_times(full),
    )


def containment(a: Profile, b: Profile) -> float:
    """Share of the smaller bigram set found in the other one."""
    smaller = min(len(a.shingles), len(b.shingles))
    if smaller == 0:
        return 0.0
    common = len(np.intersect1d(a.shingles, b.shingles, assume_unique=True))
    return common / smaller


def verify_pair(a: Profile, b: Profile, window_days: float = 60.0) -> Verdict:
    """Decide whether `a` and `b` are the same story (see the module docstring)."""
    exact = _exact_reason(a, b)
    if exact:
        return Verdict(True, "exact", 1.0, (exact,), coverage=1.0)
    similarity = containment(a, b)
    refusal = _unrelated(a, b, window_days)
    if refusal:
        return Verdict(False, "none", similarity, refusal)
    coverage = contain.body_coverage(a, b)
    threshold = MIN_CONTAINMENT_SAME_TITLE if same_informative_title(a, b) else MIN_CONTAINMENT
    if similarity < threshold:
        quoting = contain.quoting(a, b, coverage)
        return Verdict(False, "none", similarity, (f"texts overlap {similarity:.2f} < {threshold:.2f}",),
                       container=quoting.item_id if quoting else None, coverage=coverage)
    container = contain.container(a, b, coverage)
    if container is not None:
        return Verdict(False, "none", similarity, (f"{container.item_id} contains the other among other things",),
                       container=container.item_id, coverage=coverage)
    refusal = _partial_overlap(a, b, coverage)
    if refusal:
        return Verdict(False, "none", similarity, refusal, coverage=coverage, distinct=_one_source(a, b))
    refusal = _conflicts(a, b, coverage)
    if refusal:
        return Verdict(False, "none", similarity, refusal, coverage=coverage, distinct=True)
    return Verdict(True, "near", similarity, ("similar text, nothing identifying differs",), coverage=coverage)


def _exact_reason(a: Profile, b: Profile) -> str | None:
    if a.item_id == b.item_id:
        return "same item id"
    if a.canonical == b.canonical:
        return "same canonical URL"
    if a.guid_key and a.guid_key == b.guid_key:
        return "same feed GUID"
    if a.content_hash == b.content_hash and a.n_words >= MIN_EXACT_TOKENS:
        if not _recurring(a, b):
            return "same normalised content"
    return None


def _unrelated(a: Profile, b: Profile, window_days: float) -> tuple[str, ...]:
    if min(len(a.shingles), len(b.shingles)) < MIN_SHINGLES:
        return ("too little text",)
    if _days_apart(a, b) > window_days:
        return ("published too far apart",)
    return ()


def _partial_overlap(a: Profile, b: Profile, coverage: float) -> tuple[str, ...]:
    """Two texts covering each other only in part are one story when the shorter is a summary or a
    relay that dropped paragraphs: mostly inside the longer, and never two full pages of one source
    (there the shared part is the source's boilerplate: a course's weekly notice, a recurring block)."""
    if coverage >= contain.MIN_MUTUAL_COVERAGE:
        return ()
    if _one_source(a, b):
        return (f"two pages of one source share only {coverage:.2f} of the longer text",)
    shorter = min(len(a.body_shingles), len(b.body_shingles))
    inside = contain.shared_count(a.body_shingles, b.body_shingles) / shorter if shorter else 0.0
    if inside < MIN_OWN_SHARE_COVERED:
        return (f"each text has its own content: {inside:.2f} of the shorter is in the longer",)
    return ()


def _one_source(a: Profile, b: Profile) -> bool:
    """Two full pages (not a feed summary) of one source."""
    return a.source_id == b.source_id and bool(a.item.text) and bool(b.item.text)


def _conflicts(a: Profile, b: Profile, coverage: float = 1.0) -> tuple[str, ...]:
    """What identifies two announcements of one template, a recurring notice, or a follow-up."""
    reasons = _date_conflicts(a, b) or _slot_conflicts(a, b, "title") or _slot_conflicts(a, b, "text")
    if not reasons and _recurring(a, b):
        reasons.append("same source republished days apart")
    if not reasons and _follow_up(a, b, coverage):
        reasons.append(f"same source, days later, {1 - coverage:.0%} of the text changed: a follow-up")
    return tuple(reasons)


def _follow_up(a: Profile, b: Profile, coverage: float) -> bool:
    """A source's new page days after another on the same event, with new content (registration now
    open, a report after the event): another item, not a corrected copy."""
    return a.source_id == b.source_id and _days_apart(a, b) > RECURRING_DAYS and coverage < MIN_FOLLOW_UP_COVERAGE


def _days_apart(a: Profile, b: Profile) -> float:
    if a.published_at is None or b.published_at is None:
        return 0.0
    return abs((a.published_at - b.published_at).total_seconds()) / 86400.0


def _recurring(a: Profile, b: Profile) -> bool:
    """The same source publishing the same text again days later: a recurring notice."""
    return a.source_id == b.source_id and _days_apart(a, b) > RECURRING_DAYS and not (a.dates & b.dates)


def _date_conflicts(a: Profile, b: Profile) -> list[str]:
    reasons = []
    pairs = (("title dates", a.title_dates, b.title_dates), ("dates", a.dates, b.dates), ("times", a.times, b.times))
    for label, left, right in pairs:
        if left - right and right - left:
            reasons.append(f"{label} differ: {sorted(left - right)} vs {sorted(right - left)}")
    return reasons


def _slot_conflicts(a: Profile, b: Profile, part: str) -> list[str]:
    """Substituted runs of the title or the text that make `a` and `b` two instances of a template."""
    left, right = (a.title, b.title) if part == "title" else (a.body, b.body)
    words_a, words_b = left.words[:MAX_ALIGN_TOKENS], right.words[:MAX_ALIGN_TOKENS]
    matcher = SequenceMatcher(None, words_a, words_b, autojunk=False)
    opcodes = matcher.get_opcodes()
    shared = sum(i2 - i1 for tag, i1, i2, _, _ in opcodes if tag == "equal")
    frame = 2 * shared / max(1, len(words_a) + len(words_b)) >= MIN_TITLE_FRAME
    reasons, soft = [], []
    for k, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag != "replace" or i2 - i1 > MAX_SLOT or j2 - j1 > MAX_SLOT:
            continue
        run_a, run_b = (left, i1, i2), (right, j1, j2)
        if _is_slot(run_a, run_b, a, b, content_words=False):
            reasons.append(f"{part} slot differs: {_show(run_a)!r} vs {_show(run_b)!r}")
        elif (part == "title" or _same_length(run_a, run_b)) and _in_context(opcodes, k) \
                and _is_slot(run_a, run_b, a, b, content_words=True):
            soft.append(f"{_show(run_a)!r} vs {_show(run_b)!r}")
    if soft and ((part == "title" and frame) or (part == "text" and len(soft) >= MIN_SOFT_SLOTS)):
        reasons.append(f"{part} words substituted: {', '.join(soft)}")
    return reasons


def _same_length(run_a, run_b) -> bool:
    """A template's blank is filled word for word; a paraphrase ('veut comprendre' / 'cherchera')
    changes the length of the run."""
    return run_a[2] - run_a[1] == run_b[2] - run_b[1]


def _in_context(opcodes, k: int) -> bool:
    """The substituted run sits between shared runs (or a title's ends): a blank of a template."""
    def shared_run(index: int) -> bool:
        if index < 0 or index >= len(opcodes):
            return True
        tag, i1, i2, _, _ = opcodes[index]
        return tag == "equal" and i2 - i1 >= MIN_SLOT_CONTEXT
    return shared_run(k - 1) and shared_run(k + 1)


def _is_slot(run_a, run_b, a: Profile, b: Profile, content_words: bool) -> bool:
    """A substituted run that identifies an announcement on both sides (and is no typo fix).
    A run is (Words, start, stop)."""
    if not _owns_identifying(run_a, b.vocabulary, content_words):
        return False
    if not _owns_identifying(run_b, a.vocabulary, content_words):
        return False
    return not _spelling_variants(_show(run_a), _show(run_b))


def _owns_identifying(run, other_vocabulary: frozenset[str], content_words: bool) -> bool:
    words, start, stop = run
    for word, flag in zip(words.words[start:stop], words.flags[start:stop]):
        if word in other_vocabulary:
            continue
        if flag or (content_words and word not in STOP_WORDS and len(word) >= 4):
            return True
    return False


def _spelling_variants(left: str, right: str) -> bool:
    """"Dupond"/"Dupont", "labo"/"laboratoire": a fix or an abbreviation, not another value.
    Different digits are never a spelling variant."""
    if re.sub(r"\D", "", left) != re.sub(r"\D", "", right):
        return False
    short, long_ = sorted((left, right), key=len)
    if len(short) >= 4 and long_.startswith(short):
        return True
    return SequenceMatcher(None, left, right, autojunk=False).ratio() >= 0.8


def _show(run) -> str:
    words, start, stop = run
    return " ".join(words.words[start:stop])
