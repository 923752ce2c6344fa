"""Mediation-worthiness: how much a story deserves a public write-up, with its reasons in French.

The score estimates the grade (0-3) the officer would give (classifiers/worthiness/GUIDE.md): a plain
sum of explainable signals, each with a weight from `WorthinessWeights` (one place to read them; the
weights are learned from graded examples by pipeline.digest.learn, these defaults are its prior).
Cues are looked for in the title, summary and the start of the text, folded to lower-case words
without accents (see normalize.fold_for_matching).

    score = base + per_extra_source * min(sources - 1, max_extra_sources)
          + confidence * category confidence + substance * (0..1, how developed the text is)
          + freshness * (1 when fresh, decaying linearly to 0)
          + result + major_journal + prize + public_event + public_audience + competition
          + upcoming_event + thesis_defence + student_initiative + contact + image   (each 0 or its weight)
          + specialist + insider + course_material + call_for_papers + humour
          + open_access_release                           (a HAL deposit in open access, with a news item)
          + job_posting + administrative                  (penalties, negative weights)
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.digest.events import extract_event_dates, running_between
from pipeline.models import Candidate, Item
from pipeline.normalize import fold_for_matching

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorthinessWeights:
    """Every weight of the score, in grade points. Positive signals add, routine notices subtract."""

    base: float = 0.9  # what an ordinary story is worth
    per_extra_source: float = 0.4  # each source beyond the first that carried the story...
    max_extra_sources: int = 3  # ...counted up to this many
    confidence: float = 0.2  # times the classifier's confidence in the category
    substance: float = 0.8  # a developed text (full from `substance_words` words, 0 below `thin_words`)
    thin_words: int = 80
    substance_words: int = 800
    freshness: float = 0.2  # full when published within fresh_days, 0 after stale_days
    fresh_days: float = 3.0
    stale_days: float = 21.0
    result: float = 1.0  # a result, a discovery, a publication
    major_journal: float = 0.5  # published in a journal the public has heard of (text, or the HAL deposit)
    open_access_release: float = 0.5  # the story has an open-access HAL deposit and a news item announcing it
    prize: float = 1.4  # prize, award, medal, ERC grant, IUF
    public_event: float = 1.2  # event open to the public (Fête de la science, exposition...)
    public_audience: float = 0.5  # written for the public or pupils (grand public, élèves, vulgarisation)
    competition: float = 0.8  # a placing in a competition (finale, podium, remporte...)
    upcoming_event: float = 0.2  # a date within the next `upcoming_days` (not for routine notices)
    upcoming_days: int = 42
    thesis_defence: float = 0.4  # soutenance de thèse / HDR
    student_initiative: float = 0.5  # association, student project, competition
    contact: float = 0.1  # an e-mail address or a phone number to reach someone
    image: float = 0.05  # the item has an image
    specialist: float = -0.4  # seminar, webinar, abstract: for specialists
    insider: float = -0.8  # members only: general assembly, afterwork, dinner, board, sponsor
    course_material: float = -0.9  # lecture notes, exercises, course logistics, tutorials
    technical: float = -0.8  # a text full of code or commands: a technical write-up for specialists
    technical_share: float = 0.15  # share of code-like lines from which a text is technical
    call_for_papers: float = -0.6  # call for papers, submission deadlines
    humour: float = -0.8  # humour column, joke, meme
    job_posting: float = -2.0  # offre de poste, recrutement, CDD...
    administrative: float = -2.0  # fermeture, maintenance, calendrier administratif, élections
    text_chars: int = 4000  # how much of the text is searched for cues
    lead_chars: int = 300  # what the story is about: prize, result and job cues count only in title + lead


# Signals whose weight is learned from graded examples (pipeline.digest.learn), in a fixed order.
LEARNED_SIGNALS = (
    "coverage", "confidence", "substance", "result", "major_journal", "prize", "public_event", "public_audience",
    "competition", "thesis_defence", "student_initiative", "contact", "image", "specialist", "insider",
    "course_material", "technical", "call_for_papers", "humour", "job_posting", "administrative",
)


DEFAULT_WEIGHTS = WorthinessWeights()


@dataclass(frozen=True)
class Worthiness:
    """The score, its reasons (short French phrases, strongest first) and each signal's points."""

    score: float
    reasons: tuple[str, ...]
    contributions: tuple[tuple[str, float], ...] = ()


def _cues(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b")


# Patterns over folded text: lower case, no accents, punctuation replaced by spaces.
RESULT_CUES = _cues(
    r"decouvertes?", r"ont decouvert", r"decouvrent", r"mis(?:e|es)? en evidence", r"resultats? (?:publie|obtenu|parus?)\w*",
    r"publie\w* dans", r"parai\w* dans", r"vient de publier", r"premiere mondiale",
    r"pour la premiere fois", r"avancee\w*", r"percee\w*", r"nouvelle (?:espece|molecule|methode|particule)",
    r"observ\w+ pour la premiere fois", r"etude publiee", r"article publie",
    r"(?:presente|presentons) (?:notre|nos|un|une) (?:\w+ )?(?:article|travaux|resultats?|etude)",
    # English: a lab blog post presenting its own paper or findings
    r"(?:presents?|describes?|summari[sz]es?) (?:our|a) (?:recent |new |latest )?(?:\w+ )?(?:paper|study|article|work|findings|results)",
    r"our (?:recent|new|latest) (?:\w+ )?(?:paper|study|article)", r"we (?:show|showed|found|find|discovered|demonstrate\w*)",
    r"(?:paper|study|article) (?:published|accepted) (?:in|at)", r"published in", r"new study",
)
PRIZE_CUES = _cues(
    # a price is no prize: "le prix est fixé à 15 €", "prix de participation", "inclus dans le prix du repas"
    r"(?<!dans le )(?<!le meme )prix(?! (?:d entree|libre|reduits?|de vente|du billet|coutant|unitaire|public|d achat"
    r"|de (?:la )?participation|de l inscription|est|sont|par|fixe|du (?:souper|repas|diner|billet|voyage)|\d))",
    r"laureat\w*", r"medaille\w*", r"erc", r"starting grant", r"consolidator grant", r"advanced grant",
    r"recompens\w+", r"distinctions?", r"institut universitaire de france",
    r"membre (?:junior |senior )?de l iuf", r"academie des sciences", r"prime[s]? d excellence",
    r"honoris causa", r"prizes?", r"awards?", r"awarded",
)
PUBLIC_EVENT_CUES = _cues(
    r"conferences? grand public", r"grand public", r"fete de la science", r"portes? ouvertes?",
    r"expositions?(?! a | aux | au )", r"pint of science", r"ateliers? scolaires?", r"nuit europeenne des chercheurs",
    r"nuit des chercheurs", r"bar des sciences", r"cafe\w* des sciences", r"village des sciences",
    r"entree libre", r"ouvert\w* a tous(?! les (?:membres|personnels|agents|doctorants|chercheurs|etudiants|[lm][1-3]\b))",
    r"tout public", r"visites? guidees?", r"ma these en 180 secondes",
    r"semaine du cerveau", r"science ouverte au public",
)
THESIS_CUES = _cues(  # a master's or internship defence is course logistics, not a thesis
    r"soutenances? de (?:sa |la |leur )?(?:these|doctorat|hdr)", r"soutenances? d habilitation",
    r"soutiendra (?:sa these|son hdr|son habilitation)", r"these soutenue", r"phd defen[cs]e", r"thesis defen[cs]e",
)
GENERAL_AUDIENCE_CUES = _cues(
    r"grand public", r"tout public", r"tous publics", r"vulgaris\w+", r"mediation scientifique",
    # addressed to them ("aux", "pour les"): "les enfants de 3 à 12 ans" may be a company's customers
    r"(?:aux|des|pour les|avec les) (?:enfants|familles|habitants)",
    r"ouverte? a tou(?:te)?s(?: et a tous)?(?! les (?:membres|personnels|agents|doctorants|chercheurs|etudiants|[lm][1-3]\b))",
    r"ouverte? au public", r"accessible a tous", r"sans connaissances? prealables?", r"general audience",
    r"open to (?:all|everyone|the public)", r"for (?:kids|children|the general public)", r"cine debat",
    r"conference debat", r"soiree debat", r"table ronde",
    # open to newcomers: "pour tous ceux qui...", "débutants bienvenus", "quel que soit votre niveau"
    r"pour tous ceux (?:et celles )?qui", r"debutants? (?:bienvenus?|acceptes?)", r"quel que soit (?:votre|ton) niveau",
    r"que (?:vous soyez|tu sois) (?:un |une )?(?:grande? )?debutante?", r"aucune? (?:connaissance|prerequis)s? (?:prealable|requis|requise|necessaire)s?",
)
# Pupils are a public for a lab or a club, but on a course page they are the class itself.
PUPIL_AUDIENCE_CUES = _cues(
    r"(?:aux|des|pour les|avec les) (?:eleves|collegiens|lyceens|ecoliers|scolaires)",
    r"(?:eleves|etudiants|jeunes) du secondaire", r"(?:secondary|high) school (?:students|pupils)",
)
PUBLIC_AUDIENCE_CUES = re.compile(f"{GENERAL_AUDIENCE_CUES.pattern}|{PUPIL_AUDIENCE_CUES.pattern}")
COMPETITION_CUES = _cues(
    r"(?:1(?:er|re|ere)|premiere?|deuxieme|troisieme|2e|3e|second) place", r"podium", r"remport\w+",
    r"vainqueurs?", r"gagn(?:e|ent|ants?|ons) (?:le|la|les|du|de|un|une)", r"qualifi\w+ pour la finale",
    r"en finale", r"finalistes?", r"demi finales?", r"quarts? de finale", r"classe\w* (?:\d+|premier|premiere|deuxieme|troisieme)\w*", r"won the",
    r"first place", r"second place", r"third place", r"winners?", r"(?:nous|ils|elles) (?:avons|ont) termine",
)
SPECIALIST_CUES = _cues(
    r"(?<!rue du )(?<!place du )(?<!grand )seminaires?",  # not the "rue du Séminaire" of an address
    r"webinaires?", r"webinar", r"seminar", r"abstract", r"keynote", r"speaker",
    r"orat(?:eur|rice)", r"expose", r"workshop", r"colloque", r"proceedings", r"preprint", r"arxiv",
    r"groupe de travail", r"reading group", r"journal club",
)
INSIDER_CUES = _cues(
    r"assemblee generale", r"\bag\b", r"afterwork", r"after work", r"barbecue", r"souper", r"diner",
    r"gala", r"apero\w*", r"cotisations?", r"adherents?", r"adhesion", r"bureau (?:du|de l)",
    r"nouveau bureau", r"sponsors?", r"partenariats?", r"discord", r"membres? (?:de l association|du club)",
    r"chers? (?:membres|anciens)", r"cheres? (?:et chers )?(?:membres|anciennes?)", r"rentree",
)
COURSE_CUES = _cues(
    r"cours (?:de|d|du) \w+", r"travaux diriges", r"travaux pratiques", r"\btd\b", r"\btp\b", r"exercices?",
    r"corrig\w+", r"chapitres?", r"devoirs?", r"colles?", r"polycopie", r"programme de (?:la semaine|colle)",
    r"tutori\w+", r"tutorial", r"emploi du temps", r"salle de cours", r"sujets? de projets?",
    r"soutenances? (?:de|des) (?:stage|projet|memoire|master)\w*", r"examens?", r"partiels?", r"lecture notes",
    r"installer", r"ligne de commande", r"commande \w+", r"compiler", r"makefile", r"fonctions? \w+ en",
)
CFP_CUES = _cues(
    r"call for (?:papers|abstracts|contributions|participation)", r"appels? a (?:communications?|contributions?"
    r"|soumissions?|projets?|candidatures?)", r"date limite de soumission", r"submission deadline", r"deadline",
    r"soumettre (?:un|une|vos) (?:resume|article|abstract)",
)
# not "meme": folded, it is the French "même"
HUMOUR_CUES = _cues(r"humour", r"blagues?", r"poisson d avril", r"billet d humeur", r"rubrique detente")
STUDENT_CUES = _cues(
    r"associations? etudiantes?", r"bde", r"bureau des etudiants", r"projets? etudiants?",
    r"initiatives? etudiantes?", r"etudiant\w* (?:organis\w+|lanc\w+|cre\w+)", r"hackathon\w*",
    r"junior entreprise", r"club\w* (?:etudiant|d astronomie|de robotique|de sciences)", r"concours etudiant\w*",
    r"equipe etudiante", r"igem", r"cordee\w* de la reussite",
    # a team taking part in a competition: "a participé à l'édition 2022 de la coupe de France"
    r"(?:participe\w*|participation|participer)(?: \w+){0,6} (?:coupe|competitions?|concours|championnat|hackathon|olympiades?)",
    r"(?:robotics|programming|coding) (?:competitions?|contests?|challenges?)",
)
JOB_CUES = _cues(
    r"offres? de (?:poste|postes|emploi|these|stage|post ?doc\w*)",
    # a recruitment fair for students is an event, and its "recruteurs" no job posting
    r"(?<!forum de )(?<!salon de )(?<!journee de )(?<!forum du )recrut(?:e|es|ent|ons|ez|ement|ements)",
    r"fiche de poste", r"poste\w* (?:a pourvoir|d ingenieur|de maitre de conferences|ater)",
    r"cdd", r"campagne d emploi", r"candidatures? (?:avant|jusqu)", r"post ?doctoral position",
    r"job offer", r"we are hiring", r"phd position",
)
ADMIN_CUES = _cues(
    r"fermetures?", r"maintenance", r"calendrier administratif", r"scrutin", r"vote electronique",
    r"elections? (?:des representants|des membres|au conseil|aux conseils|du conseil|professionnelles|etudiantes)",
    r"coupures? (?:de courant|d eau|reseau|electrique)", r"en travaux", r"travaux de (?:renovation|voirie|desamiantage)",
    r"intervention technique",
    r"inscriptions? administratives?", r"conseil d administration", r"conseil de laboratoire",
    r"note de service", r"interruption de service", r"indisponib\w+", r"proces verbal",
)
# Journals searched in the raw text, case-sensitive, so "la nature" or "les sciences" do not count.
MAJOR_JOURNALS = re.compile(
    r"\b(Nature(?: [A-Z][a-z]+){0,2}|Science(?: Advances)?(?= \(| du | le | la |[,.;)]|$)|Cell|PNAS"
    r"|Proceedings of the National Academy of Sciences|Physical Review Letters|The Lancet|Lancet"
    r"|New England Journal of Medicine|JACS|Journal of the American Chemical Society|Angewandte Chemie"
    r"|Astrophysical Journal|Astronomy (?:&|and) Astrophysics|Geophysical Research Letters"
    r"|Nano Letters|eLife|PLOS Biology)\b"
)
_JOURNAL_CONTEXT = re.compile(r"(?:revue|journal|dans|in)\s+(?:la revue\s+|le journal\s+)?$", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<!\d)(?:\+33\s?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\d)")

# (signal, weight field, pattern, French reason)
CUE_SIGNALS: tuple[tuple[str, str, re.Pattern[str], str], ...] = (
    ("prize", "prize", PRIZE_CUES, "prix ou distinction"),
    ("result", "result", RESULT_CUES, "résultat ou découverte"),
    ("public_event", "public_event", PUBLIC_EVENT_CUES, "événement ouvert au public"),
    ("public_audience", "public_audience", PUBLIC_AUDIENCE_CUES, "pour un large public"),
    ("competition", "competition", COMPETITION_CUES, "classement dans une compétition"),
    ("student_initiative", "student_initiative", STUDENT_CUES, "initiative étudiante"),
    ("thesis_defence", "thesis_defence", THESIS_CUES, "soutenance de thèse"),
    ("specialist", "specialist", SPECIALIST_CUES, "pour spécialistes"),
    ("insider", "insider", INSIDER_CUES, "vie interne d'un groupe"),
    ("course_material", "course_material", COURSE_CUES, "support ou organisation de cours"),
    ("call_for_papers", "call_for_papers", CFP_CUES, "appel à contributions"),
    ("humour", "humour", HUMOUR_CUES, "billet d'humour"),
    ("job_posting", "job_posting", JOB_CUES, "annonce de recrutement (routine)"),
    ("administrative", "administrative", ADMIN_CUES, "information administrative (routine)"),
)
# Equal points: what the story is about comes before how widely it was carried.
REASON_ORDER = (
    "prize", "result", "major_journal", "open_access_release", "public_event", "competition", "public_audience", "student_initiative",
    "thesis_defence", "job_posting", "administrative", "course_material", "technical", "insider", "humour", "call_for_papers",
    "specialist", "substance", "coverage", "upcoming_event", "contact", "image", "freshness",
)
ROUTINE_SIGNALS = frozenset({"job_posting", "administrative"})
# A speaker "récent lauréat de la médaille de bronze" does not make a public talk a prize story.
# Nor does "ce financement va nous permettre de recruter" make an ERC grant a job posting.
REPEATED_SIGNALS = frozenset({"course_material"})
REPEATED_CUES = 3
LEAD_SIGNALS = frozenset({
    "prize", "result", "job_posting", "administrative", "competition", "insider", "course_material", "specialist", "public_audience",
})


def score_candidate(c: Candidate, now: datetime, weights: WorthinessWeights = DEFAULT_WEIGHTS) -> Worthiness:
    """The full score of a candidate at time `now`: static signals plus freshness and upcoming dates."""
    return score_at(timeless_score(c, weights), c.item.published_at, now, weights)


@dataclass(frozen=True)
class TimelessScore:
    """All of a candidate's score that does not depend on the time: the signals that fired, whether
    the story is routine, and the (start, end) instants of the event dates its text gives. The
    nightly run keeps it while the candidate is unchanged; `score_at` adds freshness and coming
    events for any `now`."""

    parts: tuple[tuple[str, float, str | None], ...]
    routine: bool
    events: tuple[tuple[datetime, datetime], ...]


def timeless_score(c: Candidate, weights: WorthinessWeights = DEFAULT_WEIGHTS) -> TimelessScore:
    parts = list(score_parts_static(c.item, c.cluster_sources, c.confidence, weights))
    parts.extend(publication_parts(c, weights, already=any(name == "major_journal" for name, _, _ in parts)))
    routine = any(name in ROUTINE_SIGNALS for name, _, _ in parts)
    if routine:  # the dates of a closure or an application deadline are not events
        return TimelessScore(tuple(parts), True, ())
    reference = c.item.published_at or c.first_seen_at
    dates = extract_event_dates(_cue_text(c.item, weights.text_chars), reference)
    return TimelessScore(tuple(parts), False, tuple((d.start, d.over_at) for d in dates))


def score_at(timeless: TimelessScore, published_at: datetime | None, now: datetime,
             weights: WorthinessWeights = DEFAULT_WEIGHTS) -> Worthiness:
    """The score at `now`: the timeless signals, freshness and an event in the coming days."""
    return _combine([*timeless.parts, *_time_parts(timeless, published_at, now, weights)])


def score_item_static(
    item: Item, cluster_sources: tuple[str, ...], confidence: float, weights: WorthinessWeights = DEFAULT_WEIGHTS
) -> Worthiness:
    """The part of the score that does not depend on the current time (can be stored once)."""
    return _combine(score_parts_static(item, cluster_sources, confidence, weights))


def score_parts_static(
    item: Item, cluster_sources: tuple[str, ...], confidence: float, weights: WorthinessWeights
) -> list[tuple[str, float, str | None]]:
    """(signal, points, French reason or None) for every static signal that fired."""
    parts: list[tuple[str, float, str | None]] = [("base", weights.base, None)]
    extra = min(max(len(set(cluster_sources)) - 1, 0), weights.max_extra_sources)
    if extra:
        parts.append(("coverage", extra * weights.per_extra_source, f"relayé par {len(set(cluster_sources))} sources"))
    parts.append(("confidence", weights.confidence * max(0.0, min(confidence, 1.0)), None))
    developed = substance(item, weights)
    if developed:
        parts.append(("substance", weights.substance * developed, "texte développé" if developed >= 0.5 else None))
    raw = _cue_text(item, weights.text_chars)
    folded = fold_for_matching(raw)
    lead = fold_for_matching(_lead_text(item, weights.lead_chars))
    fired = {signal for signal, _, pattern, _ in CUE_SIGNALS if _fires(signal, pattern, lead, folded)}
    if "course_material" in fired and not GENERAL_AUDIENCE_CUES.search(lead):
        fired.discard("public_audience")  # the pupils of a course page are its class
    for signal, field_name, _, reason in CUE_SIGNALS:
        if signal in fired:
            parts.append((signal, getattr(weights, field_name), reason))
    if code_share(item.text) >= weights.technical_share:
        parts.append(("technical", weights.technical, "contenu technique (code, commandes)"))
    journal = find_major_journal(raw)
    if journal:
        parts.append(("major_journal", weights.major_journal, f"publication dans {journal}"))
    if EMAIL.search(raw) or PHONE.search(raw):
        parts.append(("contact", weights.contact, "contact indiqué"))
    if item.image_url:
        parts.append(("image", weights.image, "image disponible"))
    return _strongest_soft_penalty(parts)


# Cues that lower a story (for specialists, insiders, course material...) say one thing: it is marginal.
# Only the strongest counts, so two of them do not push a grade-1 story below a routine notice.
SOFT_PENALTIES = frozenset({"specialist", "insider", "course_material", "technical", "call_for_papers", "humour"})


def _strongest_soft_penalty(parts: list[tuple[str, float, str | None]]) -> list[tuple[str, float, str | None]]:
    soft = [p for p in parts if p[0] in SOFT_PENALTIES]
    if len(soft) < 2:
        return parts
    strongest = min(soft, key=lambda p: p[1])
    return [p for p in parts if p[0] not in SOFT_PENALTIES or p is strongest]


def _fires(signal: str, pattern: re.Pattern[str], lead: str, folded: str) -> bool:
    if signal not in LEAD_SIGNALS:
        return bool(pattern.search(folded))
    if pattern.search(lead):
        return True
    # course pages are often titled by a date: several course cues in the text tell them apart
    return signal in REPEATED_SIGNALS and len({m.group(0) for m in pattern.finditer(folded)}) >= REPEATED_CUES


def substance(item: Item, weights: WorthinessWeights = DEFAULT_WEIGHTS) -> float:
    """0 for a thin text, rising with the log of its words to 1 at `substance_words`."""
    words = len((item.text or item.summary or "").split())
    if words <= weights.thin_words:
        return 0.0
    span = math.log(weights.substance_words / weights.thin_words)
    return round(min(1.0, math.log(words / weights.thin_words) / span), 4)


_CODE_LINE = re.compile(  # a bibliography entry (`year = {2022},`) is no code
    r"[;{]\s*$|^\s*(?:\$ |#include|def |import |from \S+ import|int |void |for ?\(|if ?\(|return\b|//|/\*"
    r"|\w+\(.*\)\s*;?$|\w+\s*=\s*(?![{\"\s])\S|--\w+|\./\w+|sudo |git |make\b|gcc\b)"
)


def code_share(text: str) -> float:
    """Share of the non-empty lines that look like code or shell commands."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if len(lines) < 5:
        return 0.0
    return sum(1 for line in lines if _CODE_LINE.search(line)) / len(lines)
def publication_parts(c: Candidate, weights: WorthinessWeights, already: bool = False) -> list[tuple[str, float, str | None]]:
    """Signals of the story's HAL deposits: a well-known journal, an open-access paper with a news item."""
    parts: list[tuple[str, float, str | None]] = []
    journals = [p.journal.strip() for p in c.publications if p.journal and MAJOR_JOURNALS.fullmatch(p.journal.strip())]
    if journals and not already:
        parts.append(("major_journal", weights.major_journal, f"publication dans {journals[0]}"))
    if c.news_items and any(p.open_access for p in c.publications):
        parts.append(("open_access_release", weights.open_access_release, "article en accès ouvert avec un communiqué"))
    return parts


def find_major_journal(text: str) -> str | None:
    """The name of a well-known journal cited as a place of publication, if any."""
    for match in MAJOR_JOURNALS.finditer(text):
        name = match[1]
        if name.startswith(("Nature", "Science")) and not _JOURNAL_CONTEXT.search(text[max(0, match.start() - 30):match.start()]):
            continue
        return name
    return None


NON_STORY_SCORE = -3.0
NON_STORY_REASONS = {
    "index": "page de liste ou d'index, pas une nouvelle",
    "section": "page de rubrique ou de présentation, pas une nouvelle",
    "placeholder": "page presque vide, pas une nouvelle",
}


def non_story_worthiness(code: str) -> Worthiness:
    """The score of a page that is no story (pipeline.digest.pages): below every story."""
    return Worthiness(NON_STORY_SCORE, (NON_STORY_REASONS.get(code, NON_STORY_REASONS["index"]),),
                      (("non_story", NON_STORY_SCORE),))


def reason_line(w: Worthiness) -> str:
    """One French line: "Prix ou distinction ; relayé par 3 sources"."""
    if not w.reasons:
        return "Aucun signal particulier"
    line = " ; ".join(w.reasons)
    return line[0].upper() + line[1:]


def _time_parts(timeless: TimelessScore, published_at: datetime | None, now: datetime,
                weights: WorthinessWeights) -> list[tuple[str, float, str | None]]:
    parts: list[tuple[str, float, str | None]] = []
    if published_at is not None:  # an undated page is not known to be fresh
        age_days = max((now - published_at).total_seconds() / 86400, 0.0)
        span = max(weights.stale_days - weights.fresh_days, 1e-9)
        factor = 1.0 if age_days <= weights.fresh_days else max(0.0, 1 - (age_days - weights.fresh_days) / span)
        stale_reason = f"moins récent ({int(age_days)} jours)" if factor == 0.0 else None
        parts.append(("freshness", weights.freshness * factor, stale_reason))
    horizon = now + timedelta(days=weights.upcoming_days)
    if any(running_between(begins, over_at, now, horizon) for begins, over_at in timeless.events):
        parts.append(("upcoming_event", weights.upcoming_event, "date à venir"))
    return parts


def _combine(parts: list[tuple[str, float, str | None]]) -> Worthiness:
    score = round(sum(points for _, points, _ in parts), 4)
    with_reason = sorted((p for p in parts if p[2] and (p[1] or p[0] == "freshness")), key=lambda p: (-abs(p[1]), _priority(p[0])))
    reasons = tuple(reason for _, _, reason in with_reason if reason)
    return Worthiness(score, reasons, tuple((name, round(points, 4)) for name, points, _ in parts))


def _priority(signal: str) -> int:
    return REASON_ORDER.index(signal) if signal in REASON_ORDER else len(REASON_ORDER)


def _lead_text(item: Item, limit: int) -> str:
    """The title, the summary and the start of the text: a summary may be only a byline or a date."""
    return "\n".join((item.title or "", (item.summary or "")[:limit], (item.text or "")[:limit]))


def _cue_text(item: Item, limit: int) -> str:
    return "\n".join((item.title or "", item.summary or "", (item.text or "")[:limit]))
