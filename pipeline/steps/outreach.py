"""The outreach map's recipe: detect initiatives in stored items, apply the officer's decisions,
merge the hand-entered ones from initiatives.yaml, publish the static site.

Detection never overwrites what the officer validated, and a rejected proposal stays rejected
(see initiatives.apply_decisions); the catalogue, rejected entries included, lives in the store.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pipeline import store

from pipeline.outreach import review as initiatives_review

from pipeline.outreach.site import publish as mapsite

from pipeline.outreach import detect as outreach

from pipeline.outreach import model as outreach_model
from pipeline.config import ConfigInvalid
from pipeline.outreach.catalogue import Initiative, apply_decisions, load_initiatives_file, published_initiatives
from pipeline.outreach.public_events import coming_public_events
from pipeline.steps.isolate import whole_batch

log = logging.getLogger(__name__)
LOOKBACK_DAYS = 800  # items old enough to show last year's and the year before's editions
EVENT_LOOKBACK_DAYS = 120  # the stories whose coming public events go into agenda.ics


@dataclass(frozen=True)
class MapResult:
    folder: Path
    shown: int
    proposed: int
    summary: str


def load_manual_initiatives(path: Path) -> list[Initiative]:
    """Hand-entered initiatives; a missing file means none, an invalid one raises ConfigInvalid."""
    if not Path(path).exists():
        return []
    manual, errors = load_initiatives_file(Path(path))
    if errors:
        raise ConfigInvalid(errors)
    return manual


def refresh_initiatives(db: Path, now: datetime, run_id: str = "") -> int:
    """Propose initiatives from the stored items and fold them into the stored catalogue; an item
    that cannot be read is recorded in item_failures (outreach_error) and left out."""
    model = outreach_model.train_outreach_model(outreach_model.load_examples())
    with store.open_store(db) as conn:
        items = store.items_since(conn, now - timedelta(days=LOOKBACK_DAYS))
        names, today = store.source_names(conn), mapsite.today_in_paris(now)
        found, failures = whole_batch(
            items, lambda batch: outreach.propose_initiatives(batch, names, model, today=today), "outreach")
        store.save_item_failures(conn, run_id, failures, now)
        proposed = found or []
        catalogue = apply_decisions(proposed, store.load_initiatives(conn), [])
        store.save_initiatives(conn, catalogue, now)
    log.info("outreach: %d proposal(s) from %d item(s); catalogue of %d", len(proposed), len(items), len(catalogue))
    return len(proposed)


def publish_outreach_map(db: Path, initiatives_file: Path, out: Path, now: datetime | None = None) -> MapResult:
    """Write the site from the stored catalogue and the hand-entered initiatives."""
    now = now or datetime.now(timezone.utc)
    manual = load_manual_initiatives(initiatives_file)
    with store.open_store(db) as conn:
        catalogue = store.load_initiatives(conn)
        stories = store.coming_event_stories(conn, now - timedelta(days=EVENT_LOOKBACK_DAYS))
    shown = published_initiatives(manual, catalogue)
    events = coming_public_events(stories, shown, mapsite.today_in_paris(now))
    mapsite.publish_map(shown, out, generated_at=now, public_events=events)
    proposals = sum(1 for i in catalogue if i.visible and not i.validated)
    summary = (f"outreach map: {len(shown)} initiative(s) published to {out / 'index.html'} "
               f"({len(manual)} entered by hand, {proposals} proposal(s) awaiting validation; "
               f"{len(events)} other public event(s) in agenda.ics)")
    return MapResult(out, len(shown), proposals, summary)


def export_proposals(db: Path, path: Path) -> int:
    """The CSV the officer fills: every visible initiative of the catalogue, proposals first."""
    with store.open_store(db) as conn:
        catalogue = [i for i in store.load_initiatives(conn) if i.visible]
    catalogue.sort(key=lambda i: (i.validated, i.title.casefold()))
    return initiatives_review.export_proposals(catalogue, path)


def import_decisions(db: Path, path: Path, now: datetime) -> tuple[int, list[initiatives_review.CsvError]]:
    """Apply a filled CSV; a malformed file is refused whole and nothing changes."""
    with store.open_store(db) as conn:
        stored = store.load_initiatives(conn)
        decisions, errors = initiatives_review.read_decisions(path, {i.initiative_id for i in stored})
        if errors:
            return 0, errors
        store.save_initiatives(conn, apply_decisions([], stored, decisions), now)
        store.save_decisions(conn, [
            (d.initiative_id, d.action, json.dumps(dict(d.fields), default=str, ensure_ascii=False), d.merge_into,
             str(path), d.line)
            for d in decisions
        ], now)
    store.publish_snapshot(db)
    return len(decisions), []
