"""The ways inspections are chosen without this model, to be beaten in the same folds.

- ``random``: a lottery, the floor.
- ``business_as_usual``: the rule of thumb — workplaces with recent complaints first, then
  past violators, then the largest workplaces.
- ``cell_rate``: the inspectorate's official approach — the smoothed historical violation
  rate of the workplace's state × sector × size cell.
- ``logistic``: a logistic regression on the same features as the model.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from features.catalogue import FeatureSpec, Kind

SIZE_ORDER = {"micro": 0, "small": 1, "medium": 2, "large": 3}
#: Rows the logistic design transforms at a time (bounds its copies' memory).
BLOCK_ROWS = 100_000


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
        # SipHash of the id keyed by the seed, vectorised (a Python hash per workplace took
        # 20 s per fold at 1M workplaces); the top 53 bits make a uniform float in [0, 1)
        key = f"{self.seed:016d}"[-16:]
        ids = features.index.astype(str).to_numpy(dtype=object)
        digest = pd.util.hash_array(ids, hash_key=key, categorize=False)
        return (digest >> np.uint64(11)).astype(np.float64) / 2.0**53


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


def _median(present: np.ndarray) -> float:
    """A column's median over its present values (0 if none): the imputer's ``"median"``,
    without the masked arrays that made it a tenth of a fold's evaluation at 1M."""
    return float(np.median(present)) if len(present) else 0.0


class LogisticDesign:
    """The logistic regression's inputs: impute, scale, one-hot the frequent levels.

    It depends on the features only, so one fitted on a fold's training examples serves
    every target (building it was most of the baseline's cost, once per target).
    Categorical levels are integer codes of the levels seen in fitting (-1: unseen), for
    the one-hot encoder's fast path; strings took it through a Python loop per cell.
    """

    def __init__(self, specs: list[FeatureSpec]) -> None:
        self.numeric = [s.name for s in specs if s.kind == Kind.NUMERIC]
        self.categorical = [s.name for s in specs if s.kind == Kind.CATEGORICAL]
        self.levels: dict[str, pd.Index] = {}
        self.prepare: ColumnTransformer | None = None

    def _codes(self, features: pd.DataFrame, name: str) -> np.ndarray:
        values = features[name].astype("string").fillna("?").to_numpy(dtype=object)
        return self.levels[name].get_indexer(values).astype(np.int64)

    def _frame(self, features: pd.DataFrame) -> pd.DataFrame:
        # single precision: half the memory, and the regression's passes over it ~1.6x faster
        out = features[self.numeric].astype(np.float32)
        for name in self.categorical:
            out[name] = self._codes(features, name)
        return out

    def fit_transform(self, features: pd.DataFrame) -> np.ndarray:
        """Fit on ``features`` and return their design matrix (fitting builds it anyway)."""
        self.levels = {
            name: pd.Index(features[name].astype("string").fillna("?").unique(), dtype=object)
            for name in self.categorical
        }
        numeric = make_pipeline(
            SimpleImputer(strategy=_median, add_indicator=True, keep_empty_features=True),
            FunctionTransformer(np.arcsinh),  # counts and amounts are heavy-tailed
            StandardScaler(),
        )
        categorical = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            min_frequency=50,
            max_categories=40,
            dtype=np.float32,
        )
        self.prepare = ColumnTransformer(
            [("numeric", numeric, self.numeric), ("categorical", categorical, self.categorical)],
            sparse_threshold=0.0,  # dense, whatever a block's density: blocks must agree
        )
        return self.prepare.fit_transform(self._frame(features))

    def transform(self, features: pd.DataFrame) -> np.ndarray:
        """The design matrix, built a block of rows at a time: the imputer, arcsinh, scaler
        and encoder each copy their input, several times the matrix at a million rows."""
        if self.prepare is None:
            raise RuntimeError("fit the logistic design before transforming")
        if len(features) <= BLOCK_ROWS:
            return self.prepare.transform(self._frame(features))
        out: np.ndarray | None = None
        for start in range(0, len(features), BLOCK_ROWS):
            block = self.prepare.transform(self._frame(features.iloc[start : start + BLOCK_ROWS]))
            if out is None:
                out = np.empty((len(features), block.shape[1]), dtype=block.dtype)
            out[start : start + len(block)] = block
        assert out is not None
        return out


class LogisticRegressionOnDesign:
    """The regression itself, on a :class:`LogisticDesign`'s matrix."""

    name = "logistic"

    def __init__(self, seed: int = 0) -> None:
        # a sound fit, not the last digit: the loose tolerance halves the time
        self.model = LogisticRegression(C=0.1, tol=1e-3, max_iter=300, random_state=seed)

    def fit(self, design_matrix: np.ndarray, y: np.ndarray) -> LogisticRegressionOnDesign:
        self.model.fit(design_matrix, np.asarray(y))
        return self

    def score(self, design_matrix: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(design_matrix)[:, 1].astype(np.float64)


class LogisticScorer:
    """Logistic regression on the model's features (a :class:`Scorer` of feature frames)."""

    name = "logistic"

    def __init__(self, specs: list[FeatureSpec], seed: int = 0) -> None:
        self.design = LogisticDesign(specs)
        self.regression = LogisticRegressionOnDesign(seed)

    def fit(self, features: pd.DataFrame, y: np.ndarray) -> LogisticScorer:
        self.regression.fit(self.design.fit_transform(features), y)
        return self

    def score(self, features: pd.DataFrame) -> np.ndarray:
        return self.regression.score(self.design.transform(features))


def rule_baselines(target: str, seed: int = 0) -> list[Scorer]:
    """The baselines that learn nothing from examples: lottery, rule of thumb, cell rate."""
    cell = (
        "peer_rate_state_sector2_size"
        if target == "any"
        else (f"peer_rate_{target}_state_sector2_size")
    )
    return [RandomScorer(seed), BusinessAsUsualScorer(), CellRateScorer(cell)]


def baseline_scorers(specs: list[FeatureSpec], target: str, seed: int = 0) -> list[Scorer]:
    """Fresh, unfitted baselines for one target (``any`` or a category)."""
    return [*rule_baselines(target, seed), LogisticScorer(specs, seed)]
