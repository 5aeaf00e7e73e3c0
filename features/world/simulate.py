"""The monthly simulation: complaints, inspections, findings, remediations.

Each month every registered workplace's true risk v_c is read, complaints arrive at a
rate that rises with it, and the inspectorate visits: a lottery over size, sector and
region strata (``random``: independent of risk given the strata), the old rules
(``planned``: sector campaigns, large workplaces, past violators), visits a few weeks
after a share of complaints, follow-ups months after violations, and a few ``other``
visits (accidents: drawn toward unsafe workplaces). Findings are drawn from the true
state, then risk moves: deterrence after sanctions, drift, mobilisation fading.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from features.world.config import (
    MISSING_DAY,
    Month,
    WorldConfig,
    from_day,
    months_of,
    to_day,
    uniform_days,
)
from features.world.inspectorate import Inspectorate
from features.world.population import MISSING, Population
from features.world.risk import (
    ASSOCIATION,
    CATEGORY_COUNT,
    CONDITIONS,
    COVERAGE,
    DETECTION,
    DISCRIMINATION,
    SAFETY,
    SUBCONTRACTING,
    RiskState,
)
from features.world.sectors import Group

logger = logging.getLogger(__name__)

RANDOM, PLANNED, COMPLAINT, FOLLOW_UP, OTHER = range(5)
CHANNELS: tuple[str, ...] = ("phone", "web", "in_person", "union_petition")
UNION_PETITION = 3
REMEDIATION_SOURCES: tuple[str, ...] = ("sanction", "rrm", "agreement")
SANCTION, RRM, AGREEMENT = range(3)

INSPECTIONS_PER_EMPLOYER_YEAR = 0.1
#: Expected shares of the monthly budget for the origins the inspectorate schedules;
#: complaint visits and follow-ups come on top, driven by events.
RANDOM_SHARE, PLANNED_SHARE, OTHER_SHARE = 0.45, 0.25, 0.04
DAYS_PER_MONTH = 365.25 / 12

#: Monthly complaints per workplace and category: founded (times v_c²) and unfounded.
COMPLAINT_FOUNDED = np.array([0.003, 0.009, 0.003, 0.015, 0.0025], dtype=np.float32)
COMPLAINT_UNFOUNDED = np.array([0.00006, 0.00015, 0.00003, 0.00003, 0.00006], dtype=np.float32)
COMPLAINT_CATEGORY_MISSING = 0.1
COMPLAINT_VISITED = 0.4
PETITION_VISITED = 0.85
FOLLOW_UP_SHARE = 0.2
#: Sector campaigns the old rules run, and the category each campaign is about.
CAMPAIGNS: tuple[tuple[Group, int], ...] = (
    (Group.CONSTRUCTION, SAFETY),
    (Group.MINING, SAFETY),
    (Group.MANUFACTURING, SAFETY),
    (Group.STAFFING, SUBCONTRACTING),
    (Group.GARMENT, DISCRIMINATION),
    (Group.AUTO_PARTS, ASSOCIATION),
    (Group.FOOD_SERVICE, CONDITIONS),
    (Group.TRANSPORT, CONDITIONS),
)
_LOTTERY_SIZE_WEIGHT = np.array([0.7, 0.5, 1.5, 2.5, 3.0])  # missing band, micro..large
#: The old rules favour large workplaces (missing band, micro..large).
_PLANNED_SIZE_WEIGHT = np.array([0.3, 0.2, 1.0, 3.0, 6.0])
_LOTTERY_GROUP_WEIGHT = {
    Group.CONSTRUCTION: 1.6,
    Group.MANUFACTURING: 1.4,
    Group.MINING: 2.0,
    Group.GARMENT: 1.4,
    Group.AUTO_PARTS: 1.6,
    Group.STAFFING: 1.4,
}


@dataclass
class EventLog:
    """Everything that happened, as parallel arrays in order of occurrence."""

    inspection_employer: np.ndarray
    inspection_day: np.ndarray
    inspection_origin: np.ndarray
    inspection_inspector: np.ndarray
    inspection_violation: np.ndarray
    finding_inspection: np.ndarray  # index into the inspection arrays
    finding_category: np.ndarray
    finding_violation: np.ndarray
    finding_sanction: np.ndarray  # NaN when no violation
    complaint_employer: np.ndarray
    complaint_day: np.ndarray
    complaint_category: np.ndarray  # MISSING when the record lacks it
    complaint_channel: np.ndarray
    remediation_employer: np.ndarray
    remediation_opened: np.ndarray
    remediation_closed: np.ndarray  # MISSING_DAY when still open at the end
    remediation_source: np.ndarray
    #: v_c at each truth date (1 January, then the last day), shape (workplaces, 5).
    risk_snapshots: dict[dt.date, np.ndarray] = field(default_factory=dict)
    employer_years: float = 0.0


class _Collector:
    """Appends per-month arrays and concatenates them once at the end."""

    def __init__(self, *names: str) -> None:
        self.parts: dict[str, list[np.ndarray]] = {name: [] for name in names}

    def add(self, **arrays: np.ndarray) -> None:
        for name, values in arrays.items():
            self.parts[name].append(values)

    def get(self, name: str, dtype: type | np.dtype) -> np.ndarray:
        parts = self.parts[name]
        return np.concatenate(parts).astype(dtype) if parts else np.empty(0, dtype=dtype)


@dataclass
class _Pending:
    """Visits promised for later: complaint visits and follow-ups."""

    employer: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    day: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    origin: np.ndarray = field(default_factory=lambda: np.empty(0, np.int8))
    category: np.ndarray = field(default_factory=lambda: np.empty(0, np.int8))

    def push(
        self, employer: np.ndarray, day: np.ndarray, origin: int, category: np.ndarray
    ) -> None:
        self.employer = np.concatenate([self.employer, employer.astype(np.int32)])
        self.day = np.concatenate([self.day, day.astype(np.int32)])
        self.origin = np.concatenate([self.origin, np.full(len(employer), origin, np.int8)])
        self.category = np.concatenate([self.category, category.astype(np.int8)])

    def pop_due(self, last_day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        due = self.day <= last_day
        popped = (self.employer[due], self.day[due], self.origin[due], self.category[due])
        keep = ~due
        self.employer, self.day = self.employer[keep], self.day[keep]
        self.origin, self.category = self.origin[keep], self.category[keep]
        return popped


def _bernoulli_select(
    rng: np.random.Generator, weight: np.ndarray, active: np.ndarray, expected: float
) -> np.ndarray:
    """Workplaces drawn independently with chance proportional to weight, ``expected`` in all."""
    total = float(weight[active].sum())
    chance = np.minimum(weight * (expected / total), 1.0) if total > 0 else weight * 0.0
    return np.flatnonzero((rng.random(len(weight)) < chance) & active)


class Simulation:
    """Runs the months of one world; one instance per generation."""

    def __init__(
        self,
        config: WorldConfig,
        rng: np.random.Generator,
        population: Population,
        inspectorate: Inspectorate,
    ) -> None:
        self.config = config
        self.rng = rng
        self.population = population
        self.inspectorate = inspectorate
        self.risk = RiskState(rng, population)
        self.end_day = to_day(config.end)
        self.pending = _Pending()
        self.last_violation_month = np.full(population.size, -10_000, dtype=np.int32)
        self.complaint_size = (((1.0 + population.employees) / 3.0) ** 0.4).astype(np.float32)
        band = population.size_band_visible
        lottery_group = np.array([_LOTTERY_GROUP_WEIGHT.get(g, 1.0) for g in Group])
        self.lottery_weight = _LOTTERY_SIZE_WEIGHT[band + 1] * lottery_group[population.group]
        self.planned_size_weight = _PLANNED_SIZE_WEIGHT[band + 1]
        self.region_weight = np.ones(32)
        self.campaigns: list[tuple[Group, int]] = []
        self.inspections = _Collector("employer", "day", "origin", "inspector", "violation")
        self.findings = _Collector("inspection", "category", "violation", "sanction")
        self.complaints = _Collector("employer", "day", "category", "channel")
        self.remediations = _Collector("employer", "opened", "closed", "source")
        self.inspection_count = 0
        self.snapshots: dict[dt.date, np.ndarray] = {}
        self.employer_years = 0.0

    def run(self) -> EventLog:
        months = months_of(self.config)
        bar = tqdm(months, desc="world", unit="month", disable=not sys.stderr.isatty())
        for month in bar:
            self._month(month)
        self.snapshots[self.config.end] = self.risk.violation_probability().copy()
        return EventLog(
            inspection_employer=self.inspections.get("employer", np.int32),
            inspection_day=self.inspections.get("day", np.int32),
            inspection_origin=self.inspections.get("origin", np.int8),
            inspection_inspector=self.inspections.get("inspector", np.int32),
            inspection_violation=self.inspections.get("violation", np.int8),
            finding_inspection=self.findings.get("inspection", np.int64),
            finding_category=self.findings.get("category", np.int8),
            finding_violation=self.findings.get("violation", np.int8),
            finding_sanction=self.findings.get("sanction", np.float64),
            complaint_employer=self.complaints.get("employer", np.int32),
            complaint_day=self.complaints.get("day", np.int32),
            complaint_category=self.complaints.get("category", np.int8),
            complaint_channel=self.complaints.get("channel", np.int8),
            remediation_employer=self.remediations.get("employer", np.int32),
            remediation_opened=self.remediations.get("opened", np.int32),
            remediation_closed=self.remediations.get("closed", np.int32),
            remediation_source=self.remediations.get("source", np.int8),
            risk_snapshots=self.snapshots,
            employer_years=self.employer_years,
        )

    # -- one month -------------------------------------------------------------------------

    def _month(self, month: Month) -> None:
        if month.index == 0 or month.month == 1:
            self._new_year()
        active = self.population.registered_day <= month.last_day
        days = month.last_day - month.first_day + 1
        self.employer_years += float(active.sum()) * days / 365.25
        violation = self.risk.violation_probability()
        if month.starts_year:
            self.snapshots[from_day(month.first_day)] = violation.copy()
        month_share = days / DAYS_PER_MONTH
        self._complaints(month, active, violation, month_share)
        self._inspections(month, active, violation, month_share)
        self.risk.step(self.rng)

    def _new_year(self) -> None:
        """The inspectorate re-plans: regional allocation and two sector campaigns."""
        self.region_weight = np.exp(self.rng.normal(0.0, 0.2, 32))
        chosen = self.rng.choice(len(CAMPAIGNS), size=2, replace=False)
        self.campaigns = [CAMPAIGNS[k] for k in sorted(chosen)]

    def _days_in(self, month: Month, employers: np.ndarray) -> np.ndarray:
        """A day of the month for each workplace, never before it registered."""
        low = np.maximum(self.population.registered_day[employers], month.first_day)
        return uniform_days(self.rng, low.astype(np.int64), month.last_day)

    def _complaints(
        self, month: Month, active: np.ndarray, violation: np.ndarray, month_share: float
    ) -> None:
        rng = self.rng
        rate = np.square(violation)  # severe, widespread violations make most complaints
        rate *= COMPLAINT_FOUNDED
        rate += COMPLAINT_UNFOUNDED
        rate *= (self.complaint_size * month_share)[:, None]
        total = rate.sum(axis=1)
        who = np.flatnonzero((rng.random(len(total)) < total) & active)
        cumulative = np.cumsum(rate[who], axis=1)
        pick = rng.random(len(who)) * cumulative[:, -1]
        category = np.minimum((cumulative < pick[:, None]).sum(axis=1), CATEGORY_COUNT - 1)
        day = self._days_in(month, who)

        organised = self.population.union[who] | self.population.organising_drive[who]
        petition_chance = np.where(category == ASSOCIATION, np.where(organised, 0.6, 0.05), 0.0)
        is_petition = rng.random(len(who)) < petition_chance
        other_channel = np.searchsorted(np.array([0.35, 0.75]), rng.random(len(who)), side="right")
        channel = np.where(is_petition, UNION_PETITION, other_channel)
        recorded = np.where(rng.random(len(who)) < COMPLAINT_CATEGORY_MISSING, MISSING, category)
        self.complaints.add(employer=who, day=day, category=recorded, channel=channel)
        self.risk.mobilise(who[category == ASSOCIATION])

        visited = rng.random(len(who)) < np.where(is_petition, PETITION_VISITED, COMPLAINT_VISITED)
        visit_day = day + rng.integers(7, 57, len(who))
        keep = visited & (visit_day <= self.end_day)
        self.pending.push(who[keep], visit_day[keep], COMPLAINT, category[keep])

        auto = self.population.group[who] == Group.AUTO_PARTS
        rapid = is_petition & auto & (rng.random(len(who)) < 0.25)
        self._open_remediations(
            who[rapid], day[rapid] + rng.integers(30, 91, int(rapid.sum())), RRM
        )
        self.risk.rapid_response(who[rapid])

    def _inspections(
        self, month: Month, active: np.ndarray, violation: np.ndarray, month_share: float
    ) -> None:
        rng = self.rng
        population = self.population
        budget = INSPECTIONS_PER_EMPLOYER_YEAR / 12.0 * float(active.sum()) * month_share

        lottery = self.lottery_weight * self.region_weight[population.state]
        random_pick = _bernoulli_select(rng, lottery, active, RANDOM_SHARE * budget)

        recent_violator = (month.index - self.last_violation_month) <= 24
        campaign_category = np.full(population.size, MISSING, dtype=np.int8)
        for group, category in self.campaigns:
            campaign_category[population.group == group] = category
        planned_weight = self.planned_size_weight * (1.0 + 3.0 * (campaign_category >= 0))
        planned_weight += 12.0 * recent_violator
        planned_pick = _bernoulli_select(rng, planned_weight, active, PLANNED_SHARE * budget)

        other_pick = _bernoulli_select(
            rng, violation[:, SAFETY].astype(np.float64), active, OTHER_SHARE * budget
        )
        due_employer, due_day, due_origin, due_category = self.pending.pop_due(month.last_day)

        scheduled = np.concatenate([random_pick, planned_pick, other_pick])
        employer = np.concatenate([scheduled, due_employer]).astype(np.int32)
        day = np.concatenate([self._days_in(month, scheduled), due_day]).astype(np.int32)
        origin = np.concatenate(
            [
                np.full(len(random_pick), RANDOM, np.int8),
                np.full(len(planned_pick), PLANNED, np.int8),
                np.full(len(other_pick), OTHER, np.int8),
                due_origin,
            ]
        )
        forced = np.concatenate(
            [
                np.full(len(random_pick), MISSING, np.int8),
                campaign_category[planned_pick],
                np.full(len(other_pick), SAFETY, np.int8),
                due_category,
            ]
        )
        self._visit(employer, day, origin, forced, violation, month)

    def _visit(
        self,
        employer: np.ndarray,
        day: np.ndarray,
        origin: np.ndarray,
        forced: np.ndarray,
        violation: np.ndarray,
        month: Month,
    ) -> None:
        """Carry out the visits: coverage, findings, sanctions, and what follows them."""
        rng = self.rng
        count = len(employer)
        office = self.inspectorate.employer_office[employer]
        inspector = self.inspectorate.assign_inspectors(rng, office)
        skill = self.inspectorate.inspector_skill[inspector]

        covered = rng.random((count, CATEGORY_COUNT)) < COVERAGE
        has_forced = forced >= 0
        covered[np.flatnonzero(has_forced), forced[has_forced]] = True
        covered[~covered.any(axis=1), SAFETY] = True
        chance = violation[employer] * DETECTION * skill[:, None]
        violated = covered & (rng.random((count, CATEGORY_COUNT)) < chance)
        found = violated.any(axis=1)

        employees = self.population.employees[employer]
        sanction = np.where(
            violated,
            np.round(
                np.exp(
                    rng.normal(
                        np.log(15_000.0) + 0.45 * np.log1p(employees)[:, None],
                        0.9,
                        (count, CATEGORY_COUNT),
                    )
                ),
                -1,
            ),
            np.nan,
        )
        row, category = np.nonzero(covered)
        self.findings.add(
            inspection=row + self.inspection_count,
            category=category,
            violation=violated[row, category],
            sanction=sanction[row, category],
        )
        self.inspections.add(
            employer=employer, day=day, origin=origin, inspector=inspector, violation=found
        )
        self.inspection_count += count

        violators = np.flatnonzero(found)
        self.risk.deter(employer[violators], violated[violators])
        self.last_violation_month[employer[violators]] = month.index

        follow = violators[rng.random(len(violators)) < FOLLOW_UP_SHARE]
        follow_day = day[follow] + rng.integers(60, 241, len(follow))
        in_world = follow_day <= self.end_day
        first_violated = np.argmax(violated[follow], axis=1).astype(np.int8)
        self.pending.push(
            employer[follow][in_world], follow_day[in_world], FOLLOW_UP, first_violated[in_world]
        )

        total_sanction = np.nansum(sanction[violators], axis=1)
        heavy = violators[(total_sanction > 250_000) & (rng.random(len(violators)) < 0.6)]
        self._open_remediations(
            employer[heavy], day[heavy] + rng.integers(15, 76, len(heavy)), SANCTION
        )
        auto = self.population.group[employer[violators]] == Group.AUTO_PARTS
        association = violated[violators, ASSOCIATION]
        rapid = violators[auto & association & (rng.random(len(violators)) < 0.5)]
        self._open_remediations(employer[rapid], day[rapid] + rng.integers(30, 91, len(rapid)), RRM)
        self.risk.rapid_response(employer[rapid])
        agreed = violators[rng.random(len(violators)) < 0.04]
        self._open_remediations(
            employer[agreed], day[agreed] + rng.integers(15, 61, len(agreed)), AGREEMENT
        )

    def _open_remediations(self, employer: np.ndarray, opened: np.ndarray, source: int) -> None:
        """Plans open within the world; they close 3-18 months later, or stay open at the end."""
        inside = opened <= self.end_day
        employer, opened = employer[inside], opened[inside]
        closed = opened + self.rng.integers(91, 548, len(employer))
        closed = np.where(closed <= self.end_day, closed, MISSING_DAY)
        self.remediations.add(
            employer=employer, opened=opened, closed=closed, source=np.full(len(employer), source)
        )


def simulate(
    config: WorldConfig,
    rng: np.random.Generator,
    population: Population,
    inspectorate: Inspectorate,
) -> EventLog:
    """Run the world month by month and return what happened."""
    log = Simulation(config, rng, population, inspectorate).run()
    logger.info(
        "simulated %d months: %d inspections, %d complaints, %d remediation plans opened",
        len(months_of(config)),
        len(log.inspection_employer),
        len(log.complaint_employer),
        len(log.remediation_employer),
    )
    return log
