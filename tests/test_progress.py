"""The terminal view of a run: a line per finished source off a terminal, the summary table."""

from __future__ import annotations

import io

from pipeline.models import CrawlProgress
from pipeline.progress import CrawlBoard, summary_table


def test_off_a_terminal_one_line_per_finished_source() -> None:
    out = io.StringIO()
    with CrawlBoard(out) as board:
        board.listener(CrawlProgress("lab-a", 1, 0, 0))
        board.listener(CrawlProgress("lab-a", 2, 5, 4))
        board.listener(CrawlProgress("lab-a", 2, 5, 4, finished=True, status="ok"))
        board.listener(CrawlProgress("lab-b", 1, 0, 0, finished=True, status="error"))
    assert out.getvalue().splitlines() == [
        "lab-a: ok, 2 listing page(s), 5 item page(s), 4 item(s) found",
        "lab-b: error, 1 listing page(s), 0 item page(s), 0 item(s) found",
    ]


def test_live_board_shows_every_source() -> None:
    out = io.StringIO()
    with CrawlBoard(out, live=True) as board:
        board.listener(CrawlProgress("lab-a", 3, 12, 10))
        board.listener(CrawlProgress("lab-b", 1, 2, 2, finished=True, status="ok"))
    shown = out.getvalue()
    assert "lab-a" in shown and "12" in shown and "crawling" in shown and "lab-b" in shown


def test_summary_table_notes_errors_and_backfills() -> None:
    row = {"source_id": "lab-a", "status": "ok", "error_code": None, "listing_pages": 1, "item_pages": 40,
           "page_errors": 0, "new_items": 40, "duration_s": 12.5, "backfill_done": 40, "backfill_total": 300}
    failed = dict(row, source_id="lab-b", status="error", error_code="timeout", backfill_done=None,
                  backfill_total=None)
    out = io.StringIO()
    summary_table([row, failed], out, width=160)
    lines = [line for line in out.getvalue().splitlines() if "lab-" in line]
    assert "backfill in progress: 40 of 300 pages" in lines[0] and "12.5" in lines[0]
    assert "timeout" in lines[1]
