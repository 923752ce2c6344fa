"""The weekly recipe: build the week's digest from the store, archive it, send it exactly once.

Delivery is recorded in the `digests` table before and after the SMTP transaction:
- `sent`: nothing is sent again for that week and recipient list unless `force`;
- `failed`: the SMTP server refused or was unreachable; the next run tries again;
- `sending` left behind: the process died during the SMTP transaction, so the message may or may
  not have left. We never guess: the run fails with DeliveryUncertain, asking a person to check
  the mailbox and resend with `--force` if needed. A digest is never silently sent twice.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Mapping

from pipeline import store

from pipeline.digest import build as digest

from pipeline.digest import learn, mail
from pipeline.classify.model import UNCERTAIN_BELOW

log = logging.getLogger(__name__)


class DeliveryUncertain(Exception):
    """A previous attempt died mid-send: a person must check before anything is resent."""


@dataclass(frozen=True)
class BuiltDigest:
    digest: digest.Digest
    paths: dict[str, Path]
    markdown_preview: str


def default_week(now: datetime) -> str:
    """The ISO week of yesterday in Paris: on the Monday-morning run, the week that just ended."""
    return digest.iso_week_of(now - timedelta(days=1))


def week_span(week: str) -> tuple[datetime, datetime]:
    """UTC bounds [Monday 00:00, next Monday 00:00) of an ISO week, in Paris time."""
    monday, sunday = digest.week_bounds(week)
    return digest.paris_midnight(monday), digest.paris_midnight(sunday + timedelta(days=1))


def build_week_digest(db: Path, week: str | None, now: datetime, out_dir: Path) -> BuiltDigest:
    """Select and rank the week's stories, write the archive files, record the selection."""
    week = week or default_week(now)
    start, end = week_span(week)
    with store.open_store(db) as conn:
        candidates = store.load_candidates(conn, start, end)
        health = store.load_source_health(conn, now)
        exclude = store.sent_cluster_ids(conn, week)
        built = digest.build_digest(
            candidates, week, health, now, exclude_cluster_ids=exclude, uncertain_below=UNCERTAIN_BELOW,
            weights=learn.weights_from_grades(store.load_graded_items(conn)),
        )
        store.save_digest_items(
            conn, week, [(e.cluster_id, e.item_id, e.category, rank) for rank, e in enumerate(digest.all_entries(built), 1)]
        )
    paths = digest.write_digest(built, out_dir)
    store.publish_snapshot(db)
    log.info("digest %s: %d entries, written to %s", week, len(digest.all_entries(built)), paths.get("html"))
    return BuiltDigest(built, paths, _preview(built, paths))


def _preview(built: digest.Digest, paths: Mapping[str, Path]) -> str:
    text = paths["txt"].read_text(encoding="utf-8") if "txt" in paths else digest.render_text(built)
    return f"# {built.subject}\n\n```text\n{text}\n```\n"


def send_week_digest(db: Path, built: BuiltDigest, force: bool = False, environ: Mapping[str, str] | None = None) -> str:
    """Send the digest once per week and recipient list; return 'sent' or 'already_sent'."""
    settings = mail.smtp_settings_from_env(os.environ if environ is None else environ)
    if isinstance(settings, list):
        raise mail.MailSettingsError("SMTP is not configured: " + "; ".join(settings))
    week, recipients = built.digest.week, ",".join(sorted(settings.mail_to))
    try:
        status = _deliver_once(db, built, settings, week, recipients, force)
    finally:
        store.publish_snapshot(db)  # analysts see the delivery record, failed ones included
    if status == "sent":
        log.info("digest %s sent to %s", week, recipients)
    return status


def _deliver_once(db: Path, built: BuiltDigest, settings: mail.SmtpSettings, week: str, recipients: str,
                  force: bool) -> str:
    with store.open_store(db) as conn:
        previous = store.digest_status(conn, week, recipients)
        if previous and previous["status"] == "sent" and not force:
            log.info("digest %s already sent to %s on %s: nothing to do", week, recipients, previous["sent_at"])
            return "already_sent"
        if previous and previous["status"] == "sending" and not force:
            raise DeliveryUncertain(
                f"digest {week}: an earlier attempt stopped during sending; check the mailbox of {recipients} "
                "and run `veille digest --send --force` if it did not arrive"
            )
        message = _message(built, settings)
        store.set_digest_status(conn, week, recipients, "sending", _now(), subject=built.digest.subject,
                                message_id=message["Message-ID"])
        conn.execute("CHECKPOINT")  # the "sending" mark is on disk before the SMTP transaction starts
        try:
            mail.send_message(message, settings)
        except mail.MailError as exc:
            store.set_digest_status(conn, week, recipients, "failed", _now(), error=str(exc))
            raise
        store.set_digest_status(conn, week, recipients, "sent", _now())
    return "sent"


def _message(built: BuiltDigest, settings: mail.SmtpSettings):
    d = built.digest
    return mail.build_message(d, settings, digest.render_html(d), digest.render_text(d), digest.render_ics(d))


def _now() -> datetime:
    return datetime.now(timezone.utc)
