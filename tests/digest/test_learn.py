"""Weights learned from graded examples: they move towards the grades, never change sign."""

from __future__ import annotations

from dataclasses import fields

from pipeline.digest.learn import GradedExample, current_weights, fit_weights, load_graded, officer_example
from pipeline.digest.rank import DEFAULT_WEIGHTS, LEARNED_SIGNALS
from pipeline.models import Item


def test_the_shipped_examples_load_and_cover_every_grade():
    examples = load_graded()
    assert len(examples) >= 50
    assert {e.grade for e in examples} == {0.0, 1.0, 2.0, 3.0}


def test_weights_move_towards_the_grades_and_keep_their_sign():
    prizes = [GradedExample("s", 3.0, f"Prix de l'Académie des sciences pour l'équipe {n}", "Une distinction.")
              for n in range(10)]
    plain = [GradedExample("s", 1.0, f"Note numéro {n}", "Une information ordinaire.") for n in range(10)]
    learned = fit_weights(prizes + plain, alpha=0.5)
    assert learned.prize > DEFAULT_WEIGHTS.prize
    assert learned.job_posting <= 0 and learned.administrative <= 0
    for name in LEARNED_SIGNALS:
        field = "per_extra_source" if name == "coverage" else name
        prior, now = getattr(DEFAULT_WEIGHTS, field), getattr(learned, field)
        assert prior * now >= 0, name


def test_too_few_examples_keep_the_prior():
    assert fit_weights([GradedExample("s", 3.0, "Prix", "x")]) == DEFAULT_WEIGHTS


def test_officer_grades_change_the_weights():
    seminars = [Item(f"i{n}", "lab", f"https://lab.example.fr/{n}", f"Séminaire de l'équipe {n}",
                     None, "Exposé pour spécialistes, abstract en ligne.") for n in range(6)]
    graded = [officer_example(item, 3) for item in seminars]
    assert current_weights(tuple(graded)).specialist > current_weights().specialist
    assert {f.name for f in fields(current_weights())} == {f.name for f in fields(DEFAULT_WEIGHTS)}
