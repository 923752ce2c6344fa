"""Screenshot the digest e-mail as a desktop and a phone reader would see it.

    python scripts/screenshot_digest.py                 # a digest built from sample stories
    python scripts/screenshot_digest.py path/to/2026-W48.html

Writes outputs/screenshots/digest-desktop.png (1280 px wide) and digest-phone.png (390 px wide)
with Debian's headless chromium (`apt-get install chromium`), plus the rendered sample HTML.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.digest.build import build_digest, render_html  # noqa: E402
from pipeline.models import Candidate, Item, SourceHealth  # noqa: E402
from pipeline.normalize import item_id  # noqa: E402

OUT = ROOT / "outputs" / "screenshots"
SIZES = {"desktop": (1280, 3400), "phone": (390, 5200)}
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)
WEEK = "2026-W48"

# (source, category, confidence, title, text, extra sources, days before NOW)
SAMPLES = [
    ("Laboratoire de Physique des Solides", "research", 0.93,
     "Une nouvelle phase quantique observée pour la première fois dans un cristal de graphène torsadé",
     "Des chercheurs du laboratoire ont mis en évidence un état électronique inédit, publié dans la revue "
     "Nature Physics le 24 novembre. Ce résultat ouvre la voie à des composants électroniques plus sobres. "
     "Contact presse : communication@lps.example.fr", ("Institut de Physique", "Actualités de l'université"), 5),
    ("Institut de Chimie", "research", 0.88,
     "Clara Benali, lauréate d'une ERC Starting Grant pour ses travaux sur les catalyseurs au fer",
     "La chimiste obtient 1,5 million d'euros sur cinq ans pour remplacer les métaux rares par du fer dans "
     "la synthèse de médicaments. Elle présentera son projet lors d'une conférence grand public le jeudi "
     "10 décembre 2026 à 18h30 à la bibliothèque universitaire.", ("Actualités de l'université",), 4),
    ("Observatoire des Sciences de l'Univers", "research", 0.71,
     "Soutenance de thèse : la formation des planètes géantes autour des étoiles jeunes",
     "Manon Leroy soutiendra sa thèse le mardi 8 décembre à 14h en salle des séminaires (bâtiment 12). "
     "La soutenance est ouverte à tous.", (), 3),
    ("Département de Mathématiques", "teaching", 0.82,
     "Nouvelle licence double diplôme Mathématiques - Informatique à la rentrée 2027",
     "Le conseil de la faculté a validé la création d'un parcours renforcé, avec un stage en entreprise dès la "
     "deuxième année. Réunion d'information pour les lycéens et leurs familles lors des portes ouvertes du "
     "samedi 30 janvier.", (), 2),
    ("Service Formation Continue", "teaching", 0.52,
     "Ateliers scolaires « Les petits débrouillards de la chimie » : inscriptions ouvertes",
     "Les classes de CM1-CM2 de la ville sont invitées à venir manipuler dans les salles de TP du 14 au 17 "
     "décembre 2026. Inscriptions : 04 76 00 00 00.", (), 6),
    ("Association AstroCampus", "student", 0.90,
     "Les étudiants d'AstroCampus organisent une nuit d'observation des Géminides",
     "L'association étudiante invite le public sur le toit du bâtiment de physique le dimanche 13 décembre "
     "de 21h à 23h30. Télescopes fournis, entrée libre, prévoir des vêtements chauds !", ("BDE Sciences",), 1),
    ("BDE Sciences", "student", 0.64,
     "Hackathon « Climat & données » : 24 heures pour modéliser la ville de demain",
     "Organisé par des étudiants de master, le hackathon réunira 80 participants les 5 et 6 décembre. "
     "Les équipes lauréates présenteront leurs prototypes à la métropole.", (), 2),
    ("Ressources humaines", "research", 0.77,
     "Offre de poste : ingénieur d'études en instrumentation (CDD 12 mois)",
     "Le laboratoire recrute un ingénieur d'études. Candidature avant le 15 décembre.", (), 3),
    ("Direction du patrimoine", "teaching", 0.60,
     "Fermeture du bâtiment B pendant les vacances : calendrier administratif",
     "Le bâtiment B sera fermé pour maintenance du 21 décembre au 4 janvier 2027.", (), 2),
]


def sample_candidates() -> list[Candidate]:
    """A realistic week of stories, including routine notices the digest should leave out."""
    candidates = []
    for n, (source, category, confidence, title, text, others, age) in enumerate(SAMPLES):
        url = f"https://www.example-univ.fr/actualites/{n}-{category}"
        published = NOW - timedelta(days=age, hours=3)
        item = Item(item_id(url), f"src-{n}", url, title, published, text, summary="", lang="fr")
        candidates.append(Candidate(item, source, published + timedelta(hours=2), category, confidence,
                                    f"cluster-{n}", (source, *others)))
    return candidates


def sample_health() -> list[SourceHealth]:
    return [
        SourceHealth("lps", "Laboratoire de Physique des Solides", "ok", None, 0, NOW, NOW, 12, False),
        SourceHealth("geo", "Laboratoire de Géosciences", "error", "timeout", 4, NOW - timedelta(days=5), NOW - timedelta(days=9), 3, False),
        SourceHealth("bio", "Unité de Biologie Végétale", "ok", None, 0, NOW, NOW - timedelta(days=70), 0, True),
        SourceHealth("astro", "Association AstroCampus", "ok", None, 0, NOW, NOW, 4, False),
    ]


def screenshot(html_path: Path, name: str, width: int, height: int) -> Path:
    """One PNG of `html_path` at the given window size, with headless chromium."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("chromium is not installed: apt-get install -y chromium")
    target = OUT / f"digest-{name}.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", "--force-device-scale-factor=1", f"--user-data-dir={profile}",
             f"--screenshot={target}", f"--window-size={width},{height}", html_path.resolve().as_uri()],
            check=True, capture_output=True, timeout=120,
        )
    trim_background(target)
    return target


def trim_background(png: Path) -> None:
    """Cut the empty page background below the e-mail (the window is taller than the content)."""
    try:
        from PIL import Image  # optional: present in the venv through matplotlib
    except ImportError:
        return
    with Image.open(png) as image:
        rgb = image.convert("RGB")
    width, height = rgb.size
    background = rgb.getpixel((width - 1, height - 1))
    bottom = height
    while bottom > 1 and all(rgb.getpixel((x, bottom - 1)) == background for x in range(0, width, 3)):
        bottom -= 1
    rgb.crop((0, 0, width, min(height, bottom + 16))).save(png)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", nargs="?", type=Path, help="an existing digest .html (default: sample digest)")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    html_path = args.html
    if html_path is None:
        digest = build_digest(sample_candidates(), WEEK, sample_health(), NOW)
        html_path = OUT / "digest-sample.html"
        html_path.write_text(render_html(digest), encoding="utf-8")
        print(digest.subject)
    for name, (width, height) in SIZES.items():
        print(screenshot(html_path, name, width, height))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
