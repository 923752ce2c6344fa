"""The outreach map's recipe: detect initiatives in stored items, apply the officer's decisions,
merge the hand-entered ones from initiatives.yaml, publish the static site.

Detection never overwrites what the officer validated, and a rejected proposal stays rejected
(see initiatives.apply_decisions); the catalogue, rejected entries included, lives in the store.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path

from pipeline import store
from pipeline.outreach import review as initiatives_review
from pipeline.config import ConfigInvalid
from pipeline.digest.events import today_in_paris
from pipeline.outreach.catalogue import Initiative, apply_decisions, load_initiatives_file, published_initiatives
from pipeline.models import Item
from pipeline.steps import memo
from pipeline.outreach.public_events import PublicEvent, coming_public_events
from pipeline.steps.isolate import whole_batch

log = logging.getLogger(__name__)
LOOKBACK_DAYS = 800  # items old enough to show last year's and the year before's editions
MAP_INPUTS_FILE = ".inputs-sha256"  # in the map's folder: the hash of what it was last written from
EVENT_LOOKBACK_DAYS = 120  # the stories whose coming public events go into agenda.ics
SITE_CODE = Path(__file__).resolve().parents[1] / "outreach" / "site"  # the map's code, templates and assets


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


def refresh_initiatives(db: Path, now: datetime, run_id: str = "", model_dir: Path | None = None) -> int:
    """Propose initiatives from the stored items and fold them into the stored catalogue; an item
    that cannot be read is recorded in item_failures (outreach_error) and left out. Nothing is done
    when the items, the sources' names, today's date, the catalogue and the detector are those the
    last detection left (step_memos). The detector is trained once per training set and kept in
    `model_dir` (default: `models/` beside the database)."""
    training = training_key()
    with store.open_store(db) as conn:
        items = store.items_since(conn, now - timedelta(days=LOOKBACK_DAYS))
        names, today = store.source_names(conn), today_in_paris(now)
        stored = store.load_memo(conn, "refresh_initiatives")
        if stored is not None and stored[0] == _detection_key(items, names, today, training, conn):
            log.info("outreach: nothing changed since the last detection")
            return int(json.loads(stored[1])["proposed"])
        from pipeline.outreach import detect as outreach  # scikit-learn: seconds to import

        model = current_outreach_model(model_dir or db.parent / "models", training)
        found, failures = whole_batch(
            items, lambda batch: outreach.propose_initiatives(batch, names, model, today=today), "outreach")
        store.save_item_failures(conn, run_id, failures, now)
        proposed = found or []
        catalogue = apply_decisions(proposed, store.load_initiatives(conn), [])
        store.save_initiatives(conn, catalogue, now)
        if not failures:  # an item that failed is tried again the next night
            store.save_memo(conn, "refresh_initiatives", _detection_key(items, names, today, training, conn),
                            json.dumps({"proposed": len(proposed)}), now)
    log.info("outreach: %d proposal(s) from %d item(s); catalogue of %d", len(proposed), len(items), len(catalogue))
    return len(proposed)


def _detection_key(items: list[Item], names: dict[str, str], today: date, training: str, conn) -> str:
    """What detection depends on; the catalogue as stored now (the last detection's result, unless
    the officer decided something since)."""
    catalogue = sorted(store.load_initiatives(conn), key=lambda i: i.initiative_id)
    return memo.inputs_key(sorted(items, key=lambda i: i.item_id), sorted(names.items()), today, training, catalogue)


def current_outreach_model(model_dir: Path, training: str | None = None):
    """The detector (outreach.model.OutreachModel) for the current training inputs: read from
    `model_dir` when trained before on exactly these inputs, else trained now and saved there."""
    from pipeline.outreach import model as outreach_model

    path = Path(model_dir) / f"outreach-{training or training_key()}.skops"
    if path.exists() and path.with_suffix(".json").exists():
        return outreach_model.load_outreach_model(path)
    examples = outreach_model.load_examples()
    model = outreach_model.train_outreach_model(examples)
    outreach_model.save_outreach_model(model, path)
    log.info("trained outreach model %s on %d example(s)", model.version, len(examples))
    return model


def training_key() -> str:
    """A hash of everything the trained detector depends on: its training file and threshold, the
    code that builds and trains it (both in memo.code_version) and the scikit-learn version."""
    return memo.inputs_key("outreach detector", metadata.version("scikit-learn"))[:16]


def publish_outreach_map(db: Path, initiatives_file: Path, out: Path, now: datetime | None = None,
                         skip_unchanged: bool = False) -> MapResult:
    """Write the site from the stored catalogue and the hand-entered initiatives. With
    `skip_unchanged` (the nightly run), a site already written from the same inputs (initiatives
    shown, today's date in Paris, the site's code and templates) is left as it is."""
    now = now or datetime.now(timezone.utc)
    manual = load_manual_initiatives(initiatives_file)
    with store.open_store(db) as conn:
        catalogue = store.load_initiatives(conn)
        stories = store.coming_event_stories(conn, now - timedelta(days=EVENT_LOOKBACK_DAYS))
    shown = published_initiatives(manual, catalogue)
    proposals = sum(1 for i in catalogue if i.visible and not i.validated)
    today = today_in_paris(now)
    events = coming_public_events(stories, shown, today)
    key, marker = map_inputs_key(shown, events, today), Path(out) / MAP_INPUTS_FILE
    unchanged = skip_unchanged and (Path(out) / "index.html").is_file() and _read(marker) == key
    if not unchanged:
        from pipeline.outreach.site import publish as mapsite  # jinja2, icalendar: only when it is written

        mapsite.publish_map(shown, out, generated_at=now, public_events=events)
        marker.write_text(key, encoding="utf-8")
    summary = (f"outreach map: {len(shown)} initiative(s) {'unchanged in' if unchanged else 'published to'} "
               f"{out / 'index.html'} ({len(manual)} entered by hand, {proposals} proposal(s) awaiting validation; "
               f"{len(events)} other public event(s) in agenda.ics)")
    return MapResult(out, len(shown), proposals, summary)


def map_inputs_key(shown: list[Initiative], events: list[PublicEvent], today: date) -> str:
    """A hash of everything the map's pages are made of, but the time they were written."""
    digest = hashlib.sha256(f"{today.isoformat()}\n{shown!r}\n{events!r}\n".encode("utf-8"))
    for path in sorted(p for p in SITE_CODE.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.name.encode("utf-8") + path.read_bytes())
    return digest.hexdigest()


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


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
