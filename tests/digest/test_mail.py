"""Sending the digest: settings from the environment, the MIME message, delivery to a real SMTP
server (aiosmtpd) on 127.0.0.1, and failures turned into MailError after retries."""

from __future__ import annotations

import email
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from loopback import MailCollector, free_port
from pipeline.digest.build import build_digest, render_html, render_ics, render_text
from pipeline.digest.mail import MailError, MailSettingsError, SmtpSettings, build_message, message_id, send_message, smtp_settings_from_env
from pipeline.models import Candidate, Item
from pipeline.normalize import item_id

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)
ENV = {
    "VEILLE_SMTP_HOST": "smtp.univ.example.fr",
    "VEILLE_SMTP_PORT": "587",
    "VEILLE_SMTP_USER": "veille",
    "VEILLE_SMTP_PASSWORD": "s3cret-pass",
    "VEILLE_MAIL_FROM": "Veille scientifique <veille@univ.example.fr>",
    "VEILLE_MAIL_TO": "mediation@univ.example.fr, com@univ.example.fr",
    "VEILLE_SMTP_STARTTLS": "true",
}


def digest_with_event():
    url = "https://www.univ.example.fr/actualites/fete-science"
    item = Item(item_id(url), "fac", url, "Fête de la science : le campus ouvre ses portes", NOW - timedelta(days=3),
                "Ateliers pour les familles le samedi 12 décembre de 10h à 18h, entrée libre.")
    candidate = Candidate(item, "Faculté", NOW - timedelta(days=3), "teaching", 0.9, "c1", ("Faculté", "Labo A"))
    return build_digest([candidate], "2026-W48", [], NOW)


@pytest.fixture
def smtp_server():
    servers = []

    def start(handler: MailCollector) -> int:
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()
        servers.append(controller)
        return controller.port

    yield start
    for controller in servers:
        controller.stop()


def local_settings(port: int, **changes) -> SmtpSettings:
    base = SmtpSettings("127.0.0.1", port, None, None, "veille@univ.example.fr",
                        ("mediation@univ.example.fr", "com@univ.example.fr"), starttls=False, timeout=5)
    return replace(base, **changes)


def message_for(settings: SmtpSettings, d=None):
    d = d or digest_with_event()
    return build_message(d, settings, render_html(d), render_text(d), render_ics(d))


def test_settings_from_env():
    settings = smtp_settings_from_env(ENV)
    assert isinstance(settings, SmtpSettings)
    assert settings.port == 587 and settings.starttls
    assert settings.mail_to == ("mediation@univ.example.fr", "com@univ.example.fr")
    assert "s3cret-pass" not in repr(settings)


def test_settings_errors_are_listed():
    broken = {**ENV, "VEILLE_SMTP_PORT": "smtp", "VEILLE_MAIL_TO": "mediation@univ.example.fr, pas-une-adresse",
              "VEILLE_SMTP_STARTTLS": "peut-être", "VEILLE_SMTP_PASSWORD": ""}
    del broken["VEILLE_SMTP_HOST"]
    errors = smtp_settings_from_env(broken)
    assert isinstance(errors, list)
    joined = "\n".join(errors)
    for expected in ("VEILLE_SMTP_HOST", "VEILLE_SMTP_PORT", "pas-une-adresse", "VEILLE_SMTP_STARTTLS", "VEILLE_SMTP_PASSWORD"):
        assert expected in joined
    assert "s3cret" not in joined
    assert isinstance(smtp_settings_from_env({**ENV, "VEILLE_MAIL_FROM": "a@b.fr\nBcc: x@evil.example"}), list)


def test_message_structure_and_deterministic_id():
    settings = local_settings(25)
    msg = message_for(settings)
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = msg.get_payload()
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html"]
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "veille-2026-W48.ics"
    assert msg["Message-ID"] == message_for(settings)["Message-ID"]
    assert msg["Message-ID"] != message_for(replace(settings, mail_to=("autre@univ.example.fr",)))["Message-ID"]
    same_people = replace(settings, mail_to=tuple(reversed(settings.mail_to)))
    assert message_for(same_people)["Message-ID"] == msg["Message-ID"]
    assert msg["Message-ID"] == message_id("2026-W48", settings.mail_to, settings.mail_from)


def test_subject_cannot_inject_headers():
    d = replace(digest_with_event(), subject="Veille\r\nBcc: victime@evil.example\r\n\r\n<script>x</script>")
    raw = message_for(local_settings(25), d).as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert not [line for line in head.split(b"\r\n") if line.lower().startswith(b"bcc:")]
    parsed = email.message_from_bytes(raw, policy=default)
    assert parsed["Subject"] == "Veille Bcc: victime@evil.example <script>x</script>"


def test_delivery_to_a_real_smtp_server(smtp_server):
    handler = MailCollector()
    settings = local_settings(smtp_server(handler))
    send_message(message_for(settings), settings, attempts=2, backoff_s=0)
    assert len(handler.messages) == 1
    mail_from, recipients, raw = handler.messages[0]
    assert mail_from == "veille@univ.example.fr"
    assert recipients == ["mediation@univ.example.fr", "com@univ.example.fr"]
    parsed = email.message_from_bytes(raw, policy=default)
    assert parsed["Subject"] == "Veille scientifique - semaine 48 (23-29 nov. 2026) : 1 sujet"
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert "Fête de la science" in text and "<h1" in html and 'lang="fr"' in html
    calendars = [p for p in parsed.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(calendars) == 1
    ics = calendars[0].get_content()
    ics = ics.decode("utf-8") if isinstance(ics, bytes) else ics
    assert "BEGIN:VEVENT" in ics and "DTSTART:20261212T090000Z" in ics


def test_transient_refusal_raises_after_retries(smtp_server):
    handler = MailCollector("451 4.3.0 Try again later")
    settings = local_settings(smtp_server(handler))
    with pytest.raises(MailError) as failure:
        send_message(message_for(settings), settings, attempts=3, backoff_s=0)
    assert handler.attempts == 3 and handler.messages == []
    assert "451" in str(failure.value) and "3 attempt" in str(failure.value)


def test_permanent_refusal_is_not_retried(smtp_server):
    handler = MailCollector("554 5.7.1 Message refused by policy")
    settings = local_settings(smtp_server(handler))
    with pytest.raises(MailError) as failure:
        send_message(message_for(settings), settings, attempts=3, backoff_s=0)
    assert handler.attempts == 1 and handler.messages == []
    assert "554" in str(failure.value) and "\n" not in str(failure.value)
    assert not isinstance(failure.value, MailSettingsError)


def test_server_without_starttls_names_the_setting_and_is_not_retried(smtp_server):
    handler = MailCollector()
    settings = local_settings(smtp_server(handler), starttls=True)
    with pytest.raises(MailSettingsError) as failure:
        send_message(message_for(settings), settings, attempts=3, backoff_s=0)
    message = str(failure.value)
    assert "STARTTLS" in message and "VEILLE_SMTP_STARTTLS=false" in message and "\n" not in message
    assert handler.attempts == 0 and handler.messages == []


def test_unknown_smtp_host_names_the_setting():
    settings = local_settings(free_port(), host="smtp.does-not-exist.invalid")
    with pytest.raises(MailSettingsError, match="VEILLE_SMTP_HOST"):
        send_message(message_for(settings), settings, attempts=3, backoff_s=0)


class RejectAll:
    """aiosmtpd authenticator refusing every login."""

    def __init__(self) -> None:
        self.mechanisms: list[str] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        self.mechanisms.append(mechanism)
        return AuthResult(success=False, handled=False)


# aiosmtpd warns on every connection that AUTH without TLS is unsafe: expected on loopback.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_rejected_login_is_not_retried():
    authenticator = RejectAll()
    controller = Controller(MailCollector(), hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    try:
        settings = local_settings(controller.port, user="veille", password="mauvais")
        with pytest.raises(MailError) as failure:
            send_message(message_for(settings), settings, attempts=3, backoff_s=0)
    finally:
        controller.stop()
    # smtplib tries each mechanism the server offers once; a retry would try them all again
    assert authenticator.mechanisms and len(authenticator.mechanisms) == len(set(authenticator.mechanisms))
    assert "login refused" in str(failure.value) and "mauvais" not in str(failure.value)
    assert isinstance(failure.value, MailSettingsError) and "VEILLE_SMTP_PASSWORD" in str(failure.value)


def test_closed_port_raises_after_retries():
    settings = local_settings(free_port())
    with pytest.raises(MailError) as failure:
        send_message(message_for(settings), settings, attempts=2, backoff_s=0)
    assert "connection refused" in str(failure.value)
    assert "127.0.0.1" in str(failure.value)
