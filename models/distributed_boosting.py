"""Growing a target's booster on a Dask cluster (LightGBM's Dask interface).

LightGBM trains data-parallel: each worker holds some of the examples and the workers
exchange histograms, so the trees are those of one model over all the examples. On one worker
(``partitions=1``, the default of ``calle train``) they are the trees grown in one process. On
several, even with every worker binning alike (``numeric_levels``) and nothing drawn at random
(both fractions 1), they are close to, not equal to, those grown in one process:
LightGBM's one-process learner skips, in a leaf, the features that had no gainful split in
its parent; its data-parallel learner looks at every feature in every leaf (LightGBM 4.7,
``serial_tree_learner.cpp`` against ``data_parallel_tree_learner.cpp``), and no parameter
changes either.

On one worker, LightGBM's own early stopping runs there, on the validation set sent along.
On several it cannot (each worker would judge its own share of the validation set and
stop at another round, and the others would wait for it), so all ``max_rounds`` are
grown and the booster is then cut by :func:`early_stopping_round`: the same rule on the
same validation set, so the kept rounds are those LightGBM would keep here.
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
        workers = list(self.client.scheduler_info()["workers"])
        parts = max(1, min(self.partitions, len(workers), len(x_train)))
        # rows dealt out in turn, not in runs: examples come ordered by as-of date, and a
        # worker holding one date only would lack some of the values the others see
        dealt = [np.arange(part, len(x_train), parts) for part in range(parts)]
        x = self._placed([x_train.iloc[rows] for rows in dealt], workers, "features")
        y = self._placed([pd.Series(y_train[rows]) for rows in dealt], workers, "labels")
        weight = (
            None
            if w_train is None
            else self._placed([pd.Series(w_train[rows]) for rows in dealt], workers, "weights")
        )
        # each worker uses its own threads: the Dask interface sets them, and says so
        grown_here = {k: v for k, v in booster_params.items() if k != "num_threads"}
        model = lgb.DaskLGBMClassifier(
            client=self.client, n_estimators=params.max_rounds, **grown_here
        )
        stopping = (
            {
                "eval_X": self._placed([x_valid], workers, "valid-features"),
                "eval_y": self._placed([pd.Series(y_valid)], workers, "valid-labels"),
                "callbacks": [lgb.early_stopping(params.early_stopping_rounds, verbose=False)],
            }
            if parts == 1
            else {}
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Parameter n_jobs will be ignored")
            model.fit(x, y, sample_weight=weight, **stopping)
        booster = model.booster_
        if stopping:
            return booster, booster.best_iteration
        return booster, early_stopping_round(
            booster, x_valid, y_valid, params.early_stopping_rounds
        )

    def _placed(
        self, parts: list[pd.DataFrame] | list[pd.Series], workers: list[str], role: str
    ) -> dd.DataFrame | dd.Series:
        """``parts`` as one Dask collection, part *i* held by worker *i*: LightGBM grows the
        booster on the workers that hold the data.

        The collection is built on the scattered parts themselves, one alias each, under a
        name of its own (``role``). ``dd.from_delayed`` would wrap every part in tasks named
        alike for features, labels and weights; once there are more of those than twice the
        cluster's threads, the scheduler deems them "root-ish" and runs them wherever a thread
        is free, not where the part is, and both parts of a two-worker booster could end on
        one worker (one fit in forty, measured)."""
        futures = [
            self.client.scatter(part.reset_index(drop=True), workers=[worker], hash=False)
            for part, worker in zip(parts, workers, strict=False)
        ]
        return dd.from_graph(
            {future.key: future for future in futures},
            parts[0].iloc[:0].reset_index(drop=True),
            (None,) * (len(futures) + 1),
            [future.key for future in futures],
            f"calle-{role}",
        )
