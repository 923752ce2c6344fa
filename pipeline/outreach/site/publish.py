"""Publish the outreach map: a static French website of the initiatives, for staff.

`publish_map` writes index.html (search box and filters), one page per initiative (with its
evidence links), qui-fait-quoi.html (organisers x kinds), chronologie.html (coming and past
editions), data.js (the catalogue as a script, so pages work from a file share), CSV/Parquet
exports, and two subscriptions every page links: agenda.ics (coming editions and the stories'
coming public events, agenda.py) and initiatives.atom (newly validated initiatives, feed.py).
Pages use only files from the folder: no request to any outside server. Every crawled string goes
through Jinja2 autoescaping. `serve_map` previews the folder on 127.0.0.1.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Sequence

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pipeline.digest.events import PARIS
from pipeline.outreach.catalogue import Initiative
from pipeline.outreach.public_events import PublicEvent
from pipeline.outreach.site.agenda import render_agenda
from pipeline.outreach.site.feed import FEED_FILE, render_feed, validated_since
from pipeline.outreach.site.exports import data_script, write_csv, write_parquet
from pipeline.outreach.site.views import (
    card_of, day_label, filter_options, matrix_rows, timeline_sections,
)

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static" / "map"
PAGES_DIR = "initiatives"


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(STATIC / "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=False, keep_trailing_newline=True)


def publish_map(initiatives: Sequence[Initiative], folder: Path, *, generated_at: datetime,
                public_events: Sequence[PublicEvent] = ()) -> dict:
    """Write the map website into `folder` (`public_events`: the stories' coming public events that
    are no initiative, for agenda.ics); returns what was written (counts and seconds)."""
    started = time.perf_counter()
    folder = Path(folder)
    shown = sorted((i for i in initiatives if i.visible), key=lambda i: (i.title.casefold(), i.initiative_id))
    local = generated_at.astimezone(PARIS)
    today = local.date()
    common = {"generated_label": f"{day_label(today)} à {local:%H:%M}", "today_label": day_label(today)}
    env = _environment()
    cards = [card_of(i, today) for i in shown]
    _prepare_folder(folder)
    _write(folder / "index.html", env.get_template("index.html.j2").render(
        root="", page="index", initiatives=cards, filters=filter_options(shown), **common))
    detail = env.get_template("initiative.html.j2")
    for card in cards:
        _write(folder / PAGES_DIR / card["page"], detail.render(root="../", page="initiative", i=card, **common))
    _remove_stale_pages(folder / PAGES_DIR, {c["page"] for c in cards})
    kinds, rows = matrix_rows(shown)
    _write(folder / "qui-fait-quoi.html", env.get_template("matrix.html.j2").render(
        root="", page="matrix", kinds=kinds, rows=rows, **common))
    _write(folder / "chronologie.html", env.get_template("timeline.html.j2").render(
        root="", page="timeline", sections=timeline_sections(shown, today), **common))
    _write(folder / "data.js", data_script(shown))
    _write(folder / "agenda.ics", render_agenda(shown, today, generated_at, public_events))
    _write(folder / FEED_FILE, render_feed(shown, validated_since(shown, folder, generated_at), generated_at))
    write_csv(shown, folder / "initiatives.csv")
    write_parquet(shown, folder / "initiatives.parquet")
    seconds = time.perf_counter() - started
    logger.info("map: %d initiatives published in %s (%.1f s)", len(shown), folder, seconds)
    return {"folder": str(folder), "initiatives": len(shown), "pages": len(cards) + 3, "events": len(public_events),
            "hidden": len(initiatives) - len(shown), "seconds": round(seconds, 3)}


def _prepare_folder(folder: Path) -> None:
    (folder / PAGES_DIR).mkdir(parents=True, exist_ok=True)
    assets = folder / "assets"
    assets.mkdir(exist_ok=True)
    for source in (STATIC / "assets").iterdir():
        if source.is_file():
            shutil.copyfile(source, assets / source.name)


def _remove_stale_pages(pages: Path, keep: set[str]) -> None:
    """Pages of initiatives no longer shown (rejected, merged) must not stay reachable."""
    for path in pages.glob("*.html"):
        if path.name not in keep:
            path.unlink()


def _write(path: Path, text: str | bytes) -> None:
    """Write through a temporary file so a reader of the share never sees half a page."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    temporary.replace(path)


# ----------------------------------------------------------------------------- preview server


@dataclass
class MapServer:
    """A preview of the map on 127.0.0.1; `requests` logs (client address, path) of every request."""

    folder: Path
    server: ThreadingHTTPServer
    requests: list[tuple[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(SimpleHTTPRequestHandler):
    log_target: list[tuple[str, str]]

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib signature)
        logger.debug("map preview: " + format, *args)

    def do_GET(self) -> None:
        self.log_target.append((self.client_address[0], self.path))
        super().do_GET()


def serve_map(folder: Path, port: int = 0) -> MapServer:
    """Serve `folder` on 127.0.0.1 (port 0: any free port) in a background thread; `.stop()` ends it."""
    log: list[tuple[str, str]] = []
    handler = type("MapHandler", (_Handler,), {"log_target": log})
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(handler, directory=str(folder)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="map-preview", daemon=True).start()
    preview = MapServer(Path(folder), server, log)
    logger.info("map preview on %s", preview.url)
    return preview
