"""The ways inspections are chosen without this model, to be beaten in the same folds.

- ``random``: a lottery, the floor.
- ``business_as_usual``: the rule of thumb — workplaces with recent complaints first, then
  past violators, then the largest workplaces.
- ``cell_rate``: the inspectorate's official approach — the smoothed historical violation
  rate of the workplace's state × sector × size cell.
- ``logistic``: a logistic regression on the same features as the model.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from features.catalogue import FeatureSpec, Kind

SIZE_ORDER = {"micro": 0, "small": 1, "medium": 2, "large": 3}


class Scorer(Protocol):
    name: str

    def fit(self, features: pd.DataFrame, y: np.ndarray) -> Scorer: ...

    def score(self, features: pd.DataFrame) -> np.ndarray: ...


class RandomScorer:
    """A seeded lottery; each workplace's draw depends only on its id, so it is reproducible."""

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, features: pd.DataFrame, y: np.ndarray) -> RandomScorer:
        return self

    def score(self, features: pd.DataFrame) -> np.ndarray:
        def draw(employer_id: str) -> float:
            digest = hashlib.blake2b(f"{self.seed}:{employer_id}".encode(), digest_size=8)
            return int.from_bytes(digest.digest(), "big") / 2**64

        return np.fromiter((draw(str(i)) for i in features.index), np.float64, len(features))


class BusinessAsUsualScorer:
    """Complaints first, then past violators, then large workplaces (a lexicographic rule)."""

    name = "business_as_usual"

    def fit(self, features: pd.DataFrame, y: np.ndarray) -> BusinessAsUsualScorer:
        return self

    def score(self, features: pd.DataFrame) -> np.ndarray:
        complained = (features["complaints_1y"] > 0).to_numpy(np.float64)
        violated = (features["violations_3y"] > 0).to_numpy(np.float64)
        size = features["size_band"].map(SIZE_ORDER).astype("float64").fillna(0).to_numpy()
        employees = np.log1p(features["employees"].fillna(0).to_numpy(np.float64))
        return 4.0 * complained + 2.0 * violated + (size + employees / 20.0) / 4.0


class CellRateScorer:
    """The smoothed violation rate of the workplace's state × sector × size cell."""

    name = "cell_rate"

    def __init__(self, column: str = "peer_rate_state_sector2_size") -> None:
        self.column = column

    def fit(self, features: pd.DataFrame, y: np.ndarray) -> CellRateScorer:
        return self

    def score(self, features: pd.DataFrame) -> np.ndarray:
        return features[self.column].to_numpy(np.float64)


class LogisticScorer:
    """Logistic regression on the model's features: impute, scale, one-hot the frequent levels."""

    name = "logistic"

    def __init__(self, specs: list[FeatureSpec], seed: int = 0) -> None:
        self.numeric = [s.name for s in specs if s.kind == Kind.NUMERIC]
        self.categorical = [s.name for s in specs if s.kind == Kind.CATEGORICAL]
        self.seed = seed
        self.pipeline: Pipeline | None = None

    def _frame(self, features: pd.DataFrame) -> pd.DataFrame:
        out = features[self.numeric].astype(np.float64)
        for name in self.categorical:
            out[name] = features[name].astype("string").fillna("?").to_numpy(dtype=object)
        return out

    def fit(self, features: pd.DataFrame, y: np.ndarray) -> LogisticScorer:
        numeric = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            FunctionTransformer(np.arcsinh),  # counts and amounts are heavy-tailed
            StandardScaler(),
        )
        categorical = OneHotEncoder(
            handle_unknown="infrequent_if_exist", min_frequency=50, max_categories=40
        )
        self.pipeline = Pipeline(
            [
                (
                    "prepare",
                    ColumnTransformer(
                        [
                            ("numeric", numeric, self.numeric),
                            ("categorical", categorical, self.categorical),
                        ]
                    ),
                ),
                # a sound fit, not the last digit: the loose tolerance halves the time
                (
                    "model",
                    LogisticRegression(C=0.1, tol=1e-3, max_iter=300, random_state=self.seed),
                ),
            ]
        )
        self.pipeline.fit(self._frame(features), np.asarray(y))
        return self

    def score(self, features: pd.DataFrame) -> np.ndarray:
        if self.pipeline is None:
            raise RuntimeError("fit the logistic baseline before scoring")
        return self.pipeline.predict_proba(self._frame(features))[:, 1]


def baseline_scorers(specs: list[FeatureSpec], target: str, seed: int = 0) -> list[Scorer]:
    """Fresh, unfitted baselines for one target (``any`` or a category)."""
    cell = (
        "peer_rate_state_sector2_size"
        if target == "any"
        else (f"peer_rate_{target}_state_sector2_size")
    )
    return [
        RandomScorer(seed),
        BusinessAsUsualScorer(),
        CellRateScorer(cell),
        LogisticScorer(specs, seed),
    ]
