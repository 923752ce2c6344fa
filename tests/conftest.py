"""Fixtures shared by several test files: loopback servers, the Prefect harness, paths."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest
from loopback import MailCollector, free_port

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DEMO_SITES = ROOT / "pipeline" / "demo" / "sites"

# Prefect settings for the test session, set before anything imports prefect.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One Prefect test server for the whole session (~11 s to start); flows run against it."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture()
def demo_sites():
    from pipeline.demo.server import serve_sites

    with serve_sites(DEMO_SITES) as sites:
        yield sites


@pytest.fixture()
def smtp_server():
    """A real SMTP server on 127.0.0.1; yields (handler, port)."""
    from aiosmtpd.controller import Controller

    handler = MailCollector()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()
