"""Real-site benchmark: `veille run` on the real static sites of ../shared/real-sites, scored there.

For each scenario (full, feeds, mixed) it runs `realsites.py run` against this checkout (a fresh
DuckDB file each time) and prints the figures per site and overall. With --rerun (scenario full) it
then runs `veille run` again on the same file, nothing changed, --reruns times (3), and prints what
the median of those runs fetched and how long it took beside the first, with the engine each run used
and its seconds per stage (`veille run --prefect` is timed with --prefect). Skips with a message when
../shared is absent.

Usage: python benchmarks/realsites.py [--scenarios full feeds mixed] [--port-offset N] [--rerun [--reruns 3]]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REALSITES = ROOT.parent / "shared" / "real-sites" / "realsites.py"
SCENARIOS = ("full", "feeds", "mixed")
SITE_COLUMNS = ("expected", "hit", "recall", "title", "date", "text_f1", "category", "rows")


def available() -> bool:
    return REALSITES.exists()


def run_scenario(scenario: str, port_offset: int, work: Path) -> dict:
    """Every figure realsites.py gives for one scenario (its --json output), the database kept."""
    out = work / f"{scenario}.json"
    command = [sys.executable, str(REALSITES), "--port-offset", str(port_offset), "run", "--scenario", scenario,
               "--checkout", str(ROOT), "--json", str(out), "--db", str(work / f"{scenario}.duckdb")]
    done = subprocess.run(command, capture_output=True, text=True, env=_env(port_offset))
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"realsites.py run --scenario {scenario} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def site_rows(figures: dict) -> list[dict]:
    """Per-site means from realsites.py's per-site sums."""
    rows = []
    for site, s in sorted(figures["per_site"].items()):
        rows.append({
            "site": site, "expected": s.get("expected", 0), "hit": s.get("hit", 0), "rows": s.get("rows", 0),
            "recall": _ratio(s.get("hit", 0), s.get("expected", 0)),
            "title": _ratio(s.get("title_ok", 0), s.get("title_n", 0)),
            "date": _ratio(s.get("date_ok", 0), s.get("date_n", 0)),
            "text_f1": _ratio(s.get("text_f1", 0.0), s.get("text_n", 0)),
            "category": _ratio(s.get("cat_ok", 0), s.get("cat_n", 0)),
        })
    return rows


def rerun(port_offset: int, work: Path, engine_flags: tuple[str, ...] = (), reruns: int = 3) -> dict:
    """Serve the sites, run `veille run` on one file (scenario full), then `reruns` times again with
    nothing changed; what the first run and the median unchanged one cost."""
    env = _env(port_offset)
    sources = work / "rerun-sources.yaml"
    subprocess.run([sys.executable, str(REALSITES), "--port-offset", str(port_offset), "sources", "--scenario", "full",
                    "--out", str(sources), "--setting", "per_origin_delay_s=0"], check=True, env=env,
                   capture_output=True)
    server = subprocess.Popen([sys.executable, str(REALSITES), "--port-offset", str(port_offset), "serve",
                               "--seconds", "1800"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(3)
        db = work / "rerun.duckdb"
        first = _timed_run(sources, db, work, env, engine_flags)
        unchanged = [_timed_run(sources, db, work, env, engine_flags) for _ in range(reruns)]
        return {"first": first, "second": sorted(unchanged, key=lambda run: run["wall_s"])[len(unchanged) // 2],
                "unchanged_walls": [run["wall_s"] for run in unchanged]}
    finally:
        server.terminate()
        server.wait(timeout=30)


def _timed_run(sources: Path, db: Path, work: Path, env: dict, engine_flags: tuple[str, ...] = ()) -> dict:
    veille = ROOT / ".venv" / "bin" / "veille"
    started = time.monotonic()
    done = subprocess.run([str(veille if veille.exists() else "veille"), "run", "--sources", str(sources), "--db",
                           str(db), "--initiatives", str(work / "none.yaml"), *engine_flags], env=env, cwd=work, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError(f"veille run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    wall = time.monotonic() - started
    import duckdb  # a dependency of the project; only this script and the store read DuckDB files

    with duckdb.connect(str(db), read_only=True) as conn:
        row = conn.execute(
            """SELECT sum(item_pages), sum(listing_pages), max(duration_s), sum(items_found)
               FROM fetch_log WHERE run_id = (SELECT max(run_id) FROM runs WHERE kind = 'nightly')""").fetchone()
    said = done.stdout.splitlines()
    engine = next((line for line in said if line.startswith("veille run:")), "veille run: engine not said")
    stages = next((line for line in said if line.startswith("seconds per stage:")), "")
    return {"wall_s": wall, "item_pages": row[0], "listing_pages": row[1], "crawl_s": row[2], "items": row[3],
            "engine": engine, "stages": stages}


def _env(port_offset: int) -> dict:
    env = dict(os.environ, REALSITES_PORT_OFFSET=str(port_offset))
    env.setdefault("PREFECT_HOME", str(Path(tempfile.gettempdir()) / f"prefect-realsites-{port_offset}"))
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")  # a busy machine starts it slowly
    return env


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _cell(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def print_scenario(scenario: str, figures: dict) -> None:
    print(f"\n== scenario {scenario} ==")
    print(f"{'site':<18}" + "".join(f"{c:>10}" for c in SITE_COLUMNS))
    for row in site_rows(figures):
        print(f"{row['site']:<18}" + "".join(f"{_cell(row[c]):>10}" for c in SITE_COLUMNS))
    print(f"overall: recall {_cell(figures['recall'])}  precision {_cell(figures['precision'])}  "
          f"title {_cell(figures['title'])}  date {_cell(figures['date'])}  text F1 {_cell(figures['text_f1'])}  "
          f"category {_cell(figures['category_accuracy'])}  rows {figures['rows']}  timing {figures.get('timing')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", nargs="*", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--port-offset", type=int, default=int(os.environ.get("REALSITES_PORT_OFFSET", "100")))
    parser.add_argument("--rerun", action="store_true", help="also time a second run with nothing changed")
    parser.add_argument("--prefect", action="store_true", help="time the reruns with `veille run --prefect`")
    parser.add_argument("--reruns", type=int, default=3, help="unchanged runs after the first; the median is compared")
    args = parser.parse_args(argv)
    if not available():
        print(f"skipped: {REALSITES} is absent (the real sites live in ../shared/real-sites)")
        return 0
    with tempfile.TemporaryDirectory(prefix="veille-realsites-") as tmp:
        for scenario in args.scenarios:
            print_scenario(scenario, run_scenario(scenario, args.port_offset, Path(tmp)))
        if args.rerun:
            runs = rerun(args.port_offset, Path(tmp), ("--prefect",) if args.prefect else (), args.reruns)
            walls = ", ".join(f"{wall:.2f}" for wall in runs["unchanged_walls"])
            print(f"unchanged runs: {walls} s wall; the median one is the second run below")
            for name, run in ((name, runs[name]) for name in ("first", "second")):
                print(f"{name} run: {run['wall_s']:.1f} s wall, crawl {run['crawl_s']:.1f} s, "
                      f"{run['listing_pages']} listing/feed/sitemap page(s), {run['item_pages']} item page(s)")
                print(f"  {run['engine']}" + (f"\n  {run['stages']}" if run["stages"] else ""))
            print(f"second run / first run: {runs['second']['crawl_s'] / max(runs['first']['crawl_s'], 1e-9):.3f} "
                  f"of the crawl time, {runs['second']['wall_s'] / runs['first']['wall_s']:.3f} of the wall time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
