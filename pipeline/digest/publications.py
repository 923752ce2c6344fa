"""The digest's "Publications" block: the week's most notable HAL deposits, briefly.

Stories with a HAL deposit (Candidate.publications) are ranked by their worthiness score; the
block shows the first MAX_PUBLICATIONS, each with its authors, journal or conference, document type,
open access, the HAL page and the DOI link, and whether a news item announces it. A story that
is only a deposit is shown here and not again in the Research section; a deposit announced by a
lab's news stays in that section too (the news is the story, the block names the paper).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from pipeline.digest.rank import Worthiness, reason_line
from pipeline.models import Candidate, Publication

MAX_PUBLICATIONS = 5
HAL_PAGE = "https://hal.science/"  # an announced deposit is linked by its HAL id (the story shows the news)
MAX_AUTHORS = 4
DOC_TYPES_FR = {
    "ART": "article", "COMM": "communication", "OUV": "ouvrage", "COUV": "chapitre d'ouvrage",
    "THESE": "thèse", "HDR": "HDR", "UNDEFINED": "prépublication", "PREPRINT": "prépublication",
    "REPORT": "rapport", "POSTER": "poster", "DOUV": "direction d'ouvrage", "PATENT": "brevet",
}


@dataclass(frozen=True)
class PublicationEntry:
    cluster_id: str
    title: str
    url: str  # the deposit's HAL page (the story's title is the news item's when one announces it)
    authors: str  # "C. Martin, Y. Benali et al."
    venue: str  # journal or conference
    doc_type: str  # French label
    doi_url: str | None
    open_access: bool
    announced: bool  # a news item of the story announces it
    date: datetime
    reason: str
    score: float


def deposit_only(c: Candidate) -> bool:
    """A story that is a HAL deposit and nothing else: it belongs to the Publications block only."""
    return bool(c.publications) and c.news_items == 0


def select_publications(scored: Sequence[tuple[Candidate, Worthiness]],
                        limit: int = MAX_PUBLICATIONS) -> tuple[PublicationEntry, ...]:
    """The `limit` best stories with a deposit, best first."""
    with_deposit = [(c, w) for c, w in scored if c.publications]
    ranked = sorted(with_deposit, key=lambda cw: (-cw[1].score, cw[0].item.title))
    return tuple(_entry(c, w) for c, w in ranked[:limit])


def _entry(c: Candidate, w: Worthiness) -> PublicationEntry:
    publication = _most_notable(c.publications)
    announced = c.news_items > 0
    return PublicationEntry(
        cluster_id=c.cluster_id, title=" ".join(c.item.title.split()) or "(sans titre)",
        url=HAL_PAGE + publication.hal_id if announced else c.item.url,
        authors=authors_line(publication.authors), venue=publication.journal or publication.conference,
        doc_type=DOC_TYPES_FR.get(publication.doc_type, publication.doc_type.lower()),
        doi_url=f"https://doi.org/{publication.doi}" if publication.doi else None,
        open_access=publication.open_access, announced=announced,
        date=c.item.published_at or c.first_seen_at, reason=reason_line(w), score=w.score,
    )


def _most_notable(publications: Sequence[Publication]) -> Publication:
    return max(publications, key=lambda p: (p.open_access, bool(p.journal), bool(p.doi), p.hal_id))


def authors_line(authors: Sequence[str]) -> str:
    shown = ", ".join(authors[:MAX_AUTHORS])
    return shown + (" et al." if len(authors) > MAX_AUTHORS else "")
