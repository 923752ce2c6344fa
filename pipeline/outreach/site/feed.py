"""The map's Atom feed of newly validated initiatives (initiatives.atom), written with `feedgen`.

An initiative enters the feed the first night it is shown validated (or entered by hand); that
moment is its entry's date and is remembered in `validated-since.json` beside the feed, so an
entry keeps its date and id from one night to the next and a feed reader shows it once. The
newest MAX_ENTRIES are kept. Links are relative to the feed (the map may live on any file share or
server), which feed readers resolve against the feed's own address.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from feedgen.feed import FeedGenerator

from pipeline.digest.ics import clean_value
from pipeline.outreach.catalogue import KIND_LABELS_FR, Initiative
from pipeline.outreach.site.views import edition_dates, page_name

FEED_FILE = "initiatives.atom"
STATE_FILE = "validated-since.json"
MAX_ENTRIES = 50
TAG = "tag:veille-scientifique.invalid,2026:"
FEED_TITLE = "Nouvelles initiatives de médiation scientifique - Faculté des sciences"


def validated_since(initiatives: Sequence[Initiative], folder: Path, now: datetime) -> dict[str, datetime]:
    """When each validated initiative was first published validated; updates STATE_FILE."""
    path = Path(folder) / STATE_FILE
    try:
        known = {k: datetime.fromisoformat(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
    except (OSError, ValueError, AttributeError):
        known = {}
    validated = {i.initiative_id for i in initiatives if i.validated or i.origin == "manual"}
    since = {k: v for k, v in known.items() if k in validated}
    since.update({k: now.astimezone(timezone.utc) for k in validated if k not in since})
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps({k: v.isoformat() for k, v in sorted(since.items())}, indent=1), encoding="utf-8")
    temporary.replace(path)
    return since


def render_feed(initiatives: Sequence[Initiative], since: dict[str, datetime], generated_at: datetime) -> bytes:
    """The Atom feed: the newest validated initiatives first."""
    chosen = sorted((i for i in initiatives if i.initiative_id in since),
                    key=lambda i: (since[i.initiative_id], i.initiative_id), reverse=True)[:MAX_ENTRIES]
    feed = FeedGenerator()
    feed.id(TAG + "initiatives")
    feed.title(FEED_TITLE)
    feed.language("fr")
    feed.author({"name": "Veille scientifique de la Faculté des sciences"})
    feed.link(href=FEED_FILE, rel="self", type="application/atom+xml")
    feed.link(href="index.html", rel="alternate", type="text/html")
    feed.updated(max((since[i.initiative_id] for i in chosen), default=generated_at.astimezone(timezone.utc)))
    for initiative in reversed(chosen):  # feedgen prepends: the newest ends up first
        _add_entry(feed, initiative, since[initiative.initiative_id])
    return feed.atom_str(pretty=True)


def _add_entry(feed: FeedGenerator, initiative: Initiative, when: datetime) -> None:
    entry = feed.add_entry()
    entry.id(TAG + "initiative/" + initiative.initiative_id)
    entry.title(clean_value(initiative.title))
    entry.published(when)
    entry.updated(when)
    entry.link(href=f"initiatives/{page_name(initiative.initiative_id)}", rel="alternate", type="text/html")
    for organiser in initiative.organisers:
        entry.author({"name": clean_value(organiser)})
    entry.category(term=initiative.kind, label=KIND_LABELS_FR[initiative.kind])
    entry.summary(clean_value(_summary(initiative)))  # crawled text: no control character may reach XML


def _summary(initiative: Initiative) -> str:
    parts = [KIND_LABELS_FR[initiative.kind], "organisé par " + ", ".join(initiative.organisers)]
    dated = [edition_dates(e) for e in sorted(initiative.editions, key=lambda e: e.year, reverse=True) if e.start]
    if dated:
        parts.append(dated[0])
    if initiative.place:
        parts.append(initiative.place)
    text = " ; ".join(parts) + "."
    return f"{text} {initiative.description}".strip() if initiative.description else text
