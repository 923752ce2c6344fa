"""The crawl's batches: a night of many sources is a few task runs, each origin whole in one of them."""

from __future__ import annotations

from pipeline.models import Source
from pipeline.steps import nightly


def source(index: int, host: str) -> Source:
    return Source(f"s{index}", f"Source {index}", "feed", f"https://{host}/feed{index}.xml")


def test_batches_keep_each_origin_whole_and_share_the_sources_evenly() -> None:
    sources = [source(i, f"lab{i % 7}.example.org") for i in range(70)] + [source(70, "LAB0.example.org")]
    batches = nightly.batch_by_origin(sources, 4)
    assert len(batches) == 4
    assert sorted(s.id for batch in batches for s in batch) == sorted(s.id for s in sources)
    hosts = [{s.url.split("/")[2].lower() for s in batch} for batch in batches]
    assert all(not (a & b) for i, a in enumerate(hosts) for b in hosts[i + 1:])  # no origin in two batches
    assert max(map(len, batches)) - min(map(len, batches)) <= 11  # one origin's worth at most


def test_fewer_origins_than_batches_make_one_batch_per_origin() -> None:
    sources = [source(0, "a.example.org"), source(1, "b.example.org"), source(2, "a.example.org")]
    assert [[s.id for s in batch] for batch in nightly.batch_by_origin(sources, 64)] == [["s0", "s2"], ["s1"]]
    assert nightly.batch_by_origin([], 64) == []  # no source, no task
