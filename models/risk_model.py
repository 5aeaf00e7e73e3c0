"""The risk model: one calibrated LightGBM classifier per target (overall and per category).

Each target is trained on the examples where its label is known (a category only
where it was inspected), stops early on an out-of-time validation set, and is
calibrated on that same later set, so probabilities mean what they say on data the
model has not seen. Where the direction of a feature's effect is known (more past
violations, more complaints) the model is constrained to be monotone in it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Protocol

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.catalogue import FeatureSpec
from models.calibration import PlattCalibrator
from models.feature_encoding import MIN_ROWS_PER_LEVEL, ColumnValues, FeatureEncoder

log = logging.getLogger(__name__)

OVERALL = "any"
#: Features the risk model leaves out by default. Coordinates single out individual
#: workplaces, and raw high-cardinality codes (municipality, state, 3/4-digit sector) let
#: trees memorise small cells; their information reaches the model smoothed, through the
#: peer rates. (On a 200k-workplace world: oracle efficiency at 5% 0.797 with them, 0.819
#: without.) They remain features: catalogued, explained, used by audits and baselines.
DEFAULT_EXCLUDED = ("latitude", "longitude", "municipality", "state", "sector3", "sector4")
#: Fewer positive (or negative) training examples than this: the target gets a base rate.
MIN_CLASS_EXAMPLES = 20

#: LightGBM threads per call in a server answering requests side by side (threads, and one
#: worker per core): one core each. With the training's two, OpenMP's threads spin waiting
#: on each other: TreeSHAP of one workplace's six targets took 5.1 ms of CPU against 1.3 ms.
SERVING_THREADS = 1


class CompiledMargin(Protocol):
    """What :class:`models.compiled_forest.CompiledBooster` offers a target model."""

    def margin(self, encoded: np.ndarray, threads: int | None = None) -> np.ndarray: ...


def probability_column(target: str) -> str:
    return f"p_{target}"


@dataclass(frozen=True)
class LightGBMParams:
    num_leaves: int = 31
    max_depth: int = -1
    learning_rate: float = 0.05
    max_rounds: int = 1000
    early_stopping_rounds: int = 50
    min_child_samples: int = 50
    #: Below 1, each tree or bag draws features or rows at random: draws that several Dask
    #: workers growing one booster make each on their own (models.distributed_boosting).
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    #: Numeric features cut into at most this many levels before boosting (0: not cut), so
    #: that several workers growing one booster bin them alike (models.feature_encoding).
    #: Off by default: one worker per booster needs neither, and on small data the cut costs
    #: (20k workplaces: oracle efficiency 0.679 with levels and no draws, 0.704 without).
    numeric_levels: int = 0
    lambda_l2: float = 1.0
    cat_smooth: float = 20.0
    monotone_method: str = "intermediate"
    seed: int = 0
    threads: int = 2
    excluded_features: tuple[str, ...] = DEFAULT_EXCLUDED

    @property
    def drawn_per_worker(self) -> list[str]:
        """The settings under which a Dask cluster's workers would each draw or bin on their
        own, and grow a model further from the one grown in one process."""
        drawn = {
            "feature_fraction": self.feature_fraction < 1,
            "bagging_fraction": self.bagging_fraction < 1,
            "numeric_levels": self.numeric_levels == 0,
        }
        return [f"{name}={getattr(self, name)}" for name, on in drawn.items() if on]

    def booster_params(self, monotone: list[int]) -> dict[str, object]:
        """LightGBM's parameters (``excluded_features`` is applied before, to the specs)."""
        return {
            "objective": "binary",
            "num_leaves": self.num_leaves,
            "max_depth": self.max_depth,
            "learning_rate": self.learning_rate,
            "min_child_samples": self.min_child_samples,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": 1 if self.bagging_fraction < 1 else 0,
            "lambda_l2": self.lambda_l2,
            "cat_smooth": self.cat_smooth,
            "monotone_constraints": monotone,
            "monotone_constraints_method": self.monotone_method,
            "seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            # both decided from the rows at hand, so per worker on a cluster: bundles of
            # exclusive features, and features dropped as unsplittable
            "enable_bundle": False,
            "feature_pre_filter": False,
            "num_threads": self.threads,
            "verbosity": -1,
        }


@dataclass
class TargetModel:
    """A booster (None: too few examples, base rate only) and its calibration."""

    booster: lgb.Booster | None
    calibrator: PlattCalibrator
    best_iteration: int
    train_examples: int
    train_positive_rate: float
    #: The booster compiled to machine code (models.compiled_forest), set by whoever serves
    #: or scores with this model; never pickled (it is machine code for this process).
    compiled: CompiledMargin | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "compiled": None}

    def margin(self, encoded: pd.DataFrame | np.ndarray, threads: int | None = None) -> np.ndarray:
        """Raw scores of :meth:`FeatureEncoder.transform`'s frame or ``matrix``'s array, on
        ``threads`` threads (default: the training's)."""
        if self.booster is None:
            return np.zeros(len(encoded))
        if self.compiled is not None and isinstance(encoded, np.ndarray):
            return self.compiled.margin(encoded, threads)
        options = {} if threads is None else {"num_threads": threads}
        return self.booster.predict(
            encoded, num_iteration=self.best_iteration, raw_score=True, **options
        )

    def probability(
        self, encoded: pd.DataFrame | np.ndarray, threads: int | None = None
    ) -> np.ndarray:
        return self.calibrator(self.margin(encoded, threads))


@dataclass
class RiskModel:
    encoder: FeatureEncoder
    targets: dict[str, TargetModel]
    specs: list[FeatureSpec]
    params: LightGBMParams = field(default_factory=LightGBMParams)
    #: Features seen in training but fixed at scoring (e.g. the inspector's strictness: a
    #: planner ranks before anyone is assigned), whatever the caller passes.
    neutral: dict[str, float] = field(default_factory=dict)

    def _neutralised(self, features: pd.DataFrame) -> pd.DataFrame:
        fixed = getattr(self, "neutral", {})  # models pickled before the field existed
        return features.assign(**fixed) if fixed else features

    @property
    def categories(self) -> list[str]:
        return [t for t in self.targets if t != OVERALL]

    @property
    def input_specs(self) -> list[FeatureSpec]:
        """The features a caller provides: all but the neutralised ones."""
        fixed = getattr(self, "neutral", {})
        return [s for s in self.specs if s.name not in fixed]

    @property
    def encoded_inputs(self) -> list[str]:
        """The features the boosters read that a caller provides (the encoder's columns but
        the neutralised ones): what :meth:`encoded_columns` needs."""
        fixed = getattr(self, "neutral", {})
        return [name for name in self.encoder.columns if name not in fixed]

    @property
    def attribute_kinds(self) -> dict[str, str]:
        """The ``attr_*`` features the model was trained with, and their kinds: what
        ``feature_matrix`` needs to build the columns this model reads."""
        return {s.name: str(s.kind) for s in self.specs if s.name.startswith("attr_")}

    def predict(self, features: pd.DataFrame, threads: int | None = None) -> pd.DataFrame:
        """Calibrated probabilities, one column per target, indexed like ``features``.

        ``threads``: LightGBM's threads for this call (default: the training's). A server
        answering requests side by side passes 1: several requests each asking for every
        core make OpenMP's threads wait on each other (measured: throughput at four
        clients fell below one client's)."""
        return self._probabilities(self.encoded(features), threads, features.index)

    def predict_columns(
        self, columns: Mapping[str, ColumnValues], rows: int, threads: int | None = None
    ) -> pd.DataFrame:
        """:meth:`predict` of features held as columns (every input feature's, see
        :meth:`FeatureEncoder.columns_matrix`), indexed 0 to ``rows`` - 1."""
        return self._probabilities(self.encoded_columns(columns, rows), threads)

    def encoded_columns(self, columns: Mapping[str, ColumnValues], rows: int) -> np.ndarray:
        """:meth:`encoded` of features held as columns (every input feature's)."""
        fixed = getattr(self, "neutral", {})
        given = {**columns, **{name: pd.Series([v] * rows) for name, v in fixed.items()}}
        return self.encoder.columns_matrix(given, rows)

    def _probabilities(
        self, encoded: np.ndarray, threads: int | None, index: pd.Index | None = None
    ) -> pd.DataFrame:
        return pd.DataFrame(
            {
                probability_column(t): m.probability(encoded, threads)
                for t, m in self.targets.items()
            },
            index=index,
        )

    def encoded(self, features: pd.DataFrame) -> np.ndarray:
        """The float matrix every target's booster predicts from (neutralised features fixed)."""
        return self.encoder.matrix(self._neutralised(features))

    def contributions(
        self,
        features: pd.DataFrame,
        target: str = OVERALL,
        encoded: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """Per-feature contributions to the margin (TreeSHAP); the last column is the bias.

        ``encoded`` is :meth:`encoded` of ``features`` when the caller explains several
        targets of the same rows: encoding costs more than TreeSHAP for a few rows."""
        values = self.contribution_matrix(
            self.encoded(features) if encoded is None else encoded, target
        )
        return pd.DataFrame(values, index=features.index, columns=[*self.encoder.columns, "bias"])

    def contribution_matrix(
        self, encoded: np.ndarray, target: str = OVERALL, threads: int | None = None
    ) -> np.ndarray:
        """:meth:`contributions` of encoded rows, as floats: a row per row of ``encoded``,
        a column per feature of ``encoder.columns`` and the bias last; ``threads`` as for
        :meth:`predict`."""
        model = self.targets[target]
        if model.booster is None:
            return np.zeros((len(encoded), len(self.encoder.columns) + 1))
        options = {} if threads is None else {"num_threads": threads}
        return model.booster.predict(
            encoded, num_iteration=model.best_iteration, pred_contrib=True, **options
        )

    def feature_importance(self, target: str = OVERALL) -> pd.Series:
        booster = self.targets[target].booster
        if booster is None:
            return pd.Series(0.0, index=self.encoder.columns)
        gain = booster.feature_importance("gain", iteration=self.targets[target].best_iteration)
        return pd.Series(gain, index=self.encoder.columns).sort_values(ascending=False)

    def describe(self) -> dict[str, object]:
        return {
            "params": asdict(self.params),
            "targets": {
                t: {
                    "best_iteration": m.best_iteration,
                    "train_examples": m.train_examples,
                    "train_positive_rate": m.train_positive_rate,
                    "calibration": asdict(m.calibrator),
                }
                for t, m in self.targets.items()
            },
        }


#: Examples of one target: encoded features, labels and (training only) weights.
TrainSet = tuple[pd.DataFrame, np.ndarray, np.ndarray | None]
ValidSet = tuple[pd.DataFrame, np.ndarray]
#: Grows one target's booster from LightGBM's parameters, stopping early on the validation
#: set: the booster and its best number of rounds. Here or on a cluster
#: (:mod:`models.distributed_boosting`).
BoosterFit = Callable[
    [dict[str, object], LightGBMParams, TrainSet, ValidSet], tuple[lgb.Booster, int]
]


def fit_booster_here(
    booster_params: dict[str, object], params: LightGBMParams, train: TrainSet, valid: ValidSet
) -> tuple[lgb.Booster, int]:
    """In this process, with LightGBM's own early stopping."""
    x_train, y_train, w_train = train
    x_valid, y_valid = valid
    train_set = lgb.Dataset(x_train, y_train, weight=w_train, free_raw_data=False)
    valid_set = lgb.Dataset(x_valid, y_valid, reference=train_set, free_raw_data=False)
    booster = lgb.train(
        booster_params,
        train_set,
        num_boost_round=params.max_rounds,
        valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(params.early_stopping_rounds, verbose=False)],
    )
    return booster, booster.best_iteration or booster.current_iteration()


def _fit_target(
    target: str,
    train: TrainSet,
    valid: ValidSet,
    encoder: FeatureEncoder,
    params: LightGBMParams,
    fit_booster: BoosterFit,
) -> TargetModel:
    y_train = train[1]
    x_valid, y_valid = valid
    positives = int(y_train.sum())
    rate = float(y_train.mean()) if len(y_train) else 0.0
    too_few = min(positives, len(y_train) - positives) < MIN_CLASS_EXAMPLES
    if too_few or len(y_valid) == 0:
        log.warning(
            "target %s: %d examples, %d positive: base rate only", target, len(y_train), positives
        )
        return TargetModel(
            None, PlattCalibrator.fit(np.zeros(len(y_train)), y_train), 0, len(y_train), rate
        )
    booster, best = fit_booster(
        params.booster_params(encoder.monotone_vector()), params, train, (x_valid, y_valid)
    )
    margin = booster.predict(x_valid, num_iteration=best, raw_score=True)
    calibrator = PlattCalibrator.fit(margin, y_valid)
    log.info(
        "target %s: %d rounds, %d examples (%.1f%% positive)",
        target,
        best,
        len(y_train),
        100 * rate,
    )
    return TargetModel(booster, calibrator, best, len(y_train), rate)


def fit_risk_model(
    train_features: pd.DataFrame,
    train_labels: pd.DataFrame,
    valid_features: pd.DataFrame,
    valid_labels: pd.DataFrame,
    specs: list[FeatureSpec],
    categories: list[str],
    params: LightGBMParams | None = None,
    train_weights: np.ndarray | None = None,
    neutral: dict[str, float] | None = None,
    fit_booster: BoosterFit = fit_booster_here,
) -> RiskModel:
    """Fit every target. ``*_labels`` hold ``label`` and ``label_<category>`` columns.

    The validation set must be later than the training set (out of time): it decides
    when boosting stops and how margins map to probabilities. ``neutral`` features are
    learnt from, then fixed at these values whenever the model predicts; calibration is
    fitted on the validation set so neutralised, as the model will be used.
    """
    params = params or LightGBMParams()
    used = [s for s in specs if s.name not in params.excluded_features]
    encoder = FeatureEncoder.fit(
        train_features,
        used,
        params.numeric_levels,
        MIN_ROWS_PER_LEVEL if params.numeric_levels else 0,
    )
    x_train = encoder.transform(train_features)
    x_valid = encoder.transform(valid_features.assign(**(neutral or {})))
    targets: dict[str, TargetModel] = {}
    for target in [OVERALL, *categories]:
        column = "label" if target == OVERALL else f"label_{target}"
        known_train = train_labels[column].notna().to_numpy()
        known_valid = valid_labels[column].notna().to_numpy()
        weights = None if train_weights is None else train_weights[known_train]
        targets[target] = _fit_target(
            target,
            (x_train[known_train], train_labels.loc[known_train, column].to_numpy(), weights),
            (x_valid[known_valid], valid_labels.loc[known_valid, column].to_numpy()),
            encoder,
            params,
            fit_booster,
        )
    return RiskModel(encoder, targets, specs, params, dict(neutral or {}))
