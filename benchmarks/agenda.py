"""Benchmark of the map's agenda.ics on a big store: the stories' coming public events.

A store of N items (default 20,000) spread over two years on 50 sources, one in ten announcing a
public event, one in twenty relayed by a second source. Prints the time of the store query
(recent items only), of the selection (pipeline.outreach.public_events) and of the rendering.
Prints figures; asserts nothing. Usage: python benchmarks/agenda.py [N_ITEMS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import store  # noqa: E402
from pipeline.models import CrawlResult, Item, Source, SourceOutcome  # noqa: E402
from pipeline.normalize import content_hash, item_id  # noqa: E402
from pipeline.outreach.public_events import coming_public_events  # noqa: E402
from pipeline.outreach.site.agenda import render_agenda  # noqa: E402
from pipeline.steps.outreach import EVENT_LOOKBACK_DAYS  # noqa: E402

MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")
WORDS = ("laboratoire recherche étudiants cellule protéine climat séminaire master parcours équipe projet "
         "résultats mesure instrument données modèle").split()


def synthetic_item(k: int, now: datetime) -> Item:
    published = now - timedelta(hours=k % 17_520)
    body = " ".join(WORDS[(k * 7 + j) % len(WORDS)] for j in range(120))
    title = f"Actualité {k} du laboratoire {k % 50}"
    if k % 10 == 0:
        day = (published + timedelta(days=15 + k % 30)).date()
        title = f"Conférence {k} : les {WORDS[k % len(WORDS)]}"
        body = (f"Conférence ouverte à tous le {day.day} {MONTHS_FR[day.month - 1]} {day.year} à 18h30 "
                f"dans l'amphithéâtre Curie. {body}")
    url = f"https://lab{k % 50}.univ-exemple.fr/actualites/{k}"
    return Item(item_id(url), f"lab-{k % 50}", url, title, published, body, lang="fr",
                content_hash=content_hash(title, body))


def fill(db: Path, n: int, now: datetime) -> None:
    items = [synthetic_item(k, now) for k in range(n)]
    sources = [Source(f"lab-{k}", f"Labo {k}", "feed", f"https://lab{k}.org/feed", "research") for k in range(50)]
    results = [CrawlResult(s.id, SourceOutcome(s.id, now, "ok"), tuple(i for i in items if i.source_id == s.id))
               for s in sources]
    with store.open_store(db) as conn:
        store.save_sources(conn, sources, now)
        store.save_crawl(conn, "bench", results, now)
        conn.execute("UPDATE items SET first_seen_at = published_at")
        # one story per item, one in twenty relayed: its cluster is its neighbour's
        clusters = [(i.item_id, f"c-{items[k - k % 20].item_id if k % 20 == 1 else i.item_id}", "bench")
                    for k, i in enumerate(items)]
        store.save_clusters(conn, clusters)
        store.save_representatives(conn, {c: c[2:] for _, c, _ in clusters})


def main(n: int) -> None:
    now = datetime.now(timezone.utc)
    today: date = now.date()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "veille.duckdb"
        started = time.perf_counter()
        fill(db, n, now)
        print(f"store filled with {n:,} items in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        with store.open_store(db) as conn:
            stories = store.coming_event_stories(conn, now - timedelta(days=EVENT_LOOKBACK_DAYS))
        query_s = time.perf_counter() - started
        print(f"store query (last {EVENT_LOOKBACK_DAYS} days): {query_s:.2f} s", flush=True)
        started = time.perf_counter()
        events = coming_public_events(stories, [], today)
        select_s = time.perf_counter() - started
        started = time.perf_counter()
        size = len(render_agenda([], today, now, events))
        render_s = time.perf_counter() - started
    print(f"items in the store: {n:,}; recent items read: {len(stories):,}")
    print(f"selection of public events: {select_s:.2f} s -> {len(events)} coming events")
    print(f"agenda.ics rendering: {render_s:.2f} s ({size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
