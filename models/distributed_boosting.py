"""Growing a target's booster on a Dask cluster (LightGBM's Dask interface).

LightGBM trains data-parallel: each worker holds some of the examples and the workers
exchange histograms, so the trees are those of one model over all the examples (bin
boundaries and bagging are drawn per worker, so they are close to, not bit-equal with, the
trees grown in one process). The Dask interface has no early stopping, so all
``max_rounds`` are grown and then cut where LightGBM's own early stopping would have
stopped (:func:`early_stopping_round`): the same rule on the same validation set.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import dask.dataframe as dd
import lightgbm as lgb
import numpy as np
import pandas as pd
from distributed import Client

from models.risk_model import LightGBMParams, TrainSet, ValidSet

#: LightGBM's floor on probabilities in its log loss.
EPSILON = 1e-15


def log_loss(y: np.ndarray, margin: np.ndarray) -> float:
    """LightGBM's ``binary_logloss`` of raw margins (unweighted)."""
    p = np.clip(1.0 / (1.0 + np.exp(-margin)), EPSILON, 1.0 - EPSILON)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))


def early_stopping_round(
    booster: lgb.Booster, x_valid: pd.DataFrame, y_valid: np.ndarray, stopping_rounds: int
) -> int:
    """The number of rounds ``lgb.early_stopping(stopping_rounds)`` would keep: the first
    round with the lowest validation log loss, looking no further than ``stopping_rounds``
    past it."""
    margin = np.zeros(len(y_valid))
    best_loss, best_round = np.inf, 0
    for round_ in range(booster.current_iteration()):
        margin += booster.predict(x_valid, start_iteration=round_, num_iteration=1, raw_score=True)
        loss = log_loss(y_valid, margin)
        if loss < best_loss:
            best_loss, best_round = loss, round_
        elif round_ - best_round >= stopping_rounds:
            break
    return best_round + 1


@dataclass(frozen=True)
class DaskBoosterFit:
    """A :data:`~models.risk_model.BoosterFit` that trains on ``client``'s workers, the
    examples split into ``partitions`` parts (at least one per worker)."""

    client: Client
    partitions: int

    def __call__(
        self,
        booster_params: dict[str, object],
        params: LightGBMParams,
        train: TrainSet,
        valid: ValidSet,
    ) -> tuple[lgb.Booster, int]:
        x_train, y_train, w_train = train
        x_valid, y_valid = valid
        rows = pd.RangeIndex(len(x_train))
        parts = max(1, min(self.partitions, len(x_train)))
        x = dd.from_pandas(x_train.set_axis(rows), npartitions=parts, sort=False)
        y = dd.from_pandas(pd.Series(y_train, index=rows), npartitions=parts, sort=False)
        weight = (
            None
            if w_train is None
            else dd.from_pandas(pd.Series(w_train, index=rows), npartitions=parts, sort=False)
        )
        # each worker uses its own threads: the Dask interface sets them, and says so
        grown_here = {k: v for k, v in booster_params.items() if k != "num_threads"}
        model = lgb.DaskLGBMClassifier(
            client=self.client, n_estimators=params.max_rounds, **grown_here
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Parameter n_jobs will be ignored")
            model.fit(x, y, sample_weight=weight)
        booster = model.booster_
        return booster, early_stopping_round(
            booster, x_valid, y_valid, params.early_stopping_rounds
        )
