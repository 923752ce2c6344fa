"""Items -> proposed outreach initiatives.

`propose_initiatives` keeps the stories (never a listing or an about page: pipeline.digest.pages)
that are outreach actions for a non-specialist public (`is_outreach_action`: the text names its
public near the start, or the detector of pipeline.outreach.model is sure) and reads from each one a
proposed Initiative: kind, audience, dates (pipeline.digest.events), place and
contact as published; the source's name is the default organiser. Proposals for editions of the
same initiative are then grouped by `merge_editions` (pipeline.outreach.merge), re-exported here.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Mapping, Sequence

from pipeline.digest.events import extract_event_dates
from pipeline.digest.pages import non_story_pages
from pipeline.digest.rank import (
    COURSE_CUES, DEFAULT_WEIGHTS, INSIDER_CUES, PUBLIC_AUDIENCE_CUES, PUBLIC_EVENT_CUES, REPEATED_CUES, code_share,
)
from pipeline.outreach.catalogue import Edition, Initiative
from pipeline.models import Item
from pipeline.normalize import clean_text, fold_for_matching
from pipeline.outreach.merge import merge_editions, series_key

if TYPE_CHECKING:  # the model brings scikit-learn (a second to import): the agenda reads places without it
    from pipeline.outreach.model import OutreachModel

__all__ = ["propose_initiatives", "read_initiative", "merge_editions", "detect_kind", "detect_audience",
           "find_place", "find_contact"]

logger = logging.getLogger(__name__)

# kind -> (folded cue, weight); cues are matched on folded words, title cues count triple
KIND_CUES: dict[str, tuple[str, ...]] = {
    "festival": ("fete de la science", "pint of science", "nuit des chercheurs", "nuit europeenne des chercheurs",
                 "village des sciences", "festival", "semaine du cerveau", "nuit des etoiles", "salon",
                 "rendez vous aux jardins", "made in science", "science en fete", "sciences en fete"),
    "concours": ("concours", "olympiades", "these en 180 secondes", "mt180", "finale", "challenge", "trophee",
                 "quiz", "castor"),
    "intervention_scolaire": ("college", "colleges", "lycee", "lycees", "ecole primaire", "ecoles", "classe",
                              "classes", "eleves", "collegiens", "collegiennes", "lyceens", "lyceennes",
                              "ecoliers", "dans les classes", "cordees de la reussite", "scolaires"),
    "exposition": ("exposition", "expo", "exposees", "vernissage", "panneaux", "collections"),
    "mediatisation": ("podcast", "episode", "video", "videos", "chaine", "emission", "radio", "magazine",
                      "serie", "documentaire", "article grand public"),
    "visite_laboratoire": ("portes ouvertes", "ouvre ses portes", "visite", "visites", "visites guidees",
                           "ouvre ses", "stage d observation", "accueille"),
    "atelier": ("atelier", "ateliers", "initiation", "manipulations", "experiences", "fresque", "sortie nature",
                "balade", "observation", "sciences participatives"),
    "conference_grand_public": ("conference", "conferences", "cafe des sciences", "bar des sciences",
                                "conference debat", "rencontre", "table ronde", "debat", "soiree", "soirees",
                                "theatre", "jeudis de la science"),
}
AUDIENCE_CUES: dict[str, tuple[str, ...]] = {
    "grand_public": ("grand public", "tout public", "tous publics", "ouvert a tous", "ouverte a tous",
                     "ouvertes a tous", "ouvert au public", "ouverte au public", "entree libre", "familles",
                     "enfants", "habitants", "petits et grands", "tous les ages", "gratuit", "citoyen"),
    "scolaires": ("eleves", "classes", "collegiens", "collegiennes", "lyceens", "lyceennes", "ecoliers", "college",
                  "lycee", "ecole", "ecoles", "scolaires", "cm1", "cm2", "seconde"),
    "etudiants": ("etudiants", "etudiantes", "licence", "master"),
    "personnels": ("personnels", "agents", "collegues"),
}
RECURRING = re.compile(r"\b(chaque (?:semaine|mois|annee|mercredi|jeudi|vendredi|samedi|lundi|mardi|dimanche)"
                       r"|tous les (?:mardis|mercredis|jeudis|vendredis|samedis|lundis|dimanches|mois|ans)"
                       r"|un (?:lundi|mardi|mercredi|jeudi|vendredi|samedi) par mois|comme chaque annee"
                       r"|nouvel episode chaque)\b")
PROJECT = re.compile(r"\b(en projet|projet de|appel aux benevoles|nous cherchons|en preparation|prochainement)\b")
VENUE_WORDS = (
    "amphithéâtre", "amphi", "salle", "bâtiment", "médiathèque", "muséum", "musée", "bibliothèque", "café",
    "bar", "théâtre", "cinéma", "librairie", "campus", "village des sciences", "maison", "mairie", "parc",
    "jardin", "observatoire", "station", "friche", "auditorium", "hall", "lycée", "collège", "école",
    "orangerie", "planétarium", "place", "stade", "terrasse", "salon",
)
VENUE = re.compile(  # a venue word after a preposition: "au bar Le Comptoir", "dans l'amphithéâtre Fermi"
    r"(?<![\w])(?:à|au|aux|dans|sur|devant|en)\s+(?:l['’]\s?|la\s+|le\s+|les\s+)?"
    r"((?:" + "|".join(sorted(VENUE_WORDS, key=len, reverse=True)) + r")\s+(?:[^\s.,;:()\n]|\.\d)"
    r"(?:[^.,;:()\n]|\.(?=\d)){1,60})",
    re.IGNORECASE,
)
PLACE_LABEL = re.compile(r"(?:^|\n)\s*(?:lieu|où|adresse)\s*:\s*([^\n]{3,100})", re.IGNORECASE)
PLACE_STOP = re.compile(  # lower-case only: "au bar Le Comptoir" keeps its name
    r"\s+(?:le|les|du|de \d|à \d|dès|pour|avec|et|sur|sans|afin|qui|ou|par|à partir)\s.*$|\s+\d{1,2}h.*$")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<!\d)(?:\+33\s?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\d)")
PUBLIC_LEAD_CHARS = 600  # how far into the text the public must be named
TEXT_CHARS = 4000
SURE_SCORE = 0.8  # the detector alone is trusted from this score
TECHNICAL_SHARE = DEFAULT_WEIGHTS.technical_share
YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")


@dataclass(frozen=True)
class _Dates:
    start: date | None
    end: date | None


def propose_initiatives(items: Sequence[Item], source_names: Mapping[str, str], model: OutreachModel,
                        *, today: date | None = None) -> list[Initiative]:
    """The outreach initiatives the items describe, editions of one initiative merged."""
    today = today or datetime.now(timezone.utc).date()
    no_story = non_story_pages(items)
    stories = [item for item in items if item.item_id not in no_story]
    from pipeline.outreach.model import score_items

    scores = score_items(model, stories)
    accepted = [item for item, score in zip(stories, scores) if is_outreach_action(item, score, model.threshold)]
    logger.info("outreach: %d of %d items describe an outreach action", len(accepted), len(items))
    proposals = [read_initiative(item, source_names.get(item.source_id, item.source_id), today) for item in accepted]
    return merge_editions(proposals)


def is_outreach_action(item: Item, score: float, threshold: float) -> bool:
    """An action for a non-specialist public: the detector's word, checked against what the text says.

    The story must say, near its start, that it is for the public (an open event, pupils, "grand
    public"...) unless the detector is very sure; course material (its title, or several course
    cues), technical write-ups and an association's internal life (its title) are never proposals."""
    title = fold_for_matching(item.title)
    lead = fold_for_matching(f"{item.title}\n{(item.text or item.summary)[:PUBLIC_LEAD_CHARS]}")
    folded = fold_for_matching(f"{item.title}\n{(item.text or item.summary)[:TEXT_CHARS]}")
    if INSIDER_CUES.search(title) or COURSE_CUES.search(title) or code_share(item.text) >= TECHNICAL_SHARE:
        return False
    if len({m.group(0) for m in COURSE_CUES.finditer(folded)}) >= REPEATED_CUES:
        return False
    public = bool(PUBLIC_AUDIENCE_CUES.search(lead) or PUBLIC_EVENT_CUES.search(lead))
    return public or score >= max(threshold, SURE_SCORE)


def read_initiative(item: Item, organiser: str, today: date) -> Initiative:
    """One proposed initiative read from one item."""
    title = clean_text(item.title).replace("\n", " ")
    text = clean_text(item.text or item.summary)
    folded_title, folded_text = fold_for_matching(title), fold_for_matching(text)
    reference = item.published_at or datetime.combine(today, datetime.min.time(), timezone.utc)
    dates = _find_dates(f"{title}\n{text}", reference)
    place = find_place(text)
    year = dates.start.year if dates.start else _year_in(title) or reference.year
    edition = Edition(year, dates.start, dates.end, place)
    return Initiative(
        initiative_id=proposal_id(organiser, title),
        title=title,
        kind=detect_kind(folded_title, folded_text),  # type: ignore[arg-type]
        organisers=(organiser,),
        audience=detect_audience(f"{folded_title} {folded_text}"),  # type: ignore[arg-type]
        status=_status(edition, f"{folded_title} {folded_text}", today),
        editions=(edition,),
        place=place,
        contact=find_contact(text),
        evidence=(item.url,),
        origin="detected",
        validated=False,
        description=_description(item, text),
    )


def proposal_id(organiser: str, title: str) -> str:
    """Stable id: the same organiser's editions of one series get the same id, night after night."""
    key = fold_for_matching(organiser) + "|" + " ".join(series_key(title))
    return "d-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def detect_kind(folded_title: str, folded_text: str) -> str:
    """The kind whose cues weigh most (title cues count triple); "autre" when none is found."""
    best, best_score = "autre", 0
    for kind, cues in KIND_CUES.items():  # dict order is the tie-break priority
        score = sum(3 * _count(cue, folded_title) + _count(cue, folded_text) for cue in cues)
        if score > best_score:
            best, best_score = kind, score
    return best


def detect_audience(folded: str) -> tuple[str, ...]:
    found = tuple(a for a, cues in AUDIENCE_CUES.items() if any(_count(c, folded) for c in cues))
    return found or ("grand_public",)


def _count(cue: str, folded: str) -> int:
    return len(re.findall(rf"\b{re.escape(cue)}\b", folded))


def find_place(text: str) -> str:
    """The place as written ("Lieu : ..." first, else the first venue phrase), or ""."""
    labelled = PLACE_LABEL.search(text)
    if labelled:
        return labelled.group(1).strip()
    for match in VENUE.finditer(text):
        place = PLACE_STOP.sub("", match.group(1)).strip(" -–")
        if len(place.split()) >= 2:
            return place[:1].upper() + place[1:]
    return ""


def find_contact(text: str) -> str:
    """E-mail addresses and phone numbers as published, comma-separated."""
    found = [m.group(0).rstrip(".") for m in EMAIL.finditer(text)] + [m.group(0) for m in PHONE.finditer(text)]
    return ", ".join(dict.fromkeys(found))


def _find_dates(text: str, reference: datetime) -> _Dates:
    events = extract_event_dates(text, reference)
    if not events:
        return _Dates(None, None)
    start = min(e.start_day for e in events)
    end = max((e.end_day or e.start_day) for e in events)
    if (end - start).days > 366:  # a text that mentions several unrelated dates: keep the first
        first = min(events, key=lambda e: e.start)
        return _Dates(first.start_day, first.end_day or first.start_day)
    return _Dates(start, end)


def _year_in(title: str) -> int | None:
    match = YEAR.search(title)
    return int(match.group(1)) if match else None


def _status(edition: Edition, folded: str, today: date) -> str:
    if RECURRING.search(folded):
        return "recurrente"
    if PROJECT.search(folded) and not edition.start:
        return "en_projet"
    last = edition.end or edition.start
    if last is not None:
        return "realisee" if last < today else "programmee"
    return "realisee" if edition.year < today.year else "programmee"


def _description(item: Item, text: str) -> str:
    base = clean_text(item.summary) or text
    if len(base) <= 400:
        return base
    cut = base[:400].rsplit(" ", 1)[0]
    return cut + " …"
