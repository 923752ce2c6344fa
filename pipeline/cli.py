"""`veille ...`: the command line. Exit codes: 0 done, 1 failed, 2 invalid configuration or usage.

Prefect is imported only by the commands that run flows (run, serve, demo), so `check`, `digest`,
`sources` and `label` answer at once.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from pipeline.config import DEFAULT_SOURCES, ConfigInvalid, database_path, load_config

log = logging.getLogger("pipeline.cli")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.handler(args)
    except ConfigInvalid as exc:
        _print_config_errors(exc)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="veille", description="Scientific watch for the Faculty of Sciences.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, handler, help: str) -> argparse.ArgumentParser:  # noqa: A002
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(handler=handler)
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
    p = command("digest", _digest, "build the weekly digest (and send it with --send)")
    db_arg(p)
    p.add_argument("--week", help="ISO week, e.g. 2026-W48 (default: the week that just ended)")
    p.add_argument("--send", action="store_true", help="email it (VEILLE_SMTP_* and VEILLE_MAIL_* variables)")
    p.add_argument("--force", action="store_true", help="send again even if this week's digest was sent")
    p.add_argument("--out", type=Path, default=Path("outputs/digests"), help="archive folder")
    p = command("serve", _serve, "serve the nightly and weekly deployments to a Prefect server")
    sources_arg(p)
    db_arg(p)
    initiatives_arg(p)
    p = command("sources", _sources, "print the health of every source (or import / export them as OPML)")
    db_arg(p)
    from pipeline import cli_sources

    cli_sources.add_subcommands(p, sources_arg)
    p = command("demo", _demo, "run the whole pipeline on the bundled demo sites (127.0.0.1)")
    p.add_argument("--out", type=Path, default=Path("outputs/demo"), help="where the demo writes")
    from pipeline import cli_officer

    cli_officer.add_commands(command, db_arg)
    return parser


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
    from pipeline import flows
    from pipeline.steps.outreach import load_manual_initiatives

    load_config(args.sources)  # fail fast, before Prefect starts
    load_manual_initiatives(args.initiatives)
    counts = flows.run_nightly_now(args.sources, database_path(args.db), args.initiatives)
    print(_counts_line(counts))
    print(f"analysts' snapshot: {database_path(args.db)}")
    return 0


def _counts_line(counts: dict[str, int]) -> str:
    return (
        f"sources: {counts['sources_ok']} ok, {counts['sources_failed']} failed; "
        f"items: {counts['items_new']} new, {counts['items_updated']} updated"
    )


def _digest(args: argparse.Namespace) -> int:
    from pipeline.steps import weekly
    from pipeline.digest import mail

    db = database_path(args.db)
    if not db.with_name(db.stem + ".work" + db.suffix).exists():
        print(f"no database at {db}: run `veille run` first", file=sys.stderr)
        return 1
    now = datetime.now(timezone.utc)
    built = weekly.build_week_digest(db, args.week, now, args.out)
    print(built.digest.subject)
    for kind, path in sorted(built.paths.items()):
        print(f"  {kind}: {path}")
    if not args.send:
        return 0
    try:
        status = weekly.send_week_digest(db, built, args.force)
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


def _sources(args: argparse.Namespace) -> int:
    from pipeline import store

    db = database_path(args.db)
    with store.open_store(db) as conn:
        health = store.load_source_health(conn, datetime.now(timezone.utc))
    print(f"{'source':<28} {'last':<13} {'error':<20} {'fails':>5} {'30 d':>5}  last new item")
    for h in health:
        last_new = h.last_new_item_at.strftime("%Y-%m-%d") if h.last_new_item_at else "-"
        flag = "  (silent)" if h.silent else ""
        print(f"{h.source_id:<28} {h.last_status or '-':<13} {h.last_error_code or '':<20} "
              f"{h.consecutive_failures:>5} {h.items_last_30_days:>5}  {last_new}{flag}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from pipeline.demo import run as demo_run

    return demo_run.run_demo(args.out)


if __name__ == "__main__":
    raise SystemExit(main())
