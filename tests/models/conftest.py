"""Shared for the model tests: the risk model fitted once on the small world."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from calle.settings import MEXICO_CATEGORIES
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


def _fit(frames: ContractFrames) -> RiskModel:
    x_train, l_train = _examples(frames, TRAIN)
    x_valid, l_valid = _examples(frames, [VALID])
    specs = feature_specs(CATS, attribute_kinds_of(frames))
    return fit_risk_model(
        x_train, l_train, x_valid, l_valid, specs, CATS, LightGBMParams(min_child_samples=20)
    )


@pytest.fixture(scope="session")
def small_world_model(small_world_frames: ContractFrames) -> RiskModel:
    return _fit(small_world_frames)


@pytest.fixture(scope="session")
def small_world_population(small_world_frames: ContractFrames) -> pd.DataFrame:
    return feature_matrix(small_world_frames, SCORE, CATS)
