"""OPML in and out: a feed reader's export (folders, nested outlines, duplicates, a non-feed link)
becomes sources.yaml entries that `veille check` accepts; export then re-import gives the same sources."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.opml import folder_category, read_opml

ROOT = Path(__file__).resolve().parent.parent

# Written the way feed readers export: Inoreader/FreshRSS-style folders (one nested), a feed listed
# twice (two folders), a web link without xmlUrl, and a feed outside any folder.
READER_EXPORT = textwrap.dedent(
    """\
    <?xml version="1.0" encoding="UTF-8"?>
    <opml version="1.0">
      <head><title>Abonnements de Camille</title></head>
      <body>
        <outline text="Labos - Recherche" title="Labos - Recherche">
          <outline text="Physique" title="Physique">
            <outline type="rss" text="LPEM - actualités" title="LPEM - actualités"
                     xmlUrl="https://lpem.univ-exemple.fr/feed/" htmlUrl="https://lpem.univ-exemple.fr/"/>
          </outline>
          <outline type="rss" text="Écologie" title="Écologie" xmlUrl="https://ecologie.univ-exemple.fr/rss.xml"/>
        </outline>
        <outline text="Formations" title="Formations">
          <outline type="rss" text="Master Bioinfo" xmlUrl="https://master-bioinfo.univ-exemple.fr/feed.xml"/>
          <outline type="rss" text="LPEM (encore)" xmlUrl="https://LPEM.univ-exemple.fr/feed/#top"/>
        </outline>
        <outline text="Vie étudiante" title="Vie étudiante">
          <outline type="rss" text="Sciences en Fête" xmlUrl="https://sciences-en-fete.example.org/index.xml"/>
          <outline text="Site du BDE" htmlUrl="https://bde.example.org/"/>
        </outline>
        <outline type="rss" text="Faculté des Sciences" xmlUrl="https://sciences.univ-exemple.fr/rss.xml"/>
        <outline type="rss" text="Un podcast" xmlUrl="feed://podcast.example.org/rss"/>
      </body>
    </opml>
    """
)

EXISTING = textwrap.dedent(
    """\
    # Our sources (this comment stays)
    settings:
      per_origin_delay_s: 2.0

    sources:
      - id: master-bioinfo
        name: Master Bioinformatique
        kind: feed
        url: https://master-bioinfo.univ-exemple.fr/feed.xml
        category: teaching
    # a trailing note
    """
)


@pytest.fixture()
def export_file(tmp_path: Path) -> Path:
    path = tmp_path / "abonnements.opml"
    path.write_text(READER_EXPORT, encoding="utf-8")
    return path


def test_folders_give_the_category() -> None:
    assert [folder_category(n) for n in ("Labos - Recherche", "FORMATIONS", "Vie étudiante", "Informatique", "Divers")] \
        == ["research", "teaching", "student", None, None]


def test_every_feed_and_every_unusable_outline_with_its_line(export_file: Path) -> None:
    feeds, problems = read_opml(export_file)
    assert [(f.name, f.category) for f in feeds] == [
        ("LPEM - actualités", "research"), ("Écologie", "research"), ("Master Bioinfo", "teaching"),
        ("LPEM (encore)", "teaching"), ("Sciences en Fête", "student"), ("Faculté des Sciences", "mixed")]
    assert [(p.line, "BDE" in p.message or "feed://" in p.message) for p in problems] == [(18, True), (21, True)]


def test_import_merges_without_duplicates_and_check_accepts_it(
        tmp_path: Path, export_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(EXISTING, encoding="utf-8")
    assert main(["sources", "import", str(export_file), "--sources", str(sources)]) == 0
    out, err = capsys.readouterr()
    assert "added 4 source(s)" in out
    assert "already source 'master-bioinfo'" in err and "already source 'lpem-actualites'" in err
    text = sources.read_text(encoding="utf-8")
    assert "# Our sources (this comment stays)" in text and "# a trailing note" in text
    config = load_config(sources)
    assert [(s.id, s.kind, s.category) for s in config.sources] == [
        ("master-bioinfo", "feed", "teaching"), ("lpem-actualites", "feed", "research"),
        ("ecologie", "feed", "research"), ("sciences-en-fete", "feed", "student"),
        ("faculte-des-sciences", "feed", "mixed")]
    assert main(["check", "--sources", str(sources), "--initiatives", str(ROOT / "initiatives.yaml")]) == 0
    assert "sources.yaml: OK, 5 sources" in capsys.readouterr().out
    assert main(["sources", "import", str(export_file), "--sources", str(sources)]) == 0
    assert "nothing to add" in capsys.readouterr().out
    assert len(load_config(sources).sources) == 5


def test_export_then_reimport_gives_the_same_sources(tmp_path: Path, export_file: Path) -> None:
    original = tmp_path / "sources.yaml"
    assert main(["sources", "import", str(export_file), "--sources", str(original)]) == 0
    exported = tmp_path / "export.opml"
    assert main(["sources", "export", "--opml", "--sources", str(original), "--out", str(exported)]) == 0
    again = tmp_path / "again.yaml"
    assert main(["sources", "import", str(exported), "--sources", str(again)]) == 0

    def described(path: Path):
        return sorted((s.id, s.name, s.kind, s.url, s.category) for s in load_config(path).sources)

    assert described(again) == described(original) and len(described(original)) == 5


def test_an_import_that_would_break_sources_yaml_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feed = tmp_path / "one.opml"
    feed.write_text('<opml version="2.0"><body><outline text="" xmlUrl="https://a.example.org/feed"/></body></opml>',
                    encoding="utf-8")
    sources = tmp_path / "sources.yaml"
    broken_after = EXISTING.replace("per_origin_delay_s: 2.0", "per_origin_delay_s: 2.0\n  colour: blue")
    sources.write_text(broken_after, encoding="utf-8")
    assert main(["sources", "import", str(feed), "--sources", str(sources)]) == 2
    assert "colour" in capsys.readouterr().err
    assert sources.read_text(encoding="utf-8") == broken_after


def test_a_file_that_is_not_opml_is_refused_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.opml"
    bad.write_text("<opml>\n<body>\n<outline text='x'>\n</body>", encoding="utf-8")
    assert main(["sources", "import", str(bad), "--sources", str(tmp_path / "s.yaml")]) == 2
    assert "line 4" in capsys.readouterr().err
