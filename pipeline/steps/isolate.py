"""One bad item never costs the others their run: a failure while a step handles one item is
recorded against that item and its source with a stable code (`<stage>_error`), and the step goes
on with the other items.

`each_item` handles items one by one; `in_batches` hands the whole batch to a batch function (a
model predicts thousands of items at once) and, only when that raises, splits the batch in halves
until the items that fail on their own are found (a few extra calls per bad item).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence, TypeVar

from pipeline.models import Item

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
DETAIL_CHARS = 300


@dataclass(frozen=True)
class ItemFailure:
    """An item a step could not handle: stored in `item_failures`, counted in the run summary."""

    item_id: str
    source_id: str
    stage: str  # cluster, tag, score, outreach
    code: str  # <stage>_error
    detail: str  # the exception's type and message


def failure_of(item: Item, stage: str, exc: BaseException) -> ItemFailure:
    detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:DETAIL_CHARS]
    log.warning("%s: item %s of source %s skipped: %s", stage, item.item_id, item.source_id, detail)
    return ItemFailure(item.item_id, item.source_id, stage, f"{stage}_error", detail)


def each_item(elements: Iterable[T], handle: Callable[[T], R], stage: str,
              item_of: Callable[[T], Item] = lambda element: element) -> tuple[list[R], list[ItemFailure]]:
    """handle(element) for every element; the elements that raise become failures."""
    results: list[R] = []
    failures: list[ItemFailure] = []
    for element in elements:
        try:
            results.append(handle(element))
        except Exception as exc:  # noqa: BLE001 - isolation is the point: recorded, counted, reported
            failures.append(failure_of(item_of(element), stage, exc))
    return results, failures


def in_batches(elements: Sequence[T], handle_batch: Callable[[Sequence[T]], Iterable[R]], stage: str,
               item_of: Callable[[T], Item] = lambda element: element) -> tuple[list[R], list[ItemFailure]]:
    """handle_batch(elements) as one call; when it raises, the halves are handled apart, down to
    the single elements that fail, which become failures. An empty batch is never handled."""
    if not elements:
        return [], []
    try:
        return list(handle_batch(elements)), []
    except Exception as exc:  # noqa: BLE001 - isolation is the point: recorded, counted, reported
        if len(elements) == 1:
            return [], [failure_of(item_of(elements[0]), stage, exc)]
    middle = len(elements) // 2
    left, left_failures = in_batches(elements[:middle], handle_batch, stage, item_of)
    right, right_failures = in_batches(elements[middle:], handle_batch, stage, item_of)
    return left + right, left_failures + right_failures


def whole_batch(elements: Sequence[T], handle_batch: Callable[[Sequence[T]], R], stage: str,
                item_of: Callable[[T], Item] = lambda element: element) -> tuple[R | None, list[ItemFailure]]:
    """handle_batch(elements) as one call, for a batch whose elements act on each other (clustering
    new items together, merging editions): when it raises, the failing elements are found as in
    `in_batches`, then the batch is handled again, whole, without them."""
    if not elements:
        return None, []
    try:
        return handle_batch(elements), []
    except Exception:  # noqa: BLE001 - isolation is the point: the culprits are found below
        _, failures = in_batches(elements, lambda part: [handle_batch(part)], stage, item_of)
    failed = {f.item_id for f in failures}
    rest = [element for element in elements if item_of(element).item_id not in failed]
    return (handle_batch(rest) if rest else None), failures
