"""The officer's and analysts' review commands: label, grade, initiatives, eval, discover, map.

Kept apart from cli.py so each stays short; each handler imports its stage lazily.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from pipeline.config import database_path

Command = Callable[..., argparse.ArgumentParser]


def add_commands(command: Command, db_arg: Callable[[argparse.ArgumentParser], None]) -> None:
    p = command("label", _label_usage, "export items to review, or import the officer's corrections")
    sub = p.add_subparsers(required=True, metavar="ACTION")
    export = sub.add_parser("export", help="write a CSV of the items to check first (departures from the "
                                          "source's category, least sure)")
    export.set_defaults(handler=_label_export)
    db_arg(export)
    export.add_argument("--out", type=Path, default=Path("outputs/a-verifier.csv"), help="CSV to write")
    export.add_argument("--limit", type=int, default=100, help="how many items (default 100)")
    imp = sub.add_parser("import", help="store the corrections of a filled CSV (used by the next nightly run)")
    imp.set_defaults(handler=_label_import)
    db_arg(imp)
    imp.add_argument("file", type=Path, help="the CSV filled by the officer")

    p = command("grade", _grade_usage, "export digest entries to grade 0-3, or import the officer's grades")
    sub = p.add_subparsers(required=True, metavar="ACTION")
    export = sub.add_parser("export", help="write a CSV of recent digest entries, those that teach most first")
    export.set_defaults(handler=_grade_export)
    db_arg(export)
    export.add_argument("--out", type=Path, default=Path("outputs/a-noter.csv"), help="CSV to write")
    export.add_argument("--weeks", type=int, default=4, help="digests of the last N weeks (default 4)")
    export.add_argument("--limit", type=int, default=60, help="how many entries (default 60)")
    imp = sub.add_parser("import", help="store the grades of a filled CSV (the next ranking learns from them)")
    imp.set_defaults(handler=_grade_import)
    db_arg(imp)
    imp.add_argument("file", type=Path, help="the CSV filled by the officer")

    p = command("eval", _eval, "cross-validate the category classifier grouped by source, and report")
    p.add_argument("--out", type=Path, default=Path("outputs/eval"), help="report folder")

    p = command("discover", _discover, "find the feeds, sitemap and news listing of a website")
    p.add_argument("url", help="the site's home page")

    p = command("map", _map, "publish the outreach map website (or preview it with --serve)")
    db_arg(p)
    p.add_argument("--out", type=Path, default=Path("outputs/map"), help="site folder")
    p.add_argument("--initiatives", type=Path, default=Path("initiatives.yaml"), help="hand-entered initiatives")
    p.add_argument("--serve", action="store_true", help="serve the site on 127.0.0.1 after publishing")
    p.add_argument("--port", type=int, default=8000, help="port for --serve")


    p = command("initiatives", _initiatives_usage, "review the detected outreach initiatives (CSV round-trip)")
    sub = p.add_subparsers(required=True, metavar="ACTION")
    export = sub.add_parser("export", help="write a CSV of the catalogue, proposals awaiting validation first")
    export.set_defaults(handler=_initiatives_export)
    db_arg(export)
    export.add_argument("--out", type=Path, default=Path("outputs/initiatives-a-valider.csv"), help="CSV to write")
    imp = sub.add_parser("import", help="apply the officer's decisions (validate, correct, merge, reject)")
    imp.set_defaults(handler=_initiatives_import)
    db_arg(imp)
    imp.add_argument("file", type=Path, help="the CSV filled by the officer")


def _label_usage(args: argparse.Namespace) -> int:
    print("usage: veille label {export,import} ...", file=sys.stderr)
    return 2


def _initiatives_usage(args: argparse.Namespace) -> int:
    print("usage: veille initiatives {export,import} ...", file=sys.stderr)
    return 2


def _initiatives_export(args: argparse.Namespace) -> int:
    from pipeline.steps import outreach as map_steps

    count = map_steps.export_proposals(database_path(args.db), args.out)
    print(f"{count} initiative(s) written to {args.out}; fill the decision column, then `veille initiatives import`")
    return 0


def _initiatives_import(args: argparse.Namespace) -> int:
    from pipeline.steps import outreach as map_steps

    applied, errors = map_steps.import_decisions(database_path(args.db), args.file, datetime.now(timezone.utc))
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        print(f"refused: {len(errors)} problem(s); nothing was changed. Fix the lines above and import again.",
              file=sys.stderr)
        return 2
    print(f"{applied} decision(s) applied; `veille map` (or the next nightly run) publishes them")
    return 0


def _grade_usage(args: argparse.Namespace) -> int:
    print("usage: veille grade {export,import} ...", file=sys.stderr)
    return 2


def _grade_export(args: argparse.Namespace) -> int:
    from pipeline import store
    from pipeline.digest import grades

    with store.open_store(database_path(args.db)) as conn:
        rows = store.digest_entries_to_grade(conn, args.weeks)
    entries = [grades.EntryToGrade(week, section, item, score, reasons) for week, section, item, score, reasons in rows]
    count = grades.export_grades(entries, args.out, args.limit)
    print(f"{count} entry(ies) to grade written to {args.out}; fill the grade column (0-3), then `veille grade import`")
    return 0


def _grade_import(args: argparse.Namespace) -> int:
    """Store the valid grades; list the bad rows. A later grade of an item replaces the earlier one."""
    from pipeline import store
    from pipeline.digest import grades

    db = database_path(args.db)
    with store.open_store(db) as conn:
        found, errors = grades.read_grades(args.file, store.known_item_ids(conn))
        for error in errors:
            print(f"{args.file}:{error.line}: {error.reason}", file=sys.stderr)
        if any(error.code == "missing_column" for error in errors):
            print("refused: the file cannot be read as a grades CSV; nothing was imported.", file=sys.stderr)
            return 2
        saved = store.save_worthiness_grades(conn, [(g.item_id, g.grade, g.comment) for g in found],
                                             datetime.now(timezone.utc))
    store.publish_snapshot(db)
    print(f"{saved} grade(s) stored; the next ranking learns from them")
    if errors:
        print(f"{len(errors)} row(s) refused (listed above): fix them and import the file again", file=sys.stderr)
        return 2
    return 0


def _label_export(args: argparse.Namespace) -> int:
    from pipeline import store
    from pipeline.classify import labels
    from pipeline.classify.model import UNCERTAIN_BELOW

    with store.open_store(database_path(args.db)) as conn:
        rows = store.least_certain_items(conn, args.limit, UNCERTAIN_BELOW)
    review = [
        labels.ReviewRow(item.item_id, item.source_id, item.url, item.title, category, confidence, declared)
        for item, category, confidence, declared in rows
    ]
    count = labels.export_for_review(review, args.out)
    print(f"{count} item(s) to review written to {args.out}")
    return 0


def _label_import(args: argparse.Namespace) -> int:
    """Store the valid corrections; list the bad rows. Importing the file again after fixing them is
    harmless: a correction replaces the earlier one of the same item."""
    from pipeline import store
    from pipeline.classify import labels

    db = database_path(args.db)
    with store.open_store(db) as conn:
        corrections, errors = labels.read_corrections(args.file, store.known_item_ids(conn))
        for error in errors:
            print(f"{args.file}:{error.line}: {error.reason}", file=sys.stderr)
        if any(error.code == "missing_column" for error in errors):  # not a corrections file: nothing taken
            print("refused: the file cannot be read as a corrections CSV; nothing was imported.", file=sys.stderr)
            return 2
        saved = store.save_labels(
            conn, [(c.item_id, c.category, c.comment) for c in corrections], datetime.now(timezone.utc)
        )
    store.publish_snapshot(db)
    print(f"{saved} correction(s) stored; the next nightly run retrains the model with them")
    if errors:
        print(f"{len(errors)} row(s) refused (listed above): fix them and import the file again", file=sys.stderr)
        return 2
    return 0


def _eval(args: argparse.Namespace) -> int:
    from pipeline.classify import model as classify
    from pipeline.classify import evaluate

    seed = classify.load_seed()
    report = evaluate.evaluate_grouped(seed)
    print(evaluate.format_report(report))
    holdout_path = classify.HOLDOUT_PATH
    if holdout_path.exists():
        holdout = evaluate.evaluate_holdout(seed, classify.load_labelled(holdout_path))
        print("\nHeld-out set:\n" + evaluate.format_report(holdout))
    paths = evaluate.write_report(report, args.out)
    print(f"\nreport written: {', '.join(str(p) for p in paths)}")
    shortfalls = evaluate.check_floor(report, classify.CLASSIFIERS_DIR / "quality-floor.json")
    for line in shortfalls:
        print(f"below the quality floor: {line}", file=sys.stderr)
    return 1 if shortfalls else 0


def _discover(args: argparse.Namespace) -> int:
    import yaml

    from pipeline.crawl import discover
    from pipeline.crawl.fetch import Fetcher
    from pipeline.models import CrawlSettings

    with Fetcher(CrawlSettings(per_origin_delay_s=0.2)) as fetcher:
        found = discover.discover_sources(args.url, fetcher)
    if not found:
        print(f"nothing found on {args.url}: no feed, sitemap or news listing", file=sys.stderr)
        return 1
    print("# paste into sources.yaml, then check the category and run `veille check`")
    print(yaml.safe_dump({"sources": found}, allow_unicode=True, sort_keys=False))
    return 0


def _map(args: argparse.Namespace) -> int:
    from pipeline.steps import outreach as map_steps

    result = map_steps.publish_outreach_map(database_path(args.db), args.initiatives, args.out)
    print(result.summary)
    if args.serve:
        import threading

        from pipeline.outreach.site import publish as mapsite

        preview = mapsite.serve_map(args.out, port=args.port)
        print(f"preview on {preview.url} (Ctrl-C to stop)")
        try:
            threading.Event().wait()
        finally:
            preview.stop()
    return 0
