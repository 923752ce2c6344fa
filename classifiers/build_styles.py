"""Build the style set (classifiers/styles.jsonl) from classifiers/style-blocks.yaml.

Run: `.venv/bin/python classifiers/build_styles.py` (deterministic: same blocks, same file).

The seed (build_seed.py) is made of short announcement-like items. Real sites also publish long
pages in other styles: club write-ups, robot competition reports, student papers, alumni
portraits, syllabi, weekly work plans, tool tutorials, lecture notes, seminar abstracts, lab blog
posts in English, newsletters, offers. Each fictional source here has a declared category, a
voice and a URL scheme; most of its items are of its own category and a few are not (a lab posting
a course, a club relaying a seminar), as on real sites. Slots come from style-blocks.yaml, then
from seed-blocks.yaml. The held-out set is NOT built here.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import yaml

from build_seed import build_url, fill_slots

HERE = Path(__file__).resolve().parent

STUDENT_MIX = {"student/ctf_writeup": 1, "student/robot_report": 1, "student/student_paper": 1,
               "student/asso_event": 1, "student/club_training": 1, "student/alumni": 1, "student/en_club": 0.3,
               "student/en_ctf_writeup": 0.3, "student/project_team": 1, "student/newspaper_culture": 0.5}
TEACHING_MIX = {"teaching/syllabus": 1, "teaching/exam_notice": 1, "teaching/tutorial": 1, "teaching/lecture": 1,
                "teaching/class_week": 1, "teaching/internship": 1, "teaching/en_course": 0.3,
                "teaching/pedagogical_article": 0.6, "teaching/en_tutorial": 0.3}
RESEARCH_MIX = {"research/seminar_abstract": 1, "research/en_seminar": 0.7, "research/en_blog": 1.3,
                "research/network_event": 1, "research/newsletter": 0.6, "research/position": 0.8,
                "research/en_news": 0.7, "research/fr_lab_news": 1, "research/outreach_event": 1}

# kind -> (declared category, {style: weight}); off-category styles are the rarer entries
KINDS: dict[str, tuple[str, dict[str, float]]] = {
    "ctf_team": ("student", {"student/ctf_writeup": 6, "student/en_ctf_writeup": 3, "student/asso_event": 2,
                             "student/club_training": 2, "research/seminar_abstract": 0.4}),
    "robot_club": ("student", {"student/robot_report": 7, "student/project_team": 2, "student/asso_event": 2,
                               "student/en_club": 0.5, "teaching/internship": 0.3}),
    "student_paper": ("student", {"student/student_paper": 7, "student/newspaper_culture": 3,
                                  "student/asso_event": 1, "teaching/exam_notice": 0.4,
                                  "research/network_event": 0.3}),
    "algo_club": ("student", {"student/club_training": 6, "student/asso_event": 2, "student/ctf_writeup": 1.5}),
    "alumni": ("student", {"student/alumni": 6, "student/asso_event": 3, "research/newsletter": 0.3}),
    "course_blog": ("teaching", {"teaching/tutorial": 7, "teaching/en_tutorial": 1, "teaching/exam_notice": 1,
                                 "teaching/lecture": 1, "student/asso_event": 0.2}),
    "lecture_site": ("teaching", {"teaching/lecture": 6, "teaching/syllabus": 2, "teaching/en_course": 1}),
    "class_site": ("teaching", {"teaching/class_week": 6, "teaching/pedagogical_article": 2.5,
                                "teaching/exam_notice": 2, "teaching/lecture": 1.5, "teaching/tutorial": 0.5}),
    "programme": ("teaching", {"teaching/syllabus": 3, "teaching/internship": 3, "teaching/exam_notice": 2,
                               "student/asso_event": 0.4, "research/seminar_abstract": 0.3}),
    "lab_blog_en": ("research", {"research/en_blog": 7, "research/en_news": 2.5, "research/en_seminar": 1.5,
                                 "research/position": 1, "teaching/en_course": 0.3}),
    "research_network": ("research", {"research/network_event": 5, "research/seminar_abstract": 3,
                                      "research/position": 0.8, "teaching/syllabus": 0.3}),
    "lab_fr": ("research", {"research/seminar_abstract": 3, "research/fr_lab_news": 3,
                            "research/outreach_event": 1.2, "research/newsletter": 2, "research/position": 2,
                            "research/network_event": 1, "research/en_seminar": 1, "teaching/lecture": 0.3,
                            "student/asso_event": 0.2}),
    "faculty_news": ("mixed", {**STUDENT_MIX, **TEACHING_MIX, **RESEARCH_MIX}),
}

# (source_id, kind, host, url scheme)
SOURCES: list[tuple[str, str, str, str]] = [
    ("sty-ctf-rennes", "ctf_team", "ctf.asso-etudiante.fr", "dated"),
    ("sty-ctf-nord", "ctf_team", "hackers-du-nord.github.io", "slug"),
    ("sty-ctf-sud", "ctf_team", "sudsec.club-exemple.org", "html"),
    ("sty-robot-lyon", "robot_club", "robot-club.ecole-exemple.fr", "slug"),
    ("sty-robot-est", "robot_club", "robotik-est.asso-exemple.fr", "dated"),
    ("sty-robot-iut", "robot_club", "club-robot-iut.github.io", "html"),
    ("sty-journal-fac", "student_paper", "le-canard-des-sciences.fr", "slug"),
    ("sty-journal-campus", "student_paper", "campus-libre.journal-exemple.fr", "dated"),
    ("sty-journal-ecole", "student_paper", "gazette-ecole.asso-exemple.org", "node"),
    ("sty-algo-ouest", "algo_club", "algo-ouest.github.io", "dated"),
    ("sty-algo-info", "algo_club", "club-prog.asso-exemple.fr", "slug"),
    ("sty-algo-prepa", "algo_club", "codeurs-du-campus.fr", "query"),
    ("sty-alumni-info", "alumni", "anciens-info.univ-exemple.be", "slug"),
    ("sty-alumni-chimie", "alumni", "alumni-chimie.asso-exemple.fr", "dated"),
    ("sty-alumni-phys", "alumni", "reseau-anciens-physique.fr", "html"),
    ("sty-course-c", "course_blog", "cours-systemes.github.io", "slug"),
    ("sty-course-web", "course_blog", "tp-web.univ-exemple.fr", "html"),
    ("sty-course-num", "course_blog", "calcul-numerique.univ-nord-exemple.fr", "dated"),
    ("sty-lectures-outils", "lecture_site", "outils-info.univ-exemple.fr", "dated"),
    ("sty-lectures-maths", "lecture_site", "analyse-l1.univ-sud-exemple.fr", "slug"),
    ("sty-lectures-bio", "lecture_site", "genetique-l2.univ-exemple.fr", "html"),
    ("sty-class-pcsi", "class_site", "pcsi-lycee-exemple.github.io", "slug"),
    ("sty-class-mpsi", "class_site", "mpsi2.lycee-exemple.fr", "dated"),
    ("sty-class-bts", "class_site", "bts-chimie.lycee-exemple.fr", "query"),
    ("sty-prog-master-info", "programme", "master-info.univ-ouest-exemple.fr", "slug"),
    ("sty-prog-licence-bio", "programme", "licence-bio.univ-est-exemple.fr", "node"),
    ("sty-prog-but", "programme", "but-info.iut-exemple.fr", "html"),
    ("sty-blog-ml-en", "lab_blog_en", "learning-lab.inria-exemple.fr", "slug"),
    ("sty-blog-eco-en", "lab_blog_en", "ecology-group.univ-exemple.eu", "dated"),
    ("sty-blog-phys-en", "lab_blog_en", "softmatter.cnrs-exemple.fr", "html"),
    ("sty-blog-geo-en", "lab_blog_en", "oceans.univ-ouest-exemple.eu", "slug"),
    ("sty-net-simul", "research_network", "reseau-simulation.github.io", "dated"),
    ("sty-net-gdr", "research_network", "gdr-exemple.cnrs.fr", "slug"),
    ("sty-net-climat", "research_network", "reseau-climat.univ-exemple.fr", "html"),
    ("sty-lab-chimie", "lab_fr", "lcp.univ-est-exemple.fr", "slug"),
    ("sty-lab-info", "lab_fr", "lirx.univ-nord-exemple.fr", "node"),
    ("sty-lab-bio", "lab_fr", "ibmc.univ-sud-exemple.fr", "dated"),
    ("sty-ctf-en", "ctf_team", "ctf-team.student-exemple.eu", "dated"),
    ("sty-journal-sciences", "student_paper", "journal-sciences.asso-exemple.fr", "html"),
    ("sty-projet-solaire", "robot_club", "solar-team.asso-exemple.fr", "slug"),
    ("sty-class-terminale", "class_site", "maths-lycee-exemple.github.io", "html"),
    ("sty-blog-neuro-en", "lab_blog_en", "neurolab.univ-exemple.eu", "slug"),
    ("sty-lab-geo", "lab_fr", "geosciences.univ-exemple.fr", "html"),
    ("sty-fac-portal", "faculty_news", "www.fac-sciences-exemple.fr", "slug"),
    ("sty-univ-portal", "faculty_news", "actu.univ-ouest-exemple.fr", "dated"),
    ("sty-fac-news", "faculty_news", "news.sciences.univ-est-exemple.fr", "node"),
]

ITEMS_PER_SOURCE = (16, 28)
CROSS_PROBABILITY = 0.15  # one sentence from another category's style, as in real pages


def compose(style: dict, styles: dict, slots: dict, rng: random.Random, memo: dict) -> str:
    """An opening, 2-6 body sentences, maybe one foreign sentence, maybe a closing."""
    body = rng.sample(style["body"], min(rng.randint(2, 6), len(style["body"])))
    if rng.random() < CROSS_PROBABILITY:
        others = [s for s in styles.values()
                  if s["category"] != style["category"] and s.get("lang") == style.get("lang")]
        body.insert(rng.randint(0, len(body)), rng.choice(rng.choice(others)["body"]))
    sentences = [rng.choice(style["open"]), *body]
    if rng.random() < 0.7:
        sentences.append(rng.choice(style["close"]))
    paragraphs = []
    while sentences:
        size = rng.randint(1, 3)
        paragraphs.append(" ".join(fill_slots(s, slots, rng, memo) for s in sentences[:size]))
        sentences = sentences[size:]
    return "\n\n".join(paragraphs)


def build_items(styles: dict, slots: dict, rng: random.Random) -> list[dict]:
    items = []
    for source_id, kind, host, scheme in SOURCES:
        declared, mix = KINDS[kind]
        names, weights = zip(*mix.items())
        for n in range(rng.randint(*ITEMS_PER_SOURCE)):
            name = rng.choices(names, weights)[0]
            style, memo = styles[name], {}
            title = fill_slots(rng.choice(style["titles"]), slots, rng, memo)
            items.append({
                "id": f"{source_id}-{n:03d}", "source_id": source_id, "declared_category": declared,
                "url": build_url(host, scheme, rng.choice(style["url"]), title, rng), "title": title,
                "text": compose(style, styles, slots, rng, memo), "label": style["category"], "subtype": name,
            })
    return items


def main() -> None:
    blocks = yaml.safe_load((HERE / "style-blocks.yaml").read_text(encoding="utf-8"))
    seed_slots = yaml.safe_load((HERE / "seed-blocks.yaml").read_text(encoding="utf-8"))["slots"]
    items = build_items(blocks["styles"], {**seed_slots, **blocks["slots"]}, random.Random(20261207))
    with (HERE / "styles.jsonl").open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{len(items)} items from {len(SOURCES)} sources -> {HERE / 'styles.jsonl'}")


if __name__ == "__main__":
    main()
