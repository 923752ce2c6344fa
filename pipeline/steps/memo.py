"""A night with nothing changed does not redo costly work: the hash of a computation's inputs.

A step computes `inputs_key(...)` over everything its result depends on (always the code of the
`pipeline` package and the labelled data of `classifiers/`, so that a new rule, model or training
example redoes the work), compares it with
the key stored in `step_memos` by the last run that did the work, and reuses or redoes. Keys are
sha256 over the `repr` of frozen dataclasses, tuples, strings and dates: equal inputs, equal keys.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
LABELLED_DATA = PACKAGE.parent / "classifiers"  # the training sets of the models (see each model's module)


def inputs_key(*parts: object) -> str:
    digest = hashlib.sha256(code_version().encode("ascii"))
    for part in parts:
        digest.update(b"\x1e" + repr(part).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


@lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of every Python source file of the package and every file of the labelled data."""
    digest = hashlib.sha256()
    files = [p for p in PACKAGE.rglob("*.py")] + [p for p in LABELLED_DATA.rglob("*") if p.is_file()]
    for path in sorted(files):
        digest.update(str(path.relative_to(PACKAGE.parent)).encode("utf-8") + b"\0" + path.read_bytes())
    return digest.hexdigest()
