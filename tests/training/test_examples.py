"""Examples of a date built from the inspected workplaces alone equal the population's rows."""

from __future__ import annotations

from datetime import date

import pandas as pd

from calle.settings import MEXICO_CATEGORIES
from training.examples import ExampleBuilder

AS_OF = date(2023, 1, 1)


def test_examples_without_the_population_are_its_rows(small_world_frames):
    categories = list(MEXICO_CATEGORIES)
    alone = ExampleBuilder(
        small_world_frames, categories, 365, propensity=True, propensity_dates=[date(2024, 1, 1)]
    )
    features, labels = alone.examples(AS_OF)
    population, expected_labels = ExampleBuilder(
        small_world_frames, categories, 365
    ).population_and_labels(AS_OF)
    assert len(features) == len(labels) > 100
    assert len(features) < len(population) / 2, "only the inspected were built"
    pd.testing.assert_frame_equal(
        features, population.loc[labels.index], check_exact=False, rtol=1e-12
    )
    pd.testing.assert_frame_equal(labels, expected_labels)
    assert "inspection_propensity" not in labels


def test_a_propensity_date_still_models_everyone(small_world_frames):
    builder = ExampleBuilder(small_world_frames, list(MEXICO_CATEGORIES), 365, propensity=True)
    _, labels = builder.examples(AS_OF)
    assert labels["inspection_propensity"].between(0, 1).all()
