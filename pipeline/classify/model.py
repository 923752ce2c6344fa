"""Tag items research / teaching / student: train, predict, save, load.

The model must hold on sources it has never seen, so every choice is made against sites' style:
- features: word 1-2-grams and char 3-5-grams (sublinear TF-IDF, French stop words listed below)
  on title + start of text, plus tokens of the URL path;
- only terms used by at least `MIN_SOURCES` different sources are kept: a site's signature,
  its lab name or its template words cannot become features;
- each source weighs the same in training, whatever its number of items;
- a linear model (logistic regression) gives class scores; temperature scaling calibrates them and
  the source's declared category enters as a prior, log P(category | declared) times a weight.
  Temperature and weight are fitted together on out-of-fold scores of a GroupKFold that leaves
  whole styles out (a club's write-ups, a course's weekly plans; the source when the style is
  unknown), i.e. on predictions for sites unlike any seen in training: the seed's sources share
  sentences, so folds over sources alone made the model over-confident and the prior weak on real
  sites. So the confidence is honest for a new site, the declared category stands unless the text
  clearly says otherwise, and `mixed` sources get a flat prior (text alone).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Sequence
from urllib.parse import urlsplit

import numpy as np
import scipy.sparse as sp
import skops.io
from scipy.optimize import minimize
from scipy.special import log_softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import normalize

from pipeline.models import CATEGORIES, Category, DeclaredCategory, Item, Prediction

logger = logging.getLogger(__name__)

UNCERTAIN_BELOW: float = 0.6  # confidence under which the digest marks an item "à vérifier"
MIN_SOURCES = 3  # a term must appear in this many sources to become a feature
TEXT_CHARS = 1200  # characters of text used (the start of an item says what it is)
CHAR_CHARS = 400  # characters of title + text given to the char n-grams
CALIBRATION_FOLDS = 5
DECLARED: tuple[DeclaredCategory, ...] = ("research", "teaching", "student", "mixed")

# Lower-case, accent-free (matching the vectorizers' preprocessing), two letters or more. Personal
# pronouns and possessives are kept (nous, vous, notre, on, we, our): who speaks to whom tells a
# club's post from a course page from a lab's news.
STOP_WORDS: tuple[str, ...] = tuple(sorted(set("""
le la les un une des de du et en au aux ce ces cet cette dans par pour sur avec sans sous est sont
ete etre avoir ont il elle ils elles se sa son ses qui que quoi dont
ou ne pas plus mais comme aussi tres tout tous toute toutes fait faire peut sera seront lors entre
apres avant depuis chez ainsi cela ca ceci celui celle
ceux celles donc car si qu non oui deja encore bien ici la ont avait etait sont toutes lui
the of and to in for on with an is are be this that by from at as it will was were has have
""".split())))

# Every type a model file may hold. load_model checks the whole file against this list, including
# the types skops itself would trust by default.
TRUSTED_TYPES: frozenset[str] = frozenset({
    "builtins.dict", "builtins.list", "builtins.tuple", "builtins.str", "builtins.int", "builtins.float",
    "builtins.bool", "builtins.NoneType",
    "numpy.ndarray", "numpy.float32", "numpy.float64", "numpy.int32", "numpy.int64",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
})


class ModelUntrusted(Exception):
    """A model file holds types outside TRUSTED_TYPES; it was not loaded."""


@dataclass(frozen=True)
class LabelledItem:
    item_id: str
    source_id: str
    declared_category: DeclaredCategory
    url: str
    title: str
    text: str
    label: Category
    # the item's style when known (seed subtype: "student/club", "teaching/exam"...): calibration
    # folds leave whole styles out, as a site unlike any in training would
    style: str = ""


@dataclass(frozen=True)
class CategoryModel:
    version: str  # hash of the labelled set it was trained on
    trained_at: datetime
    word: TfidfVectorizer
    char: TfidfVectorizer
    url: TfidfVectorizer
    classifier: LogisticRegression
    prior_log: np.ndarray  # (len(DECLARED), len(CATEGORIES)) log P(category | declared)
    temperature: float
    prior_weight: float


def load_labelled(path: Path | str) -> list[LabelledItem]:
    """Labelled items from a JSONL file (fields id, source_id, declared_category, url, title, text, label)."""
    items = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            items.append(LabelledItem(row["id"], row["source_id"], row["declared_category"], row["url"],
                                      row["title"], row["text"], row["label"], row.get("subtype", "")))
    return items


CLASSIFIERS_DIR = Path(__file__).resolve().parents[2] / "classifiers"  # labelled data beside the code
HOLDOUT_PATH = CLASSIFIERS_DIR / "holdout.jsonl"


TRAINING_FILES = ("seed.jsonl", "styles.jsonl")  # the sentence-block seed, the real-site styles set


def load_seed(folder: Path = CLASSIFIERS_DIR) -> list[LabelledItem]:
    """The training set: every file of TRAINING_FILES present in `folder` (never the held-out set)."""
    return [item for name in TRAINING_FILES if (Path(folder) / name).exists()
            for item in load_labelled(Path(folder) / name)]


# ---- features -------------------------------------------------------------------------------

_URL_SPLIT = re.compile(r"[^a-z]+")
_HOST_WORDS = frozenset({"www", "http", "https", "html", "htm", "php", "index", "node", "fr", "com", "org", "eu"})


def url_tokens(url: str) -> str:
    """Words of a URL's path and query (not its host: the host names the site, not the item)."""
    parts = urlsplit(url.lower())
    words = _URL_SPLIT.split(parts.path + " " + parts.query)
    return " ".join("u_" + w for w in words if len(w) > 2 and w not in _HOST_WORDS)


def word_doc(title: str, text: str) -> str:
    return f"{title}\n{title}\n{text[:TEXT_CHARS]}"


def char_doc(title: str, text: str) -> str:
    return f"{title} {text}"[:CHAR_CHARS]


def make_vectorizers() -> tuple[TfidfVectorizer, TfidfVectorizer, TfidfVectorizer]:
    # strip_accents="ascii" (NFKD then drop non-ASCII, in C) rather than "unicode" (a Python loop
    # per character): same accent folding for French, a quarter faster; it drops only letters
    # without an ASCII base (œ, æ), which carry no category.
    word = TfidfVectorizer(strip_accents="ascii", stop_words=list(STOP_WORDS), ngram_range=(1, 2),
                           token_pattern=r"(?u)\b[^\W\d_]{2,}\b", sublinear_tf=True, min_df=2, dtype=np.float32)
    char = TfidfVectorizer(strip_accents="ascii", analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
                           min_df=3, max_features=150_000, dtype=np.float32)
    url = TfidfVectorizer(token_pattern=r"u_\w+", sublinear_tf=True, min_df=2, dtype=np.float32)
    return word, char, url


def keep_shared_terms(vectorizer: TfidfVectorizer, matrix: sp.csr_matrix,
                      groups: np.ndarray) -> tuple[TfidfVectorizer, sp.csr_matrix]:
    """The vectorizer and matrix restricted to terms found in at least MIN_SOURCES sources."""
    _, source_index = np.unique(groups, return_inverse=True)
    by_source = sp.csr_matrix((np.ones(len(groups), dtype=np.float32), (source_index, np.arange(len(groups)))))
    presence = (by_source @ (matrix > 0).astype(np.float32)) > 0
    kept = np.flatnonzero(np.asarray(presence.sum(axis=0)).ravel() >= MIN_SOURCES)
    terms = vectorizer.get_feature_names_out()[kept]
    restricted = TfidfVectorizer(**{**vectorizer.get_params(), "vocabulary": [str(t) for t in terms]})
    restricted.idf_ = vectorizer.idf_[kept]
    return restricted, matrix[:, kept]


def fit_features(examples: Sequence[LabelledItem], groups: np.ndarray):
    """Fitted (word, char, url) vectorizers and the training matrix."""
    docs = (
        [word_doc(e.title, e.text) for e in examples],
        [char_doc(e.title, e.text) for e in examples],
        [url_tokens(e.url) for e in examples],
    )
    fitted = [keep_shared_terms(v, v.fit_transform(d), groups) for v, d in zip(make_vectorizers(), docs)]
    return tuple(v for v, _ in fitted), sp.hstack([m for _, m in fitted], format="csr")


def char_transform(vectorizer: TfidfVectorizer, docs: Sequence[str]) -> sp.csr_matrix:
    """Same result as `vectorizer.transform(docs)` for a char_wb vectorizer, several times faster.

    char_wb n-grams never cross a word boundary, so a document's counts are the sum of its words'
    counts: each distinct word of the batch is analysed once, then (docs x words) @ (words x n-grams).
    """
    preprocess, analyze, vocabulary = vectorizer.build_preprocessor(), vectorizer.build_analyzer(), vectorizer.vocabulary_
    word_index: dict[str, int] = {}
    rows, cols = [], []
    for row, doc in enumerate(docs):
        for word in preprocess(doc).split():
            rows.append(row)
            cols.append(word_index.setdefault(word, len(word_index)))
    doc_words = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                              shape=(len(docs), len(word_index)))
    w_rows, w_cols = [], []
    for word, index in word_index.items():
        for gram in analyze(word):
            column = vocabulary.get(gram)
            if column is not None:
                w_rows.append(index)
                w_cols.append(column)
    word_grams = sp.csr_matrix((np.ones(len(w_rows), dtype=np.float32), (w_rows, w_cols)),
                               shape=(len(word_index), len(vocabulary)))
    counts = (doc_words @ word_grams).tocsr()
    counts.data = 1.0 + np.log(counts.data)  # sublinear tf
    return normalize(counts @ sp.diags(vectorizer.idf_.astype(np.float32)), norm="l2", copy=False).tocsr()


def transform_features(model: CategoryModel, docs: Sequence[tuple[str, str, str]]) -> sp.csr_matrix:
    """docs: (url, title, text) triples."""
    return sp.hstack([
        model.word.transform([word_doc(t, x) for _, t, x in docs]),
        char_transform(model.char, [char_doc(t, x) for _, t, x in docs]),
        model.url.transform([url_tokens(u) for u, _, _ in docs]),
    ], format="csr")


# ---- training -------------------------------------------------------------------------------

def label_set_version(examples: Sequence[LabelledItem]) -> str:
    digest = hashlib.sha1()
    for item_id, label in sorted((e.item_id, e.label) for e in examples):
        digest.update(f"{item_id}\t{label}\n".encode("utf-8"))
    return digest.hexdigest()[:12]


def source_balanced_weights(groups: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each source weighs the same; within that, classes are balanced."""
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    weights = 1.0 / counts[inverse]
    for label in np.unique(y):
        weights[y == label] /= weights[y == label].sum()
    return weights * len(y) / weights.sum()


def estimate_prior(examples: Sequence[LabelledItem]) -> np.ndarray:
    """log P(category | declared), Laplace-smoothed; `mixed` is flat."""
    counts = np.ones((len(DECLARED), len(CATEGORIES)))
    for e in examples:
        counts[DECLARED.index(e.declared_category), CATEGORIES.index(e.label)] += 1
    counts[DECLARED.index("mixed")] = 1.0
    return np.log(counts / counts.sum(axis=1, keepdims=True))


def make_classifier() -> LogisticRegression:
    return LogisticRegression(C=4.0, max_iter=300, tol=1e-3)


def out_of_fold_scores(x: sp.csr_matrix, y: np.ndarray, groups: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Decision scores of each example by a model that never saw its source."""
    scores = np.zeros((len(y), len(CATEGORIES)))
    folds = min(CALIBRATION_FOLDS, len(np.unique(groups)))
    for train, test in GroupKFold(n_splits=folds).split(x, y, groups):
        clf = make_classifier().fit(x[train], y[train], sample_weight=weights[train])
        scores[np.ix_(test, clf.classes_)] = clf.decision_function(x[test])
    return scores


def combine(scores: np.ndarray, prior_rows: np.ndarray, temperature: float, prior_weight: float) -> np.ndarray:
    """Log-probabilities: tempered scores plus the weighted prior, renormalised."""
    return log_softmax(scores / temperature + prior_weight * prior_rows, axis=1)


def fit_calibration(scores: np.ndarray, prior_rows: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Temperature and prior weight minimising the log-loss of out-of-fold predictions."""
    def loss(params: np.ndarray) -> float:
        log_t, weight = params
        logp = combine(scores, prior_rows, float(np.exp(log_t)), weight)
        return -float(logp[np.arange(len(y)), y].mean())

    result = minimize(loss, x0=np.array([0.0, 0.5]), method="L-BFGS-B", bounds=[(-3.0, 3.0), (0.0, 2.0)])
    return float(np.exp(result.x[0])), float(result.x[1])


def train_model(examples: Sequence[LabelledItem]) -> CategoryModel:
    """Fit features, classifier, calibration and prior on labelled items from several sources."""
    if len({e.source_id for e in examples}) < 2:
        raise ValueError("training needs items from at least two sources")
    groups = np.array([e.source_id for e in examples])
    y = np.array([CATEGORIES.index(e.label) for e in examples])
    (word, char, url), x = fit_features(examples, groups)
    weights = source_balanced_weights(groups, y)
    prior_log = estimate_prior(examples)
    prior_rows = prior_log[[DECLARED.index(e.declared_category) for e in examples]]
    unseen_style_groups = np.array([e.style or e.source_id for e in examples])
    oof = out_of_fold_scores(x, y, unseen_style_groups, weights)
    temperature, prior_weight = fit_calibration(oof, prior_rows, y)
    classifier = make_classifier().fit(x, y, sample_weight=weights)
    logger.info("trained on %d items, %d features, T=%.2f, prior weight=%.2f",
                len(examples), x.shape[1], temperature, prior_weight)
    return CategoryModel(label_set_version(examples), datetime.now(timezone.utc), word, char, url,
                         classifier, prior_log, temperature, prior_weight)


# ---- prediction -----------------------------------------------------------------------------

def predict_log_proba(model: CategoryModel, docs: Sequence[tuple[str, str, str]],
                      declared: Sequence[DeclaredCategory]) -> np.ndarray:
    """(n, 3) calibrated log-probabilities in CATEGORIES order."""
    if not docs:
        return np.zeros((0, len(CATEGORIES)))
    scores = np.zeros((len(docs), len(CATEGORIES)))
    scores[:, model.classifier.classes_] = model.classifier.decision_function(transform_features(model, docs))
    prior_rows = model.prior_log[[DECLARED.index(d) for d in declared]]
    return combine(scores, prior_rows, model.temperature, model.prior_weight)


def predict(model: CategoryModel, items: Sequence[Item],
            declared: Mapping[str, DeclaredCategory]) -> list[Prediction]:
    """One Prediction per item; a source missing from `declared` counts as `mixed`."""
    docs = [(i.url, i.title, i.text or i.summary) for i in items]
    logp = predict_log_proba(model, docs, [declared.get(i.source_id, "mixed") for i in items])
    best = logp.argmax(axis=1)
    return [Prediction(item.item_id, CATEGORIES[k], float(np.exp(logp[n, k])), model.version)
            for n, (item, k) in enumerate(zip(items, best))]


# ---- persistence ----------------------------------------------------------------------------

def save_model(model: CategoryModel, path: Path | str) -> None:
    """Write the model with skops (no pickle)."""
    state = {
        "version": model.version, "trained_at": model.trained_at.isoformat(), "word": model.word,
        "char": model.char, "url": model.url, "classifier": model.classifier,
        "prior_log": model.prior_log, "temperature": model.temperature, "prior_weight": model.prior_weight,
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    skops.io.dump(state, path)


def stored_types(path: Path | str) -> set[str]:
    """Every "module.class" named in a skops file's schema."""
    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json"))
    found: set[str] = set()
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if "__module__" in node and "__class__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def load_model(path: Path | str) -> CategoryModel:
    """Read a model written by save_model; refuse a file holding any type outside TRUSTED_TYPES."""
    unknown = sorted(stored_types(path) - TRUSTED_TYPES)
    if unknown:
        raise ModelUntrusted(f"{path}: untrusted types {unknown}")
    trusted = sorted(set(skops.io.get_untrusted_types(file=path)) & TRUSTED_TYPES)
    state = skops.io.load(path, trusted=trusted)
    return CategoryModel(state["version"], datetime.fromisoformat(state["trained_at"]), state["word"],
                         state["char"], state["url"], state["classifier"], np.asarray(state["prior_log"]),
                         float(state["temperature"]), float(state["prior_weight"]))
