"""The officer's worthiness grades: export digest entries to a spreadsheet, read grades back.

Same file conventions as the category corrections (pipeline.classify.labels): CSV, UTF-8 with BOM,
';' separator, French headers; on reading ';', ',' or tab, French or English headers. A grade is
0, 1, 2 or 3 (classifiers/worthiness/GUIDE.md); an empty cell means "not graded". The export puts
first the entries whose grade would teach the ranking most: those whose estimated grade sits
nearest the short list's threshold (the ranking is least sure whether to show them), then the
others. Bad rows are reported with their line and a stable code; good rows are kept.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from pipeline.classify.labels import CsvError, cell_reader, checked_item_id, decode_file, detect_delimiter, map_columns
from pipeline.digest.build import WORTHY_SCORE
from pipeline.models import Item

logger = logging.getLogger(__name__)

DELIMITER = ";"
HEADERS = ("identifiant", "semaine", "rubrique", "titre", "url", "note estimée", "raisons", "note (0-3)",
           "commentaire")
SECTION_FR = {"research": "Recherche", "teaching": "Enseignement", "student": "Initiatives étudiantes"}
HEADER_ROLES = {
    "identifiant": "item_id", "id": "item_id", "item id": "item_id", "item_id": "item_id",
    "note 0 3": "grade", "note": "grade", "grade": "grade", "commentaire": "comment", "comment": "comment",
}
GRADES = {"0": 0, "1": 1, "2": 2, "3": 3}


@dataclass(frozen=True)
class EntryToGrade:
    week: str
    section: str
    item: Item
    score: float  # the estimated grade
    reasons: str


@dataclass(frozen=True)
class Grade:
    item_id: str
    grade: int
    comment: str = ""


def teaching_order(entries: Sequence[EntryToGrade], threshold: float = WORTHY_SCORE) -> list[EntryToGrade]:
    """Entries whose estimated grade is nearest the short list's threshold first."""
    return sorted(entries, key=lambda e: (abs(e.score - threshold), e.week, e.item.item_id))


def export_grades(entries: Sequence[EntryToGrade], path: Path | str, limit: int | None = None) -> int:
    """Write the entries in teaching order (at most `limit`) with an empty grade column."""
    chosen = teaching_order(entries)[:limit]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for e in chosen:
        writer.writerow([e.item.item_id, e.week, SECTION_FR.get(e.section, e.section), e.item.title, e.item.url,
                         f"{e.score:.1f}".replace(".", ","), e.reasons, "", ""])
    Path(path).write_text(buffer.getvalue(), encoding="utf-8-sig", newline="")
    return len(chosen)


def read_grades(path: Path | str, known_item_ids: set[str] | None = None) -> tuple[list[Grade], list[CsvError]]:
    """Grades from the officer's file, and every problem found (with its line)."""
    text, errors = decode_file(Path(path).read_bytes())
    lines = text.splitlines()
    if not lines:
        return [], errors + [CsvError(0, "missing_column", "fichier vide")]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(lines[0]))
    columns = map_columns(next(reader), HEADER_ROLES)
    missing = [name for role, name in (("item_id", "identifiant"), ("grade", "note (0-3)")) if role not in columns]
    if missing:
        return [], errors + [CsvError(1, "missing_column", f"colonne absente : {', '.join(missing)}")]
    grades: dict[str, Grade] = {}
    line = reader.line_num + 1
    for cells in reader:
        outcome = _read_row(cells, line, columns, known_item_ids)
        if isinstance(outcome, Grade) and outcome.item_id in grades:
            outcome = CsvError(line, "duplicate_item", f"identifiant en double : {outcome.item_id} "
                                                       "(la première note est gardée)")
        if isinstance(outcome, CsvError):
            errors.append(outcome)
        elif outcome is not None:
            grades[outcome.item_id] = outcome
        line = reader.line_num + 1
    logger.info("read %d grades, %d errors from %s", len(grades), len(errors), path)
    return list(grades.values()), errors


def _read_row(cells: list[str], line: int, columns: dict[str, int],
              known_item_ids: set[str] | None) -> Grade | CsvError | None:
    cell = cell_reader(cells, columns)
    raw = cell("grade")
    if not raw:
        return None
    item_id = cell("item_id")
    if error := checked_item_id(item_id, line, known_item_ids):
        return error
    grade = GRADES.get(raw.replace(",", ".").removesuffix(".0"))
    if grade is None:
        return CsvError(line, "bad_grade", f"note non reconnue : « {raw} » (attendu : 0, 1, 2 ou 3)")
    return Grade(item_id, grade, cell("comment"))
