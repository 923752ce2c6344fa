"""clean_text and fold_for_matching were rewritten for speed (str.split instead of a regex per line,
one regex removing the marks found instead of a per-character Python loop). Their output is stored
(texts, content hashes: a changed hash marks every stored item as changed), so the new code must give
exactly what the old one gave: the old code is kept here as the reference and both are compared on
tricky inputs."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.normalize import clean_text, content_hash, fold_for_matching

_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+", re.UNICODE)


def reference_clean_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text or "")
    others = {ord(ch): " " for ch in set(text) if ch not in "\n\t" and unicodedata.category(ch)[0] == "C"}
    text = text.translate(others) if others else text
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def reference_fold_for_matching(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", (text or "").lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(stripped))


# every kind of line break, blank and control character str.splitlines, \s and unicodedata know of
TRICKY = ["\n", "\r", "\r\n", "\n\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\u2028", "\u2029",
          "\t", " ", "  ", "\u00a0", "\u202f", "\u2009", "\u3000", "\u200b", "\ufeff", "\u00ad", "\x00", "\x07",
          "\x7f", "\ud800", "\ue000", "e\u0301", "é", "É", "ǅ", "ﬁ", "²", "①", "İ", "ß", "’", "«", "»", "-", "l'",
          "Séminaire", "mot", "x"]
tricky_text = st.lists(st.one_of(st.sampled_from(TRICKY), st.text(max_size=6)), max_size=40).map("".join)
PROPERTIES = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])

EXAMPLES = [
    "", " ", "\n", "\n\n\n", " \r\n \r\n ", "a\r\nb", "a\rb", "a\x0bb\x0cc", "a\x85b", "a\u2028b\u2029c",
    "  a  \u2028  \u2028 b  ", "\ta\t\tb\t", "a\u00a0\u00a0b", "\u00a0\na\n\u00a0", "a \n \n \n b", "\n a", "a \n",
    "ligne 1\n\n\nligne 2\r\n\r\nligne 3", "\u2028\u2029", " \u2028 ", "a\x1cb\x1dc\x1ed\x1fe", "\u200ba\u200b",
    "Cafe\u0301 e\u0301te\u0301", "ÉCOLE D'ÉTÉ — « Matière »", "ﬁn de l’année ½", "İstanbul ß",
]


def test_clean_text_gives_what_the_line_by_line_version_gave() -> None:
    for text in EXAMPLES:
        assert clean_text(text) == reference_clean_text(text), repr(text)


def test_fold_for_matching_and_content_hash_give_what_the_per_character_version_gave() -> None:
    for text in EXAMPLES:
        assert fold_for_matching(text) == reference_fold_for_matching(text), repr(text)
    assert content_hash("Fête de la Science", "L'équipe\u00a0ouvre ses portes.") == "ea8aa8784ad89bb9"


@PROPERTIES
@given(tricky_text)
def test_clean_text_is_unchanged_on_any_text(text: str) -> None:
    assert clean_text(text) == reference_clean_text(text)


@PROPERTIES
@given(tricky_text)
def test_fold_for_matching_is_unchanged_on_any_text(text: str) -> None:
    assert fold_for_matching(text) == reference_fold_for_matching(text)
