"""Loopback test parts shared by several test files: a free port, an HTTP server on a thread, a
collecting SMTP handler."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACCEPTED = "250 Message accepted for delivery"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (closed again once returned)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler], **attributes: object) -> Iterator[tuple[str, ThreadingHTTPServer]]:
    """A threading HTTP server on 127.0.0.1 running `handler`, with `attributes` set on it for the
    handler to read (counters, statuses); yields its base URL and the server, shuts it down after."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    for name, value in attributes.items():
        setattr(server, name, value)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()


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
