"""Build the development seed set (classifiers/seed.jsonl) from hand-written French blocks.

Run: `.venv/bin/python classifiers/build_seed.py` (deterministic: same blocks, same file).

Each fictional source has a kind (lab, university news, department, association, ...), a declared
category, a writing style and its own URL scheme. Every item draws its subtype from the source's
mix (so labs also post teaching items, associations also post science talks) and its sentences
from the blocks in seed-blocks.yaml, so no source is one template. The label is the category of
the subtype, following classifiers/GUIDE.md. The held-out set (holdout.jsonl) is NOT built here.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SLOT = re.compile(r"\{(\w+)\}")

# kind -> (declared category, {subtype: weight})
KIND_MIX: dict[str, tuple[str, dict[str, float]]] = {
    "lab": ("research", {"research/result": 5, "research/publication": 3, "research/seminar": 5, "research/defense": 3,
                         "research/prize": 2, "research/grant": 2, "research/project": 2, "research/cfp": 1,
                         "research/position": 3, "research/outreach": 1, "teaching/lab_course": 2,
                         "teaching/innovation": 0.5, "student/science_event": 0.5}),
    "lab_en": ("research", {"research/en_result": 8, "research/seminar": 1, "research/position": 1,
                            "teaching/en_programme": 1, "teaching/lab_course": 1}),
    "university": ("mixed", {"research/result": 3, "research/prize": 2, "research/grant": 2, "research/outreach": 1,
                             "teaching/programme": 2, "teaching/admission": 2, "teaching/innovation": 2,
                             "teaching/open_day": 1, "student/project": 2, "student/competition": 2,
                             "student/solidarity": 1, "student/science_event": 1}),
    "faculty": ("mixed", {"research/seminar": 2, "research/defense": 2, "research/prize": 1, "research/cfp": 1,
                          "teaching/programme": 2, "teaching/exam": 2, "teaching/internship": 2,
                          "teaching/open_day": 1, "teaching/course": 1, "student/bde": 1, "student/association": 1,
                          "student/competition": 1, "student/club": 1}),
    "department": ("teaching", {"teaching/course": 4, "teaching/exam": 3, "teaching/internship": 2,
                                "teaching/course_project": 2, "teaching/admission": 1, "research/seminar": 1.5,
                                "research/defense": 0.5, "student/association": 1, "student/competition": 0.5}),
    "programme": ("teaching", {"teaching/programme": 3, "teaching/admission": 3, "teaching/internship": 2,
                               "teaching/course_project": 2, "teaching/innovation": 1, "teaching/exam": 1,
                               "student/competition": 1, "student/project": 0.7, "research/prize": 0.6}),
    "programme_en": ("teaching", {"teaching/en_programme": 5, "teaching/admission": 1, "teaching/internship": 1,
                                  "student/en_student": 1, "research/en_result": 0.5}),
    "doctoral": ("research", {"research/defense": 5, "research/position": 2, "research/prize": 2, "research/cfp": 1,
                              "teaching/course": 1, "student/doctoral_asso": 1.5, "student/science_event": 0.5}),
    "association": ("student", {"student/association": 3, "student/club": 2, "student/science_event": 3,
                                "student/solidarity": 1, "student/competition": 1, "student/project": 1,
                                "teaching/open_day": 0.4}),
    "bde": ("student", {"student/bde": 5, "student/association": 2, "student/solidarity": 1, "student/club": 1,
                        "teaching/exam": 0.6, "teaching/admission": 0.4}),
    "club": ("student", {"student/club": 5, "student/competition": 2, "student/project": 2,
                         "student/science_event": 1, "student/en_student": 0.5}),
    "student_news": ("student", {"student/project": 2, "student/competition": 2, "student/association": 1,
                                 "student/science_event": 1, "student/solidarity": 1, "research/prize": 1,
                                 "teaching/exam": 1, "teaching/innovation": 0.6}),
    "scicom": ("mixed", {"research/outreach": 3, "research/result": 2, "research/seminar": 1,
                         "student/science_event": 2, "teaching/open_day": 1, "student/project": 1}),
    "observatory": ("research", {"research/result": 4, "research/project": 3, "research/outreach": 2,
                                 "research/position": 1, "research/seminar": 1, "teaching/lab_course": 1,
                                 "student/club": 0.5}),
}

# (source_id, kind, host, style, url_scheme)
SOURCES: list[tuple[str, str, str, str, str]] = [
    ("lab-lps", "lab", "lps.univ-exemple.fr", "formal", "slug"),
    ("lab-icmol", "lab", "icmol.cnrs.fr", "press", "node"),
    ("lab-lis", "lab", "lis-lab.fr", "blog", "dated"),
    ("lab-geocean", "lab", "geocean.univ-exemple.fr", "formal", "html"),
    ("lab-ibi", "lab", "ibi.univ-exemple.fr", "bulletin", "query"),
    ("lab-lma", "lab", "lma.math.cnrs.fr", "terse", "slug"),
    ("lab-ecoevo", "lab", "ecoevo.univ-exemple.fr", "blog", "slug"),
    ("lab-ilm", "lab", "ilm.univ-exemple.fr", "press", "dated"),
    ("lab-lgp", "lab", "lgp.inp-exemple.fr", "formal", "node"),
    ("lab-crn", "lab", "crn.inserm-exemple.fr", "agenda", "html"),
    ("team-photonique", "lab", "photonique.team-exemple.fr", "blog", "query"),
    ("lab-quantum-en", "lab_en", "quantum-lab.univ-exemple.eu", "formal", "slug"),
    ("lab-climate-en", "lab_en", "climate.univ-exemple.eu", "blog", "dated"),
    ("univ-actualites", "university", "www.univ-exemple.fr", "press", "slug"),
    ("univ-mag", "university", "mag.univ-exemple.fr", "magazine", "dated"),
    ("univ-nord", "university", "www.univ-nord-exemple.fr", "formal", "node"),
    ("univ-sud-news", "university", "actu.univ-sud-exemple.fr", "bulletin", "html"),
    ("fac-sciences", "faculty", "sciences.univ-exemple.fr", "formal", "slug"),
    ("ufr-st", "faculty", "ufr-st.univ-nord-exemple.fr", "bulletin", "query"),
    ("fac-sciences-agenda", "faculty", "agenda.sciences.univ-exemple.fr", "agenda", "dated"),
    ("dept-physique", "department", "physique.univ-exemple.fr", "terse", "slug"),
    ("dept-chimie", "department", "chimie.univ-nord-exemple.fr", "bulletin", "node"),
    ("dept-info", "department", "info.univ-exemple.fr", "blog", "html"),
    ("dept-svt", "department", "bio.univ-sud-exemple.fr", "formal", "query"),
    ("dept-maths", "department", "maths.univ-exemple.fr", "terse", "dated"),
    ("master-bioinfo", "programme", "master-bioinfo.univ-exemple.fr", "blog", "slug"),
    ("licence-pc", "programme", "licence-pc.univ-nord-exemple.fr", "formal", "html"),
    ("master-mer", "programme", "master-mer.univ-sud-exemple.fr", "magazine", "dated"),
    ("lp-analyses", "programme", "lp-analyses.iut-exemple.fr", "bulletin", "node"),
    ("master-data-en", "programme_en", "datascience-master.univ-exemple.eu", "formal", "slug"),
    ("ed-sciences", "doctoral", "ed-sciences.univ-exemple.fr", "formal", "slug"),
    ("ed-matiere", "doctoral", "ed-matiere.univ-nord-exemple.fr", "agenda", "query"),
    ("asso-astrocampus", "association", "astrocampus.asso-exemple.fr", "chatty", "dated"),
    ("asso-biotiful", "association", "biotiful-asso.fr", "chatty", "slug"),
    ("asso-campus-vert", "association", "campusvert.asso-exemple.org", "blog", "query"),
    ("asso-geol", "association", "geolattitude.asso-exemple.fr", "chatty", "html"),
    ("asso-doctorants", "association", "adoc.asso-exemple.fr", "formal", "slug"),
    ("bde-sciences", "bde", "bde-sciences.fr", "chatty", "slug"),
    ("bde-nord", "bde", "bde-nord.asso-exemple.fr", "chatty", "node"),
    ("club-robotique", "club", "robotique.club-exemple.fr", "blog", "dated"),
    ("club-astro", "club", "club-astro.asso-exemple.fr", "chatty", "query"),
    ("journal-etudiant", "student_news", "lecanard.journal-etudiant.fr", "magazine", "slug"),
    ("gazette-campus", "student_news", "gazette-campus.fr", "chatty", "dated"),
    ("service-culture-sci", "scicom", "culture-scientifique.univ-exemple.fr", "press", "slug"),
    ("osu-observatoire", "observatory", "osu.univ-exemple.fr", "formal", "html"),
    ("obs-montagne", "observatory", "obs-montagne.cnrs.fr", "blog", "node"),
]

STYLE_PREFIXES = {
    "formal": ["", "", ""],
    "press": ["", "Communiqué – ", "Actualité : "],
    "blog": ["", "", "[Blog] "],
    "bulletin": ["[Info] ", "Info – ", "", "À noter : "],
    "terse": ["", ""],
    "agenda": ["Agenda – ", "", "📅 "],
    "chatty": ["📢 ", "🎉 ", "", "✨ ", "🔭 "],
    "magazine": ["", "Portrait – ", "Reportage : ", ""],
}
GENERIC_TITLES = ["Retour en images", "À la une cette semaine", "Brève", "Actualité du mois", "C'est arrivé près de chez vous",
                  "Ça s'est passé {day}", "En bref", "Rappel important", "Save the date"]
CROSS_PROBABILITY = 0.3  # items with one detail sentence borrowed from another category, as on real sites
GENERIC_TITLE_PROBABILITY = 0.1
CHATTY_OPENERS = ["Hello tout le monde !", "Salut à toutes et à tous !", "Grosse nouvelle !", "On vous l'avait promis :"]
CHATTY_ENDINGS = ["On compte sur vous 💪", "À très vite !! 😍", "Partagez autour de vous 🙏", "Bisous les sciences 💚"]
ARTICLE_FIXES = [
    (re.compile(r"\b(du|le|Le|au) (Institut|Observatoire|Université)"), lambda m: {"du": "de l'", "le": "l'", "Le": "L'", "au": "à l'"}[m.group(1)] + m.group(2)),
    (re.compile(r"\bde le\b"), lambda m: "du"),
    (re.compile(r"\bde la la\b"), lambda m: "de la"),
    (re.compile(r"\bà le\b"), lambda m: "au"),
    (re.compile(r"\b(de|à) les\b"), lambda m: {"de": "des", "à": "aux"}[m.group(1)]),
    (re.compile(r"\bjusqu'au le\b"), lambda m: "jusqu'au"),
    (re.compile(r"\bde (l'|le |la )(association|club|BDE|collectif|bureau)"), lambda m: "de " + m.group(1) + m.group(2)),
]


def fill_slots(template: str, slots: dict[str, list[str]], rng: random.Random, memo: dict | None = None) -> str:
    """Replace every {slot} with a value; {slot_cap} capitalises the first letter.

    `memo` keeps one item's choices, so its title and sentences speak of the same topic; the
    n-th occurrence of a slot inside one sentence gets the item's n-th value (two rapporteurs)."""
    memo = {} if memo is None else memo
    seen: dict[str, int] = {}

    def pick(match: re.Match) -> str:
        name = match.group(1)
        cap = name.endswith("_cap")
        base = name[:-4] if cap else name
        rank = seen[base] = seen.get(base, -1) + 1
        chosen = memo.setdefault(base, [])
        while len(chosen) <= rank:
            options = [v for v in slots[base] if v not in chosen] or slots[base]
            chosen.append(rng.choice(options))
        value = chosen[rank]
        return value[:1].upper() + value[1:] if cap else value

    text = SLOT.sub(pick, template)
    for pattern, repl in ARTICLE_FIXES:
        text = pattern.sub(repl, text)
    return text


def slugify(title: str) -> str:
    folded = unicodedata.normalize("NFKD", title.lower())
    ascii_only = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")[:70]


def build_url(host: str, scheme: str, segment: str, title: str, rng: random.Random) -> str:
    year = rng.choice([2022, 2023, 2024, 2025])
    if scheme == "node":
        return f"https://{host}/node/{rng.randint(1000, 9999)}"
    if scheme == "query":
        return f"https://{host}/index.php?p={rng.randint(100, 5000)}&rub={segment.split('/')[-1]}"
    if scheme == "dated":
        return f"https://{host}/{year}/{rng.randint(1, 12):02d}/{slugify(title)}/"
    if scheme == "html":
        return f"https://{host}/{segment}/{slugify(title)}.html"
    return f"https://{host}/{segment}/{slugify(title)}"


def compose_text(block: dict, style: str, blocks: dict, rng: random.Random, memo: dict) -> str:
    """Opening, 0-4 details (maybe one from another category), a neutral line, a closing, styled."""
    neutral, slots = blocks["neutral"], blocks["slots"]
    n_details = {"terse": rng.randint(0, 1), "agenda": rng.randint(0, 2)}.get(style, rng.randint(1, 4))
    details = rng.sample(block["detail"], min(n_details, len(block["detail"])))
    if rng.random() < CROSS_PROBABILITY:
        others = [b for b in blocks["subtypes"].values() if b["category"] != block["category"]
                  and b.get("lang") == block.get("lang")]
        details.insert(rng.randint(0, len(details)), rng.choice(rng.choice(others)["detail"]))
    sentences = [rng.choice(block["open"]), *details]
    if rng.random() < 0.35:
        sentences.append(rng.choice(neutral))
    if rng.random() < 0.6:
        sentences.append(rng.choice(block["close"]))
    if style == "chatty":
        if rng.random() < 0.5:
            sentences.insert(0, rng.choice(CHATTY_OPENERS))
        sentences.append(rng.choice(CHATTY_ENDINGS))
    text = " ".join(fill_slots(s, slots, rng, memo) for s in sentences)
    if style == "agenda":
        text = f"{fill_slots('{day_cap} {hour}, {place}.', slots, rng)}\n{text}"
    if style == "bulletin" and rng.random() < 0.5:
        text = text.replace(". ", ".\n- ", 2)
    return text


def style_title(title: str, style: str, rng: random.Random) -> str:
    prefix = rng.choice(STYLE_PREFIXES[style])
    if style == "terse" and rng.random() < 0.3:
        title = title.upper()
    if style == "chatty" and rng.random() < 0.4:
        title += " !"
    return prefix + title


def build_items(blocks: dict, rng: random.Random) -> list[dict]:
    slots, subtypes = blocks["slots"], blocks["subtypes"]
    items: list[dict] = []
    for source_id, kind, host, style, scheme in SOURCES:
        declared, mix = KIND_MIX[kind]
        names, weights = zip(*mix.items())
        for n in range(rng.randint(10, 30)):
            subtype = rng.choices(names, weights)[0]
            block = subtypes[subtype]
            memo: dict[str, list[str]] = {}
            title = rng.choice(block["titles"])
            if rng.random() < GENERIC_TITLE_PROBABILITY and block.get("lang") != "en":
                title = rng.choice(GENERIC_TITLES)
            title = style_title(fill_slots(title, slots, rng, memo), style, rng)
            url = build_url(host, scheme, rng.choice(block["url"]), title, rng)
            items.append({
                "id": f"{source_id}-{n:03d}", "source_id": source_id, "declared_category": declared,
                "url": url, "title": title, "text": compose_text(block, style, blocks, rng, memo),
                "label": block["category"], "subtype": subtype,
            })
    return items


def main() -> None:
    blocks = yaml.safe_load((HERE / "seed-blocks.yaml").read_text(encoding="utf-8"))
    items = build_items(blocks, random.Random(20240611))
    with (HERE / "seed.jsonl").open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{len(items)} items from {len(SOURCES)} sources -> {HERE / 'seed.jsonl'}")


if __name__ == "__main__":
    main()
