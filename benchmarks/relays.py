"""Relay benchmark on real text: a faculty feed relays items of ../shared/real-sites with edits.

At run time (nothing of those sites is copied into the repository) this script
1. reads the countable items of the real sites (ground truth `gt/*.jsonl`: title, date, body);
2. plants, on synthetic sites served on 127.0.0.1, what a communication service publishes:
   - relays (feed `relais`): a new title ("Retour sur « … »", "Nouveau : …", "… - les informations
     pratiques", a category prefix, or a title of its own made of words of the story), a sentence
     added at the start or the end, paragraphs dropped or the text cut after its first paragraphs, a
     few days later;
   - distinct announcements from one template (a team's talks, thesis defences): traps that must
     stay apart;
   - (feed `lettres`) newsletters quoting several items of one site in full or in part, and
     listings of titles with a first sentence: pages that *contain* items, never duplicates of them;
3. serves the real sites (`realsites.py serve`), crawls them (scenario `full`) and the synthetic feeds
   with one `veille run`, and reads the clusters (and the `v_mentions` view when it exists) back.

Printed: pair precision and recall over the relay pairs whose two ends were stored (a predicted pair
is two items of one cluster, one of them planted), the wrong links by kind, templated pairs merged,
newsletters or listings found in a cluster of an item they contain, and mention links found.
Targets: precision >= 0.98, recall >= 0.95, no templated pair merged, no container in a cluster.

Usage: python benchmarks/relays.py [--data ../shared/real-sites] [--relays 60] [--seed 14 15 16] [--keep DIR]
(several seeds: one run each, then a per-seed table).
Set REALSITES_PORT_OFFSET (and PREFECT_HOME) when others run the real sites on the same machine.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import urllib.parse
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import combinations
from pathlib import Path

import duckdb
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "real-sites"
MIN_WORDS = 40  # originals shorter than this are too thin to relay
LONG_WORDS = 600  # relays of longer items keep only their first paragraphs
ADDED_START = (
    "Information relayée par la Faculté des Sciences.",
    "Le service communication de la faculté vous signale cette actualité d'un de nos partenaires.",
    "À noter dans vos agendas : une actualité transmise par nos collègues.",
)
ADDED_END = (
    "Contact presse : service communication de la Faculté des Sciences, communication@sciences.example.org.",
    "Retrouvez toutes les actualités de la faculté sur notre site et nos réseaux sociaux.",
    "Lire la suite sur le site de l'équipe.",
)
CATEGORIES = ("Agenda", "Recherche", "Vie étudiante", "Formation", "Actualité")
FIRST = "Camille Julien Sofia Antoine Yasmine Olivier Margaux Rachid Elise Victor Ines Mathis".split()
LAST = "Lefort Garnier Ouali Marchand Tessier Boyer Nguyen Caron Delmas Vidal Roussel Arnaud".split()
TOPICS = (
    "apprentissage par renforcement pour la robotique mobile", "modèles de croissance des populations",
    "algorithmes de graphes sur données massives", "simulation multi-agents des marchés agricoles",
    "vérification formelle de programmes concurrents", "compilation pour architectures hétérogènes",
    "statistiques bayésiennes en écologie", "cryptographie post-quantique",
)
MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()


@dataclass
class Original:
    key: str  # "<site>:<normalised path>"
    site: str
    title: str
    day: date
    paragraphs: list[str]


@dataclass
class Page:
    """A planted page: kind is relay, newsletter, listing or template:<family>."""

    slug: str
    feed: str
    kind: str
    title: str
    day: date
    paragraphs: list[str]
    originals: list[str] = field(default_factory=list)  # keys it relays (relay) or contains (container)
    edits: str = ""


def norm_path(url: str) -> str:
    path = urllib.parse.urlsplit(url).path or "/"
    path = unicodedata.normalize("NFC", urllib.parse.unquote(path)).lower()
    path = re.sub(r"/index\.html?$", "/", path)
    path = re.sub(r"\.html?$", "", path)
    return path.rstrip("/") or "/"


def load_originals(data: Path) -> tuple[list[Original], dict[int, str], dict[tuple[str, str], str]]:
    """Countable dated items; the site of each served port; (site, path) -> item key."""
    offset = int(os.environ.get("REALSITES_PORT_OFFSET", "0") or 0)
    sites = json.loads((data / "sites.json").read_text(encoding="utf-8"))["sites"]
    ports = {s["port"] + offset: s["id"] for s in sites}
    originals, paths = [], {}
    for site in sites:
        for line in (data / "gt" / f"{site['id']}.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.get("subcategory") == "page":
                continue
            key = f"{site['id']}:{norm_path(record['url_path'])}"
            for path in [record["url_path"], *record.get("aliases", [])]:
                paths[(site["id"], norm_path(path))] = key
            paragraphs = [p.strip() for p in record["body_text"].split("\n\n") if p.strip()]
            if record.get("date") and len(record["body_text"].split()) >= MIN_WORDS:
                originals.append(Original(key, site["id"], record["title"], date.fromisoformat(record["date"]), paragraphs))
    return originals, ports, paths


def relay_title(original: Original, rng: random.Random) -> tuple[str, str]:
    style = rng.choice(("retour", "nouveau", "pratique", "prefix", "own"))
    title = original.title
    if style == "retour":
        return f"Retour sur « {title} »", style
    if style == "nouveau":
        return f"Nouveau : {title}", style
    if style == "pratique":
        return f"{title} - les informations pratiques", style
    if style == "prefix":
        return f"[{rng.choice(CATEGORIES)}] {title}", style
    # a title of its own: a few of the story's long words, not a run of its text
    keywords = [w.strip(",.;:!?()«»\"'") for w in original.paragraphs[0].split()]
    keywords = list(dict.fromkeys(w for w in keywords if len(w) >= 6))[::3][:4]
    return f"À la une : {', '.join(keywords) or 'une actualité de nos partenaires'}", style


def relay_body(original: Original, rng: random.Random) -> tuple[list[str], list[str]]:
    paragraphs, edits = list(original.paragraphs), []
    if sum(len(p.split()) for p in paragraphs) > LONG_WORDS:
        kept, words, limit = [], 0, rng.randint(150, 350)
        for paragraph in paragraphs:
            if words >= limit:
                break
            kept.append(paragraph)
            words += len(paragraph.split())
        paragraphs = kept
        edits.append(f"cut to {len(kept)} paragraphs")
    elif len(paragraphs) >= 3 and rng.random() < 0.6:
        drop = set(rng.sample(range(1, len(paragraphs)), rng.randint(1, max(1, len(paragraphs) // 3))))
        paragraphs = [p for k, p in enumerate(paragraphs) if k not in drop]
        edits.append(f"dropped {len(drop)} paragraph(s)")
    if rng.random() < 0.5:
        paragraphs.insert(0, rng.choice(ADDED_START))
        edits.append("sentence at start")
    if rng.random() < 0.5 or not edits:
        paragraphs.append(rng.choice(ADDED_END))
        edits.append("sentence at end")
    return paragraphs, edits


def plant_relays(originals: list[Original], count: int, rng: random.Random) -> list[Page]:
    pages = []
    for n, original in enumerate(rng.sample(originals, min(count, len(originals)))):
        title, style = relay_title(original, rng)
        body, edits = relay_body(original, rng)
        later = original.day + timedelta(days=rng.randint(1, 10))
        pages.append(Page(f"relais-{n}", "relais", "relay", title, later, body, [original.key], ", ".join([style, *edits])))
    return pages


def plant_containers(originals: list[Original], rng: random.Random) -> list[Page]:
    """Newsletters (3-5 items of one site, whole or first paragraphs) and listings (title and first
    sentence of 6-8 items), dated a few days after their newest item."""
    by_site: dict[str, list[Original]] = {}
    for original in sorted(originals, key=lambda o: o.day):
        by_site.setdefault(original.site, []).append(original)
    pages: list[Page] = []
    for site, items in sorted(by_site.items()):
        for start in range(0, len(items) - 2, 7):
            group = items[start : start + rng.randint(3, 5)]
            pages.append(newsletter(len(pages), site, group, rng))
        if len(items) >= 6:
            start = rng.randrange(0, len(items) - 5)
            pages.append(listing(len(pages), site, items[start : start + rng.randint(6, 8)], rng))
    return pages


def newsletter(n: int, site: str, group: list[Original], rng: random.Random) -> Page:
    paragraphs = [f"Bonjour à toutes et à tous, voici les nouvelles du mois de {MONTHS[group[-1].day.month - 1]}."]
    whole = rng.random() < 0.5
    for original in group:
        paragraphs.append(original.title)
        paragraphs.extend(original.paragraphs if whole else original.paragraphs[:2])
    paragraphs.append("Bonne lecture, et à bientôt pour la prochaine lettre !")
    title = f"Lettre d'information n°{n + 1} - {MONTHS[group[-1].day.month - 1]} {group[-1].day.year}"
    day = group[-1].day + timedelta(days=rng.randint(1, 5))
    return Page(f"lettre-{n}", "lettres", "newsletter", title, day, paragraphs, [o.key for o in group],
                f"{site}, {len(group)} items, {'whole' if whole else 'first paragraphs'}")


def listing(n: int, site: str, group: list[Original], rng: random.Random) -> Page:
    paragraphs = []
    for original in group:
        first = re.split(r"(?<=[.!?])\s", original.paragraphs[0], maxsplit=1)[0]
        paragraphs.append(f"{original.title} ({original.day:%d/%m/%Y}) : {first}")
    title = rng.choice(("Toutes les actualités", "Archives", "Agenda et actualités")) + f" - page {n + 1}"
    return Page(f"liste-{n}", "lettres", "listing", title, group[-1].day + timedelta(days=1), paragraphs,
                [o.key for o in group], f"{site}, {len(group)} items")


def plant_templates(rng: random.Random, start: date) -> list[Page]:
    """Two families of announcements written from one template each, one week apart."""
    pages = []
    for k in range(4):
        day = start + timedelta(days=7 * k)
        speaker = f"{FIRST[k]} {LAST[k]}"
        talk = TOPICS[k]
        body = [f"Le prochain séminaire de l'équipe Modélisation aura lieu le {day.day} {MONTHS[day.month - 1]} "
                f"à {14 + k % 3}h en salle {101 + k}. {speaker} présentera ses travaux : « {talk} ».",
                "Le séminaire est ouvert à tous les membres du laboratoire ainsi qu'aux étudiantes et étudiants "
                "de master. Un café sera servi à l'issue de la présentation, dans le hall du bâtiment.",
                "Pour recevoir le lien de la retransmission, écrivez au secrétariat de l'équipe."]
        pages.append(Page(f"seminaire-{k}", "relais", "template:seminaire", f"Séminaire de l'équipe Modélisation : {speaker}",
                          day - timedelta(days=3), body))
        doctor = f"{FIRST[k + 4]} {LAST[k + 4]}"
        body = [f"{doctor} soutiendra sa thèse de doctorat le {day.day + 1} {MONTHS[day.month - 1]} à {10 + k}h00 "
                f"dans l'amphithéâtre {chr(65 + k)} du campus. Sujet de la thèse : « {TOPICS[k + 4]} ».",
                "Le jury est composé de chercheuses et chercheurs de plusieurs universités françaises et "
                "européennes. La soutenance est publique et sera suivie d'un pot auquel vous êtes conviés.",
                "Merci de vous inscrire auprès de l'école doctorale avant la veille de la soutenance."]
        pages.append(Page(f"these-{k}", "relais", "template:these", f"Soutenance de thèse de {doctor}",
                          day - timedelta(days=5), body))
    return pages


def page_html(page: Page) -> str:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in page.paragraphs)
    return (f"<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{html.escape(page.title)}</title>"
            f"<meta property=\"article:published_time\" content=\"{page.day.isoformat()}\"></head><body>"
            f"<header><nav><a href=\"/\">Faculté des Sciences</a></nav></header><main><article>"
            f"<h1>{html.escape(page.title)}</h1><time datetime=\"{page.day.isoformat()}\">{page.day:%d/%m/%Y}</time>"
            f"{body}</article></main><footer>Faculté des Sciences</footer></body></html>")


def feed_xml(base: str, feed: str, pages: list[Page]) -> str:
    entries = []
    for page in pages:
        if page.feed != feed:
            continue
        when = datetime.combine(page.day, datetime.min.time(), timezone.utc) + timedelta(hours=9)
        content = "".join(f"<p>{html.escape(p)}</p>" for p in page.paragraphs)
        entries.append(f"<item><title>{html.escape(page.title)}</title><link>{base}/{page.slug}.html</link>"
                       f"<guid>{base}/{page.slug}.html</guid><pubDate>{format_datetime(when)}</pubDate>"
                       f"<description>{html.escape(content)}</description></item>")
    return (f"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>{feed}</title>"
            f"<link>{base}/</link><description>{feed}</description>{''.join(entries)}</channel></rss>")


def serve(pages: list[Page]) -> tuple[ThreadingHTTPServer, str]:
    by_slug = {p.slug: p for p in pages}
    server_box: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = urllib.parse.urlsplit(self.path).path
            if path.endswith("/feed.xml"):
                body, kind = feed_xml(server_box["base"], path.split("/")[1], pages), "application/rss+xml"
            elif path == "/robots.txt":
                body, kind = "User-agent: *\nAllow: /\n", "text/plain"
            elif path.endswith(".html") and path[1:-5] in by_slug:
                body, kind = page_html(by_slug[path[1:-5]]), "text/html; charset=utf-8"
            else:
                self.send_error(404)
                return
            data = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_box["base"] = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server_box["base"]


def wait_for_port(port: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing answers on port {port}")


def write_sources(data: Path, folder: Path, base: str) -> Path:
    generated = folder / "real.yaml"
    subprocess.run([sys.executable, str(data / "realsites.py"), "sources", "--scenario", "full", "--out", str(generated),
                    "--setting", "per_origin_delay_s=0"], check=True, capture_output=True)
    config = yaml.safe_load(generated.read_text(encoding="utf-8"))
    for feed, name in (("relais", "Faculté des Sciences - actualités relayées"), ("lettres", "Lettres et listes")):
        config["sources"].append({"id": f"planted-{feed}", "name": name, "kind": "feed", "url": f"{base}/{feed}/feed.xml",
                                  "category": "mixed"})
    path = folder / "sources.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def run_veille(sources: Path, db: Path, attempts: int = 2) -> None:
    """One `veille run` on a fresh database (tried again once: on a busy machine Prefect's ephemeral
    server may time out while starting)."""
    veille = ROOT / ".venv" / "bin" / "veille"
    for attempt in range(1, attempts + 1):
        for path in db.parent.glob(db.stem + "*.duckdb*"):
            path.unlink()
        started = time.monotonic()
        done = subprocess.run([str(veille), "run", "--sources", str(sources), "--db", str(db)], cwd=ROOT,
                              capture_output=True, text=True)
        print(f"veille run: {time.monotonic() - started:.0f} s, exit {done.returncode}")
        if done.returncode == 0 and db.exists():
            return
        print(done.stderr[-1500:])
    sys.exit("veille run failed")


def read_rows(db: Path) -> tuple[list[tuple[str, str, str]], set[tuple[str, str]] | None]:
    """(item_id, url, cluster_id) of every item, and the mention links (container, item) if stored."""
    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute("SELECT item_id, url, cluster_id FROM v_items").fetchall()
        views = {r[0] for r in conn.execute("SELECT view_name FROM duckdb_views()").fetchall()}
        mentions = None
        if "v_mentions" in views:
            mentions = {(a, b) for a, b in conn.execute("SELECT container_item_id, item_id FROM v_mentions").fetchall()}
    return rows, mentions


def identify(rows, pages: list[Page], base: str, ports: dict[int, str], paths) -> dict[str, str]:
    """item_id -> "<site>:<path>" for real items, "planted:<slug>" for planted pages (unknown rows left out)."""
    planted_port = urllib.parse.urlsplit(base).port
    slugs = {p.slug for p in pages}
    found = {}
    for item_id, url, _ in rows:
        parts = urllib.parse.urlsplit(url)
        if parts.port == planted_port:
            slug = parts.path.rsplit("/", 1)[-1].removesuffix(".html")
            if slug in slugs:
                found[item_id] = f"planted:{slug}"
        elif parts.port in ports:
            key = paths.get((ports[parts.port], norm_path(url)))
            found[item_id] = key or f"{ports[parts.port]}:page:{norm_path(url)}"
    return found


def score(rows, keys: dict[str, str], pages: list[Page], mentions) -> tuple[float, float, int, int]:
    """Prints the figures and the errors; returns (precision, recall, templated pairs merged,
    containers in a cluster of an item they contain)."""
    by_slug = {p.slug: p for p in pages}
    stored = set(keys.values())
    clusters: dict[str, list[str]] = {}
    for item_id, _, cluster_id in rows:
        if item_id in keys:
            clusters.setdefault(cluster_id or item_id, []).append(keys[item_id])

    def page_of(key: str) -> Page | None:
        return by_slug.get(key.removeprefix("planted:")) if key.startswith("planted:") else None

    truth = {frozenset((f"planted:{p.slug}", p.originals[0])) for p in pages if p.kind == "relay"}
    truth = {pair for pair in truth if pair <= stored}
    predicted, wrong, wrong_pairs = set(), {}, []
    templated = containers_in = 0
    inherited = 0
    for members in clusters.values():
        for a, b in combinations(sorted(set(members)), 2):
            page_a, page_b = page_of(a), page_of(b)
            if page_a is None and page_b is None:
                continue
            pair = frozenset((a, b))
            predicted.add(pair)
            if pair in truth:
                continue
            relay = page_a if page_a and page_a.kind == "relay" else page_b if page_b and page_b.kind == "relay" else None
            if relay and page_of(a if relay is page_b else b) is None and relay.originals[0] in members:
                inherited += 1  # a relay's link to a real item merged with its original (a real-site decision)
            kinds = sorted(p.kind if p else ("real page" if ":page:" in k else "real item") for p, k in ((page_a, a), (page_b, b)))
            wrong[" + ".join(kinds)] = wrong.get(" + ".join(kinds), 0) + 1
            wrong_pairs.append(" / ".join(f"{k} ({p.edits or p.kind}, of {p.originals[:1]})" if p else k
                                          for p, k in ((page_a, a), (page_b, b))))
            if page_a and page_b and page_a.kind.startswith("template:") and page_a.kind == page_b.kind:
                templated += 1
            for page, other in ((page_a, b), (page_b, a)):
                if page and page.kind in ("newsletter", "listing") and other in page.originals:
                    containers_in += 1
    right = len(predicted & truth)
    precision = right / len(predicted) if predicted else 1.0
    recall = right / len(truth) if truth else 0.0
    relays = [p for p in pages if p.kind == "relay"]
    print(f"planted: {len(relays)} relays, {sum(p.kind == 'newsletter' for p in pages)} newsletters, "
          f"{sum(p.kind == 'listing' for p in pages)} listings, {sum(p.kind.startswith('template:') for p in pages)} templated announcements")
    print(f"relay pairs with both ends stored: {len(truth)}; linked {right}; links involving a planted page: {len(predicted)}")
    print(f"pair precision {precision:.3f} (target 0.98), pair recall {recall:.3f} (target 0.95)")
    if inherited:
        print(f"  of the wrong links, {inherited} join a relay to a real item merged with its original (two real "
              f"items in one cluster); without them precision {right / (len(predicted) - inherited):.3f}")
    print(f"wrong links by kind: {wrong or 'none'}")
    for pair in wrong_pairs:
        print(f"  wrong: {pair}")
    print(f"templated pairs merged: {templated} (target 0); newsletters/listings in a cluster of an item they contain: "
          f"{containers_in} (target 0)")
    missed = [p for p in relays if frozenset((f"planted:{p.slug}", p.originals[0])) in truth - predicted]
    for page in missed:
        print(f"  missed: {page.slug} [{page.edits}] {page.title[:70]!r} <- {page.originals[0]}")
    if mentions is not None:
        ids = {v: k for k, v in keys.items()}
        expected = {(ids[f"planted:{p.slug}"], ids[o]) for p in pages if p.kind in ("newsletter", "listing")
                    and f"planted:{p.slug}" in ids for o in p.originals if o in ids}
        print(f"mention links: {len(mentions)} stored; container->item links expected {len(expected)}, "
              f"found {len(expected & mentions)}")
    return precision, recall, templated, containers_in


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("REALSITES_DATA", DEFAULT_DATA)))
    parser.add_argument("--relays", type=int, default=60)
    parser.add_argument("--seed", type=int, nargs="+", default=[14], help="one run per seed (e.g. --seed 14 15 16)")
    parser.add_argument("--keep", type=Path, help="keep the database and sources file in this folder (per seed)")
    args = parser.parse_args()
    if not (args.data / "sites.json").exists():
        print(f"skipped: no real sites at {args.data} (../shared/real-sites is not part of a clone)")
        return
    figures = {}
    for seed in args.seed:
        print(f"--- seed {seed}")
        keep = args.keep / f"seed-{seed}" if args.keep and len(args.seed) > 1 else args.keep
        figures[seed] = run_seed(args.data, seed, args.relays, keep)
    if len(figures) > 1:
        print("seed  precision  recall  templated merged  containers in a cluster")
        for seed, (precision, recall, templated, containers_in) in figures.items():
            print(f"{seed:>4}  {precision:9.3f}  {recall:6.3f}  {templated:16d}  {containers_in:23d}")


def run_seed(data: Path, seed: int, relays: int, keep: Path | None) -> tuple[float, float, int, int]:
    """Plants the pages of one seed, crawls them with the real sites in one `veille run`, scores it."""
    rng = random.Random(seed)
    originals, ports, paths = load_originals(data)
    pages = plant_relays(originals, relays, rng) + plant_containers(originals, rng)
    pages += plant_templates(rng, max(o.day for o in originals) - timedelta(days=40))
    server, base = serve(pages)
    folder = keep or Path(tempfile.mkdtemp(prefix="veille-relays-"))
    folder.mkdir(parents=True, exist_ok=True)
    real = subprocess.Popen([sys.executable, str(data / "realsites.py"), "serve", "--seconds", "900"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(min(ports))
        db = folder / "veille.duckdb"
        run_veille(write_sources(data, folder, base), db)
        rows, mentions = read_rows(db)
    finally:
        real.terminate()
        real.wait()
        server.shutdown()
    return score(rows, identify(rows, pages, base, ports, paths), pages, mentions)

if __name__ == "__main__":
    main()
