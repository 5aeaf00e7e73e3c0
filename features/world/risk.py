"""True risk: the probability that each workplace is in violation, per category, now.

logit v_c(t) = base_c + sector_c + size_c + state_c + traits_c
             + u (workplace effect shared by all categories) + u_c (category-specific)
             + drift_c(t) (slow mean-reverting random walk)
             + deterrence_c(t) (negative after a sanctioned violation, relapsing)
             + mobilisation(t) (freedom of association only: after complaints, petitions)

The unobserved effects u and u_c are deliberately large: a good share of the risk is
visible in no column, so no model can rank perfectly — as in the real inspectorate.
"""

from __future__ import annotations

import numpy as np

from features.world.population import Population
from features.world.sectors import Group

CATEGORY_COUNT = 5
SAFETY, CONDITIONS, SUBCONTRACTING, ASSOCIATION, DISCRIMINATION = range(CATEGORY_COUNT)

BASE_LOGIT = np.array([-1.5, -1.2, -4.3, -5.0, -3.7])
#: Chance that an inspection covering the category finds a violation that exists
#: (before the inspector's skill): association and discrimination are hard to prove.
DETECTION = np.array([0.85, 0.8, 0.6, 0.35, 0.3])
#: Chance that an ordinary inspection covers the category (about four of five).
COVERAGE = np.array([0.92, 0.92, 0.72, 0.55, 0.6])

_GROUP_EFFECT = {
    Group.RETAIL: (-0.3, 0.1, -0.3, -0.5, 0.0),
    Group.WHOLESALE: (0.0, 0.0, 0.2, 0.0, -0.1),
    Group.FOOD_SERVICE: (0.3, 0.4, -0.2, -0.5, 0.1),
    Group.SERVICES: (-0.4, -0.1, 0.0, -0.5, 0.1),
    Group.STAFFING: (0.0, 0.3, 1.2, 0.2, 0.0),
    Group.TRANSPORT: (0.5, 0.3, 0.3, 0.3, -0.3),
    Group.CONSTRUCTION: (1.0, 0.4, 0.6, 0.0, -0.3),
    Group.MANUFACTURING: (0.5, 0.1, 0.2, 0.2, 0.0),
    Group.GARMENT: (0.6, 0.5, 0.5, 0.4, 0.8),
    Group.AUTO_PARTS: (0.4, 0.0, 0.5, 0.8, 0.6),
    Group.MINING: (1.2, 0.2, 0.6, 0.6, 0.0),
}
_SIZE_EFFECT = np.array(  # rows: micro, small, medium, large
    [
        [-0.2, 0.1, -0.6, -1.5, -0.5],
        [0.2, 0.2, 0.2, 0.0, 0.2],
        [0.4, 0.1, 0.6, 0.8, 0.4],
        [0.5, 0.0, 0.8, 1.2, 0.5],
    ]
)
SHARED_EFFECT_SD = 0.9
CATEGORY_EFFECT_SD = 0.8
STATE_EFFECT_SD = 0.25
DRIFT_PERSISTENCE = 0.985
DRIFT_STEP_SD = 0.07
DETERRENCE_VIOLATED = -0.9
DETERRENCE_OTHERS = -0.3
DETERRENCE_RRM = -2.5
DETERRENCE_DECAY = 0.85  # per month: half the deterrence is gone in about four months
MOBILISATION_STEP = 1.2
MOBILISATION_CAP = 3.0
MOBILISATION_DECAY = 0.95


def static_logits(rng: np.random.Generator, population: Population) -> np.ndarray:
    """The part of the logit that does not move over time, shape (workplaces, 5), float32."""
    n = population.size
    group_table = np.array([_GROUP_EFFECT[g] for g in Group])
    state_effect = rng.normal(0.0, STATE_EFFECT_SD, (32, CATEGORY_COUNT)) + rng.normal(
        0.0, STATE_EFFECT_SD, (32, 1)
    )
    logit = (
        BASE_LOGIT
        + group_table[population.group]
        + _SIZE_EFFECT[population.size_band]
        + state_effect[population.state]
    )
    management = population.management.astype(np.float64)
    young = population.young.astype(np.float64)
    logit[:, SAFETY] += -0.45 * management + 0.2 * young
    logit[:, CONDITIONS] += -0.45 * management + 0.4 * population.outsourcing + 0.2 * young
    logit[:, SUBCONTRACTING] += 2.8 * population.outsourcing - 0.3 * management
    logit[:, ASSOCIATION] += (
        2.2 * population.union + 3.0 * population.organising_drive - 0.2 * management
    )
    logit[:, DISCRIMINATION] += 3.5 * (population.women_share - 0.4) - 0.3 * management
    logit += rng.normal(0.0, SHARED_EFFECT_SD, (n, 1))
    logit += rng.normal(0.0, CATEGORY_EFFECT_SD, (n, CATEGORY_COUNT))
    return logit.astype(np.float32)


class RiskState:
    """The moving parts of the true risk, updated month by month."""

    def __init__(self, rng: np.random.Generator, population: Population) -> None:
        self.static = static_logits(rng, population)
        n = population.size
        stationary_sd = DRIFT_STEP_SD / np.sqrt(1.0 - DRIFT_PERSISTENCE**2)
        self.drift = rng.standard_normal((n, CATEGORY_COUNT), dtype=np.float32) * stationary_sd
        self.deterrence = np.zeros((n, CATEGORY_COUNT), dtype=np.float32)
        self.mobilisation = np.zeros(n, dtype=np.float32)

    def violation_probability(self) -> np.ndarray:
        """v_c(t) for every workplace and category, shape (workplaces, 5), float32."""
        logit = self.static + self.drift
        logit += self.deterrence
        logit[:, ASSOCIATION] += self.mobilisation
        np.negative(logit, out=logit)
        np.exp(logit, out=logit)
        logit += 1.0
        return np.reciprocal(logit, out=logit)

    def deter(self, workplaces: np.ndarray, violated: np.ndarray) -> None:
        """A sanctioned violation lowers risk, most in the categories found violated."""
        level = np.where(violated, DETERRENCE_VIOLATED, DETERRENCE_OTHERS).astype(np.float32)
        self.deterrence[workplaces] = np.minimum(self.deterrence[workplaces], level)

    def rapid_response(self, workplaces: np.ndarray) -> None:
        """A Rapid Response case forces a remediation plan on freedom of association."""
        self.deterrence[workplaces, ASSOCIATION] = DETERRENCE_RRM

    def mobilise(self, workplaces: np.ndarray) -> None:
        """Complaints and union petitions about association reveal and feed a conflict."""
        raised = self.mobilisation[workplaces] + MOBILISATION_STEP
        self.mobilisation[workplaces] = np.minimum(raised, MOBILISATION_CAP)

    def step(self, rng: np.random.Generator) -> None:
        """One month passes: drift moves, deterrence and mobilisation fade."""
        self.drift *= DRIFT_PERSISTENCE
        self.drift += rng.standard_normal(self.drift.shape, dtype=np.float32) * DRIFT_STEP_SD
        self.deterrence *= DETERRENCE_DECAY
        self.mobilisation *= MOBILISATION_DECAY
