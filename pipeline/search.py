"""The analysts' full-text index of items: SQLite FTS5 (Python's standard library), beside the snapshot.

DuckDB scans every text for `ILIKE '%...%'` (seconds at a million items) and its full-text
extension cannot be installed everywhere; SQLite's FTS5 answers from an inverted index. The nightly
run adds its new and updated items (`update_index`); analysts query it read-only (`search`) and
fetch the rows from `v_items` by `item_id`. Accents and case are folded (`remove_diacritics 2`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterable

from pipeline.models import Item

SCHEMA = """
CREATE TABLE IF NOT EXISTS indexed_items (rowid INTEGER PRIMARY KEY, item_id TEXT NOT NULL UNIQUE);
CREATE VIRTUAL TABLE IF NOT EXISTS item_text USING fts5(title, text, tokenize = 'unicode61 remove_diacritics 2');
"""


def index_path(published_db: Path) -> Path:
    """veille.duckdb -> veille.search.sqlite, beside the analysts' snapshot."""
    return Path(published_db).with_name(Path(published_db).stem + ".search.sqlite")


def update_index(path: Path, items: Iterable[Item]) -> int:
    """Add or replace these items in the index; return how many were written."""
    count = 0
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")  # analysts keep reading while the run writes
        conn.executescript(SCHEMA)
        for item in items:
            _upsert(conn, item)
            count += 1
    return count


def _upsert(conn: sqlite3.Connection, item: Item) -> None:
    row = conn.execute("SELECT rowid FROM indexed_items WHERE item_id = ?", (item.item_id,)).fetchone()
    if row:
        conn.execute("DELETE FROM item_text WHERE rowid = ?", row)
        rowid = row[0]
    else:
        rowid = conn.execute("INSERT INTO indexed_items (item_id) VALUES (?)", (item.item_id,)).lastrowid
    conn.execute("INSERT INTO item_text (rowid, title, text) VALUES (?, ?, ?)", (rowid, item.title, item.text))


def search(path: Path, query: str, limit: int = 100) -> list[str]:
    """Item ids matching an FTS5 query (`hydrogène`, `"hydrogène vert"`, `climat AND glacier`),
    best first; the index is opened read-only."""
    with sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            """SELECT i.item_id FROM item_text JOIN indexed_items i ON i.rowid = item_text.rowid
               WHERE item_text MATCH ? ORDER BY rank LIMIT ?""", (query, limit)).fetchall()
    return [r[0] for r in rows]


def phrase(words: str) -> str:
    """An FTS5 phrase query for plain words typed by a person (quotes doubled)."""
    return '"' + words.replace('"', '""') + '"'
