"""What `veille run` shows on a terminal: where each source's crawl stands, then a summary table.

`CrawlBoard` hears the crawl's `CrawlProgress` reports (from the worker threads) and shows them:
on a terminal, a live table with one row per source (listing pages, item pages, new items); in a
log file or a pipe, one line per source when it finishes. `summary_table` renders the end-of-run
table from the rows `store.run_report` reads.
"""

from __future__ import annotations

import sys
import threading
from typing import IO, Sequence

from rich.console import Console
from rich.live import Live
from rich.table import Table

from pipeline.models import CrawlProgress

REPORT_COLUMNS = ("source", "status", "listing pages", "item pages", "new items", "seconds", "note")


class CrawlBoard:
    """Progress of every source of a run; `listener` is what crawl_source calls after each page."""

    def __init__(self, stream: IO[str] | None = None, live: bool | None = None):
        self._stream = stream or sys.stderr
        self._live_wanted = self._stream.isatty() if live is None else live
        self._console = Console(file=self._stream, highlight=False)
        self._rows: dict[str, CrawlProgress] = {}
        self._lock = threading.Lock()
        self._live: Live | None = None

    def __enter__(self) -> CrawlBoard:
        if self._live_wanted:
            self._live = Live(self._table(), console=self._console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self._table(), refresh=True)
            self._live.__exit__(None, None, None)
            self._live = None

    def listener(self, progress: CrawlProgress) -> None:
        with self._lock:
            self._rows[progress.source_id] = progress
            if self._live is not None:
                self._live.update(self._table())
            elif progress.finished:
                self._console.print(_line(progress))

    def _table(self) -> Table:
        table = Table(title="veille run: crawling", title_justify="left")
        for name in ("source", "listing pages", "item pages", "new items", "state"):
            table.add_column(name, justify="left" if name in ("source", "state") else "right")
        for row in sorted(self._rows.values(), key=lambda p: (p.finished, p.source_id)):
            state = row.status if row.finished else "crawling"
            table.add_row(row.source_id, str(row.listing_pages), str(row.item_pages), str(row.new_items), state)
        return table


def _line(progress: CrawlProgress) -> str:
    return (f"{progress.source_id}: {progress.status}, {progress.listing_pages} listing page(s), "
            f"{progress.item_pages} item page(s), {progress.new_items} item(s) found")


def summary_table(rows: Sequence[dict], stream: IO[str] | None = None, width: int = 120) -> None:
    """Print the run's table: one row per source (see store.run_report), errors and backfills noted."""
    table = Table(title="veille run: summary", title_justify="left")
    for name in REPORT_COLUMNS:
        table.add_column(name, justify="left" if name in ("source", "status", "note") else "right")
    for row in rows:
        table.add_row(row["source_id"], row["status"], str(row["listing_pages"]), str(row["item_pages"]),
                      str(row["new_items"]), f"{row['duration_s']:.1f}", _note(row))
    Console(file=stream or sys.stdout, width=width, highlight=False).print(table)


def _note(row: dict) -> str:
    if row["status"] == "error":
        return row["error_code"] or "error"
    if row["backfill_total"] is not None:
        return f"backfill in progress: {row['backfill_done']} of {row['backfill_total']} pages"
    return f"{row['page_errors']} page error(s)" if row["page_errors"] else ""
