"""`veille demo`: serve the bundled sites, run the nightly flow and the digest, say where things are.

The demo starts from an empty database every time: its sites get new loopback ports on each run,
so the item URLs of two demo runs are not the same items.
"""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

from pipeline.demo.server import SiteServer, serve_sites

DEMO_DIR = Path(__file__).parent
SITES = DEMO_DIR / "sites"
SOURCES_TEMPLATE = DEMO_DIR / "sources.yaml"
INITIATIVES = DEMO_DIR.parent.parent / "initiatives.yaml"


def write_sources(sites: SiteServer, path: Path) -> Path:
    """The demo sources file with the live base URLs of the served sites."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(sites.render(SOURCES_TEMPLATE.read_bytes()))
    return path


def run_demo(out: Path) -> int:
    from pipeline import engine
    from pipeline.config import load_config
    from pipeline.digest import build as digest
    from pipeline.steps import weekly

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    db = out / "veille.duckdb"
    started = time.monotonic()
    with serve_sites(SITES) as sites:
        print(f"demo sites: {len(sites.base_urls)} served on 127.0.0.1")
        sources = write_sources(sites, out / "sources.yaml")
        config = load_config(sources)
        counts = engine.run_nightly_now(config, sources, db, INITIATIVES, engine.choose_engine(config)).counts
    print(
        f"nightly run: {counts['sources_ok']} sources ok, {counts['sources_failed']} failed "
        f"(one is broken on purpose), {counts['items_new']} items"
    )
    now = datetime.now(timezone.utc)
    week = digest.iso_week_of(now)
    built = weekly.build_week_digest(db, week, now, out / "digests")
    print(f"digest: {built.digest.subject}")
    for kind, path in sorted(built.paths.items()):
        print(f"  {kind}: {path}")
    print(f"outreach map: {out / 'map' / 'index.html'} (preview: veille map --db {db} --out {out / 'map'} --serve)")
    print(f"analysts' database: {db} (open it read-only: duckdb.connect('{db}', read_only=True))")
    print(f"sources file used: {sources}")
    print(f"demo finished in {time.monotonic() - started:.1f} s")
    return 0
