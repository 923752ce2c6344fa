"""Benchmark of the outreach map: 1,000 initiatives carrying 100,000 evidence items.

Prints: publish_map time (target < 30 s), size of the site, and the search response time in
headless Chromium (input event -> list updated and laid out; target < 100 ms), median and worst of
several queries and filters. Also times merge_editions on 5,000 proposals.

    .venv/bin/python benchmarks/map.py
"""

from __future__ import annotations

import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.outreach.catalogue import KIND_LABELS_FR, Edition, Initiative  # noqa: E402
from pipeline.outreach.site.publish import publish_map, serve_map  # noqa: E402
from pipeline.outreach.merge import merge_editions  # noqa: E402

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)
WORDS = ("volcans étoiles cerveau robots chimie ADN climat océan abeilles lumière mathématiques hasard "
         "fourmis séismes plantes bactéries atomes galaxies énergie eau forêts glaciers code numérique").split()
FORMATS = ("Atelier {w}", "Conférence : les {w} expliqués", "Exposition « {w} et {v} »", "Podcast « {w} » épisode {n}",
           "Visite du laboratoire : {w}", "Les {w} au collège", "Café des sciences : {w} et {v}")


def make_catalogue(n_initiatives: int, n_items: int, seed: int = 7) -> list[Initiative]:
    rng = random.Random(seed)
    organisers = [f"Laboratoire {w.capitalize()} {i}" for i, w in enumerate(WORDS * 3)][:60]
    per = n_items // n_initiatives
    catalogue = []
    for i in range(n_initiatives):
        w, v = rng.sample(WORDS, 2)
        years = sorted(rng.sample(range(2019, 2027), rng.randint(1, 4)))
        catalogue.append(Initiative(
            initiative_id=f"d-{i:06d}",
            title=rng.choice(FORMATS).format(w=w, v=v, n=rng.randint(1, 40)),
            kind=rng.choice(list(KIND_LABELS_FR)),  # type: ignore[arg-type]
            organisers=tuple(rng.sample(organisers, rng.randint(1, 2))),
            audience=tuple(rng.sample(["grand_public", "scolaires", "etudiants", "personnels"], rng.randint(1, 2))),  # type: ignore[arg-type]
            status=rng.choice(["en_projet", "programmee", "realisee", "recurrente"]),
            editions=tuple(Edition(y, date(y, rng.randint(1, 12), rng.randint(1, 28)), None, "Campus") for y in years),
            place="Amphithéâtre " + w, contact=f"contact{i}@univ-exemple.fr",
            evidence=tuple(f"https://source{i % 97}.univ-exemple.fr/actus/{i}-{k}" for k in range(per)),
            description=f"Une action de médiation sur les {w} et les {v}, pour petits et grands. " * 3,
        ))
    return catalogue


def bench_publish(catalogue: list[Initiative], folder: Path) -> None:
    started = time.perf_counter()
    summary = publish_map(catalogue, folder, generated_at=NOW)
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
    evidence = sum(len(i.evidence) for i in catalogue)
    print(f"publish_map: {len(catalogue)} initiatives, {evidence} evidence items -> {seconds:.2f} s "
          f"(target < 30 s, ratio {seconds / 30:.3f}); {summary['pages']} pages, {size:.1f} MB")


def bench_merge(n: int) -> None:
    proposals = make_catalogue(n, n, seed=3)
    started = time.perf_counter()
    merged = merge_editions(proposals)
    print(f"merge_editions: {n} proposals -> {len(merged)} initiatives in {time.perf_counter() - started:.2f} s")


def bench_search(folder: Path) -> None:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        print("search in browser: skipped (selenium not installed)")
        return
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        print("search in browser: skipped (chromium / chromedriver not installed)")
        return
    server = serve_map(folder)
    with tempfile.TemporaryDirectory() as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     f"--user-data-dir={profile}", "--window-size=1366,900"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
        try:
            started = time.perf_counter()
            driver.get(server.url + "index.html")
            print(f"index.html load (1,000 cards): {time.perf_counter() - started:.2f} s")
            timings = driver.execute_script(MEASURE)
        finally:
            driver.quit()
            server.stop()
    print("search timings (ms):", " ".join(f"{t:.0f}" for t in timings))
    print(f"search response: median {statistics.median(timings):.1f} ms, worst {max(timings):.1f} ms over "
          f"{len(timings)} queries/filters (target < 100 ms, worst/target {max(timings) / 100:.2f})")


MEASURE = """
const q = document.getElementById('q');
const kind = document.getElementById('type');
const out = [];
function timed(action) {
  const t0 = performance.now();
  action();
  document.getElementById('liste').offsetHeight;  // force style and layout of the new list
  out.push(performance.now() - t0);
}
for (const text of ['v', 'vo', 'volc', 'volcans', 'chimie atomes', 'zzz', '', 'laboratoire', 'podcast', '']) {
  timed(() => { q.value = text; q.dispatchEvent(new Event('input')); });
}
for (const value of ['atelier', 'exposition', '', 'festival', '']) {
  timed(() => { kind.value = value; kind.dispatchEvent(new Event('change')); });
}
return out;
"""


def main() -> None:
    catalogue = make_catalogue(1000, 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "carte"
        bench_publish(catalogue, folder)
        bench_search(folder)
    bench_merge(5000)


if __name__ == "__main__":
    main()
