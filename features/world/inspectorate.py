"""Offices and inspectors: who inspects a workplace, and how much they find.

Each state has at least one office (more for the biggest states); a workplace
belongs to one office by its municipality. Inspectors differ in detection skill,
a multiplier between 0.6 and 1.3 on the chance of finding a violation that exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.world.geography import STATE_WEIGHTS, STATES, office_names, offices_per_state
from features.world.population import Population


@dataclass(frozen=True)
class Inspectorate:
    office_names: tuple[str, ...]
    employer_office: np.ndarray  # int16 office index of each workplace
    inspector_office: np.ndarray  # int16 office index of each inspector
    inspector_skill: np.ndarray  # float32 detection multiplier
    office_first_inspector: np.ndarray  # int32, inspectors of office k are [first[k], first[k+1])

    @property
    def mean_skill(self) -> float:
        return float(self.inspector_skill.mean())

    def inspector_names(self, inspector: np.ndarray) -> np.ndarray:
        width = max(4, len(str(len(self.inspector_skill))))
        names = np.array([f"INS-{k + 1:0{width}d}" for k in range(len(self.inspector_skill))])
        return names[inspector]

    def assign_inspectors(self, rng: np.random.Generator, office: np.ndarray) -> np.ndarray:
        """A uniformly chosen inspector of the workplace's office for each inspection."""
        first = self.office_first_inspector[office]
        count = self.office_first_inspector[office + 1] - first
        return (first + np.floor(rng.random(len(office)) * count)).astype(np.int32)


def build_inspectorate(rng: np.random.Generator, population: Population) -> Inspectorate:
    """Offices by state, inspectors by office (scaled to the workload), skills."""
    counts = offices_per_state(population.size)
    names: list[str] = []
    first_office = np.zeros(len(STATES) + 1, dtype=np.int32)
    for index in range(len(STATES)):
        names.extend(office_names(index, int(counts[index])))
        first_office[index + 1] = len(names)
    employer_office = (
        first_office[population.state] + population.municipality % counts[population.state]
    ).astype(np.int16)

    total_inspectors = int(np.clip(population.size / 1_500, 40, 1_200))
    per_office = np.concatenate(
        [
            np.full(counts[s], max(2, round(total_inspectors * STATE_WEIGHTS[s] / counts[s])))
            for s in range(len(STATES))
        ]
    )
    inspector_office = np.repeat(np.arange(len(names)), per_office).astype(np.int16)
    skill = np.clip(0.95 * np.exp(rng.normal(0.0, 0.2, len(inspector_office))), 0.6, 1.3)
    office_first = np.concatenate([[0], np.cumsum(per_office)]).astype(np.int32)
    return Inspectorate(
        office_names=tuple(names),
        employer_office=employer_office,
        inspector_office=inspector_office,
        inspector_skill=skill.astype(np.float32),
        office_first_inspector=office_first,
    )
