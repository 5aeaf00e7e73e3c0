"""Shared for the model tests: the risk model fitted once on the small world."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import pytest

from calle.settings import MEXICO_CATEGORIES
from features.catalogue import FeatureSpec
from features.frames import ContractFrames
from features.matrix import attribute_kinds_of, feature_matrix, feature_specs
from models.risk_model import LightGBMParams, RiskModel, fit_risk_model
from training.labels import label_examples

CATS = list(MEXICO_CATEGORIES)
TRAIN = [date(2022, 1, 1), date(2023, 1, 1)]
VALID = date(2024, 1, 1)
SCORE = date(2025, 1, 1)


def _examples(frames: ContractFrames, dates: list[date]) -> tuple[pd.DataFrame, pd.DataFrame]:
    xs, ls = [], []
    for as_of in dates:
        labels = label_examples(frames, as_of, 365, CATS)
        xs.append(feature_matrix(frames, as_of, CATS).loc[labels.index])
        ls.append(labels)
    return pd.concat(xs), pd.concat(ls)


#: The small world's parameters: fewer examples per leaf than the default's 50.
PARAMS = LightGBMParams(min_child_samples=20)


@dataclass(frozen=True)
class Examples:
    """Training and out-of-time validation examples of the small world, and the catalogue."""

    x_train: pd.DataFrame
    l_train: pd.DataFrame
    x_valid: pd.DataFrame
    l_valid: pd.DataFrame
    specs: list[FeatureSpec]

    def fit(self, **options: Any) -> RiskModel:
        return self.fit_with(PARAMS, **options)

    def fit_with(self, params: LightGBMParams, **options: Any) -> RiskModel:
        return fit_risk_model(
            self.x_train,
            self.l_train,
            self.x_valid,
            self.l_valid,
            self.specs,
            CATS,
            params,
            **options,
        )


def _examples_of(frames: ContractFrames) -> Examples:
    x_train, l_train = _examples(frames, TRAIN)
    x_valid, l_valid = _examples(frames, [VALID])
    return Examples(
        x_train, l_train, x_valid, l_valid, feature_specs(CATS, attribute_kinds_of(frames))
    )


def _fit(frames: ContractFrames) -> RiskModel:
    """Examples made afresh from ``frames``, and the model fitted on them."""
    return _examples_of(frames).fit()


@pytest.fixture(scope="session")
def small_world_examples(small_world_frames: ContractFrames) -> Examples:
    return _examples_of(small_world_frames)


@pytest.fixture(scope="session")
def small_world_model(small_world_examples: Examples) -> RiskModel:
    return small_world_examples.fit()


@pytest.fixture(scope="session")
def small_world_population(small_world_frames: ContractFrames) -> pd.DataFrame:
    return feature_matrix(small_world_frames, SCORE, CATS)
