"""Read publication dates: ISO 8601, RFC 2822, and French dates as sites write them.

"14 octobre 2010", "1er févr. 2025", "Publié le 03/02/2025", "2025-02-03T10:00:00+01:00",
"Mon, 03 Feb 2025 10:00:00 GMT". Every result is timezone-aware UTC; a date without a time is taken
at 00:00 UTC. Dates outside 1990..next year are treated as noise (copyright lines, ids).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1, "january": 1,
    "fevrier": 2, "février": 2, "fevr": 2, "févr": 2, "fev": 2, "fév": 2, "feb": 2, "february": 2,
    "mars": 3, "mar": 3, "march": 3,
    "avril": 4, "avr": 4, "apr": 4, "april": 4,
    "mai": 5, "may": 5,
    "juin": 6, "june": 6, "jun": 6,
    "juillet": 7, "juil": 7, "jul": 7, "july": 7,
    "aout": 8, "août": 8, "aug": 8, "august": 8,
    "septembre": 9, "sept": 9, "sep": 9, "september": 9,
    "octobre": 10, "oct": 10, "october": 10,
    "novembre": 11, "nov": 11, "november": 11,
    "decembre": 12, "décembre": 12, "dec": 12, "déc": 12, "december": 12,
}
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
WORDY_DATE = re.compile(
    rf"\b(\d{{1,2}})(?:er|st|nd|rd|th)?\s+({_MONTH_NAMES})\.?,?\s+(\d{{4}})\b", re.IGNORECASE
)
ENGLISH_DATE = re.compile(rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.IGNORECASE)
NUMERIC_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b")
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?\b")


def parse_date_value(value: str | None) -> datetime | None:
    """A date from a machine-readable value (meta content, <time datetime>, feed field)."""
    value = (value or "").strip()
    if not value:
        return None
    iso = ISO_DATE.match(value)
    if iso:
        return _from_iso(value, iso)
    try:
        return plausible_date(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError):
        return find_date_in_text(value)


def find_date_in_text(text: str) -> datetime | None:
    """The first plausible date written in `text` (French first, then numeric day/month/year)."""
    candidates: list[tuple[int, datetime]] = []
    for match in WORDY_DATE.finditer(text):
        found = _build(match.group(3), MONTHS[match.group(2).lower()], match.group(1))
        if found:
            candidates.append((match.start(), found))
            break
    for match in ENGLISH_DATE.finditer(text):
        found = _build(match.group(3), MONTHS[match.group(1).lower()], match.group(2))
        if found:
            candidates.append((match.start(), found))
            break
    for match in NUMERIC_DATE.finditer(text):
        found = _build(match.group(3), match.group(2), match.group(1))  # French order: day/month/year
        if found:
            candidates.append((match.start(), found))
            break
    for match in ISO_DATE.finditer(text):
        found = _from_iso(match.group(0), match)
        if found:
            candidates.append((match.start(), found))
            break
    return min(candidates, key=lambda c: c[0])[1] if candidates else None


def _from_iso(value: str, match: re.Match[str]) -> datetime | None:
    text = match.group(0).replace(" ", "T")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return _build(match.group(1), match.group(2), match.group(3))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return plausible_date(parsed)


def _build(year: str | int, month: str | int, day: str | int) -> datetime | None:
    try:
        return plausible_date(datetime(int(year), int(month), int(day), tzinfo=UTC))
    except ValueError:
        return None


def plausible_date(value: datetime) -> datetime | None:
    """`value` in UTC if it can be a publication date (1990 to next year), else None.

    Every date that enters from the web (feed fields, page metadata, visible text) goes through
    here: year 1, epoch zeros and year 9999 are no dates."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset: off the calendar in UTC
        return None
    if not 1990 <= value.year <= datetime.now(UTC).year + 1:
        return None
    return value
