"""One bad item never stops a step: failures are found, recorded with a stable code, and the
other items are handled as if the bad one were not there."""

from __future__ import annotations

from pipeline.models import Item
from pipeline.steps.isolate import each_item, in_batches, whole_batch


def items(n: int) -> list[Item]:
    return [Item(f"i{k}", f"s{k % 3}", f"http://h/{k}", f"titre {k}", None, "texte") for k in range(n)]


def fragile(batch):
    """A batch function that breaks on any batch holding item i7 or i12 (as a model could)."""
    if any(i.item_id in ("i7", "i12") for i in batch):
        raise OverflowError("date value out of range")
    return [i.item_id.upper() for i in batch]


def test_each_item_records_the_failing_items_and_handles_the_others() -> None:
    results, failures = each_item(items(20), lambda i: fragile([i])[0], "score")
    assert len(results) == 18 and "I7" not in results
    assert [(f.item_id, f.source_id, f.stage, f.code) for f in failures] == [
        ("i7", "s1", "score", "score_error"), ("i12", "s0", "score", "score_error")]
    assert failures[0].detail == "OverflowError: date value out of range"


def test_in_batches_finds_the_culprits_by_halving() -> None:
    calls = []

    def counted(batch):
        calls.append(len(batch))
        return fragile(batch)

    results, failures = in_batches(items(1000), counted, "tag")
    assert sorted(f.item_id for f in failures) == ["i12", "i7"] and all(f.code == "tag_error" for f in failures)
    assert len(results) == 998 and results[0] == "I0" and results[-1] == "I999"  # order kept
    assert len(calls) < 60  # a few calls per bad item, not one per item


def test_in_batches_without_failure_is_one_call() -> None:
    calls = []
    results, failures = in_batches(items(50), lambda b: calls.append(1) or fragile(b[:5]), "tag")
    assert calls == [1] and failures == [] and results == ["I0", "I1", "I2", "I3", "I4"]
    assert in_batches([], fragile, "tag") == ([], [])


def test_whole_batch_handles_the_rest_together() -> None:
    seen = []

    def merge(batch):  # the elements act on each other: one result for the whole batch
        result = fragile(batch)
        seen.append(len(batch))
        return len(result)

    total, failures = whole_batch(items(40), merge, "outreach")
    assert total == 38 and seen[-1] == 38
    assert sorted(f.item_id for f in failures) == ["i12", "i7"]
    assert whole_batch(items(3), merge, "outreach") == (3, [])


def test_whole_batch_when_every_item_fails() -> None:
    total, failures = whole_batch(items(1)[:0] + [items(8)[7]], fragile, "cluster")
    assert total is None and [f.item_id for f in failures] == ["i7"]
