"""Outreach initiatives: the Initiative type, initiatives.yaml, and how the catalogue evolves.

An *initiative* is one outreach action (a lab's open day, a Pint of Science evening, a podcast...)
with its *editions* (one per year it takes place). Initiatives are either detected from items
(origin "detected", proposed to the science-communication officer) or hand-entered in
initiatives.yaml (origin "manual"). The officer's decisions (see pipeline.outreach.review) are
applied by `apply_decisions`: a rejected proposal never comes back, and nothing validated is ever
overwritten by detection.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipeline.config import ConfigError, duplicate_id_errors, merge_errors, read_yaml_validated

logger = logging.getLogger(__name__)

Kind = Literal[
    "conference_grand_public", "atelier", "visite_laboratoire", "intervention_scolaire",
    "festival", "exposition", "mediatisation", "concours", "autre",
]
Audience = Literal["grand_public", "scolaires", "etudiants", "personnels"]
Status = Literal["en_projet", "programmee", "realisee", "recurrente"]
Origin = Literal["detected", "manual"]


@dataclass(frozen=True)
class Decision:
    """What the officer decided about one initiative."""

    initiative_id: str
    action: Literal["validate", "correct", "merge", "reject"]
    fields: tuple[tuple[str, Any], ...] = ()  # corrected Initiative fields (action "correct")
    merge_into: str | None = None  # action "merge"
    line: int = 0  # in the CSV


KIND_LABELS_FR: dict[str, str] = {
    "conference_grand_public": "Conférence grand public",
    "atelier": "Atelier",
    "visite_laboratoire": "Visite de laboratoire",
    "intervention_scolaire": "Intervention scolaire",
    "festival": "Festival (Fête de la science, Pint of Science…)",
    "exposition": "Exposition",
    "mediatisation": "Médiatisation (podcast, vidéo, article)",
    "concours": "Concours",
    "autre": "Autre",
}
AUDIENCE_LABELS_FR: dict[str, str] = {
    "grand_public": "Grand public",
    "scolaires": "Scolaires",
    "etudiants": "Étudiants",
    "personnels": "Personnels",
}
STATUS_LABELS_FR: dict[str, str] = {
    "en_projet": "En projet",
    "programmee": "Programmée",
    "realisee": "Réalisée",
    "recurrente": "Récurrente",
}
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,80}$")


@dataclass(frozen=True)
class Edition:
    """One occurrence of an initiative (usually one per year)."""

    year: int
    start: date | None = None
    end: date | None = None
    place: str = ""


@dataclass(frozen=True)
class Initiative:
    """One outreach action, as proposed by detection or entered by the officer."""

    initiative_id: str
    title: str
    kind: Kind
    organisers: tuple[str, ...]
    audience: tuple[Audience, ...]
    status: Status
    editions: tuple[Edition, ...] = ()
    place: str = ""
    contact: str = ""  # emails / phones as published
    evidence: tuple[str, ...] = ()  # item URLs
    origin: Origin = "detected"
    validated: bool = False
    description: str = ""
    # review bookkeeping: a rejected initiative is kept (hidden) so it is not proposed again;
    # an initiative merged by the officer into another one points to it
    rejected: bool = False
    merged_into: str | None = None

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted({e.year for e in self.editions}))

    @property
    def visible(self) -> bool:
        """Shown on the map: neither rejected nor merged away."""
        return not self.rejected and self.merged_into is None


# ----------------------------------------------------------------------------- initiatives.yaml


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EditionModel(_Strict):
    year: int = Field(ge=1950, le=2100)
    start: date | None = None
    end: date | None = None
    place: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> "EditionModel":
        if self.start and self.end and self.end < self.start:
            raise ValueError("end is before start")
        if self.start and self.start.year != self.year:
            raise ValueError(f"start {self.start} is not in year {self.year}")
        return self


class InitiativeModel(_Strict):
    id: str
    title: str = Field(min_length=2)
    kind: Kind
    organisers: tuple[str, ...] = Field(min_length=1)
    audience: tuple[Audience, ...] = ("grand_public",)
    status: Status
    editions: tuple[EditionModel, ...] = ()
    place: str = ""
    contact: str = ""
    description: str = ""
    evidence: tuple[str, ...] = ()

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError("must be a slug: lower-case letters, digits and '-' (e.g. labo-portes-ouvertes)")
        return value


class InitiativesFile(_Strict):
    initiatives: list[InitiativeModel] = Field(default_factory=list)


def load_initiatives_file(path: Path) -> tuple[list[Initiative], list[ConfigError]]:
    """Read initiatives.yaml: the hand-entered initiatives, or every error with its line."""
    parsed, errors = read_yaml_validated(Path(path), InitiativesFile)
    errors = merge_errors(errors, duplicate_id_errors(Path(path), "initiatives", "initiative"))
    if parsed is None or errors:
        return [], errors
    return [_from_model(m) for m in parsed.initiatives], []


def _from_model(model: InitiativeModel) -> Initiative:
    return Initiative(
        initiative_id=model.id,
        title=model.title.strip(),
        kind=model.kind,
        organisers=tuple(o.strip() for o in model.organisers if o.strip()),
        audience=tuple(dict.fromkeys(model.audience)),
        status=model.status,
        editions=tuple(sorted((Edition(e.year, e.start, e.end, e.place) for e in model.editions),
                              key=_edition_key)),
        place=model.place,
        contact=model.contact,
        evidence=model.evidence,
        origin="manual",
        validated=True,
        description=model.description.strip(),
    )


def _edition_key(edition: Edition) -> tuple[int, date]:
    return edition.year, edition.start or date(edition.year, 1, 1)


# ----------------------------------------------------------------------------- catalogue updates


def apply_decisions(proposed: Sequence[Initiative], stored: Sequence[Initiative],
                    decisions: Sequence[Decision]) -> list[Initiative]:
    """Tonight's catalogue: `stored` updated by detection (`proposed`) then by the officer's decisions.

    - a proposal whose id (or evidence) belongs to a rejected initiative is dropped;
    - a proposal for a validated (or manual) initiative only adds new evidence and new years;
    - a proposal for an initiative merged by the officer goes to the merge target;
    - an unvalidated stored proposal is refreshed by tonight's detection.
    Rejected and merged initiatives stay in the result (not `visible`) so they are remembered.
    """
    catalogue = {i.initiative_id: i for i in stored}
    rejected_evidence = {url for i in stored if i.rejected for url in i.evidence}
    for proposal in proposed:
        _absorb_proposal(catalogue, proposal, rejected_evidence)
    for decision in decisions:
        _apply_decision(catalogue, decision)
    return sorted(catalogue.values(), key=lambda i: i.initiative_id)


def _absorb_proposal(catalogue: dict[str, Initiative], proposal: Initiative, rejected_evidence: set[str]) -> None:
    if proposal.evidence and set(proposal.evidence) <= rejected_evidence:
        return
    target_id = _resolve(catalogue, proposal.initiative_id)
    current = catalogue.get(target_id)
    if current is None:
        catalogue[proposal.initiative_id] = proposal
    elif current.rejected:
        return
    elif current.validated or current.origin == "manual" or target_id != proposal.initiative_id:
        catalogue[target_id] = extend_initiative(current, proposal)
    else:
        catalogue[target_id] = replace(proposal, evidence=_union(current.evidence, proposal.evidence))


def _resolve(catalogue: dict[str, Initiative], initiative_id: str) -> str:
    seen = set()
    while initiative_id in catalogue and catalogue[initiative_id].merged_into and initiative_id not in seen:
        seen.add(initiative_id)
        initiative_id = catalogue[initiative_id].merged_into or initiative_id
    return initiative_id


def extend_initiative(kept: Initiative, other: Initiative) -> Initiative:
    """`kept` with the evidence, organisers, audiences and new years of `other`; its own fields unchanged."""
    years = {e.year for e in kept.editions}
    new_editions = tuple(e for e in other.editions if e.year not in years)
    return replace(
        kept,
        evidence=_union(kept.evidence, other.evidence),
        editions=tuple(sorted(kept.editions + new_editions, key=_edition_key)),
        organisers=kept.organisers if kept.validated else _union(kept.organisers, other.organisers),
        audience=kept.audience if kept.validated else _union(kept.audience, other.audience),
    )


def _union(first: Sequence[str], second: Sequence[str]) -> tuple:
    return tuple(dict.fromkeys([*first, *second]))


def _apply_decision(catalogue: dict[str, Initiative], decision: Decision) -> None:
    current = catalogue.get(decision.initiative_id)
    if current is None:
        logger.warning("decision for unknown initiative %s ignored", decision.initiative_id)
        return
    if decision.action == "validate":
        catalogue[current.initiative_id] = replace(current, validated=True, rejected=False)
    elif decision.action == "correct":
        fields = dict(decision.fields)
        catalogue[current.initiative_id] = replace(current, **fields, validated=True, rejected=False)
    elif decision.action == "reject":
        catalogue[current.initiative_id] = replace(current, rejected=True, validated=False)
    elif decision.action == "merge":
        target_id = _resolve(catalogue, decision.merge_into or "")
        target = catalogue.get(target_id)
        if target is None or target_id == current.initiative_id:
            logger.warning("merge of %s into unknown %s ignored", current.initiative_id, decision.merge_into)
            return
        catalogue[target_id] = extend_initiative(target, current)
        catalogue[current.initiative_id] = replace(current, merged_into=target_id)


def published_initiatives(manual: Sequence[Initiative], catalogue: Sequence[Initiative]) -> list[Initiative]:
    """What the map shows: manual initiatives (they win on their id) and visible catalogue ones."""
    manual_ids = {i.initiative_id for i in manual}
    shown = list(manual) + [i for i in catalogue if i.visible and i.initiative_id not in manual_ids]
    return sorted(shown, key=lambda i: (i.title.casefold(), i.initiative_id))

