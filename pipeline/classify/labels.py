"""The officer's corrections: export the items to check to a spreadsheet, read corrections back.

The export lists first the items whose predicted category departs from their source's declared
category (column « écart à la source ») or whose confidence is under UNCERTAIN_BELOW (the digest's
« à vérifier »), then the others, least confident first: each correction teaches the most there.

File format (opens directly in LibreOffice and French-locale Excel): CSV, UTF-8 with BOM,
separator ';' (Excel's separator where ',' is the decimal mark), French headers, confidence written
with a decimal comma. On reading, ';', ',' and tab are all accepted (the separator is detected from
the header line), headers in French or English, categories in French (recherche, enseignement,
étudiant) or English (research, teaching, student), any case, with or without accents. A file saved
by Excel in Windows-1252 is read anyway and reported with an `encoding` error. Each bad row is
reported with its line and a stable code; good rows are kept; an empty correction cell means "no
correction".
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

from pipeline.classify.model import UNCERTAIN_BELOW, LabelledItem
from pipeline.models import Category, DeclaredCategory, Item
from pipeline.normalize import fold_for_matching

logger = logging.getLogger(__name__)

DELIMITER = ";"
HEADERS = ("identifiant", "source", "url", "titre", "catégorie prédite", "confiance",
           "catégorie corrigée", "commentaire", "écart à la source")
CATEGORY_FR: dict[str, str] = {"research": "recherche", "teaching": "enseignement", "student": "étudiant"}
CATEGORY_WORDS: dict[str, Category] = {
    "recherche": "research", "research": "research",
    "enseignement": "teaching", "teaching": "teaching", "formation": "teaching",
    "etudiant": "student", "etudiants": "student", "etudiante": "student", "student": "student",
    "initiatives etudiantes": "student", "initiative etudiante": "student", "vie etudiante": "student",
}
# folded header -> role
HEADER_ROLES: dict[str, str] = {
    "identifiant": "item_id", "id": "item_id", "item id": "item_id", "item_id": "item_id", "id item": "item_id",
    "categorie corrigee": "category", "correction": "category", "corrected category": "category",
    "category": "category", "categorie": "category",
    "commentaire": "comment", "comment": "comment", "remarque": "comment",
}


@dataclass(frozen=True)
class ReviewRow:
    item_id: str
    source_id: str
    url: str
    title: str
    category: Category  # predicted
    confidence: float
    declared: DeclaredCategory = "mixed"  # the source's category in sources.yaml

    @property
    def overrides(self) -> bool:
        """The text made the model depart from the source's declared category."""
        return self.declared not in ("mixed", self.category)

    def to_check_first(self, uncertain_below: float) -> bool:
        return self.overrides or self.confidence < uncertain_below


@dataclass(frozen=True)
class Correction:
    item_id: str
    category: Category
    comment: str = ""


@dataclass(frozen=True)
class CsvError:
    line: int  # 1-based line in the file; 0 for the whole file
    code: str  # encoding | missing_column | missing_item_id | unknown_item | bad_category | duplicate_item
    reason: str  # French, shown to the officer

    def __str__(self) -> str:
        return f"ligne {self.line} : {self.reason}" if self.line else self.reason


def export_for_review(rows: Sequence[ReviewRow], path: Path | str, limit: int | None = None,
                      uncertain_below: float = UNCERTAIN_BELOW) -> int:
    """Write the rows (at most `limit`) with an empty correction column: departures from the
    source's category and items under `uncertain_below` first, least confident first within each."""
    chosen = sorted(rows, key=lambda r: (not r.to_check_first(uncertain_below), r.confidence))[:limit]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in chosen:
        departure = f"source : {CATEGORY_FR[row.declared]}" if row.overrides else ""
        writer.writerow([row.item_id, row.source_id, row.url, row.title, CATEGORY_FR[row.category],
                         f"{row.confidence:.2f}".replace(".", ","), "", "", departure])
    Path(path).write_text(buffer.getvalue(), encoding="utf-8-sig", newline="")
    return len(chosen)


def parse_category(value: str) -> Category | None:
    """A category from a French or English word; None when unrecognised."""
    return CATEGORY_WORDS.get(fold_for_matching(value))


def decode_file(data: bytes) -> tuple[str, list[CsvError]]:
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        reason = (f"le fichier n'est pas en UTF-8 (premier octet invalide ligne {line}) ; "
                  "lu en Windows-1252, vérifiez les accents")
        return data.decode("cp1252", errors="replace"), [CsvError(0, "encoding", reason)]


def detect_delimiter(header_line: str) -> str:
    return max((";", ",", "\t"), key=header_line.count)


def map_columns(header: Sequence[str], roles_of: dict[str, str] = HEADER_ROLES) -> dict[str, int]:
    """role -> column index, from the header names (first match wins); `roles_of`: header name -> role."""
    roles: dict[str, int] = {}
    for index, name in enumerate(header):
        role = roles_of.get(fold_for_matching(name).replace("_", " ")) or roles_of.get(name.strip().lower())
        if role and role not in roles:
            roles[role] = index
    return roles


def cell_reader(cells: list[str], columns: dict[str, int]) -> Callable[[str], str]:
    """role -> the row's cell in that role's column ("" when the row is short or has no such column)."""
    def cell(role: str) -> str:
        index = columns.get(role)
        return cells[index].strip() if index is not None and index < len(cells) else ""
    return cell


def checked_item_id(item_id: str, line: int, known_item_ids: set[str] | None) -> CsvError | None:
    """The error of a row whose item id is missing or unknown, else None."""
    if not item_id:
        return CsvError(line, "missing_item_id", "identifiant manquant")
    if known_item_ids is not None and item_id not in known_item_ids:
        return CsvError(line, "unknown_item", f"identifiant inconnu : {item_id}")
    return None


def read_row(cells: list[str], line: int, columns: dict[str, int],
             known_item_ids: set[str] | None) -> Correction | CsvError | None:
    """One row -> a Correction, an error, or None (no correction asked)."""
    cell = cell_reader(cells, columns)
    raw_category = cell("category")
    if not raw_category:
        return None
    item_id = cell("item_id")
    if error := checked_item_id(item_id, line, known_item_ids):
        return error
    category = parse_category(raw_category)
    if category is None:
        return CsvError(line, "bad_category", f"catégorie non reconnue : « {raw_category} » "
                                              "(attendu : recherche, enseignement ou étudiant)")
    return Correction(item_id, category, cell("comment"))


def read_corrections(path: Path | str,
                     known_item_ids: set[str] | None = None) -> tuple[list[Correction], list[CsvError]]:
    """Corrections from the officer's file, and every problem found (with its line)."""
    text, errors = decode_file(Path(path).read_bytes())
    lines = text.splitlines()
    if not lines:
        return [], errors + [CsvError(0, "missing_column", "fichier vide")]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(lines[0]))
    columns = map_columns(next(reader))
    missing = [name for role, name in (("item_id", "identifiant"), ("category", "catégorie corrigée"))
               if role not in columns]
    if missing:
        return [], errors + [CsvError(1, "missing_column", f"colonne absente : {', '.join(missing)}")]
    corrections: dict[str, Correction] = {}
    start = reader.line_num + 1
    for cells in reader:
        outcome = read_row(cells, start, columns, known_item_ids)
        if isinstance(outcome, CsvError):
            errors.append(outcome)
        elif isinstance(outcome, Correction) and outcome.item_id in corrections:
            errors.append(CsvError(start, "duplicate_item", f"identifiant en double : {outcome.item_id} "
                                                            "(la première correction est gardée)"))
        elif outcome is not None:
            corrections[outcome.item_id] = outcome
        start = reader.line_num + 1
    logger.info("read %d corrections, %d errors from %s", len(corrections), len(errors), path)
    return list(corrections.values()), errors


def labelled_from_corrections(items: Sequence[Item], corrections: Sequence[Correction],
                              declared: Mapping[str, DeclaredCategory]) -> list[LabelledItem]:
    """Training examples from stored items and the officer's corrections (items without one skipped)."""
    by_id = {i.item_id: i for i in items}
    return [LabelledItem(c.item_id, by_id[c.item_id].source_id, declared.get(by_id[c.item_id].source_id, "mixed"),
                         by_id[c.item_id].url, by_id[c.item_id].title,
                         by_id[c.item_id].text or by_id[c.item_id].summary, c.category)
            for c in corrections if c.item_id in by_id]
