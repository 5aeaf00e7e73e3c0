"""Features and labels per as-of date, computed once and shared by every fold that needs them.

Only the labelled rows (workplaces inspected within the horizon, about a tenth) are kept
between folds; the whole population's features are built again when a fold is scored,
so memory stays proportional to the examples, not to dates × workplaces. A date used only
for training builds the inspected workplaces' features alone (with the population's peer
rates, so the rows are the population's).

With ``propensity`` on, each date's chance of inspection is modelled on that whole
population while it is at hand, and kept with the labels (``inspection_propensity``): on
every date, or only on ``propensity_dates`` when only those need it (the test dates, when
no model is trained weighted: the fit costs several times the date's features).
With ``inspector_prior`` set, each example also carries the strictness of the inspector
who made the visit (:mod:`features.inspector_strictness`), for training only.
Features are computed, and boosters grown, where ``compute`` says (:mod:`training.compute`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from datetime import date

import numpy as np
import pandas as pd

from features.catalogue import FeatureSpec
from features.frames import ContractFrames
from features.inspector_strictness import FEATURE as STRICTNESS
from features.inspector_strictness import strictness_of
from features.matrix import (
    attribute_kinds_of,
    feature_matrix,
    feature_specs,
    population_peer_rates,
)
from models.inspection_propensity import fit_propensity
from training.compute import IN_PROCESS, Compute, InProcess
from training.labels import label_examples

log = logging.getLogger(__name__)


class ExampleBuilder:
    def __init__(
        self,
        frames: ContractFrames,
        categories: list[str],
        horizon_days: int,
        propensity: bool = False,
        seed: int = 0,
        inspector_prior: int | None = None,
        compute: Compute = IN_PROCESS,
        propensity_dates: Collection[date] | None = None,
    ) -> None:
        self.frames = frames
        self.categories = categories
        self.horizon_days = horizon_days
        self.propensity = propensity
        self.propensity_dates = None if propensity_dates is None else frozenset(propensity_dates)
        self.seed = seed
        self.inspector_prior = inspector_prior
        self.compute = compute
        self.attribute_kinds = attribute_kinds_of(frames)
        self.specs: list[FeatureSpec] = feature_specs(categories, self.attribute_kinds)
        self._examples: dict[date, tuple[pd.DataFrame, pd.DataFrame]] = {}

    def population(self, as_of: date) -> pd.DataFrame:
        """Features of every workplace that existed before ``as_of``."""
        started = time.perf_counter()
        matrix = self.compute.features(self.frames, as_of, self.categories, self.attribute_kinds)
        log.info(
            "features as of %s: %d workplaces × %d features (%.1f s)",
            as_of,
            len(matrix),
            matrix.shape[1],
            time.perf_counter() - started,
        )
        return matrix

    def labels(self, as_of: date) -> pd.DataFrame:
        return label_examples(self.frames, as_of, self.horizon_days, self.categories)

    def examples(self, as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(features, labels) of the workplaces inspected within the horizon after ``as_of``.

        Where nothing else needs the date's whole population (no propensity to model on it),
        only the inspected workplaces' features are built, with the population's peer rates:
        the same rows, at a fraction of the cost (a tenth of the workplaces are inspected).
        """
        if as_of not in self._examples:
            # on a cluster the workers build whole slices of the store: the population
            if self._models_propensity(as_of) or not isinstance(self.compute, InProcess):
                self.population_and_labels(as_of)
            else:
                labels = self.labels(as_of)
                self._keep_examples(as_of, self._features_of(labels.index, as_of), labels)
        return self._examples[as_of]

    def _models_propensity(self, as_of: date) -> bool:
        return self.propensity and (self.propensity_dates is None or as_of in self.propensity_dates)

    def _features_of(self, employer_ids: pd.Index, as_of: date) -> pd.DataFrame:
        """Features of ``employer_ids`` as the whole population's matrix has them."""
        started = time.perf_counter()
        rates = population_peer_rates(self.frames, as_of, self.categories)
        some = self.frames.of_employers(employer_ids)
        matrix = feature_matrix(some, as_of, self.categories, self.attribute_kinds, rates)
        log.info(
            "features as of %s: %d inspected workplaces × %d features (%.1f s)",
            as_of,
            len(matrix),
            matrix.shape[1],
            time.perf_counter() - started,
        )
        return matrix.loc[employer_ids]

    def population_and_labels(self, as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Everyone's features and the labels, from one computation; the examples are kept."""
        labels = self.labels(as_of)
        population = self.population(as_of)
        self._keep_examples(as_of, population.loc[labels.index], labels, population)
        return population, labels

    def _keep_examples(
        self,
        as_of: date,
        examples: pd.DataFrame,
        labels: pd.DataFrame,
        population: pd.DataFrame | None = None,
    ) -> None:
        if self.inspector_prior is not None:
            strictness = strictness_of(
                labels["inspector_id"], self.frames.inspections, as_of, self.inspector_prior
            )
            examples = examples.assign(**{STRICTNESS: strictness})
        if self._models_propensity(as_of):
            assert population is not None, "propensity is modelled on the whole population"
            started = time.perf_counter()
            inspected = population.index.isin(labels.index)
            model = fit_propensity(population, inspected, self.specs, self.seed)
            labels["inspection_propensity"] = model.probability(examples)
            log.info(
                "inspection propensity as of %s: %.1f%% inspected, %.3f-%.3f (%.1f s)",
                as_of,
                100 * float(np.mean(inspected)),
                float(labels["inspection_propensity"].min()),
                float(labels["inspection_propensity"].max()),
                time.perf_counter() - started,
            )
        self._examples[as_of] = (examples, labels)

    def stacked(self, dates: list[date] | tuple[date, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
        parts = [self.examples(d) for d in dates]
        return pd.concat([p[0] for p in parts]), pd.concat([p[1] for p in parts])
