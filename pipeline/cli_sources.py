"""`veille sources import FILE.opml` and `veille sources export --opml`: a feed reader's subscriptions
in and out of sources.yaml (see opml.py). An import is checked like any edit of sources.yaml before
the file is replaced: every problem at once, with its line, and nothing written when one remains.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from pipeline import opml
from pipeline.config import ConfigInvalid, load_config


def add_subcommands(sources: argparse.ArgumentParser, sources_arg: Callable[[argparse.ArgumentParser], None]) -> None:
    """`import` and `export` under `veille sources` (which, alone, prints the sources' health)."""
    sub = sources.add_subparsers(required=False, metavar="ACTION")
    imp = sub.add_parser("import", help="add the feeds of a feed reader's OPML export to sources.yaml")
    imp.set_defaults(handler=_import)
    imp.add_argument("file", type=Path, help="the OPML file (Feedly, Inoreader, FreshRSS, Thunderbird...)")
    imp.add_argument("--dry-run", action="store_true", help="print what would be added, write nothing")
    sources_arg(imp)
    export = sub.add_parser("export", help="write the feed sources as OPML, for a feed reader")
    export.set_defaults(handler=_export)
    export.add_argument("--opml", action="store_true", required=True, help="OPML 2.0 (the only format)")
    export.add_argument("--out", type=Path, default=None, help="file to write (default: standard output)")
    sources_arg(export)


def _import(args: argparse.Namespace) -> int:
    feeds, problems = opml.read_opml(args.file)
    if any(p.fatal for p in problems):
        _print_problems(args.file, problems)
        return 2
    target: Path = args.sources
    existing = load_config(target).sources if target.exists() else ()
    text = target.read_text(encoding="utf-8") if target.exists() else ""
    entries, duplicates = opml.merge_feeds(feeds, existing)
    _print_problems(args.file, sorted(problems + duplicates, key=lambda p: p.line or 0))
    if not entries:
        print(f"{target}: nothing to add ({len(feeds)} feed(s) in {args.file}, all already watched)")
        return 0
    candidate = target.with_name(f".{target.name}.{os.getpid()}.import")
    candidate.write_text(opml.append_entries(text, entries), encoding="utf-8")
    try:
        load_config(candidate)
    except ConfigInvalid as exc:
        candidate.unlink()
        raise ConfigInvalid([_as_target(e, target) for e in exc.errors]) from None
    if args.dry_run:
        candidate.unlink()
    else:
        candidate.replace(target)
    verb = "would add" if args.dry_run else "added"
    print(f"{target}: {verb} {len(entries)} source(s); check with `veille check`:")
    for entry in entries:
        print(f"  {entry['id']:<32} {entry['category']:<9} {entry['url']}")
    return 0


def _as_target(error, target: Path):
    return replace(error, file=f"{target} (after import)")


def _print_problems(file: Path, problems: list[opml.OpmlProblem]) -> None:
    for problem in problems:
        print(f"{file}: {problem}", file=sys.stderr)


def _export(args: argparse.Namespace) -> int:
    config = load_config(args.sources)
    data = opml.write_opml(config.sources, "Veille scientifique - flux suivis", datetime.now(timezone.utc))
    if args.out is None:
        sys.stdout.write(data.decode("utf-8"))
    else:
        args.out.write_bytes(data)
        feeds = sum(1 for s in config.sources if s.kind == "feed")
        print(f"{args.out}: {feeds} feed(s) written")
    return 0
