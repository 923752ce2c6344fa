"""A lab's news about a paper and the paper's HAL deposit are one story: link them by citation.

A news item rarely shares enough words with a deposit's abstract for the near-duplicate test, but it
usually cites the paper: its DOI ("DOI : 10.1038/s41586-...") or its HAL identifier (hal-01234567,
tel-..., halshs-...). `cited_references` reads those in an item's title, summary and text;
`deposit_references` gives a deposit's own. `citation_merges` decides which story joins which:
the citing item's cluster joins the deposit's cluster, when the item cites at most MAX_CITED
references that all lead to one deposit story (a publication list, or a news item about two
papers of two stories, links nothing).
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

from pipeline.models import Item, Publication

MAX_CITED = 3
DOI = re.compile(r"\b10\.\d{4,9}/[^\s\"'<>]+", re.IGNORECASE)
# HAL identifiers: the portal's prefix and 8 digits, optionally a version (hal-01234567v2)
HAL_ID = re.compile(
    r"\b((?:hal|halshs|hprints|tel|inria|inserm|cea|in2p3|insu|ird|irsn|ineris|pasteur|mnhn|medihal|dumas"
    r"|cel|pastel|sic|emse|ensl|lirmm|ujm)-\d{8})(?:v\d+)?\b",
    re.IGNORECASE,
)
_DOI_TAIL = ".,;:)]}»"


def cited_references(item: Item) -> frozenset[str]:
    """The DOIs ("doi:10.x/y", lower-case) and HAL ids ("hal:hal-01234567") an item's text cites."""
    text = "\n".join((item.title, item.summary, item.text))
    dois = {"doi:" + match.group(0).rstrip(_DOI_TAIL).lower() for match in DOI.finditer(text)}
    hal_ids = {"hal:" + match.group(1).lower() for match in HAL_ID.finditer(text)}
    return frozenset(dois | hal_ids)


def deposit_references(publication: Publication) -> frozenset[str]:
    keys = {"hal:" + publication.hal_id.lower()}
    if publication.doi:
        keys.add("doi:" + publication.doi.lower())
    return frozenset(keys)


def reference_needle(reference: str) -> str:
    """What to look for in a lower-cased text: the DOI or the HAL id itself."""
    return reference.split(":", 1)[1]


def citation_merges(citing: Sequence[Item], deposit_cluster: Mapping[str, str],
                    cluster_of: Mapping[str, str]) -> dict[str, str]:
    """{cluster id that joins: deposit's cluster id} for the items that cite one deposit story."""
    merges: dict[str, str] = {}
    for item in citing:
        if item.publication is not None:
            continue  # a deposit citing another paper is not its announcement
        references = cited_references(item)
        if not references or len(references) > MAX_CITED:
            continue
        targets = {deposit_cluster[r] for r in references if r in deposit_cluster}
        source = cluster_of.get(item.item_id)
        if len(targets) == 1 and source is not None and source not in targets:
            merges[source] = targets.pop()
    return _without_chains(merges)


def _without_chains(merges: dict[str, str]) -> dict[str, str]:
    """A joins B and B joins C: A joins C. A cycle is dropped."""
    resolved = {}
    for source, target in merges.items():
        seen = {source}
        while target in merges and target not in seen:
            seen.add(target)
            target = merges[target]
        if target not in seen:
            resolved[source] = target
    return resolved
