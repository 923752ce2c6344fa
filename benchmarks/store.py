"""Store benchmark: bulk upsert of items (Arrow) and the cost of publishing the analysts' snapshot.

Prints figures; asserts nothing. Usage: python benchmarks/store.py [N_ITEMS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pipeline import store
from pipeline.models import CrawlResult, Item, Source, SourceOutcome
from pipeline.normalize import content_hash, item_id

WORDS = ("laboratoire recherche étudiants cellule protéine climat séminaire soutenance thèse master "
         "parcours atelier conférence public résultats publication revue équipe projet").split()


def synthetic_items(n: int, now: datetime) -> list[Item]:
    items = []
    for k in range(n):
        text = " ".join(WORDS[(k * 7 + j) % len(WORDS)] for j in range(150))
        url = f"https://lab{k % 50}.univ-exemple.fr/actualites/{k}"
        title = f"Actualité {k} du laboratoire {k % 50}"
        items.append(Item(item_id(url), f"lab-{k % 50}", url, title, now - timedelta(hours=k % 2000), text,
                          lang="fr", content_hash=content_hash(title, text)))
    return items


def main(n: int) -> None:
    now = datetime.now(timezone.utc)
    items = synthetic_items(n, now)
    sources = [Source(f"lab-{k}", f"Labo {k}", "feed", f"https://lab{k}.org/feed", "research") for k in range(50)]
    results = [CrawlResult(s.id, SourceOutcome(s.id, now, "ok"), tuple(i for i in items if i.source_id == s.id))
               for s in sources]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "veille.duckdb"
        with store.open_store(db) as conn:
            store.save_sources(conn, sources, now)
            started = time.perf_counter()
            new, _ = store.save_crawl(conn, "bench", results, now)
            insert_s = time.perf_counter() - started
            started = time.perf_counter()
            store.save_crawl(conn, "bench2", results, now)
            unchanged_s = time.perf_counter() - started
        started = time.perf_counter()
        store.publish_snapshot(db)
        publish_s = time.perf_counter() - started
        size_mb = db.stat().st_size / 1e6
    print(f"items: {n}")
    print(f"first upsert (all new, Arrow): {insert_s:.2f} s = {n / insert_s:,.0f} items/s ({len(new)} new)")
    print(f"second upsert (nothing changed): {unchanged_s:.2f} s")
    print(f"publish snapshot (copy + fsync + atomic rename): {publish_s:.2f} s for {size_mb:.1f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
