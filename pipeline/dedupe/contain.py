"""Containment is not duplication. When two texts cover each other only in part (the shorter covers less
than `MIN_MUTUAL_COVERAGE` of the longer body), one may be a newsletter, a digest, an agenda or a
listing that holds the other among other things: it *mentions* it (`Verdict.container`), they are not
one story. A page that gives the other's title a heading of its own and is covered less than
`MAX_HELD_COVERAGE` holds it too, however long the held item (a newsletter quoting one long article). A page holds the other when it quotes the other's title in its body (the heading a
newsletter or a listing gives what it holds), or, when the titles name different things, when a
heading of it is half of the other's title or the shared passage starts well into it. Otherwise the
shorter text is a feed summary or a relay that dropped paragraphs (both keep the lead, and relays
keep the title's words). A page known to hold items holds every item it covers as little (see
dedupe.cluster). Coverage is read on the bodies: the title weighs least, relays rewrite it.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

MIN_MUTUAL_COVERAGE = 0.6  # share of the longer body the shorter one covers: below, it may only be mentioned
MIN_TITLE_OVERLAP = 0.75  # share of the shorter informative title found in the other title: one story
MAX_HEADING_WORDS = 10  # content words of a body line that can be a heading
MIN_QUOTED_SHINGLES = 8  # bigrams an excerpt shares with the item whose title a page quotes
MIN_LEAD_SHARE = 0.2  # the shorter text starts this far into the longer body: it sits among other things
MIN_PASSAGE = 3  # shared bigrams in a row that make a shared passage
MIN_BODY_SHINGLES = 4  # fewer body bigrams than this: too little text to hold anything
MIN_NAMING_LETTERS = 8  # a one-word title or heading this long names a story
MAX_HELD_COVERAGE = 0.9  # a page heading the other's title and covered less than this holds other things too


class Profile(Protocol):
    """What these decisions read of an item (`verify.Profile` provides it)."""

    @property
    def item_id(self) -> str: ...
    @property
    def title_words(self) -> tuple[str, ...]: ...  # content words of the title
    @property
    def title_shingles(self) -> np.ndarray: ...  # sorted distinct content bigrams of the title
    @property
    def body_shingles(self) -> np.ndarray: ...  # the same over the body
    @property
    def body_sequence(self) -> np.ndarray: ...  # the body's content bigrams in text order
    @property
    def heading_lines(self) -> tuple[frozenset[str], ...]: ...  # content words of short body lines
    @property
    def opening(self) -> frozenset[str]: ...  # content words of the body's first line


def holds(page: Profile, other: Profile, coverage: float) -> bool:
    """Once `page` is known to hold items among other things, it holds `other` too when the two
    texts cover each other too little (`coverage`, see body_coverage) to be duplicates and their
    titles name different things."""
    return coverage < MIN_MUTUAL_COVERAGE and not titles_related(page, other)


def body_coverage(a: Profile, b: Profile) -> float:
    """Share of the longer body's bigrams found in the shorter body (0 when a body is empty)."""
    longer = max(len(a.body_shingles), len(b.body_shingles))
    return shared_count(a.body_shingles, b.body_shingles) / longer if longer else 0.0


def shared_count(left: np.ndarray, right: np.ndarray) -> int:
    """Number of bigrams two sorted distinct bigram arrays share."""
    return len(np.intersect1d(left, right, assume_unique=True))


def container(a: Profile, b: Profile, coverage: float) -> Profile | None:
    """The page that holds the other one among other things (a newsletter, a listing), or None.
    Of two texts that cover each other only in part, the longer holds the shorter when it quotes the
    shorter one's title in its body (a heading). When the titles name different things, one holds
    the other when it quotes the other's title (a newsletter of excerpts can be the shorter one), or
    the longer one has a heading made of half of the shorter one's title, or the shared passage
    starts well into it. Otherwise the shorter text is a summary or a relay that cut paragraphs."""
    if min(len(a.body_shingles), len(b.body_shingles)) < MIN_BODY_SHINGLES or coverage >= MAX_HELD_COVERAGE:
        return None
    short, long_ = sorted((a, b), key=lambda p: (len(p.body_shingles), p.item_id))
    if coverage >= MIN_MUTUAL_COVERAGE:  # a relay that added sentences, or a page holding a long item
        return long_ if not titles_related(short, long_) and quotes_title_core(long_, short) else None
    if quotes_title(long_, short):
        return long_
    if titles_related(short, long_):
        return None
    if quotes_title(short, long_):
        return short
    if quotes_title_core(long_, short) or _lead_share(long_, short) >= MIN_LEAD_SHARE:
        return long_
    return None


def _lead_share(page: Profile, other: Profile) -> float:
    """Share of `page`'s body that comes before the first passage it shares with `other`: the first run
    of `MIN_PASSAGE` bigrams in a row (a common phrase here and there does not start it)."""
    sequence = page.body_sequence
    hits = np.flatnonzero(np.isin(sequence, other.body_shingles))
    if len(hits) == 0:
        return 0.0
    runs = np.flatnonzero(hits[MIN_PASSAGE - 1 :] - hits[: len(hits) - MIN_PASSAGE + 1] == MIN_PASSAGE - 1)
    return hits[runs[0] if len(runs) else 0] / len(sequence)


def titles_related(a: Profile, b: Profile) -> bool:
    """The two titles name one story: most content words of the shorter title are in the other one
    ("Retour sur « X »", "X - les informations pratiques", "[Agenda] X"), numbers left aside; a
    one-word title counts when the word is long enough to name something ("Metaprogramming")."""
    short, long_ = sorted((_naming_words(a), _naming_words(b)), key=len)
    if len(short) == 1:
        return len(next(iter(short))) >= MIN_NAMING_LETTERS and short <= long_
    return len(short) >= 2 and len(short & long_) >= MIN_TITLE_OVERLAP * len(short)


def _naming_words(page: Profile) -> set[str]:
    """The title's content words without numbers: "Cours de maths du 23-3" and "Cours d'info du 23-3"
    share their date, not their subject."""
    words = {w for w in page.title_words if not any(ch.isdigit() for ch in w)}
    return words or set(page.title_words)


def quotes_title(page: Profile, other: Profile) -> bool:
    """`page` carries `other`'s whole title in its body (a newsletter's or a listing's heading)."""
    if same_informative_title(page, other) or len(other.title_shingles) == 0 or _opens_with_title(page, other):
        return False
    return shared_count(other.title_shingles, page.body_shingles) == len(other.title_shingles)


def _opens_with_title(page: Profile, other: Profile) -> bool:
    """`page`'s body opens with a line made of `other`'s title: its own heading (the page tells that
    story, it does not list it)."""
    title = set(other.title_words)
    return len(page.opening) >= 2 and page.opening <= title and len(page.opening) >= 0.5 * len(title)


def quotes_title_core(page: Profile, other: Profile) -> bool:
    """A line of `page`'s body (a heading) is made of half of `other`'s title words at least (two or
    more), or of one long word of it: the heading of the story that `other` relays under a decorated
    title ("[Agenda] X", "X - les informations pratiques"). A line of `other`'s own body is no such
    heading: a relay copies it."""
    if same_informative_title(page, other) or not other.title_words or _opens_with_title(page, other):
        return False
    title = set(other.title_words)
    own_lines = set(other.heading_lines) | {other.opening}
    return any(line <= title and line not in own_lines and (len(line) >= max(2, 0.5 * len(title)) or _one_name(line))
               for line in page.heading_lines)


def _one_name(words: frozenset[str]) -> bool:
    """One word long enough to name a story ("Metaprogramming")."""
    return len(words) == 1 and len(next(iter(words))) >= MIN_NAMING_LETTERS


def quoting(a: Profile, b: Profile, coverage: float) -> Profile | None:
    """Of two texts that overlap little, the one that quotes the other's title (three words at
    least) and shares a passage with it: a newsletter or a listing holding an excerpt of it."""
    if coverage >= MIN_MUTUAL_COVERAGE or shared_count(a.body_shingles, b.body_shingles) < MIN_QUOTED_SHINGLES:
        return None
    for page, other in ((a, b), (b, a)):
        if len(other.title_shingles) >= 2 and quotes_title(page, other):
            return page
    return None


def same_informative_title(a: Profile, b: Profile) -> bool:
    return len(a.title_words) >= 4 and a.title_words == b.title_words
