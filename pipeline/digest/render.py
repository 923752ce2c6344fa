"""Write a digest out: HTML e-mail body, plain-text alternative, JSON archive, and the files.

The HTML comes from templates/digest.html.j2 with autoescaping on; only http(s) links are kept
(see digest_types.safe_link). The text version wraps at 76 columns.
"""

from __future__ import annotations

import json
import logging
import textwrap
import unicodedata
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pipeline.digest.entries import (
    Digest, DigestEntry, all_entries, format_clock, format_day, format_event_when, format_period, safe_link,
)
from pipeline.digest.events import PARIS
from pipeline.digest.ics import render_ics
from pipeline.models import CATEGORY_LABELS_FR

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
TEXT_WIDTH = 76


def render_html(d: Digest) -> str:
    """The digest as a self-contained HTML e-mail body (French, inline CSS, no remote content)."""
    template = _environment().get_template("digest.html.j2")
    return template.render(
        d=d,
        week_number=int(d.week.split("-W")[1]),
        period=format_period(d.period_start, d.period_end),
        count_text=_count_text(d.entry_count),
        labels=CATEGORY_LABELS_FR,
        generated=_moment(d.generated_at),
    )


def render_text(d: Digest) -> str:
    """The plain-text alternative of the e-mail."""
    week_number = int(d.week.split("-W")[1])
    out = [
        f"VEILLE SCIENTIFIQUE : SEMAINE {week_number} ({format_period(d.period_start, d.period_end)})",
        f"{_count_text(d.entry_count)} {_plural(d.entry_count, 'retenu')} sur {d.stories_seen} {_plural(d.stories_seen, 'repéré')}",
        "",
    ]
    if d.highlights:
        out += ["À LA UNE", ""]
        for rank, entry in enumerate(d.highlights, 1):
            out += _wrap(f"{rank}. {_plain(entry.title)}", "   ")
            out += _wrap(f"{CATEGORY_LABELS_FR[entry.category]} · {_plain(entry.reason)}", "   ", first="   ")
        out.append("")
    for section in d.sections:
        heading = f"{section.label.upper()} ({len(section.entries)})"
        out += ["=" * len(heading), heading, "=" * len(heading), ""]
        if section.note:
            out += _wrap(section.note, "") + [""]
        if not section.entries:
            out += ["Rien de notable cette semaine.", ""]
        for entry in section.entries:
            out += _entry_text(entry)
    out += _publications_text(d)
    out += _upcoming_text(d)
    out += ["ÉTAT DES SOURCES", ""]
    for line in d.health_lines:
        out += _wrap(_plain(line), "  ", first="- ")
    out += ["", f"Généré automatiquement le {_moment(d.generated_at)}."]
    return "\n".join(out) + "\n"


def render_json(d: Digest) -> str:
    """The digest as JSON (dates in ISO 8601), for the archive and other tools."""
    payload = asdict(d)
    payload["entry_count"] = d.entry_count
    for section, data in zip(d.sections, payload["sections"]):
        data["note"] = section.note
    return json.dumps(payload, ensure_ascii=False, indent=2, default=_json_value) + "\n"


def write_digest(d: Digest, folder: Path) -> dict[str, Path]:
    """Write <week>.html, .txt, .json and .ics into `folder`; return their paths by extension."""
    folder.mkdir(parents=True, exist_ok=True)
    bodies = {"html": render_html(d), "txt": render_text(d), "json": render_json(d), "ics": render_ics(d)}
    paths = {}
    for extension, body in bodies.items():
        path = folder / f"{d.week}.{extension}"
        with path.open("w", encoding="utf-8", newline="") as handle:
            handle.write(body)
        paths[extension] = path
    logger.info("digest %s written to %s (%d entries)", d.week, folder, len(all_entries(d)))
    return paths


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
        trim_blocks=False, lstrip_blocks=False,
    )
    env.filters["link"] = safe_link
    env.filters["day"] = lambda moment: format_day(moment.astimezone(PARIS).date())
    env.filters["when"] = format_event_when
    return env


def _entry_text(entry: DigestEntry) -> list[str]:
    lines = _wrap("* " + _plain(entry.title) + (" [à vérifier]" if entry.uncertain else ""), "  ")
    meta = ", ".join(_plain(s) for s in entry.sources) + " · " + format_day(entry.date.astimezone(PARIS).date())
    lines += _wrap(meta, "  ", first="  ")
    if entry.summary:
        lines += _wrap(_plain(entry.summary), "  ", first="  ")
    lines += _wrap("Pourquoi : " + _plain(entry.reason), "  ", first="  ")
    lines.append("  " + (safe_link(entry.url) or "(lien non valide)"))
    return lines + [""]


def _publications_text(d: Digest) -> list[str]:
    if not d.publications:
        return []
    out = ["PUBLICATIONS (DÉPÔTS HAL)", ""]
    for p in d.publications:
        details = [p.authors, p.venue, p.doc_type, "accès ouvert" if p.open_access else ""]
        out += _wrap("* " + _plain(p.title), "  ")
        out += _wrap(" · ".join(_plain(x) for x in details if x), "  ", first="  ")
        out += _wrap("Pourquoi : " + _plain(p.reason), "  ", first="  ")
        out += ["  " + link for link in (safe_link(p.url), safe_link(p.doi_url or "")) if link]
        out.append("")
    return out


def _upcoming_text(d: Digest) -> list[str]:
    out = ["À VENIR", ""]
    if not d.upcoming:
        return out + ["Aucun événement daté dans les quatre prochaines semaines.", ""]
    for u in d.upcoming:
        out += _wrap(f"- {format_event_when(u.event)} : {_plain(u.title)}", "  ")
        out.append("  " + (safe_link(u.url) or "(lien non valide)"))
    return out + ["", "Ces dates sont aussi dans le fichier agenda joint (.ics).", ""]


def _wrap(text: str, indent: str, first: str | None = None) -> list[str]:
    return textwrap.wrap(text, TEXT_WIDTH, initial_indent=first or "", subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False) or [first or ""]


def _plain(text: str) -> str:
    """One line without control characters (a crawled title cannot break the layout)."""
    return " ".join("".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text or "").split())


def _count_text(count: int) -> str:
    return "aucun sujet" if count == 0 else f"{count} sujet" + ("s" if count > 1 else "")


def _plural(count: int, word: str) -> str:
    return word + "s" if count > 1 else word


def _moment(moment: datetime) -> str:
    return f"{format_day(moment.astimezone(PARIS).date())} à {format_clock(moment)}"


def _json_value(value: Any) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
