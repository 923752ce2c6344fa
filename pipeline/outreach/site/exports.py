"""The catalogue as files: CSV and Parquet exports, and the data script the map pages load.

The data is a plain script (`window.INITIATIVES = [...]`) rather than a JSON file: pages opened
from a file share (file://) cannot fetch JSON in Chromium, but they can load a script.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.outreach.catalogue import AUDIENCE_LABELS_FR, KIND_LABELS_FR, STATUS_LABELS_FR, Initiative
from pipeline.outreach.site.views import search_record

CSV_COLUMNS = ("identifiant", "titre", "type", "type_libelle", "organisateurs", "publics", "statut", "annees",
               "lieu", "contact", "description", "sources", "origine", "valide")
_SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def data_script(initiatives: Sequence[Initiative]) -> str:
    """`window.INITIATIVES = [...]`, with every character that could end the script escaped."""
    payload = json.dumps([search_record(i) for i in initiatives], ensure_ascii=False, separators=(",", ":"))
    for char, escaped in _SCRIPT_UNSAFE.items():
        payload = payload.replace(char, escaped)
    return f"window.INITIATIVES = {payload};\n"


def write_csv(initiatives: Sequence[Initiative], path: Path) -> None:
    """Semicolon-separated UTF-8 with BOM (opens as is in a French spreadsheet); lists joined by " | "."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for i in initiatives:
        writer.writerow([
            i.initiative_id, _cell(i.title), i.kind, KIND_LABELS_FR[i.kind], _cell(" | ".join(i.organisers)),
            " | ".join(AUDIENCE_LABELS_FR[a] for a in i.audience), STATUS_LABELS_FR[i.status],
            " | ".join(str(y) for y in i.years), _cell(i.place), _cell(i.contact), _cell(i.description),
            " | ".join(i.evidence), "manuelle" if i.origin == "manual" else "détectée", "oui" if i.validated else "non",
        ])
    path.write_text(buffer.getvalue(), encoding="utf-8-sig", newline="")


def _cell(value: str) -> str:
    """Defuse spreadsheet formulas in crawled text ("=HYPERLINK(...)" would run when opened)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def write_parquet(initiatives: Sequence[Initiative], path: Path) -> None:
    edition = pa.struct([("year", pa.int32()), ("start", pa.date32()), ("end", pa.date32()), ("place", pa.string())])
    schema = pa.schema([
        ("initiative_id", pa.string()), ("title", pa.string()), ("kind", pa.string()),
        ("organisers", pa.list_(pa.string())), ("audience", pa.list_(pa.string())), ("status", pa.string()),
        ("editions", pa.list_(edition)), ("place", pa.string()), ("contact", pa.string()),
        ("evidence", pa.list_(pa.string())), ("origin", pa.string()), ("validated", pa.bool_()),
        ("description", pa.string()),
    ])
    rows = [{
        "initiative_id": i.initiative_id, "title": i.title, "kind": i.kind, "organisers": list(i.organisers),
        "audience": list(i.audience), "status": i.status,
        "editions": [{"year": e.year, "start": e.start, "end": e.end, "place": e.place} for e in i.editions],
        "place": i.place, "contact": i.contact, "evidence": list(i.evidence), "origin": i.origin,
        "validated": i.validated, "description": i.description,
    } for i in initiatives]
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
