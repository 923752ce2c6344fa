"""The map's Atom feed of newly validated initiatives, read back by feedparser: each entry once, dated
from the night it was first published validated."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

import feedparser
from test_agenda import NOW, catalogue

from pipeline.outreach.site.publish import publish_map


def test_the_feed_lists_validated_initiatives_once_newest_first(tmp_path) -> None:
    publish_map(catalogue(), tmp_path, generated_at=NOW)
    first = feedparser.parse((tmp_path / "initiatives.atom").read_bytes())
    assert not first.bozo and first.feed.title.startswith("Nouvelles initiatives")
    assert sorted(e.title for e in first.entries) == ["Conférence passée", "Pint of Science", "Podcast"]
    validated_now = replace(catalogue()[1], validated=True)
    later = NOW + timedelta(days=1)
    publish_map([*catalogue()[:1], validated_now, *catalogue()[2:]], tmp_path, generated_at=later)
    second = feedparser.parse((tmp_path / "initiatives.atom").read_bytes())
    assert second.entries[0].title == "Portes ouvertes, « labo » ; chimie"
    assert second.entries[0].link.endswith("initiatives/portes.html")
    assert {e.id: e.updated for e in second.entries[1:]} == {e.id: e.updated for e in first.entries}
    state = json.loads((tmp_path / "validated-since.json").read_text(encoding="utf-8"))
    assert datetime.fromisoformat(state["portes"]) == later and datetime.fromisoformat(state["pint"]) == NOW
