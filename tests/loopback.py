"""Loopback test parts shared by several test files: a free port, a collecting SMTP handler."""

from __future__ import annotations

import socket

ACCEPTED = "250 Message accepted for delivery"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (closed again once returned)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailCollector:
    """aiosmtpd handler keeping every message it accepts; set `answer` to a 4xx/5xx line to refuse."""

    def __init__(self, answer: str = ACCEPTED) -> None:
        self.answer = answer
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.attempts = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's naming
        self.attempts += 1
        if self.answer.startswith("250"):
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return self.answer
