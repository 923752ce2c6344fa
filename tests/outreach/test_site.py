"""The published map: pages, escaping of crawled strings, no outside resource, exports, preview server."""

from __future__ import annotations

import csv
import re
from datetime import date, datetime, timezone

import httpx
import pyarrow.parquet as pq
import pytest

from pipeline.outreach.catalogue import Edition, Initiative
from pipeline.outreach.site.publish import publish_map, serve_map

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def catalogue() -> list[Initiative]:
    return [
        Initiative("pint", "Pint of Science", "festival", ("LPEM", "Asso Pint"), ("grand_public",), "recurrente",
                   (Edition(2024, date(2024, 5, 13), date(2024, 5, 15), "Bar Le Comptoir"),
                    Edition(2025, date(2025, 5, 19), date(2025, 5, 21), "Bar Le Comptoir")),
                   evidence=("https://lpem.univ-exemple.fr/actus/pint-2025",), validated=True),
        Initiative("d-evil", f"Atelier {EVIL}", "atelier", (f"Labo {EVIL}",), ("scolaires",), "programmee",
                   (Edition(2025, date(2025, 4, 2)),), place=EVIL, contact=EVIL, description=EVIL,
                   evidence=("javascript:alert(1)", "https://ex.org/a?b=1&c=<2>")),
        Initiative("rejete", "Offre de stage", "autre", ("Faculté",), ("etudiants",), "programmee", rejected=True),
    ]


@pytest.fixture()
def site(tmp_path):
    folder = tmp_path / "carte"
    summary = publish_map(catalogue(), folder, generated_at=NOW)
    return folder, summary


def test_pages_and_exports_are_written(site):
    folder, summary = site
    assert summary["initiatives"] == 2 and summary["hidden"] == 1
    for name in ("index.html", "qui-fait-quoi.html", "chronologie.html", "data.js", "assets/map.js",
                 "assets/map.css", "initiatives/pint.html", "initiatives/d-evil.html", "initiatives.csv"):
        assert (folder / name).is_file(), name
    assert not (folder / "initiatives" / "rejete.html").exists()
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in index and '<label for="q">Rechercher</label>' in index
    assert '<option value="LPEM">LPEM</option>' in index and '<option value="2025">2025</option>' in index
    timeline = (folder / "chronologie.html").read_text(encoding="utf-8")
    assert timeline.index("À venir") < timeline.index("du 19 mai 2025 au 21 mai 2025") < timeline.index("Passées")
    assert timeline.index("Passées") < timeline.index("du 13 mai 2024 au 15 mai 2024")
    matrix = (folder / "qui-fait-quoi.html").read_text(encoding="utf-8")
    assert "index.html?organisateur=Asso%20Pint&amp;type=festival" in matrix


def test_crawled_strings_are_escaped_everywhere(site):
    folder, _ = site
    for path in list(folder.glob("*.html")) + list(folder.glob("initiatives/*.html")):
        html = path.read_text(encoding="utf-8")
        assert "<script>alert" not in html and "<img src=x" not in html, path.name
    page = (folder / "initiatives" / "d-evil.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert 'href="javascript:' not in page and "javascript:alert(1)" in page  # shown as inert text
    assert 'href="https://ex.org/a?b=1&amp;c=&lt;2&gt;"' in page
    data = (folder / "data.js").read_text(encoding="utf-8")
    assert data.startswith("window.INITIATIVES = [") and "</script" not in data.lower() and "<" not in data


def test_no_page_loads_anything_from_outside(site):
    folder, _ = site
    loaders = re.compile(r"<(?:script|link|img|iframe|source|audio|video)\b[^>]*\b(?:src|href)=\"([^\"]+)\"", re.I)
    for path in list(folder.glob("*.html")) + list(folder.glob("initiatives/*.html")):
        for target in loaders.findall(path.read_text(encoding="utf-8")):
            assert not re.match(r"^(?:[a-z]+:)?//", target, re.I), (path.name, target)
    for asset in ("assets/map.js", "assets/map.css"):
        text = (folder / asset).read_text(encoding="utf-8")
        assert not re.search(r"https?://|url\(|@import|fetch\(|XMLHttpRequest", text), asset


def test_csv_and_parquet_exports(site):
    folder, _ = site
    with (folder / "initiatives.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert [r["identifiant"] for r in rows] == ["d-evil", "pint"]  # sorted by title
    pint = next(r for r in rows if r["identifiant"] == "pint")
    assert pint["annees"] == "2024 | 2025" and pint["statut"] == "Récurrente"
    table = pq.read_table(folder / "initiatives.parquet").to_pylist()
    by_id = {r["initiative_id"]: r for r in table}
    assert by_id["pint"]["editions"][1]["start"] == date(2025, 5, 19)
    assert by_id["d-evil"]["evidence"] == ["javascript:alert(1)", "https://ex.org/a?b=1&c=<2>"]


def test_spreadsheet_formulas_in_crawled_text_are_defused(tmp_path):
    sneaky = Initiative("f", "=HYPERLINK(\"http://x\")", "autre", ("Org",), ("grand_public",), "programmee")
    publish_map([sneaky], tmp_path, generated_at=NOW)
    text = (tmp_path / "initiatives.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text


def test_republishing_removes_pages_of_initiatives_no_longer_shown(site):
    folder, _ = site
    publish_map(catalogue()[:1], folder, generated_at=NOW)
    assert sorted(p.name for p in (folder / "initiatives").glob("*.html")) == ["pint.html"]


def test_preview_server_serves_the_map_on_loopback(site):
    folder, _ = site
    server = serve_map(folder)
    try:
        assert server.url.startswith("http://127.0.0.1:")
        response = httpx.get(server.url + "index.html")
        assert response.status_code == 200 and "Pint of Science" in response.text
        assert httpx.get(server.url + "data.js").text.startswith("window.INITIATIVES")
    finally:
        server.stop()
    assert ("127.0.0.1", "/index.html") in server.requests
