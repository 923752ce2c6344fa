"""Send the digest by e-mail: SMTP settings from the environment, the MIME message, delivery.

The message is multipart/mixed: a multipart/alternative (plain text, then HTML) and the .ics of
coming events. Its Message-ID depends only on the week and the recipients, so a resend of the same
digest is recognisable (and threaded) by mail clients. Delivery retries transient failures only
(timeouts, refused or dropped connections, 4xx answers) and ends with `MailError` carrying a clear
one-line message; what a setting must fix (STARTTLS not offered, login refused, untrusted
certificate, unknown host) is a `MailSettingsError` naming that setting, raised at once. The
password never appears in messages or reprs.
"""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import socket
import ssl
import time
import unicodedata
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from typing import Mapping

from pipeline.digest.entries import Digest

logger = logging.getLogger(__name__)

SUBJECT_MAX_CHARS = 200
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
_TRUE = {"1", "true", "yes", "oui", "on"}
_FALSE = {"0", "false", "no", "non", "off"}


class MailError(Exception):
    """The digest could not be delivered; the message says why and after how many attempts."""


class MailSettingsError(MailError):
    """The SMTP settings must change before any delivery can work; the message names the setting."""




@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None = field(repr=False)
    mail_from: str
    mail_to: tuple[str, ...]
    starttls: bool = True
    timeout: float = 30.0


def smtp_settings_from_env(environ: Mapping[str, str]) -> SmtpSettings | list[str]:
    """Settings from VEILLE_SMTP_* / VEILLE_MAIL_* variables, or the list of what is wrong."""
    errors: list[str] = []
    host = environ.get("VEILLE_SMTP_HOST", "").strip()
    if not host:
        errors.append("VEILLE_SMTP_HOST is not set")
    port = _read_int(environ.get("VEILLE_SMTP_PORT", "587"), "VEILLE_SMTP_PORT", 1, 65535, errors)
    timeout = _read_int(environ.get("VEILLE_SMTP_TIMEOUT", "30"), "VEILLE_SMTP_TIMEOUT", 1, 600, errors)
    starttls = _read_bool(environ.get("VEILLE_SMTP_STARTTLS", "true"), "VEILLE_SMTP_STARTTLS", errors)
    user = environ.get("VEILLE_SMTP_USER", "").strip() or None
    password = environ.get("VEILLE_SMTP_PASSWORD") or None
    if bool(user) != bool(password):
        errors.append("VEILLE_SMTP_USER and VEILLE_SMTP_PASSWORD must be set together")
    mail_from = environ.get("VEILLE_MAIL_FROM", "").strip()
    if not mail_from:
        errors.append("VEILLE_MAIL_FROM is not set")
    elif not _ADDRESS.match(parseaddr(mail_from)[1]) or _has_line_break(mail_from):
        errors.append(f"VEILLE_MAIL_FROM is not an e-mail address: {mail_from!r}")
    recipients = tuple(a.strip() for a in environ.get("VEILLE_MAIL_TO", "").split(",") if a.strip())
    if not recipients:
        errors.append("VEILLE_MAIL_TO is not set (comma-separated addresses)")
    errors += [f"VEILLE_MAIL_TO has an invalid address: {a!r}" for a in recipients if not _ADDRESS.match(a)]
    if errors:
        return errors
    return SmtpSettings(host, port, user, password, mail_from, recipients, starttls, float(timeout))


def build_message(d: Digest, settings: SmtpSettings, html: str, text: str, ics: str) -> EmailMessage:
    """The e-mail: text and HTML alternatives, the .ics attached, a deterministic Message-ID."""
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = sanitize_header(d.subject)
    msg["From"] = settings.mail_from
    msg["To"] = ", ".join(settings.mail_to)
    msg["Date"] = format_datetime(d.generated_at)
    msg["Message-ID"] = message_id(d.week, settings.mail_to, settings.mail_from)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Veille-Week"] = d.week
    msg.set_content(text, subtype="plain", charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    msg.add_attachment(
        ics.encode("utf-8"), maintype="text", subtype="calendar", filename=f"veille-{d.week}.ics",
        params={"method": "PUBLISH", "charset": "utf-8"},
    )
    return msg


def message_id(week: str, recipients: tuple[str, ...], mail_from: str) -> str:
    """<veille-2026-W48-1a2b3c4d5e6f@domain>: the same for the same week and recipient list."""
    key = ",".join(sorted(a.strip().lower() for a in recipients))
    digest = hashlib.sha256(f"{week}|{key}".encode()).hexdigest()[:16]
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "veille.invalid"
    return f"<veille-{sanitize_header(week).replace(' ', '')}-{digest}@{domain}>"


def sanitize_header(value: str) -> str:
    """One line, no control characters (no CR/LF header injection), at most SUBJECT_MAX_CHARS."""
    flat = "".join(" " if unicodedata.category(ch)[0] in "CZ" and ch != " " or ch in "\r\n" else ch for ch in value)
    flat = " ".join(flat.split())
    return flat if len(flat) <= SUBJECT_MAX_CHARS else flat[: SUBJECT_MAX_CHARS - 1].rstrip() + "…"


def send_message(msg: EmailMessage, settings: SmtpSettings, attempts: int = 3, backoff_s: float = 5.0) -> None:
    """Deliver `msg` to every recipient, retrying transient failures with exponential backoff.

    Raises MailError after the last attempt, or at once for a permanent refusal (5xx), for some
    recipients refused while others accepted the message (retrying would send it twice to those),
    and MailSettingsError at once for what only a change of settings can fix."""
    where = f"{settings.host}:{settings.port}"
    last_error = ""
    for attempt in range(1, attempts + 1):
        try:
            _deliver_once(msg, settings)
            logger.info("mail %s delivered to %d recipient(s) on attempt %d", msg["Message-ID"], len(settings.mail_to), attempt)
            return
        except _PartialDelivery as exc:
            raise MailError(f"recipients refused by {where}: {exc}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            _raise_if_not_transient(exc, settings)
            last_error = _describe(exc)
            logger.warning("mail attempt %d/%d to %s failed: %s", attempt, attempts, where, last_error)
            if attempt < attempts:
                time.sleep(backoff_s * 2 ** (attempt - 1))
    hint = "; check VEILLE_SMTP_HOST and VEILLE_SMTP_PORT" if "connection refused" in last_error else ""
    raise MailError(f"could not send the digest via {where} after {attempts} attempt(s): {last_error}{hint}")


def _raise_if_not_transient(exc: BaseException, settings: SmtpSettings) -> None:
    """Raise MailSettingsError / MailError at once when retrying `exc` cannot help."""
    where = f"{settings.host}:{settings.port}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        raise MailSettingsError(
            f"the SMTP server {where} does not offer STARTTLS: set VEILLE_SMTP_STARTTLS=false for a relay "
            "that does not encrypt (a local relay), or set VEILLE_SMTP_HOST/VEILLE_SMTP_PORT to one that does") from exc
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        raise MailSettingsError(f"SMTP login refused by {where}: {_smtp_reason(exc)}; "
                                "check VEILLE_SMTP_USER and VEILLE_SMTP_PASSWORD") from exc
    if isinstance(exc, ssl.SSLCertVerificationError):
        raise MailSettingsError(f"the TLS certificate of {where} is not trusted ({exc.verify_message}); "
                                "check VEILLE_SMTP_HOST") from exc
    if isinstance(exc, ssl.SSLError):
        raise MailSettingsError(f"TLS with {where} failed ({exc.reason or exc}); check VEILLE_SMTP_PORT "
                                "(587 for STARTTLS) and VEILLE_SMTP_STARTTLS") from exc
    if isinstance(exc, socket.gaierror):
        raise MailSettingsError(f"the SMTP host {settings.host!r} does not resolve; check VEILLE_SMTP_HOST") from exc
    if _is_permanent(exc):
        raise MailError(f"the SMTP server {where} refused the digest: {_describe(exc)}") from exc


def _is_permanent(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


class _PartialDelivery(Exception):
    pass


def _deliver_once(msg: EmailMessage, settings: SmtpSettings) -> None:
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as client:
        client.ehlo()
        if settings.starttls:
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if settings.user and settings.password:
            client.login(settings.user, settings.password)
        refused = client.send_message(msg, from_addr=parseaddr(settings.mail_from)[1], to_addrs=list(settings.mail_to))
    if refused:
        raise _PartialDelivery(", ".join(f"{addr} ({code})" for addr, (code, _) in refused.items()))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "all recipients refused: " + ", ".join(f"{a} ({c})" for a, (c, _) in exc.recipients.items())
    if isinstance(exc, (smtplib.SMTPResponseException,)):
        return f"{exc.smtp_code} {_smtp_reason(exc)}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}"


def _smtp_reason(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error
    return error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)


def _read_int(raw: str, name: str, low: int, high: int, errors: list[str]) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        errors.append(f"{name} must be a whole number, got {raw!r}")
        return low
    if not low <= value <= high:
        errors.append(f"{name} must be between {low} and {high}, got {value}")
    return value


def _read_bool(raw: str, name: str, errors: list[str]) -> bool:
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered not in _FALSE:
        errors.append(f"{name} must be true or false, got {raw!r}")
    return False


def _has_line_break(value: str) -> bool:
    return "\r" in value or "\n" in value
