"""The workplaces: what the directory shows about them and the traits it hides.

Hidden traits (outsourcing, union or organising drive, share of women, management
quality, age) drive the true risk. The directory shows them only partly: a noisy
REPSE flag for outsourcing, a partial collective-agreement flag, an often-missing
share of women, and nothing at all about management quality.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.world.config import WorldConfig, to_day
from features.world.geography import draw_coordinates, draw_municipalities, draw_states
from features.world.sectors import SECTOR_GROUP, Group, draw_sectors

#: Upper headcount bound of micro, small, medium; above is large (DENUE-like strata).
SIZE_LIMITS: tuple[int, int, int] = (10, 50, 250)
MISSING = -1

# Typical scale of headcount per activity group (multiplies a heavy-tailed draw).
_SIZE_SCALE = {
    Group.RETAIL: 1.0,
    Group.WHOLESALE: 2.0,
    Group.FOOD_SERVICE: 1.3,
    Group.SERVICES: 1.0,
    Group.STAFFING: 6.0,
    Group.TRANSPORT: 3.0,
    Group.CONSTRUCTION: 4.0,
    Group.MANUFACTURING: 1.5,
    Group.GARMENT: 8.0,
    Group.AUTO_PARTS: 60.0,
    Group.MINING: 20.0,
}
_WOMEN_MEAN = {
    Group.RETAIL: 0.55,
    Group.WHOLESALE: 0.35,
    Group.FOOD_SERVICE: 0.6,
    Group.SERVICES: 0.6,
    Group.STAFFING: 0.45,
    Group.TRANSPORT: 0.12,
    Group.CONSTRUCTION: 0.08,
    Group.MANUFACTURING: 0.35,
    Group.GARMENT: 0.72,
    Group.AUTO_PARTS: 0.45,
    Group.MINING: 0.1,
}
_OUTSOURCING_EFFECT = {Group.STAFFING: 1.5, Group.AUTO_PARTS: 1.0, Group.CONSTRUCTION: 0.8,
                       Group.MINING: 0.8, Group.MANUFACTURING: 0.5, Group.GARMENT: 0.5,
                       Group.RETAIL: -0.3, Group.FOOD_SERVICE: -0.2}  # fmt: skip
_UNION_EFFECT = {Group.AUTO_PARTS: 1.0, Group.MINING: 1.5, Group.MANUFACTURING: 0.3,
                 Group.TRANSPORT: 0.5, Group.GARMENT: 0.3, Group.RETAIL: -0.5}  # fmt: skip
_EMPLOYEES_MISSING = np.array([0.86, 0.68, 0.5, 0.35])  # by true size band
_SIZE_BAND_MISSING = np.array([0.12, 0.05, 0.05, 0.05])
NEW_ENTRANT_SHARE = 0.15


def _by_group(table: dict[Group, float], group: np.ndarray, default: float = 0.0) -> np.ndarray:
    lookup = np.array([table.get(g, default) for g in Group])
    return lookup[group]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def size_bands(employees: np.ndarray) -> np.ndarray:
    """0 micro, 1 small, 2 medium, 3 large."""
    return np.searchsorted(np.array(SIZE_LIMITS), employees, side="left").astype(np.int8)


@dataclass(frozen=True)
class Population:
    """One row per workplace, as parallel arrays (index = employer number - 1)."""

    state: np.ndarray  # int8 index into STATES
    municipality: np.ndarray  # int16 number within the state
    sector: np.ndarray  # int16 index into SECTORS
    group: np.ndarray  # int8 Group
    employees: np.ndarray  # int32 true headcount
    size_band: np.ndarray  # int8 true band
    registered_day: np.ndarray  # int32 days since epoch
    latitude: np.ndarray
    longitude: np.ndarray
    # hidden traits
    outsourcing: np.ndarray  # bool
    union: np.ndarray  # bool: union or collective agreement
    organising_drive: np.ndarray  # bool
    women_share: np.ndarray  # float32 in [0, 1]
    management: np.ndarray  # float32, standard normal; higher is better run
    young: np.ndarray  # bool: under three years old when the world starts or new
    # what the directory shows
    employees_visible: np.ndarray  # int32, MISSING when not reported
    size_band_visible: np.ndarray  # int8, MISSING when not reported
    attr_repse_registered: np.ndarray  # int8 0/1, MISSING
    attr_collective_agreement: np.ndarray  # int8 0/1, MISSING
    attr_women_share: np.ndarray  # float64, NaN when missing

    @property
    def size(self) -> int:
        return len(self.state)


def draw_population(config: WorldConfig, rng: np.random.Generator) -> Population:
    """Draw every workplace and its traits, vectorised."""
    n = config.employers
    state = draw_states(rng, n)
    municipality = draw_municipalities(rng, state)
    sector = draw_sectors(rng, state)
    group = SECTOR_GROUP[sector]
    latitude, longitude = draw_coordinates(rng, state, municipality)

    # Heavy-tailed headcount (Pareto, alpha just under 1), scaled by activity.
    pareto = (1.0 - rng.random(n)) ** (-1.0 / 0.95)
    employees = np.minimum(
        np.maximum(1, np.floor(1.6 * _by_group(_SIZE_SCALE, group, 1.0) * pareto)), 20_000
    ).astype(np.int32)
    band = size_bands(employees)
    log_size = np.log1p(employees)

    start_day = to_day(config.start)
    end_day = to_day(config.end)
    new_entrant = rng.random(n) < NEW_ENTRANT_SHARE
    age_years = np.minimum(np.exp(rng.normal(2.0, 0.8, n)), 60.0)
    registered_day = np.where(
        new_entrant,
        start_day + np.floor(rng.random(n) * (end_day - start_day + 1)),
        start_day - 1 - np.floor(age_years * 365.25),
    ).astype(np.int32)
    young = new_entrant | (age_years < 3.0)

    outsourcing = rng.random(n) < _sigmoid(
        -1.8 + 0.3 * log_size + _by_group(_OUTSOURCING_EFFECT, group)
    )
    union = rng.random(n) < _sigmoid(-4.2 + 0.65 * log_size + _by_group(_UNION_EFFECT, group))
    drive = ~union & (
        rng.random(n) < _sigmoid(-5.0 + 0.35 * log_size + 1.3 * (group == Group.AUTO_PARTS))
    )
    women_mean = _by_group(_WOMEN_MEAN, group, 0.4)
    women_share = rng.beta(6.0 * women_mean, 6.0 * (1.0 - women_mean)).astype(np.float32)
    management = rng.standard_normal(n).astype(np.float32)

    employees_visible = np.where(
        rng.random(n) < _EMPLOYEES_MISSING[band], MISSING, employees
    ).astype(np.int32)
    size_band_visible = np.where(rng.random(n) < _SIZE_BAND_MISSING[band], MISSING, band)
    repse = np.where(rng.random(n) < np.where(outsourcing, 0.6, 0.07), 1, 0)
    repse = np.where(rng.random(n) < 0.35, MISSING, repse).astype(np.int8)
    agreement_p = np.where(union, 0.75, np.where(drive, 0.1, 0.02))
    agreement = np.where(rng.random(n) < agreement_p, 1, 0)
    agreement = np.where(rng.random(n) < 0.4, MISSING, agreement).astype(np.int8)
    noisy_women = np.round(np.clip(women_share + rng.normal(0.0, 0.08, n), 0.0, 1.0), 2)
    attr_women = np.where(rng.random(n) < 0.7, np.nan, noisy_women)

    return Population(
        state=state,
        municipality=municipality,
        sector=sector,
        group=group,
        employees=employees,
        size_band=band,
        registered_day=registered_day,
        latitude=latitude,
        longitude=longitude,
        outsourcing=outsourcing,
        union=union,
        organising_drive=drive,
        women_share=women_share,
        management=management,
        young=young,
        employees_visible=employees_visible,
        size_band_visible=size_band_visible.astype(np.int8),
        attr_repse_registered=repse,
        attr_collective_agreement=agreement,
        attr_women_share=attr_women,
    )
