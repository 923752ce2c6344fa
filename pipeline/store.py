"""The only DuckDB module: schema, migrations, writes, reads and the analysts' snapshot.

Two files (see docs/schema.md, "Two files"):
- the *working* file (`veille.work.duckdb`), opened read-write by one pipeline process at a time;
- the *published* file (`veille.duckdb`), a copy made after each run and swapped in with an atomic
  rename. Analysts open the published file read-only; they never block a run and never see a
  half-written one: an open connection keeps reading the snapshot it opened.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import duckdb
import pyarrow as pa

from pipeline.outreach.catalogue import Edition, Initiative
from pipeline.models import (
    Candidate,
    CrawlResult,
    Item,
    Prediction,
    Publication,
    Source,
    SourceHealth,
    SourceOutcome,
    SourceState,
    Validator,
)
from pipeline.outputs import PathUnusable, not_a_folder, writable_folder
from pipeline.schema import CLUSTER_COVERAGE, ITEM_TAGS, MIGRATIONS, SOURCE_RHYTHM, VIEWS

log = logging.getLogger(__name__)
LOCK_WAIT_S = 600.0  # how long a run waits for another pipeline process to release the working file


class StoreUnavailable(PathUnusable):
    """The database cannot be used at its path (bad path, unwritable, not a DuckDB file, held);
    the message is one line naming the path and what to fix."""


class StoreBusy(StoreUnavailable):
    """Another pipeline process holds the working file for longer than we wait."""


def working_path(published: Path) -> Path:
    """The working file that sits beside the published one: veille.duckdb -> veille.work.duckdb."""
    return published.with_name(published.stem + ".work" + (published.suffix or ".duckdb"))


@contextmanager
def open_store(published: Path, wait_s: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the working file read-write (migrating it), waiting while another run holds it
    (LOCK_WAIT_S unless `wait_s` says otherwise); inside keep_open, a cursor of its shared connection."""
    wait_s = LOCK_WAIT_S if wait_s is None else wait_s
    kept = _kept.get(_kept_key(published))
    conn = kept.cursor(wait_s) if kept is not None else _open_migrated(Path(published), wait_s)
    try:
        yield conn
    finally:
        conn.close()


def _open_migrated(published: Path, wait_s: float) -> duckdb.DuckDBPyConnection:
    check_writable(published)
    conn = _connect_waiting(working_path(published), wait_s)
    try:
        conn.execute("SET TimeZone = 'UTC'")
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


class _KeptConnection:
    """The connection keep_open shares: opened at its first use, closed by let_go."""

    def __init__(self, published: Path):
        self.published = published
        self.conn: duckdb.DuckDBPyConnection | None = None
        self.lock = threading.Lock()

    def cursor(self, wait_s: float) -> duckdb.DuckDBPyConnection:
        with self.lock:
            if self.conn is None:
                self.conn = _open_migrated(self.published, wait_s)
            cursor = self.conn.cursor()  # a connection of its own to the same database
        cursor.execute("SET TimeZone = 'UTC'")  # a setting of each connection
        return cursor

    def let_go(self) -> None:
        with self.lock:
            if self.conn is not None:
                self.conn.close()  # checkpoints the file
                self.conn = None


_kept: dict[Path, _KeptConnection] = {}  # working file -> its shared connection, inside keep_open


def _kept_key(published: Path) -> Path:
    return working_path(Path(published)).absolute()


@contextmanager
def keep_open(published: Path) -> Iterator[Callable[[], None]]:
    """Within the block, every open_store(published) of this process uses one shared connection:
    opening and migrating the working file costs ~35 ms, which a short run would pay at each stage.
    Yields `let_go`, which closes it until its next use (before a long crawl, so that the officer's
    commands can use the file meanwhile); publish_snapshot lets go too, before copying the file.
    Inside an outer keep_open of the same file, the outer one's connection is used and kept."""
    path = _kept_key(published)
    if path in _kept:
        yield _kept[path].let_go
        return
    kept = _kept[path] = _KeptConnection(Path(published))
    try:
        yield kept.let_go
    finally:
        del _kept[path]
        kept.let_go()


def _connect_waiting(path: Path, wait_s: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_s
    delay = 0.2
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise StoreUnavailable(f"{path} cannot be opened: {_first_line(exc)}") from exc
            if time.monotonic() >= deadline:
                raise StoreBusy(f"{path} is held by another process ({_first_line(exc)}): wait for it to end, then run again") from exc
        except duckdb.Error as exc:
            raise StoreUnavailable(f"{path} is not a usable DuckDB database: {_first_line(exc)}") from exc
        log.info("working database %s is busy; waiting %.1f s", path, delay)
        time.sleep(delay)
        delay = min(delay * 2, 10.0)


def check_writable(published: Path) -> None:
    """Raise StoreUnavailable (one line naming the path) unless the database's folder exists or can
    be created and is writable, and neither database path is a folder."""
    try:
        writable_folder(published.parent, "--db")
        for path in (published, working_path(published)):
            not_a_folder(path, "--db")
    except PathUnusable as exc:
        raise StoreUnavailable(str(exc)) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def migrate(conn: duckdb.DuckDBPyConnection) -> int:
    """Bring the schema to the latest version; return that version."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, applied_at TIMESTAMPTZ)")
    current = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
    for version, script in enumerate(MIGRATIONS, start=1):
        if version > current:
            conn.execute("BEGIN")
            conn.execute(script)
            conn.execute("INSERT INTO schema_version VALUES (?, now())", [version])
            conn.execute("COMMIT")
            log.info("database migrated to schema version %d", version)
    for view in VIEWS:
        conn.execute(view)
    return len(MIGRATIONS)


def publish_snapshot(published: Path) -> Path:
    """Copy the working file to the published path atomically (temp file + rename)."""
    published = Path(published)
    source = working_path(published)
    kept = _kept.get(_kept_key(published))
    if kept is not None:
        kept.let_go()  # its last changes are written to the file when it closes
    tmp = published.with_name(f".{published.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(source, tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, published)
    except OSError as exc:
        raise StoreUnavailable(f"cannot publish the snapshot {published}: {exc.strerror or exc}") from exc
    return published


def export_parquet(published: Path, out_dir: Path) -> dict[str, Path]:
    """The analysts' views as Parquet, read from the snapshot: v_items partitioned by the month items
    were first seen (`items/month=2026-11/*.parquet`), v_clusters and v_source_health as one file each."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"items": out_dir / "items", "clusters": out_dir / "clusters.parquet",
             "source_health": out_dir / "source_health.parquet"}
    with duckdb.connect(str(published), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute(f"""COPY (SELECT *, strftime(first_seen_at, '%Y-%m') AS month FROM v_items)
                         TO {_sql_path(paths['items'])} (FORMAT parquet, PARTITION_BY (month), OVERWRITE)""")
        conn.execute(f"COPY v_clusters TO {_sql_path(paths['clusters'])} (FORMAT parquet)")
        conn.execute(f"COPY v_source_health TO {_sql_path(paths['source_health'])} (FORMAT parquet)")
    return paths


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


# --- sources and crawl state -------------------------------------------------------------------


def save_sources(conn: duckdb.DuckDBPyConnection, sources: Sequence[Source], now: datetime) -> None:
    rows = [(s.id, s.name, s.kind, s.url, s.category, s.enabled, now) for s in sources]
    _execute_many(conn, 
        """INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (source_id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
             url = excluded.url, declared_category = excluded.declared_category,
             enabled = excluded.enabled, updated_at = excluded.updated_at""",
        rows,
    )


def load_states(conn: duckdb.DuckDBPyConnection, sources: Sequence[Source]) -> dict[str, SourceState]:
    """Validators and known item URLs per source, for conditional GET and incremental crawls."""
    validators = {
        url: Validator(url, etag, modified)
        for url, etag, modified in conn.execute("SELECT url, etag, last_modified FROM validators").fetchall()
    }
    known: dict[str, set[str]] = {}
    for source_id, url in conn.execute("SELECT source_id, url FROM items UNION ALL SELECT source_id, url FROM empty_pages").fetchall():
        known.setdefault(source_id, set()).add(url)
    done = {row[0] for row in conn.execute(
        "SELECT source_id FROM v_source_health WHERE last_success_at IS NOT NULL AND backfill_total IS NULL").fetchall()}
    waits = _retry_times(conn)
    templates = _load_templates(conn)
    return {
        s.id: SourceState(validators=validators, known_urls=frozenset(known.get(s.id, ())), first_run=s.id not in done,
                          retry_at=waits.get(s.id), template=templates.get(s.id, {}))
        for s in sources
    }


def _retry_times(conn: duckdb.DuckDBPyConnection) -> dict[str, datetime]:
    """source_id -> the time its server asked not to be asked before, from its last outcome."""
    rows = conn.execute("SELECT source_id, retry_at FROM v_source_health WHERE retry_at IS NOT NULL").fetchall()
    return dict(rows)


def start_run(conn: duckdb.DuckDBPyConnection, kind: str, now: datetime) -> str:
    run_id = f"{kind}-{now.strftime('%Y%m%dT%H%M%S%f')}"
    conn.execute("INSERT INTO runs (run_id, kind, started_at, status) VALUES (?, ?, ?, 'running')", [run_id, kind, now])
    return run_id


def finish_run(conn: duckdb.DuckDBPyConnection, run_id: str, status: str, counts: dict[str, int], now: datetime) -> None:
    conn.execute(
        """UPDATE runs SET finished_at = ?, status = ?, sources_ok = ?, sources_failed = ?, items_new = ?,
           items_updated = ?, items_failed = ? WHERE run_id = ?""",
        [now, status, counts.get("sources_ok", 0), counts.get("sources_failed", 0), counts.get("items_new", 0),
         counts.get("items_updated", 0), counts.get("items_failed", 0), run_id],
    )


def save_item_failures(conn: duckdb.DuckDBPyConnection, run_id: str, failures: Sequence[Any], now: datetime) -> None:
    """Record items a step could not handle: each failure has item_id, source_id, stage, code, detail."""
    _execute_many(conn, "INSERT INTO item_failures VALUES (?, ?, ?, ?, ?, ?, ?)",
                  [(run_id, f.item_id, f.source_id, f.stage, f.code, f.detail, now) for f in failures])


def count_item_failures(conn: duckdb.DuckDBPyConnection, run_id: str) -> int:
    return conn.execute("SELECT count(*) FROM item_failures WHERE run_id = ?", [run_id]).fetchone()[0]


def save_crawl(conn: duckdb.DuckDBPyConnection, run_id: str, results: Sequence[CrawlResult], now: datetime) -> tuple[list[Item], list[Item]]:
    """Store outcomes, validators and items; return (new items, updated items)."""
    outcomes = [r.outcome for r in results]
    _insert_arrow(conn, "fetch_log", _outcome_table(run_id, outcomes))
    validators = {v.url: v for r in results for v in r.validators}
    if validators:
        _execute_many(conn, 
            """INSERT INTO validators VALUES (?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET
               etag = excluded.etag, last_modified = excluded.last_modified, updated_at = excluded.updated_at""",
            [(v.url, v.etag, v.last_modified, now) for v in validators.values()],
        )
    empty = {url: (url, r.source_id, code, now) for r in results for url, code in r.empty_pages}
    _execute_many(conn, """INSERT INTO empty_pages VALUES (?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET
                           error_code = excluded.error_code, seen_at = excluded.seen_at""", list(empty.values()))
    _save_templates(conn, [(r.source_id, r.template) for r in results if r.template is not None], now)
    items = _unique_items(item for r in results for item in r.items)
    _upsert_publications(conn, [i for i in items if i.publication is not None], now)
    new, updated = _upsert_items(conn, items, now)
    refresh_source_rhythm(conn, sorted({i.source_id for i in new + updated}))
    return new, updated


def _save_templates(conn: duckdb.DuckDBPyConnection, templates: Sequence[tuple[str, dict]], now: datetime) -> None:
    _execute_many(conn, "INSERT OR REPLACE INTO source_templates VALUES (?, ?, ?)",
                  [(source_id, json.dumps({role: sorted(texts) for role, texts in t.items()}), now)
                   for source_id, t in templates])


def _load_templates(conn: duckdb.DuckDBPyConnection) -> dict[str, dict[str, frozenset[str]]]:
    rows = conn.execute("SELECT source_id, template FROM source_templates").fetchall()
    return {source_id: {role: frozenset(texts) for role, texts in json.loads(t).items()} for source_id, t in rows}


def _upsert_publications(conn: duckdb.DuckDBPyConnection, items: Sequence[Item], now: datetime) -> None:
    _execute_many(conn,
        """INSERT OR REPLACE INTO publications VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [(i.item_id, p.hal_id, p.doc_type, list(p.authors), p.journal, p.conference, p.doi, p.open_access,
          p.pdf_url, now) for i in items if (p := i.publication) is not None],
    )


def deposit_clusters(conn: duckdb.DuckDBPyConnection, references: Sequence[str]) -> dict[str, str]:
    """{reference: cluster id of the deposit} for references "doi:..." / "hal:..." of stored deposits."""
    dois = [r[4:] for r in references if r.startswith("doi:")]
    hal_ids = [r[4:] for r in references if r.startswith("hal:")]
    if not dois and not hal_ids:
        return {}
    rows = conn.execute(
        """SELECT p.doi, lower(p.hal_id), i.cluster_id FROM publications p JOIN items i USING (item_id)
           WHERE i.cluster_id IS NOT NULL AND (p.doi IN (SELECT unnest(?)) OR lower(p.hal_id) IN (SELECT unnest(?)))""",
        [dois, hal_ids]).fetchall()
    found = {}
    for doi, hal_id, cluster_id in rows:
        if doi:
            found["doi:" + doi] = cluster_id
        found["hal:" + hal_id] = cluster_id
    return found


def items_citing(conn: duckdb.DuckDBPyConnection, needles: Sequence[str], since: datetime) -> list[str]:
    """Ids of stored items, not deposits, published since `since`, whose text contains one of `needles`
    (lower-case DOIs or HAL ids)."""
    if not needles:
        return []
    rows = conn.execute(
        """SELECT DISTINCT i.item_id FROM items i, (SELECT unnest(?) AS needle) n
           WHERE i.cluster_id IS NOT NULL AND i.item_id NOT IN (SELECT item_id FROM publications)
             AND coalesce(i.published_at, i.first_seen_at) >= ?
             AND contains(lower(i.title || ' ' || coalesce(i.summary, '') || ' ' || coalesce(i.text, '')), n.needle)""",
        [list(needles), since]).fetchall()
    return [r[0] for r in rows]


def cluster_ids(conn: duckdb.DuckDBPyConnection, item_ids: Sequence[str]) -> dict[str, str]:
    if not item_ids:
        return {}
    return dict(conn.execute("SELECT item_id, cluster_id FROM items WHERE item_id IN (SELECT unnest(?)) "
                             "AND cluster_id IS NOT NULL", [list(item_ids)]).fetchall())


def merge_clusters(conn: duckdb.DuckDBPyConnection, merges: dict[str, str]) -> None:
    """Move every item of each source cluster into its target cluster (cluster_match 'publication')."""
    for source, target in merges.items():
        conn.execute("UPDATE items SET cluster_id = ?, cluster_match = 'publication' WHERE cluster_id = ?",
                     [target, source])
        conn.execute("DELETE FROM clusters WHERE cluster_id = ?", [source])
        conn.execute("DELETE FROM cluster_coverage WHERE cluster_id = ?", [source])  # v_clusters forgets it


def load_publications(conn: duckdb.DuckDBPyConnection, item_ids: Sequence[str]) -> dict[str, Publication]:
    """The Publication of each of `item_ids` that is a HAL deposit."""
    if not item_ids:
        return {}
    rows = conn.execute(
        """SELECT item_id, hal_id, doc_type, authors, journal, conference, doi, open_access, pdf_url
           FROM publications WHERE item_id IN (SELECT unnest(?))""", [list(item_ids)]).fetchall()
    return {r[0]: Publication(r[1], r[2], tuple(r[3]), r[4] or "", r[5] or "", r[6], bool(r[7]), r[8]) for r in rows}


def _unique_items(items: Iterable[Item]) -> list[Item]:
    by_id: dict[str, Item] = {}
    for item in items:
        by_id.setdefault(item.item_id, item)
    return list(by_id.values())


def _upsert_items(conn: duckdb.DuckDBPyConnection, items: Sequence[Item], now: datetime) -> tuple[list[Item], list[Item]]:
    if not items:
        return [], []
    existing = dict(
        conn.execute(
            "SELECT item_id, content_hash FROM items WHERE item_id IN (SELECT unnest(?))", [[i.item_id for i in items]]
        ).fetchall()
    )
    new = [i for i in items if i.item_id not in existing]
    updated = [i for i in items if i.item_id in existing and existing[i.item_id] != i.content_hash]
    changed = new + updated
    if changed:
        table = _items_table(changed, now)
        conn.register("incoming_items", table)
        conn.execute(
            f"""INSERT INTO items ({', '.join(ITEM_COLUMNS)}) SELECT {', '.join(ITEM_COLUMNS)} FROM incoming_items
                ON CONFLICT (item_id) DO UPDATE SET title = excluded.title, text = excluded.text,
                  summary = excluded.summary, published_at = coalesce(excluded.published_at, items.published_at),
                  date_source = CASE WHEN excluded.published_at IS NULL THEN items.date_source
                                     ELSE excluded.date_source END,
                  lang = excluded.lang, image_url = excluded.image_url, content_hash = excluded.content_hash,
                  updated_at = excluded.updated_at"""
        )
        conn.unregister("incoming_items")
    return new, updated


ITEM_COLUMNS = (
    "item_id", "source_id", "url", "title", "published_at", "first_seen_at", "updated_at",
    "lang", "text", "summary", "image_url", "guid", "content_hash", "date_source",
)


def _items_table(items: Sequence[Item], now: datetime) -> pa.Table:
    rows = [asdict(i) for i in items]
    columns: dict[str, list[Any]] = {name: [r.get(name) for r in rows] for name in ITEM_COLUMNS}
    columns["first_seen_at"] = [now] * len(rows)
    columns["updated_at"] = [now] * len(rows)
    schema = pa.schema(
        [(name, pa.timestamp("us", tz="UTC") if name.endswith("_at") else pa.string()) for name in ITEM_COLUMNS]
    )
    return pa.table(columns, schema=schema)


def _outcome_table(run_id: str, outcomes: Sequence[SourceOutcome]) -> pa.Table:
    rows = [asdict(o) for o in outcomes]
    table = pa.Table.from_pylist(rows, schema=OUTCOME_SCHEMA) if rows else OUTCOME_SCHEMA.empty_table()
    return table.append_column("run_id", pa.array([run_id] * len(rows), pa.string()))


OUTCOME_SCHEMA = pa.schema(
    [
        ("source_id", pa.string()), ("started_at", pa.timestamp("us", tz="UTC")), ("status", pa.string()),
        ("error_code", pa.string()), ("error_detail", pa.string()), ("http_status", pa.int32()),
        ("pages_fetched", pa.int32()), ("items_found", pa.int32()), ("page_errors", pa.int32()),
        ("duration_s", pa.float64()), ("listing_pages", pa.int32()), ("item_pages", pa.int32()),
        ("backfill_done", pa.int32()), ("backfill_total", pa.int32()), ("retry_at", pa.timestamp("us", tz="UTC")),
    ]
)


def _execute_many(conn: duckdb.DuckDBPyConnection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """executemany for small batches, which DuckDB refuses when there is nothing to do."""
    if rows:
        conn.executemany(sql, rows)


def _insert_arrow(conn: duckdb.DuckDBPyConnection, table_name: str, table: pa.Table) -> None:
    if table.num_rows == 0:
        return
    conn.register("incoming", table)
    columns = ", ".join(table.column_names)
    conn.execute(f"INSERT INTO {table_name} ({columns}) SELECT {columns} FROM incoming")
    conn.unregister("incoming")


def load_memo(conn: duckdb.DuckDBPyConnection, step: str) -> tuple[str, str] | None:
    """(inputs_key, result) last saved for `step` (see step_memos), or None."""
    rows = conn.execute("SELECT inputs_key, result FROM step_memos WHERE step = ?", [step]).fetchall()
    return (rows[0][0], rows[0][1]) if rows else None


def save_memo(conn: duckdb.DuckDBPyConnection, step: str, inputs_key: str, result: str, now: datetime) -> None:
    conn.execute("""INSERT INTO step_memos VALUES (?, ?, ?, ?) ON CONFLICT (step) DO UPDATE SET
                    inputs_key = excluded.inputs_key, result = excluded.result, saved_at = excluded.saved_at""",
                 [step, inputs_key, result, now])


def load_timeless_scores(conn: duckdb.DuckDBPyConnection, item_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """item_id -> (inputs_key, timeless score as JSON) saved by the last scoring of these items."""
    if not item_ids:
        return {}
    rows = conn.execute("SELECT item_id, inputs_key, timeless FROM timeless_scores WHERE item_id IN (SELECT unnest(?))",
                        [list(item_ids)]).fetchall()
    return {item_id: (key, timeless) for item_id, key, timeless in rows}


def save_timeless_scores(conn: duckdb.DuckDBPyConnection, rows: Sequence[tuple[str, str, str]], kept: Sequence[str],
                         now: datetime) -> None:
    """Store (item_id, inputs_key, timeless JSON) rows and forget the items that are not in `kept` (no
    longer scored)."""
    conn.execute("DELETE FROM timeless_scores WHERE item_id NOT IN (SELECT unnest(?))", [list(kept)])
    if not rows:
        return
    table = pa.table({
        "item_id": [item_id for item_id, _, _ in rows],
        "inputs_key": [key for _, key, _ in rows],
        "timeless": [timeless for _, _, timeless in rows],
        "saved_at": pa.array([now] * len(rows), pa.timestamp("us", tz="UTC")),
    })
    conn.register("incoming_timeless", table)
    conn.execute("""INSERT INTO timeless_scores SELECT * FROM incoming_timeless ON CONFLICT (item_id) DO UPDATE SET
                    inputs_key = excluded.inputs_key, timeless = excluded.timeless, saved_at = excluded.saved_at""")
    conn.unregister("incoming_timeless")


# --- reads for the later stages ------------------------------------------------------------------


def load_items(conn: duckdb.DuckDBPyConnection, item_ids: Sequence[str]) -> list[Item]:
    if not item_ids:
        return []
    rows = conn.execute(
        """SELECT item_id, source_id, url, title, published_at, text, summary, lang, image_url, guid, content_hash
           FROM items WHERE item_id IN (SELECT unnest(?))""",
        [list(item_ids)],
    ).fetchall()
    return [_row_to_item(r) for r in rows]


def _row_to_item(row: Sequence[Any]) -> Item:
    (item_id, source_id, url, title, published_at, text, summary, lang, image_url, guid, content_hash) = row
    return Item(
        item_id=item_id, source_id=source_id, url=url, title=title, published_at=published_at, text=text or "",
        summary=summary or "", lang=lang, image_url=image_url, guid=guid, content_hash=content_hash or "",
    )


def items_to_tag(conn: duckdb.DuckDBPyConnection, model_version: str) -> list[Item]:
    """Items with no prediction from this model version."""
    ids = [
        r[0]
        for r in conn.execute(
            """SELECT i.item_id FROM items i LEFT JOIN predictions p USING (item_id)
               WHERE p.model_version IS DISTINCT FROM ?""",
            [model_version],
        ).fetchall()
    ]
    return load_items(conn, ids)


def save_predictions(conn: duckdb.DuckDBPyConnection, predictions: Sequence[Prediction], now: datetime) -> None:
    if not predictions:
        return
    table = pa.table(
        {
            "item_id": [p.item_id for p in predictions],
            "category": [p.category for p in predictions],
            "confidence": pa.array([p.confidence for p in predictions], pa.float64()),
            "model_version": [p.model_version for p in predictions],
            "predicted_at": pa.array([now] * len(predictions), pa.timestamp("us", tz="UTC")),
        }
    )
    conn.register("incoming_predictions", table)
    conn.execute(
        """INSERT INTO predictions SELECT * FROM incoming_predictions ON CONFLICT (item_id) DO UPDATE SET
           category = excluded.category, confidence = excluded.confidence,
           model_version = excluded.model_version, predicted_at = excluded.predicted_at"""
    )
    conn.unregister("incoming_predictions")
    refresh_item_tags(conn, [p.item_id for p in predictions])


def refresh_item_tags(conn: duckdb.DuckDBPyConnection, item_ids: Sequence[str]) -> None:
    """Copy the current category and worthiness of these items (predictions, labels, worthiness)
    into their rows of `items`, which v_items reads."""
    if not item_ids:
        return
    conn.register("touched_items", pa.table({"item_id": pa.array(list(item_ids), pa.string())}))
    conn.execute(ITEM_TAGS.format(touched="touched_items"))
    conn.unregister("touched_items")


def refresh_source_rhythm(conn: duckdb.DuckDBPyConnection, source_ids: Sequence[str]) -> None:
    """Recompute the publishing rhythm (`source_rhythm`, read by v_source_health) of these sources."""
    if not source_ids:
        return
    conn.register("touched_sources", pa.table({"source_id": pa.array(list(source_ids), pa.string())}))
    conn.execute("DELETE FROM source_rhythm WHERE source_id IN (SELECT source_id FROM touched_sources)")
    conn.execute("INSERT INTO source_rhythm " + SOURCE_RHYTHM.format(touched="touched_sources"))
    conn.unregister("touched_sources")


def save_clusters(conn: duckdb.DuckDBPyConnection, assignments: Sequence[tuple[str, str, str]]) -> None:
    """Store (item_id, cluster_id, match) for items; clusters are then recomputed from items."""
    if not assignments:
        return
    table = pa.table({k: [a[i] for a in assignments] for i, k in enumerate(("item_id", "cluster_id", "match"))})
    conn.register("incoming_clusters", table)
    conn.execute(
        """UPDATE items SET cluster_id = c.cluster_id, cluster_match = c.match
           FROM incoming_clusters c WHERE items.item_id = c.item_id"""
    )
    conn.unregister("incoming_clusters")


def save_representatives(conn: duckdb.DuckDBPyConnection, representatives: dict[str, str]) -> None:
    """Record the representative item of each cluster (cluster_id -> item_id)."""
    if not representatives:
        return
    _execute_many(conn, 
        """INSERT INTO clusters (cluster_id, representative_item_id) VALUES (?, ?)
           ON CONFLICT (cluster_id) DO UPDATE SET representative_item_id = excluded.representative_item_id""",
        list(representatives.items()),
    )


def refresh_cluster_coverage(conn: duckdb.DuckDBPyConnection, cluster_ids: Sequence[str]) -> None:
    """Recompute the coverage rows (v_clusters) of these stories from their items."""
    if not cluster_ids:
        return
    conn.register("touched_clusters", pa.table({"cluster_id": list(cluster_ids)}))
    conn.execute("DELETE FROM cluster_coverage WHERE cluster_id IN (SELECT cluster_id FROM touched_clusters)")
    conn.execute("INSERT INTO cluster_coverage " + CLUSTER_COVERAGE.format(
        only="AND i.cluster_id IN (SELECT cluster_id FROM touched_clusters)"))
    conn.unregister("touched_clusters")


def save_bands(conn: duckdb.DuckDBPyConnection, bands: Sequence[tuple[str, int]]) -> None:
    if not bands:
        return
    table = pa.table(
        {"item_id": [b[0] for b in bands], "band_key": pa.array([int(b[1]) for b in bands], pa.int64())}
    )
    conn.register("incoming_bands", table)
    conn.execute("DELETE FROM item_bands WHERE item_id IN (SELECT DISTINCT item_id FROM incoming_bands)")
    conn.execute("INSERT INTO item_bands SELECT item_id, band_key FROM incoming_bands")
    conn.unregister("incoming_bands")


def load_window(conn: duckdb.DuckDBPyConnection, since: datetime, band_keys: Sequence[int]) -> dict[str, Any]:
    """The part of the dedupe window that can match: stored items first seen since `since` and
    sharing at least one band key with the new items, as numpy arrays (one row per item and key)."""
    conn.register("wanted_keys", pa.table({"band_key": pa.array(list(band_keys), pa.int64())}))
    arrays = conn.execute(
        """WITH hits AS (
             SELECT DISTINCT b.item_id FROM item_bands b JOIN wanted_keys w USING (band_key))
           SELECT b.item_id, i.cluster_id, b.band_key, epoch(coalesce(i.published_at, i.first_seen_at)) AS ts
           FROM hits JOIN item_bands b USING (item_id) JOIN items i USING (item_id)
           WHERE i.first_seen_at >= ? AND i.cluster_id IS NOT NULL ORDER BY b.item_id""",
        [since],
    ).fetchnumpy()
    conn.unregister("wanted_keys")
    return {k: arrays[k] for k in ("item_id", "cluster_id", "band_key", "ts")}


def save_mentions(conn: duckdb.DuckDBPyConnection, mentions: Sequence[tuple[str, str]], now: datetime) -> None:
    """Record (container item id, item id): a page that holds the item among other things."""
    if not mentions:
        return
    _execute_many(conn, "INSERT INTO item_mentions VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                  [(container, item, now) for container, item in dict.fromkeys(mentions)])


def container_ids(conn: duckdb.DuckDBPyConnection, item_ids: Sequence[str]) -> list[str]:
    """Those of `item_ids` known to hold other items (newsletters, listings)."""
    if not item_ids:
        return []
    rows = conn.execute("SELECT DISTINCT container_item_id FROM item_mentions WHERE container_item_id IN "
                        "(SELECT unnest(?))", [list(item_ids)]).fetchall()
    return [r[0] for r in rows]


def save_worthiness(conn: duckdb.DuckDBPyConnection, scores: Sequence[tuple[str, float, str]], now: datetime) -> None:
    if not scores:
        return
    table = pa.table({  # one statement over an Arrow table: executemany cost ~6 ms a row
        "item_id": [item_id for item_id, _, _ in scores],
        "score": pa.array([score for _, score, _ in scores], pa.float64()),
        "reasons": pa.array([reasons for _, _, reasons in scores], pa.string()),
        "scored_at": pa.array([now] * len(scores), pa.timestamp("us", tz="UTC")),
    })
    conn.register("incoming_worthiness", table)
    conn.execute(
        """INSERT INTO worthiness SELECT * FROM incoming_worthiness ON CONFLICT (item_id) DO UPDATE SET
           score = excluded.score, reasons = excluded.reasons, scored_at = excluded.scored_at""")
    conn.unregister("incoming_worthiness")
    refresh_item_tags(conn, [item_id for item_id, _, _ in scores])


def cluster_members(conn: duckdb.DuckDBPyConnection, cluster_ids: Sequence[str]) -> dict[str, list[Item]]:
    """Every item of the given clusters, by cluster id."""
    if not cluster_ids:
        return {}
    rows = conn.execute(
        "SELECT cluster_id, item_id FROM items WHERE cluster_id IN (SELECT unnest(?))", [list(cluster_ids)]
    ).fetchall()
    by_id = {i.item_id: i for i in load_items(conn, [r[1] for r in rows])}
    members: dict[str, list[Item]] = {}
    for cluster_id, item_id in rows:
        members.setdefault(cluster_id, []).append(by_id[item_id])
    return members


def load_candidates(conn: duckdb.DuckDBPyConnection, since: datetime, until: datetime) -> list[Candidate]:
    """One candidate per cluster whose first item was seen in [since, until), tagged items only."""
    rows = conn.execute(
        """WITH story AS (
             SELECT i.cluster_id, min(i.first_seen_at) AS first_seen, list(DISTINCT s.name ORDER BY s.name) AS names
             FROM items i JOIN sources s USING (source_id) WHERE i.cluster_id IS NOT NULL GROUP BY i.cluster_id),
           first_crawl AS (SELECT source_id, min(first_seen_at) AS added FROM items GROUP BY source_id)
           SELECT r.item_id, r.source_id, r.url, r.title, r.published_at, r.text, r.summary, r.lang, r.image_url,
                  r.guid, r.content_hash, s.name, story.first_seen, coalesce(l.category, p.category),
                  CASE WHEN l.category IS NULL THEN p.confidence ELSE 1.0 END, story.cluster_id,
                  story.names, s.declared_category,
                  r.published_at IS NULL AND r.first_seen_at < f.added + INTERVAL 12 HOUR
           FROM story
           JOIN clusters c ON c.cluster_id = story.cluster_id
           JOIN items r ON r.item_id = c.representative_item_id
           JOIN sources s ON s.source_id = r.source_id
           JOIN first_crawl f ON f.source_id = r.source_id
           JOIN predictions p ON p.item_id = r.item_id
           LEFT JOIN labels l ON l.item_id = r.item_id
           WHERE story.first_seen >= ? AND story.first_seen < ?""",
        [since, until],
    ).fetchall()
    candidates = [
        Candidate(
            item=_row_to_item(r[:11]), source_name=r[11], first_seen_at=r[12], category=r[13],
            confidence=r[14], cluster_id=r[15], cluster_sources=tuple(r[16]), declared_category=r[17],
            undated_backlog=bool(r[18]),
        )
        for r in rows
    ]
    return _with_publications(conn, candidates)


def _with_publications(conn: duckdb.DuckDBPyConnection, candidates: list[Candidate]) -> list[Candidate]:
    """Candidates with their story's HAL deposits and how many of its items are not deposits."""
    rows = conn.execute(
        """SELECT i.cluster_id, i.item_id, p.item_id IS NOT NULL FROM items i LEFT JOIN publications p USING (item_id)
           WHERE i.cluster_id IN (SELECT unnest(?)) ORDER BY i.cluster_id, i.item_id""",
        [[c.cluster_id for c in candidates]]).fetchall()
    if not any(is_deposit for _, _, is_deposit in rows):
        return candidates
    publications = load_publications(conn, [item_id for _, item_id, is_deposit in rows if is_deposit])
    deposits: dict[str, list[Publication]] = {}
    news: dict[str, int] = {}
    for cluster_id, item_id, is_deposit in rows:
        if is_deposit:
            deposits.setdefault(cluster_id, []).append(publications[item_id])
        else:
            news[cluster_id] = news.get(cluster_id, 0) + 1
    return [replace(c, publications=tuple(deposits.get(c.cluster_id, ())), news_items=news.get(c.cluster_id, 0))
            for c in candidates]


def load_source_health(conn: duckdb.DuckDBPyConnection, now: datetime) -> list[SourceHealth]:
    rows = conn.execute(
        """SELECT source_id, name, last_status, last_error_code, consecutive_failures, last_success_at,
                  last_new_item_at, items_last_30_days, silent, backfill_done, backfill_total, retry_at, item_failures
           FROM v_source_health ORDER BY source_id"""
    ).fetchall()
    return [SourceHealth(*r) for r in rows]


def run_report(conn: duckdb.DuckDBPyConnection, run_id: str | None = None) -> list[dict[str, Any]]:
    """One row per source crawled by a run (default: the last nightly run), with its new items."""
    if run_id is None:
        found = conn.execute("SELECT run_id FROM runs WHERE kind = 'nightly' ORDER BY started_at DESC LIMIT 1").fetchone()
        if found is None:
            return []
        run_id = found[0]
    cursor = conn.execute(
        """SELECT f.source_id, f.status, f.error_code, coalesce(f.listing_pages, 0) AS listing_pages,
                  coalesce(f.item_pages, 0) AS item_pages, f.page_errors,
                  (SELECT count(*) FROM items i WHERE i.source_id = f.source_id AND i.first_seen_at = f.started_at)
                      AS new_items,
                  f.duration_s, f.backfill_done, f.backfill_total
           FROM fetch_log f WHERE f.run_id = ? ORDER BY f.source_id""",
        [run_id],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def items_of_clusters(conn: duckdb.DuckDBPyConnection, cluster_ids: Sequence[str]) -> dict[str, list[Item]]:
    """Every stored item of the given clusters, grouped by cluster."""
    if not cluster_ids:
        return {}
    rows = conn.execute(
        "SELECT item_id, cluster_id FROM items WHERE cluster_id IN (SELECT unnest(?))", [list(cluster_ids)]
    ).fetchall()
    by_id = {i.item_id: i for i in load_items(conn, [r[0] for r in rows])}
    grouped: dict[str, list[Item]] = {}
    for item_id, cluster_id in rows:
        grouped.setdefault(cluster_id, []).append(by_id[item_id])
    return grouped


# --- officer's corrections and models ------------------------------------------------------------


def save_labels(conn: duckdb.DuckDBPyConnection, labels: Sequence[tuple[str, str, str]], now: datetime) -> int:
    """Store (item_id, category, comment) corrections; a later correction replaces an earlier one."""
    _execute_many(conn, 
        """INSERT INTO labels VALUES (?, ?, ?, ?) ON CONFLICT (item_id) DO UPDATE SET
           category = excluded.category, comment = excluded.comment, labelled_at = excluded.labelled_at""",
        [(item_id, category, comment, now) for item_id, category, comment in labels],
    )
    refresh_item_tags(conn, [item_id for item_id, _, _ in labels])
    return len(labels)


def save_worthiness_grades(conn: duckdb.DuckDBPyConnection, grades: Sequence[tuple[str, int, str]], now: datetime) -> int:
    """Store (item_id, grade, comment); a later grade of the same item replaces the earlier one."""
    _execute_many(conn,
        """INSERT INTO worthiness_grades VALUES (?, ?, ?, ?) ON CONFLICT (item_id) DO UPDATE SET
           grade = excluded.grade, comment = excluded.comment, graded_at = excluded.graded_at""",
        [(item_id, grade, comment, now) for item_id, grade, comment in grades],
    )
    return len(grades)


def load_graded_items(conn: duckdb.DuckDBPyConnection) -> list[tuple[Item, int, int]]:
    """Every item the officer graded: (item, grade, how many sources carried its story)."""
    rows = conn.execute(
        """SELECT g.item_id, g.grade, coalesce(c.source_count, 1) FROM worthiness_grades g
           JOIN items i USING (item_id) LEFT JOIN v_clusters c ON c.cluster_id = i.cluster_id
           ORDER BY g.item_id"""
    ).fetchall()
    by_id = {i.item_id: i for i in load_items(conn, [r[0] for r in rows])}
    return [(by_id[item_id], grade, int(sources)) for item_id, grade, sources in rows if item_id in by_id]


def digest_entries_to_grade(conn: duckdb.DuckDBPyConnection, weeks: int) -> list[tuple[str, str, Item, float, str]]:
    """Entries of the latest `weeks` digests not graded yet: (week, section, item, score, reasons)."""
    rows = conn.execute(
        """SELECT d.week, d.section, d.item_id, coalesce(w.score, 0), coalesce(w.reasons, '')
           FROM digest_items d LEFT JOIN worthiness w USING (item_id)
           LEFT JOIN worthiness_grades g USING (item_id)
           WHERE g.item_id IS NULL
             AND d.week IN (SELECT DISTINCT week FROM digest_items ORDER BY week DESC LIMIT ?)
           ORDER BY d.week DESC, d.rank""",
        [weeks],
    ).fetchall()
    by_id = {i.item_id: i for i in load_items(conn, [r[2] for r in rows])}
    return [(week, section, by_id[item_id], float(score), reasons)
            for week, section, item_id, score, reasons in rows if item_id in by_id]


def load_labelled_items(conn: duckdb.DuckDBPyConnection) -> list[tuple[Item, str]]:
    """Every corrected item with the officer's category, for retraining."""
    rows = conn.execute("SELECT item_id, category FROM labels ORDER BY item_id").fetchall()
    by_id = {i.item_id: i for i in load_items(conn, [r[0] for r in rows])}
    return [(by_id[item_id], category) for item_id, category in rows if item_id in by_id]


def known_item_ids(conn: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT item_id FROM items").fetchall()}


def least_certain_items(conn: duckdb.DuckDBPyConnection, limit: int,
                        uncertain_below: float = 0.0) -> list[tuple[Item, str, float, str]]:
    """Uncorrected items to review: (item, predicted category, confidence, declared category).

    First the items whose prediction departs from their source's declared category or whose
    confidence is under `uncertain_below`, then the others; least confident first within each."""
    rows = conn.execute(
        """SELECT p.item_id, p.category, p.confidence, coalesce(s.declared_category, 'mixed') AS declared
           FROM predictions p JOIN items i USING (item_id) LEFT JOIN sources s USING (source_id)
           LEFT JOIN labels l USING (item_id)
           WHERE l.item_id IS NULL
           ORDER BY (declared NOT IN ('mixed', p.category) OR p.confidence < ?) DESC, p.confidence ASC, p.item_id
           LIMIT ?""",
        [uncertain_below, limit],
    ).fetchall()
    by_id = {i.item_id: i for i in load_items(conn, [r[0] for r in rows])}
    return [(by_id[item_id], category, confidence, declared) for item_id, category, confidence, declared in rows]


def save_model_record(conn: duckdb.DuckDBPyConnection, version: str, now: datetime, examples: int, corrections: int) -> None:
    conn.execute(
        "INSERT INTO models VALUES (?, ?, ?, ?) ON CONFLICT (model_version) DO NOTHING",
        [version, now, examples, corrections],
    )


# --- digests: recorded so that each week is sent exactly once ------------------------------------


def sent_cluster_ids(conn: duckdb.DuckDBPyConnection, except_week: str) -> frozenset[str]:
    """Clusters already placed in another week's digest (an item appears in one digest only)."""
    rows = conn.execute("SELECT DISTINCT cluster_id FROM digest_items WHERE week <> ?", [except_week]).fetchall()
    return frozenset(r[0] for r in rows)


def save_digest_items(conn: duckdb.DuckDBPyConnection, week: str, entries: Sequence[tuple[str, str, str, int]]) -> None:
    """Replace the week's (cluster_id, item_id, section, rank) rows."""
    conn.execute("DELETE FROM digest_items WHERE week = ?", [week])
    _execute_many(conn, "INSERT INTO digest_items VALUES (?, ?, ?, ?, ?)", [(week, *e) for e in entries])


def digest_status(conn: duckdb.DuckDBPyConnection, week: str, recipients: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT status, message_id, attempts, sent_at, last_error FROM digests WHERE week = ? AND recipients = ?",
        [week, recipients],
    ).fetchone()
    if row is None:
        return None
    return dict(zip(("status", "message_id", "attempts", "sent_at", "last_error"), row))


def set_digest_status(
    conn: duckdb.DuckDBPyConnection, week: str, recipients: str, status: str, now: datetime,
    *, subject: str | None = None, message_id: str | None = None, error: str | None = None,
) -> None:
    """Record a step of the week's delivery: built, sending, sent or failed."""
    attempt = 1 if status == "sending" else 0
    conn.execute(
        """INSERT INTO digests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (week, recipients) DO UPDATE SET status = excluded.status,
             subject = coalesce(excluded.subject, digests.subject),
             message_id = coalesce(excluded.message_id, digests.message_id),
             sent_at = coalesce(excluded.sent_at, digests.sent_at),
             attempts = digests.attempts + excluded.attempts, last_error = excluded.last_error""",
        [week, recipients, status, subject, message_id, now, now if status == "sent" else None, attempt, error],
    )


# --- outreach initiatives ------------------------------------------------------------------------

INITIATIVE_SCHEMA = pa.schema(
    [
        ("initiative_id", pa.string()), ("title", pa.string()), ("kind", pa.string()),
        ("organisers", pa.list_(pa.string())), ("audience", pa.list_(pa.string())), ("status", pa.string()),
        ("editions", pa.list_(pa.struct([("year", pa.int32()), ("start", pa.date32()), ("end", pa.date32()),
                                         ("place", pa.string())]))),
        ("place", pa.string()), ("contact", pa.string()), ("evidence", pa.list_(pa.string())),
        ("origin", pa.string()), ("validated", pa.bool_()), ("description", pa.string()),
        ("rejected", pa.bool_()), ("merged_into", pa.string()), ("updated_at", pa.timestamp("us", tz="UTC")),
    ]
)


def save_initiatives(conn: duckdb.DuckDBPyConnection, catalogue: Sequence[Initiative], now: datetime) -> None:
    """Replace the stored catalogue (rejected and merged initiatives included, so they are remembered)."""
    rows = [{**asdict(i), "updated_at": now} for i in catalogue]
    table = pa.Table.from_pylist(rows, schema=INITIATIVE_SCHEMA)
    conn.execute("BEGIN")
    conn.execute("DELETE FROM initiatives")
    _insert_arrow(conn, "initiatives", table)
    conn.execute("COMMIT")


def load_initiatives(conn: duckdb.DuckDBPyConnection) -> list[Initiative]:
    table = conn.sql(f"SELECT {', '.join(INITIATIVE_SCHEMA.names[:-1])} FROM initiatives").to_arrow_table()
    initiatives = []
    for row in table.to_pylist():
        editions = tuple(Edition(e["year"], e["start"], e["end"], e["place"] or "") for e in row.pop("editions"))
        lists = {k: tuple(row.pop(k)) for k in ("organisers", "audience", "evidence")}
        initiatives.append(Initiative(**row, **lists, editions=editions))
    return initiatives


def save_decisions(conn: duckdb.DuckDBPyConnection, decisions: Sequence[tuple[Any, ...]], now: datetime) -> None:
    """Audit log of the officer's decisions: (initiative_id, action, fields JSON, merge_into, file, line)."""
    _execute_many(conn, "INSERT INTO initiative_decisions VALUES (?, ?, ?, ?, ?, ?, ?)", [(*d, now) for d in decisions])


def items_since(conn: duckdb.DuckDBPyConnection, since: datetime) -> list[Item]:
    ids = [r[0] for r in conn.execute("SELECT item_id FROM items WHERE first_seen_at >= ?", [since]).fetchall()]
    return load_items(conn, ids)


def source_names(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(conn.execute("SELECT source_id, name FROM sources").fetchall())


def coming_event_stories(conn: duckdb.DuckDBPyConnection, since: datetime) -> list[Candidate]:
    """Every clustered item first seen (and published, when dated) since `since`, HAL deposits
    excluded, as a Candidate of its story: the agenda's public events are read from them. Ordered by
    cluster, the cluster's representative first, then by first sight."""
    rows = conn.execute(
        """SELECT i.item_id, i.source_id, i.url, i.title, i.published_at, i.text, i.summary, i.lang, i.image_url,
                  i.guid, i.content_hash, s.name, i.first_seen_at, coalesce(l.category, p.category),
                  coalesce(p.confidence, 0.0), i.cluster_id
           FROM items i
           JOIN sources s USING (source_id)
           LEFT JOIN clusters c ON c.cluster_id = i.cluster_id
           LEFT JOIN predictions p ON p.item_id = i.item_id
           LEFT JOIN labels l ON l.item_id = i.item_id
           WHERE i.cluster_id IS NOT NULL AND i.first_seen_at >= ? AND coalesce(i.published_at, i.first_seen_at) >= ?
             AND i.item_id NOT IN (SELECT item_id FROM publications)
           ORDER BY i.cluster_id, c.representative_item_id = i.item_id DESC, i.first_seen_at, i.item_id""",
        [since, since],
    ).fetchall()
    return [
        Candidate(item=_row_to_item(r[:11]), source_name=r[11], first_seen_at=r[12], category=r[13],
                  confidence=r[14], cluster_id=r[15], cluster_sources=())
        for r in rows
    ]
