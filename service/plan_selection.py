"""Choosing a plan's workplaces: capacities, mandatory visits, exclusions and exploration.

Pure: candidates in, selections out; reading the store and keeping plans is
:mod:`service.plans`. Per office, in the order of the offices' names:

1. its mandatory workplaces (asked for by id, or under an open remediation due a follow-up)
   that its area covers and no earlier office took: ``selection = mandatory``, probability 1;
   more of them than the capacity is an error naming the office;
2. of the rest of the capacity, a share (``exploration_share``, rounded half up) is
   drawn uniformly at random from the covered workplaces that are neither mandatory, nor
   recently inspected, nor taken, nor among the model's picks: ``exploration``, with
   probability = draws / eligible. These keep future labels an unbiased sample of the
   population (selective labels, issue 5), so a model can be judged on them;
3. the remainder goes down the ranking: ``model``, probability 1.

A workplace that two offices' areas cover goes to the first office that selects it. The
draws come from a generator seeded by the plan's seed and the office's name, so the same
candidates and request give the same plan, and each office's draw is its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd


class Selection(StrEnum):
    mandatory = "mandatory"
    model = "model"
    exploration = "exploration"


@dataclass(frozen=True)
class OfficeQuota:
    office: str
    capacity: int
    #: Which candidates the office's area covers (a boolean mask over the candidates).
    covers: np.ndarray


@dataclass(frozen=True)
class PlannedVisit:
    office: str
    employer_id: str
    rank: int | None
    score: float | None
    selection: Selection
    selection_probability: float


@dataclass(frozen=True)
class OfficeOutcome:
    office: str
    capacity: int
    mandatory: int
    model: int
    exploration: int
    #: Covered workplaces the exploration drew from (its probability's denominator).
    exploration_pool: int

    @property
    def planned(self) -> int:
        return self.mandatory + self.model + self.exploration

    @property
    def shortfall(self) -> int:
        """Visits the capacity allows that no eligible workplace was left to fill."""
        return self.capacity - self.planned


class PlanError(ValueError):
    """A request the candidates cannot satisfy; the message names the office and why."""


def exploration_count(share: float, capacity: int) -> int:
    """``share`` of ``capacity``, rounded half up (0.1 of 15 is 2; banker's rounding would
    make it alternate between equal requests' neighbours)."""
    return int(np.floor(share * capacity + 0.5))


def office_seed(seed: int, office: str) -> list[int]:
    digest = hashlib.sha256(office.encode()).digest()
    return [seed, int.from_bytes(digest[:8], "big")]


def select(
    candidates: pd.DataFrame,
    quotas: Sequence[OfficeQuota],
    exploration_share: float,
    seed: int,
) -> tuple[list[PlannedVisit], list[OfficeOutcome]]:
    """The plan's visits and each office's counts.

    ``candidates``: one row per workplace, sorted by ``rank`` (missing for a workplace the
    snapshot does not rank), with ``employer_id``, ``rank``, ``score``, and the booleans
    ``mandatory`` and ``excluded`` (inspected too recently to plan; mandatory wins).
    """
    ids = candidates["employer_id"].to_numpy()
    ranks = candidates["rank"].to_numpy()
    scores = candidates["score"].to_numpy()
    mandatory = candidates["mandatory"].to_numpy(dtype=bool)
    excluded = candidates["excluded"].to_numpy(dtype=bool) & ~mandatory
    ranked = ~pd.isna(candidates["rank"]).to_numpy()
    taken = np.zeros(len(candidates), dtype=bool)
    visits: list[PlannedVisit] = []
    outcomes: list[OfficeOutcome] = []

    def visit(office: str, i: int, selection: Selection, probability: float) -> PlannedVisit:
        rank = None if not ranked[i] else int(ranks[i])
        score = None if not ranked[i] else float(scores[i])
        return PlannedVisit(office, str(ids[i]), rank, score, selection, probability)

    for quota in sorted(quotas, key=lambda q: q.office):
        covered = quota.covers & ~taken
        must = np.flatnonzero(covered & mandatory)
        if len(must) > quota.capacity:
            raise PlanError(
                f"office {quota.office}: {len(must)} mandatory workplaces exceed its capacity "
                f"of {quota.capacity}"
            )
        free = quota.capacity - len(must)
        explore = exploration_count(exploration_share, free)
        eligible = covered & ~mandatory & ~excluded & ranked
        order = np.flatnonzero(eligible)  # candidates are sorted by rank
        picks = order[: free - explore]
        pool = order[free - explore :]
        drawn_count = min(explore, len(pool))
        rng = np.random.default_rng(office_seed(seed, quota.office))
        drawn = np.sort(rng.choice(pool, size=drawn_count, replace=False)) if drawn_count else []
        probability = drawn_count / len(pool) if len(pool) else 0.0
        visits += [visit(quota.office, i, Selection.mandatory, 1.0) for i in must]
        visits += [visit(quota.office, i, Selection.model, 1.0) for i in picks]
        visits += [visit(quota.office, i, Selection.exploration, probability) for i in drawn]
        taken[must] = True
        taken[picks] = True
        taken[np.asarray(drawn, dtype=int)] = True
        outcomes.append(
            OfficeOutcome(
                quota.office,
                quota.capacity,
                mandatory=len(must),
                model=len(picks),
                exploration=drawn_count,
                exploration_pool=len(pool),
            )
        )
    return visits, outcomes
