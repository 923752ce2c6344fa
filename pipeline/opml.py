"""A feed reader's subscriptions (OPML) <-> sources.yaml entries.

`read_opml(path)` walks every outline, folders nested at any depth: an outline with an `xmlUrl` is a
feed; one without, holding outlines, is a folder; one without either is a link that is not a feed
(reported, skipped). A feed's category comes from the nearest folder whose name says recherche,
formation or étudiant (any case, with or without accents), else `mixed`.

`merge_feeds(feeds, existing)` turns them into sources.yaml entries (id, name, url, kind feed,
category), leaving out a feed already present (same canonical URL) and giving each a unique id.
`append_entries(text, entries)` adds them at the end of the file's `sources:` list, keeping every
comment. `write_opml(sources)` writes the feed sources back as OPML 2.0, one folder per category,
each outline carrying its source id so a re-import gives the same sources.

Parsing uses lxml for the element lines (every problem is reported with its line), without
entities or network access.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Iterable, Sequence
from urllib.parse import urlsplit

import lxml.etree
import yaml

from pipeline.config import SLUG
from pipeline.models import Source
from pipeline.normalize import canonical_url, fold_for_matching

VEILLE_NS = "https://veille-scientifique.invalid/opml"  # our attribute: the source id
FOLDER_WORDS = (("recherche", "research"), ("formation", "teaching"), ("etudiant", "student"))
FOLDER_NAMES = {"research": "Recherche", "teaching": "Formation", "student": "Étudiant", "mixed": "Divers"}


@dataclass(frozen=True)
class OpmlFeed:
    name: str
    url: str
    category: str
    line: int
    source_id: str | None = None  # the id an export wrote, if any


@dataclass(frozen=True)
class OpmlProblem:
    line: int | None
    message: str
    fatal: bool = False  # the file cannot be read at all

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


def read_opml(path: Path) -> tuple[list[OpmlFeed], list[OpmlProblem]]:
    """The feeds of an OPML file, and every outline that could not be used (with its line)."""
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = lxml.etree.parse(str(path), parser).getroot()
    except OSError as exc:
        return [], [OpmlProblem(None, f"cannot read {path}: {exc}", fatal=True)]
    except lxml.etree.XMLSyntaxError as exc:
        return [], [OpmlProblem(exc.lineno, f"not valid XML: {exc.msg}", fatal=True)]
    body = root.find("body") if root.tag == "opml" else None
    if body is None:
        return [], [OpmlProblem(root.sourceline, "not an OPML file (no <opml><body>)", fatal=True)]
    feeds: list[OpmlFeed] = []
    problems: list[OpmlProblem] = []
    _walk(body, "mixed", feeds, problems)
    return feeds, problems


def _walk(parent: lxml.etree._Element, category: str, feeds: list[OpmlFeed], problems: list[OpmlProblem]) -> None:
    for outline in parent.iterchildren("outline"):
        name = (outline.get("title") or outline.get("text") or "").strip()
        url = (outline.get("xmlUrl") or "").strip()
        if url:
            feed_or_problem = _feed(outline, name, url, category)
            (feeds if isinstance(feed_or_problem, OpmlFeed) else problems).append(feed_or_problem)
        elif len(outline.findall("outline")):
            _walk(outline, folder_category(name) or category, feeds, problems)
        else:
            link = outline.get("htmlUrl") or outline.get("url") or ""
            problems.append(OpmlProblem(outline.sourceline, f"{name or link or 'outline'!r} is not a feed (no xmlUrl): skipped"))


def _feed(outline: lxml.etree._Element, name: str, url: str, category: str) -> OpmlFeed | OpmlProblem:
    if not re.match(r"^https?://[^/\s]+", url):
        return OpmlProblem(outline.sourceline, f"{url!r} is not an http(s) feed address: skipped")
    source_id = outline.get(f"{{{VEILLE_NS}}}id")
    return OpmlFeed(name or urlsplit(url).hostname or url, url, category, outline.sourceline,
                    source_id if source_id and SLUG.match(source_id) else None)


def folder_category(name: str) -> str | None:
    """research / teaching / student when a folder's name says recherche / formation / étudiant."""
    words = fold_for_matching(name)
    return next((category for word, category in FOLDER_WORDS if re.search(rf"\b{word}", words)), None)


def merge_feeds(feeds: Iterable[OpmlFeed], existing: Sequence[Source]) -> tuple[list[dict], list[OpmlProblem]]:
    """sources.yaml entries for the feeds not yet watched; duplicates reported with their line."""
    known_urls = {canonical_url(s.url): s.id for s in existing}
    taken = {s.id for s in existing}
    entries, problems = [], []
    for feed in feeds:
        key = canonical_url(feed.url)
        if key in known_urls:
            problems.append(OpmlProblem(feed.line, f"{feed.url} is already source {known_urls[key]!r}: skipped"))
            continue
        source_id = unique_id(feed.source_id or slug_of(feed.name, feed.url), taken)
        taken.add(source_id)
        known_urls[key] = source_id
        entries.append({"id": source_id, "name": feed.name, "kind": "feed", "url": feed.url, "category": feed.category})
    return entries, problems


def slug_of(name: str, url: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", fold_for_matching(name)).strip("-")
    if not slug:
        slug = re.sub(r"[^a-z0-9]+", "-", (urlsplit(url).hostname or "feed").lower()).strip("-")
    return slug[:50].strip("-") or "feed"


def unique_id(wanted: str, taken: set[str]) -> str:
    candidate, number = wanted, 2
    while candidate in taken:
        candidate, number = f"{wanted}-{number}", number + 1
    return candidate


def append_entries(text: str, entries: Sequence[dict]) -> str:
    """`text` (a sources.yaml) with `entries` added at the end of its `sources:` list, comments kept."""
    if not entries:
        return text
    root = yaml.compose(text) if text.strip() else None
    sources = _sources_node(root)
    if sources is None or not sources.value:
        return _with_new_sources_key(text, root, entries)
    dash_column = max(0, sources.value[0].start_mark.column - 2)  # "- " before the entry's first key
    block = "".join(_entry_block(e, dash_column) for e in entries)
    end = _end_of_line(text, _last_scalar(sources).end_mark.index)
    return text[:end] + block + text[end:]


def _last_scalar(node: yaml.Node) -> yaml.Node:
    """The last scalar written inside `node` (comments after it do not belong to it)."""
    while isinstance(node, (yaml.SequenceNode, yaml.MappingNode)) and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    return node


def _end_of_line(text: str, index: int) -> int:
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def _sources_node(root: yaml.Node | None) -> yaml.SequenceNode | None:
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "sources" and isinstance(value, yaml.SequenceNode):
                return value
    return None


def _with_new_sources_key(text: str, root: yaml.Node | None, entries: Sequence[dict]) -> str:
    """A file without (or with an empty) `sources:` list: the list is written at the end."""
    if isinstance(root, yaml.MappingNode):
        text = re.sub(r"^sources:.*\n?", "", text, flags=re.M)
    prefix = text.rstrip("\n") + "\n\n" if text.strip() else ""
    return prefix + "sources:\n" + "".join(_entry_block(e, 2) for e in entries)


def _entry_block(entry: dict, indent: int) -> str:
    """One list entry, after a blank line, its dash at column `indent`."""
    lines = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, width=1000).splitlines()
    pad = " " * indent
    return "\n" + "".join(f"{pad}{line}\n" for line in lines)


def write_opml(sources: Sequence[Source], title: str, now: datetime) -> bytes:
    """The feed sources as OPML 2.0: one folder per category, each outline with its source id."""
    opml = lxml.etree.Element("opml", version="2.0", nsmap={"veille": VEILLE_NS})
    head = lxml.etree.SubElement(opml, "head")
    lxml.etree.SubElement(head, "title").text = title
    lxml.etree.SubElement(head, "dateCreated").text = format_datetime(now)
    body = lxml.etree.SubElement(opml, "body")
    for category, folder_name in FOLDER_NAMES.items():
        feeds = [s for s in sources if s.kind == "feed" and s.category == category]
        if not feeds:
            continue
        folder = lxml.etree.SubElement(body, "outline", text=folder_name, title=folder_name)
        for source in feeds:
            outline = lxml.etree.SubElement(folder, "outline", type="rss", text=source.name, title=source.name,
                                            xmlUrl=source.url)
            outline.set(f"{{{VEILLE_NS}}}id", source.id)
    return lxml.etree.tostring(opml, xml_declaration=True, encoding="UTF-8", pretty_print=True)
