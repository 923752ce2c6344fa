"""What a person can act on: bad paths, unwritable outputs, locked or foreign database files and
SMTP settings each end with one line naming what to fix, the documented exit code, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from loopback import MailCollector, free_port
from pipeline import store
from pipeline.cli import main

SOURCES = """settings:
  per_origin_delay_s: 0
sources:
  - id: labo
    name: Labo
    kind: feed
    url: http://127.0.0.1:9/feed.xml
    category: research
"""
SMTP_VARIABLES = ("VEILLE_SMTP_HOST", "VEILLE_SMTP_PORT", "VEILLE_SMTP_USER", "VEILLE_SMTP_PASSWORD",
                  "VEILLE_MAIL_FROM", "VEILLE_MAIL_TO", "VEILLE_SMTP_STARTTLS")


@pytest.fixture()
def sources(tmp_path: Path) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES, encoding="utf-8")
    return path


@pytest.fixture()
def empty_db(tmp_path: Path) -> Path:
    db = tmp_path / "db" / "veille.duckdb"
    with store.open_store(db):
        pass
    return db


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def run(sources: Path, db: Path, tmp_path: Path) -> int:
    return main(["run", "--sources", str(sources), "--db", str(db), "--initiatives", str(tmp_path / "none.yaml")])


def test_run_with_a_database_under_a_file(sources: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    assert run(sources, blocker / "sub" / "veille.duckdb", tmp_path) == 3
    line = one_line_error(capsys)
    assert str(blocker) in line and "is a file, not a folder" in line and "--db" in line


def test_run_with_a_folder_where_the_database_goes(sources: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "veille.duckdb").mkdir()
    assert run(sources, tmp_path / "veille.duckdb", tmp_path) == 3
    assert "is a folder, not a file" in one_line_error(capsys)


def test_run_on_a_file_that_is_not_a_database(sources: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "veille.duckdb"
    store.working_path(db).write_bytes(b"these are not the bytes of a DuckDB file\n" * 100)
    assert run(sources, db, tmp_path) == 3
    assert str(store.working_path(db)) in one_line_error(capsys)


def test_run_on_a_database_held_by_another_process(sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "veille.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb,sys; c=duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "sys.stdin.readline()", str(store.working_path(db))],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    monkeypatch.setattr(store, "LOCK_WAIT_S", 0.5)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert run(sources, db, tmp_path) == 3
    finally:
        holder.communicate("\n", timeout=30)
    line = one_line_error(capsys)
    assert "held by another process" in line and "wait for it to end" in line


def test_digest_with_an_archive_folder_under_a_file(empty_db: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "archive"
    blocker.write_text("x", encoding="utf-8")
    assert main(["digest", "--db", str(empty_db), "--out", str(blocker / "digests")]) == 3
    line = one_line_error(capsys)
    assert str(blocker) in line and "--out" in line


def test_digest_send_without_smtp_settings_names_them(empty_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    for name in SMTP_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "digests"
    assert main(["digest", "--db", str(empty_db), "--out", str(out), "--send", "--week", "2026-W48"]) == 2
    line = one_line_error(capsys)
    assert "VEILLE_SMTP_HOST" in line and "VEILLE_MAIL_TO" in line
    assert not list(out.glob("*"))  # checked before anything was built


@pytest.fixture()
def smtp(monkeypatch: pytest.MonkeyPatch):
    handler = MailCollector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())  # offers no STARTTLS
    controller.start()
    for name, value in {"VEILLE_SMTP_HOST": "127.0.0.1", "VEILLE_SMTP_PORT": str(controller.port),
                        "VEILLE_MAIL_FROM": "veille@univ-exemple.fr", "VEILLE_MAIL_TO": "mediation@univ-exemple.fr",
                        "VEILLE_SMTP_STARTTLS": "true"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("VEILLE_SMTP_USER", raising=False)
    monkeypatch.delenv("VEILLE_SMTP_PASSWORD", raising=False)
    yield handler
    controller.stop()


def test_digest_send_to_a_server_without_starttls(empty_db: Path, tmp_path: Path, smtp: MailCollector,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--db", str(empty_db), "--out", str(tmp_path / "d"), "--send", "--week", "2026-W48"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("STARTTLS") == 2  # one line, said once: no retry
    assert len(err.strip().splitlines()) == 1 and "VEILLE_SMTP_STARTTLS=false" in err
    assert smtp.messages == []


def test_digest_send_refused_for_good(empty_db: Path, tmp_path: Path, smtp: MailCollector,
                                      monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VEILLE_SMTP_STARTTLS", "false")
    smtp.answer = "554 5.7.1 Refused by policy"
    assert main(["digest", "--db", str(empty_db), "--out", str(tmp_path / "d"), "--send", "--week", "2026-W48"]) == 1
    line = one_line_error(capsys)
    assert "554" in line and smtp.attempts == 1


def test_digest_with_a_week_the_calendar_does_not_have(empty_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as usage:
        main(["digest", "--db", str(empty_db), "--week", "2026-W99"])
    assert usage.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "not an ISO week such as 2026-W48" in err
