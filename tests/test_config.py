"""sources.yaml validation: every problem at once, each with its line; exit code 2 from the CLI."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config import ConfigInvalid, database_path, load_config

ROOT = Path(__file__).resolve().parent.parent

BROKEN = textwrap.dedent(
    """\
    settings:
      per_origin_delay_s: -1
      colour: blue
    sources:
      - id: Lab LPEM
        name: Laboratoire de physique
        kind: rss
        url: ftp://lpem.example.org
        category: research
      - id: master-bio
        name: Master Biologie
        kind: feed
        url: https://bio.example.org/feed
        category: science
        include: ["(unclosed"]
      - id: master-bio
        kind: html
        url: https://bio.example.org/
        category: mixed
    """
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_error_is_listed_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigInvalid) as caught:
        load_config(write(tmp_path, BROKEN))
    found = {(e.line, e.location) for e in caught.value.errors}
    assert found == {
        (2, "settings.per_origin_delay_s"),
        (3, "settings.colour"),
        (5, "sources[0].id"),
        (7, "sources[0].kind"),
        (8, "sources[0].url"),
        (14, "sources[1].category"),
        (15, "sources[1].include"),
        (16, "sources[2].id"),
        (16, "sources[2].name"),
    }
    messages = " | ".join(str(e) for e in caught.value.errors)
    assert "unknown key 'colour'" in messages
    assert "duplicate source id 'master-bio'" in messages


def test_check_command_exits_2_and_prints_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--sources", str(write(tmp_path, BROKEN))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("9 problems found:")
    assert err.count("sources.yaml:") == 9


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigInvalid) as caught:
        load_config(write(tmp_path, "sources:\n  - id: a\n    name: [unclosed\n"))
    [error] = caught.value.errors
    assert error.line is not None and "not valid YAML" in error.message


def test_missing_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(ConfigInvalid, match="file not found"):
        load_config(tmp_path / "nowhere.yaml")


def test_committed_examples_are_valid(tmp_path: Path) -> None:
    config = load_config(ROOT / "sources.yaml")
    assert len(config.sources) >= 3
    template = (ROOT / "pipeline" / "demo" / "sources.yaml").read_text(encoding="utf-8")
    rendered = re.sub(r"__SITE:[a-z0-9_.-]+__", "http://127.0.0.1:8000", template)
    demo = load_config(write(tmp_path, rendered))
    assert {s.category for s in demo.sources} >= {"research", "teaching", "student", "mixed"}


def test_check_command_accepts_a_valid_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--sources", str(ROOT / "sources.yaml")]) == 0
    assert "OK" in capsys.readouterr().out


def test_database_path_precedence() -> None:
    assert database_path("a.duckdb", {"VEILLE_DB": "b.duckdb"}) == Path("a.duckdb")
    assert database_path(None, {"VEILLE_DB": "b.duckdb"}) == Path("b.duckdb")
    assert database_path(None, {}) == Path("outputs/veille.duckdb")


def test_secrets_are_not_accepted_in_the_sources_file(tmp_path: Path) -> None:
    text = "settings:\n  smtp_password: hunter2\nsources:\n  - {id: a, name: A, kind: feed, url: 'https://a.org/f', category: research}\n"
    with pytest.raises(ConfigInvalid, match="unknown key 'smtp_password'"):
        load_config(write(tmp_path, text))


HAL_SOURCES = textwrap.dedent(
    """\
    sources:
      - id: hal-lpem
        name: Publications du LPEM
        kind: hal
        collection: LPEM
      - id: hal-structure
        name: Publications de l'UMR
        kind: hal
        structure: 123456
        category: mixed
      - id: hal-both
        name: Both
        kind: hal
        collection: LPEM
        structure: 1
      - id: hal-none
        name: None
        kind: hal
      - id: feed-with-collection
        name: Feed
        kind: feed
        url: https://lab.example.org/feed
        category: research
        collection: LPEM
    """
)


def test_hal_sources_default_to_the_api_and_research_and_name_one_target(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(HAL_SOURCES, encoding="utf-8")
    with pytest.raises(ConfigInvalid) as caught:
        load_config(path)
    lines = sorted(e.line for e in caught.value.errors)
    assert lines == [11, 16, 19], [str(e) for e in caught.value.errors]
    path.write_text(HAL_SOURCES.split("  - id: hal-both")[0], encoding="utf-8")
    lpem, structure = load_config(path).sources
    assert (lpem.kind, lpem.url, lpem.category, lpem.collection) == (
        "hal", "https://api.archives-ouvertes.fr/search/", "research", "LPEM")
    assert (structure.structure, structure.category, structure.collection) == ("123456", "mixed", None)
