"""The nightly recipe without Prefect stores what the Prefect flow stores, on the same loopback sites."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline.demo.run import write_sources

# each run trains its own classifier: confidences agree to float noise (~1e-7), not bit for bit
ITEMS = """SELECT item_id, source_id, url, title, published_at, text, category, round(category_confidence, 4)
           FROM v_items ORDER BY item_id"""
# a cluster by its members (ids of clusters are ids of an item: compared through membership)
CLUSTERS = """SELECT list(item_id ORDER BY item_id) FROM items WHERE cluster_id IS NOT NULL
              GROUP BY cluster_id ORDER BY 1"""


def rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.usefixtures("prefect_harness")
def test_direct_run_stores_the_items_clusters_and_categories_of_the_flow(demo_sites, tmp_path: Path) -> None:
    from pipeline import flows
    from pipeline.steps import direct

    sources = write_sources(demo_sites, tmp_path / "sources.yaml")
    none = tmp_path / "none.yaml"
    on_flow = flows.nightly_flow(str(sources), str(tmp_path / "flow" / "veille.duckdb"), str(none))
    on_direct, stages = direct.run_nightly_direct(sources, tmp_path / "direct" / "veille.duckdb", none)
    assert on_direct == on_flow and on_direct["items_new"] >= 40
    flow_db, direct_db = tmp_path / "flow" / "veille.duckdb", tmp_path / "direct" / "veille.duckdb"
    assert rows(direct_db, ITEMS) == rows(flow_db, ITEMS)
    assert rows(direct_db, CLUSTERS) == rows(flow_db, CLUSTERS)
    assert len(rows(direct_db, CLUSTERS)) < on_direct["items_new"]  # relays joined a story
    assert set(stages.seconds) == {"prepare_crawl", "crawl", "record_crawl", "cluster_new_items", "tag_items",
                                   "score_items", "refresh_initiatives", "publish_outreach_map", "finish_run"}
    assert (tmp_path / "direct" / "map" / "index.html").is_file()
