"""`veille ...`: the command line. Every expected failure ends with one line on stderr, no traceback.

Exit codes:
    0  done; sources or items that failed are counted in the summary line and shown by
       `veille sources` (one bad source never fails the run)
    1  failed: the digest could not be sent (the server refused it or could not be reached after
       the retries), or there is nothing to work on (no database yet)
    2  invalid configuration or usage: sources.yaml, initiatives.yaml, the VEILLE_SMTP_* and
       VEILLE_MAIL_* settings (missing or invalid, STARTTLS not offered, login refused)
    3  a path cannot be used: the database or an output folder is not writable, is a file where a
       folder is needed (or the reverse), is not a DuckDB file, or is held by another process

Prefect is imported only by the commands that run flows (serve, deploy; run and demo when a Prefect server
is configured or --prefect is given, see pipeline/engine.py), so the others answer at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from contextlib import nullcontext
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Sequence

from pipeline.config import DEFAULT_SOURCES, ConfigInvalid, database_path, load_config
from pipeline.outputs import PathUnusable, writable_folder

log = logging.getLogger("pipeline.cli")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # trafilatura's "discarding data" on a page without text is for --verbose: our result records the page
    logging.getLogger("trafilatura").setLevel(logging.NOTSET if args.verbose else logging.ERROR)
    try:
        return args.handler(args)
    except ConfigInvalid as exc:
        _print_config_errors(exc)
        return 2
    except PathUnusable as exc:
        print(f"veille {args.command}: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="veille", description="Scientific watch for the Faculty of Sciences.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, handler, help: str) -> argparse.ArgumentParser:  # noqa: A002
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(handler=handler, command=name)
        return p

    def sources_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--sources", type=Path, default=DEFAULT_SOURCES, help="sources file (default: sources.yaml)")

    def db_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", type=Path, default=None, help="DuckDB file (default: $VEILLE_DB or outputs/veille.duckdb)")

    def initiatives_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--initiatives", type=Path, default=Path("initiatives.yaml"),
                       help="hand-entered outreach initiatives (default: initiatives.yaml)")

    p = command("check", _check, "check sources.yaml (and initiatives.yaml) and list every problem")
    sources_arg(p)
    initiatives_arg(p)
    p = command("run", _run, "run the nightly crawl once, now")
    sources_arg(p)
    db_arg(p)
    initiatives_arg(p)
    engines = p.add_mutually_exclusive_group()
    engines.add_argument("--prefect", dest="engine", action="store_const", const="prefect", default="auto",
                         help="run the Prefect flow even without a server (an ephemeral one, slower)")
    engines.add_argument("--direct", dest="engine", action="store_const", const="direct",
                         help="run without Prefect even when a server is configured")
    p = command("digest", _digest, "build the weekly digest (and send it with --send)")
    db_arg(p)
    p.add_argument("--week", type=_iso_week, help="ISO week, e.g. 2026-W48 (default: the week that just ended)")
    p.add_argument("--send", action="store_true", help="email it (VEILLE_SMTP_* and VEILLE_MAIL_* variables)")
    p.add_argument("--force", action="store_true", help="send again even if this week's digest was sent")
    p.add_argument("--out", type=Path, default=Path("outputs/digests"), help="archive folder")
    p = command("serve", _serve, "serve the nightly and weekly deployments to a Prefect server")
    sources_arg(p)
    db_arg(p)
    initiatives_arg(p)
    p = command("deploy", _deploy, "register the nightly and weekly deployments on a Prefect process work pool")
    p.add_argument("--pool", required=True, help="work pool name (created, of type process, if missing)")
    sources_arg(p)
    db_arg(p)
    initiatives_arg(p)
    p = command("export", _export, "write the analysts' views as Parquet (items partitioned by month)")
    db_arg(p)
    p.add_argument("--out", type=Path, default=Path("outputs/parquet"), help="folder (default: outputs/parquet)")
    p = command("sources", _sources, "print the health of every source (or import / export them as OPML)")
    db_arg(p)
    from pipeline import cli_sources

    cli_sources.add_subcommands(p, sources_arg)
    p = command("demo", _demo, "run the whole pipeline on the bundled demo sites (127.0.0.1)")
    p.add_argument("--out", type=Path, default=Path("outputs/demo"), help="where the demo writes")
    from pipeline import cli_officer

    cli_officer.add_commands(command, db_arg)
    return parser


def _iso_week(value: str) -> str:
    """An ISO week as 2026-W48, checked against the calendar (usage error, exit 2, otherwise)."""
    match = re.fullmatch(r"(\d{4})-W(\d{2})", value.strip())
    try:
        if match is None:
            raise ValueError
        date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO week such as 2026-W48") from None
    return value.strip()


def _print_config_errors(exc: ConfigInvalid) -> None:
    count = len(exc.errors)
    print(f"{count} problem{'s' if count > 1 else ''} found:", file=sys.stderr)
    for error in exc.errors:
        print(f"  {error}", file=sys.stderr)


def _check(args: argparse.Namespace) -> int:
    from pipeline.steps.outreach import load_manual_initiatives

    errors = []
    try:
        config = load_config(args.sources)
        enabled = sum(1 for s in config.sources if s.enabled)
        print(f"{args.sources}: OK, {len(config.sources)} sources ({enabled} enabled)")
    except ConfigInvalid as exc:
        errors += exc.errors
    try:
        manual = load_manual_initiatives(args.initiatives)
        print(f"{args.initiatives}: OK, {len(manual)} hand-entered initiative(s)")
    except ConfigInvalid as exc:
        errors += exc.errors
    if errors:
        raise ConfigInvalid(errors)
    return 0


def _run(args: argparse.Namespace) -> int:
    from pipeline import engine, store
    from pipeline.steps.outreach import load_manual_initiatives

    config = load_config(args.sources)  # fail fast, before crawling
    load_manual_initiatives(args.initiatives)
    db = database_path(args.db)
    choice = engine.choose_engine(config, args.engine)
    # without Prefect, the checks, the stages and the summary share one connection (store.keep_open)
    with store.keep_open(db) if choice.engine == "direct" else nullcontext():
        _check_run_outputs(db)
        print(choice.line(), flush=True)
        outcome = engine.run_nightly_now(config, args.sources, db, args.initiatives, choice,
                                         show_progress=not args.verbose)
        _print_run_summary(db)
    print(_counts_line(outcome.counts))
    if outcome.stage_seconds:
        print("seconds per stage: " + ", ".join(f"{k} {v:.2f}" for k, v in outcome.stage_seconds.items()))
    print(f"analysts' snapshot: {db} ({outcome.engine} engine)")
    return 0


def _print_run_summary(db: Path) -> None:
    from pipeline import store
    from pipeline.progress import summary_table

    with store.open_store(db) as conn:
        rows = store.run_report(conn)
    summary_table(rows)
def _check_run_outputs(db: Path) -> None:
    """Before the run starts: the database opens (waiting while another run holds it) and the
    model and map folders beside it can be written; PathUnusable otherwise."""
    from pipeline import store

    with store.open_store(db):
        pass
    for folder in ("models", "map"):
        writable_folder(db.parent / folder, "--db")


def _counts_line(counts: dict[str, int]) -> str:
    line = (
        f"sources: {counts['sources_ok']} ok, {counts['sources_failed']} failed; "
        f"items: {counts['items_new']} new, {counts['items_updated']} updated"
    )
    failed = counts.get("items_failed", 0)
    return line + (f", {failed} could not be handled (see `veille sources`)" if failed else "")


def _digest(args: argparse.Namespace) -> int:
    from pipeline.steps import weekly
    from pipeline.digest import mail

    db = database_path(args.db)
    if not db.with_name(db.stem + ".work" + db.suffix).is_file():
        print(f"no database at {db}: run `veille run` first", file=sys.stderr)
        return 1
    writable_folder(args.out, "--out")
    if args.send:
        settings = mail.smtp_settings_from_env(os.environ)
        if isinstance(settings, list):
            print("not sent: SMTP is not configured: " + "; ".join(settings), file=sys.stderr)
            return 2
    now = datetime.now(timezone.utc)
    built = weekly.build_week_digest(db, args.week, now, args.out)
    print(built.digest.subject)
    for kind, path in sorted(built.paths.items()):
        print(f"  {kind}: {path}")
    if not args.send:
        return 0
    try:
        status = weekly.send_week_digest(db, built, args.force)
    except mail.MailSettingsError as exc:
        print(f"not sent: {exc}", file=sys.stderr)
        return 2
    except (mail.MailError, weekly.DeliveryUncertain) as exc:
        print(f"not sent: {exc}", file=sys.stderr)
        return 1
    print("sent" if status == "sent" else "already sent this week (use --force to send again)")
    return 0


def _serve(args: argparse.Namespace) -> int:
    load_config(args.sources)
    from pipeline import flows

    flows.serve_deployments(args.sources, database_path(args.db), Path("outputs/digests"), args.initiatives)
    return 0


def _deploy(args: argparse.Namespace) -> int:
    load_config(args.sources)
    from pipeline import flows

    ids = flows.deploy_to_pool(args.pool, args.sources, database_path(args.db), Path("outputs/digests"),
                               args.initiatives)
    print(f"{len(ids)} deployments on work pool {args.pool!r}; start a worker: prefect worker start --pool {args.pool}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from pipeline import store

    db = database_path(args.db)
    if not db.exists():
        print(f"no database at {db}: run `veille run` first", file=sys.stderr)
        return 1
    for name, path in store.export_parquet(db, args.out).items():
        print(f"  {name}: {path}")
    return 0


def _sources(args: argparse.Namespace) -> int:
    from pipeline import store

    db = database_path(args.db)
    with store.open_store(db) as conn:
        health = store.load_source_health(conn, datetime.now(timezone.utc))
    print(f"{'source':<28} {'last':<13} {'error':<20} {'fails':>5} {'30 d':>5}  last new item")
    now = datetime.now(timezone.utc)
    for h in health:
        last_new = h.last_new_item_at.strftime("%Y-%m-%d") if h.last_new_item_at else "-"
        flag = "  (silent)" if h.silent else ""
        if h.backfill_total is not None:
            flag += f"  (backfill in progress: {h.backfill_done} of {h.backfill_total} pages)"
        if h.retry_at and h.retry_at > now:
            flag += f"  (rate limited: not asked before {h.retry_at:%Y-%m-%d %H:%M} UTC)"
        if h.item_failures:
            flag += f"  ({h.item_failures} item(s) could not be handled)"
        print(f"{h.source_id:<28} {h.last_status or '-':<13} {h.last_error_code or '':<20} "
              f"{h.consecutive_failures:>5} {h.items_last_30_days:>5}  {last_new}{flag}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from pipeline.demo import run as demo_run

    return demo_run.run_demo(args.out)


if __name__ == "__main__":
    raise SystemExit(main())
