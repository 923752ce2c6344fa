"""The officer's review of proposed initiatives, as a CSV round-trip.

`export_proposals` writes one row per initiative (semicolon-separated, UTF-8 with BOM, so a French
spreadsheet opens it as is). The officer fills the `decision` column (valider / corriger /
fusionner / rejeter); for `corriger` the edited columns of the row are taken as the truth, for
`fusionner` the `fusionner_dans` column names the initiative that absorbs this one.
`read_decisions` checks the whole file: one malformed row and the file is refused, every problem
listed with its line, so no decision is half-applied.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.outreach.catalogue import (
    AUDIENCE_LABELS_FR, KIND_LABELS_FR, STATUS_LABELS_FR, Audience, Decision, Initiative, Kind, Status,
)
from pipeline.normalize import fold_for_matching

logger = logging.getLogger(__name__)

COLUMNS = (
    "identifiant", "decision", "fusionner_dans", "titre", "type", "organisateurs", "publics",
    "statut", "lieu", "contact", "description", "editions", "sources", "valide", "origine",
)
EDITABLE = {  # CSV column -> Initiative field
    "titre": "title", "type": "kind", "organisateurs": "organisers", "publics": "audience",
    "statut": "status", "lieu": "place", "contact": "contact", "description": "description",
}
LIST_SEPARATOR = " | "
ACTIONS = {
    "valider": "validate", "validate": "validate",
    "corriger": "correct", "correct": "correct",
    "fusionner": "merge", "merge": "merge",
    "rejeter": "reject", "reject": "reject",
}


@dataclass(frozen=True)
class CsvError:
    file: str
    line: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


def export_proposals(initiatives: Sequence[Initiative], path: Path) -> int:
    """Write the review CSV; returns the number of rows. Rejected/merged initiatives are left out."""
    rows = [_row_of(i) for i in initiatives if i.visible]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(buffer.getvalue(), encoding="utf-8-sig", newline="")
    return len(rows)


def _row_of(initiative: Initiative) -> dict[str, str]:
    editions = LIST_SEPARATOR.join(
        f"{e.year}" + (f" ({e.start.isoformat()}" + (f" → {e.end.isoformat()}" if e.end and e.end != e.start else "")
                       + ")" if e.start else "") + (f" @ {e.place}" if e.place else "")
        for e in initiative.editions
    )
    return {
        "identifiant": initiative.initiative_id,
        "decision": "",
        "fusionner_dans": "",
        "titre": initiative.title,
        "type": initiative.kind,
        "organisateurs": LIST_SEPARATOR.join(initiative.organisers),
        "publics": LIST_SEPARATOR.join(initiative.audience),
        "statut": initiative.status,
        "lieu": initiative.place,
        "contact": initiative.contact,
        "description": initiative.description,
        "editions": editions,
        "sources": LIST_SEPARATOR.join(initiative.evidence),
        "valide": "oui" if initiative.validated else "non",
        "origine": "manuelle" if initiative.origin == "manual" else "détectée",
    }


# ----------------------------------------------------------------------------- reading back


class _Correction(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str = Field(min_length=2)
    kind: Kind
    organisers: tuple[str, ...] = Field(min_length=1)
    audience: tuple[Audience, ...] = Field(min_length=1)
    status: Status
    place: str = ""
    contact: str = ""
    description: str = ""

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: str) -> str:
        return _code_of(value, KIND_LABELS_FR)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: str) -> str:
        return _code_of(value, STATUS_LABELS_FR)

    @field_validator("audience", mode="before")
    @classmethod
    def _audience(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_code_of(v, AUDIENCE_LABELS_FR) for v in value)


def _code_of(value: str, labels: dict[str, str]) -> str:
    """Accept a code ("atelier") or its French label ("Atelier"), whatever the case and accents."""
    folded = fold_for_matching(value)
    for code, label in labels.items():
        if folded in (fold_for_matching(code), fold_for_matching(label)):
            return code
    return value.strip()


def read_decisions(path: Path, known_ids: Collection[str] | None = None) -> tuple[list[Decision], list[CsvError]]:
    """The officer's decisions from the review CSV; if anything is wrong, no decision and every error."""
    name = str(path)
    text, error = _read_text(Path(path))
    if error:
        return [], [CsvError(name, None, "", error)]
    delimiter = ";" if text.split("\n", 1)[0].count(";") >= text.split("\n", 1)[0].count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return [], [CsvError(name, 1, "", "empty file")]
    missing = [c for c in ("identifiant", "decision", "fusionner_dans", *EDITABLE) if c not in header]
    if missing:
        return [], [CsvError(name, 1, "", f"missing column(s): {', '.join(missing)}")]
    decisions, errors = _read_rows(name, reader, header, known_ids)
    return ([], errors) if errors else (decisions, [])


def _read_text(path: Path) -> tuple[str, str | None]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return "", f"cannot read: {exc}"
    for encoding in ("utf-8-sig", "cp1252"):  # cp1252: a CSV saved again by a French spreadsheet
        try:
            return raw.decode(encoding), None
        except UnicodeDecodeError:
            continue
    return "", "not UTF-8 nor Windows-1252 text"


def _read_rows(name: str, reader: Any, header: list[str], known_ids: Collection[str] | None
               ) -> tuple[list[Decision], list[CsvError]]:
    decisions: list[Decision] = []
    errors: list[CsvError] = []
    seen: dict[str, int] = {}
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(CsvError(name, reader.line_num, "", f"malformed CSV: {exc}"))
            break
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            errors.append(CsvError(name, line, "", f"{len(cells)} cells where the header has {len(header)}"))
            continue
        row = {h: c.strip() for h, c in zip(header, cells)}
        decision, row_errors = _decision_of(name, line, row, known_ids)
        errors.extend(row_errors)
        if decision is None:
            continue
        if decision.initiative_id in seen:
            errors.append(CsvError(name, line, "identifiant", f"second decision for {decision.initiative_id!r} "
                                   f"(first on line {seen[decision.initiative_id]})"))
        seen[decision.initiative_id] = line
        decisions.append(decision)
    return decisions, errors


def _decision_of(name: str, line: int, row: dict[str, str], known_ids: Collection[str] | None
                 ) -> tuple[Decision | None, list[CsvError]]:
    word = fold_for_matching(row["decision"])
    if not word:
        return None, []
    initiative_id = row["identifiant"]
    errors = []
    if not initiative_id:
        errors.append(CsvError(name, line, "identifiant", "missing identifier"))
    elif known_ids is not None and initiative_id not in known_ids:
        errors.append(CsvError(name, line, "identifiant", f"unknown initiative {initiative_id!r}"))
    action = ACTIONS.get(word)
    if action is None:
        allowed = "valider, corriger, fusionner, rejeter"
        return None, errors + [CsvError(name, line, "decision", f"unknown decision {row['decision']!r} ({allowed})")]
    if action == "merge":
        return _merge_decision(name, line, initiative_id, row["fusionner_dans"], known_ids, errors)
    fields: tuple[tuple[str, Any], ...] = ()
    if action == "correct":
        fields, field_errors = _corrected_fields(name, line, row)
        errors += field_errors
    return Decision(initiative_id, action, fields, None, line), errors  # type: ignore[arg-type]


def _merge_decision(name: str, line: int, initiative_id: str, target: str, known_ids: Collection[str] | None,
                    errors: list[CsvError]) -> tuple[Decision | None, list[CsvError]]:
    if not target:
        errors.append(CsvError(name, line, "fusionner_dans", "'fusionner' needs the identifier to merge into"))
    elif target == initiative_id:
        errors.append(CsvError(name, line, "fusionner_dans", "an initiative cannot be merged into itself"))
    elif known_ids is not None and target not in known_ids:
        errors.append(CsvError(name, line, "fusionner_dans", f"unknown initiative {target!r}"))
    return Decision(initiative_id, "merge", (), target or None, line), errors


def _corrected_fields(name: str, line: int, row: dict[str, str]) -> tuple[tuple[tuple[str, Any], ...], list[CsvError]]:
    values: dict[str, Any] = {field: row[column] for column, field in EDITABLE.items()}
    for field in ("organisers", "audience"):
        values[field] = tuple(p.strip() for p in values[field].split("|") if p.strip())
    try:
        model = _Correction.model_validate(values)
    except ValidationError as exc:
        columns = {field: column for column, field in EDITABLE.items()}
        return (), [CsvError(name, line, columns.get(str(err["loc"][0]), str(err["loc"][0])),
                             str(err["msg"]).removeprefix("Value error, ")) for err in exc.errors()]
    return tuple(model.model_dump().items()), []
