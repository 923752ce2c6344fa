"""Publish a demo outreach map and take screenshots at desktop and phone widths.

Demo catalogue: the outreach items of classifiers/outreach/items.yaml run through detection
(propose_initiatives) plus the hand-entered initiatives of initiatives.yaml. Screenshots of the
catalogue, a filtered catalogue, an initiative page, the "qui fait quoi" matrix and the timeline go
to outputs/screenshots/. Needs Debian's chromium + chromium-driver and selenium.

    .venv/bin/python scripts/screenshot_map.py [--out outputs/screenshots]
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pipeline.outreach.catalogue import load_initiatives_file, published_initiatives
from pipeline.outreach.site.publish import publish_map, serve_map
from pipeline.models import Item
from pipeline.normalize import item_id
from pipeline.outreach.detect import propose_initiatives
from pipeline.outreach.model import load_examples, train_outreach_model

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}


def demo_catalogue() -> list:
    """Detected initiatives from the labelled items, plus the manual ones."""
    examples = load_examples()
    model = train_outreach_model(examples)
    items = [
        Item(item_id=item_id(f"https://{e.source}.univ-exemple.fr/actus/{n}"), source_id=e.source,
             url=f"https://{e.source}.univ-exemple.fr/actus/{n}", title=e.title,
             published_at=NOW - timedelta(days=3 * n), text=e.text)
        for n, e in enumerate(examples)
    ]
    names = {e.source: e.source.replace("-", " ").title() for e in examples}
    detected = propose_initiatives(items, names, model, today=NOW.date())
    manual, errors = load_initiatives_file(ROOT / "initiatives.yaml")
    if errors:
        raise SystemExit("\n".join(map(str, errors)))
    return published_initiatives(manual, detected)


def chrome(width: int, height: int, profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", f"--window-size={width},{height}", "--hide-scrollbars"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    return driver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "outputs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    site = ROOT / "outputs" / "map-demo"
    catalogue = demo_catalogue()
    print(publish_map(catalogue, site, generated_at=NOW))
    server = serve_map(site)
    first_page = next(i for i in catalogue if i.editions and i.evidence)
    pages = {
        "catalogue": "index.html",
        "catalogue-filtre": "index.html?type=intervention_scolaire&q=coll%C3%A8ge",
        "initiative": f"initiatives/{first_page.initiative_id}.html",
        "qui-fait-quoi": "qui-fait-quoi.html",
        "chronologie": "chronologie.html",
    }
    try:
        for size, (width, height) in SIZES.items():
            with tempfile.TemporaryDirectory() as profile:
                driver = chrome(width, height, Path(profile))
                try:
                    for name, path in pages.items():
                        driver.get(server.url + path)
                        target = args.out / f"{name}-{size}.png"
                        driver.save_screenshot(str(target))
                        print(target)
                finally:
                    driver.quit()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
