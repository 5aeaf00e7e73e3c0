"""What a training run does, as a file a data scientist can keep: TOML or YAML.

Unknown keys are refused (a typo must not silently fall back to a default) and every
error names the field, e.g. ``temporal.horizon_days: must be greater than 0``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from calle.config_files import read_config_file, validate
from models.risk_model import DEFAULT_EXCLUDED, LightGBMParams
from training.temporal_split import parse_interval


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TemporalSection(_Strict):
    horizon_days: int = Field(365, gt=0, description="Label window after each as-of date.")
    first_as_of: date | None = Field(
        None,
        description="Earliest training as-of date; default: two years after the first "
        "inspection on record.",
    )
    last_day: date | None = Field(
        None, description="Last day of data to use; default: the latest event on record."
    )
    update_every: str = Field("1y", description="Between test as-of dates.")
    train_every: str = Field("1y", description="Between training as-of dates.")
    max_training_history: str | None = Field(None, description="How far back training reaches.")
    folds: int = Field(3, ge=1, description="Evaluation folds, the latest ones.")

    @field_validator("update_every", "train_every", "max_training_history")
    @classmethod
    def _interval(cls, value: str | None) -> str | None:
        if value is not None:
            parse_interval(value)
        return value


class ModelSection(_Strict):
    num_leaves: int = Field(31, ge=2)
    max_depth: int = Field(
        -1, ge=-1, description="Deepest a tree may grow; -1 leaves it to num_leaves."
    )
    learning_rate: float = Field(0.05, gt=0, le=1)
    max_rounds: int = Field(1000, ge=1)
    early_stopping_rounds: int = Field(50, ge=1)
    min_child_samples: int = Field(50, ge=1)
    feature_fraction: float = Field(
        0.8,
        gt=0,
        le=1,
        description="Below 1, each tree draws its features at random; several Dask workers "
        "growing one booster each draw their own (CALLE_DASK_TRAINING_WORKERS).",
    )
    bagging_fraction: float = Field(
        0.8,
        gt=0,
        le=1,
        description="Below 1, each round draws its rows at random (per worker on a cluster).",
    )
    numeric_levels: int = Field(
        0,
        ge=0,
        le=255,
        description="Numeric features cut into at most this many levels before boosting, the "
        "same for every Dask worker (0: LightGBM bins them itself, per worker when several "
        "grow one booster).",
    )
    lambda_l2: float = Field(1.0, ge=0)
    cat_smooth: float = Field(20.0, ge=0)
    monotone_method: Literal["basic", "intermediate", "advanced"] = Field(
        "intermediate",
        description="How LightGBM enforces the monotone constraints: `advanced` is the least "
        "restrictive and the slowest (1.5x per round at 100k workplaces).",
    )
    excluded_features: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EXCLUDED),
        description="Features the risk model does not use (they stay in the catalogue).",
    )

    @field_validator("numeric_levels")
    @classmethod
    def _levels(cls, value: int) -> int:
        if value == 1:
            raise ValueError("one level makes every numeric feature constant: use 0 or 2 to 255")
        return value

    def params(self, seed: int) -> LightGBMParams:
        values = self.model_dump()
        values["excluded_features"] = tuple(values["excluded_features"])
        return LightGBMParams(**values, seed=seed)


class PromotionSection(_Strict):
    metric: str = Field("precision_at_5pct", description="Mean over folds, higher is better.")
    target: str = Field("any", description="`any` or a category.")


class SelectionSection(_Strict):
    """Selective labels: the inspected workplaces are not a random sample of them all."""

    propensity: bool = Field(
        True,
        description="Model each as-of date's chance of inspection from its features: "
        "inverse-propensity estimates of precision in every evaluation, and what "
        "weighting needs.",
    )
    weighting: Literal["none", "inverse_propensity"] = Field(
        "none", description="How the shipped model weights its training examples."
    )
    compare_weighting: bool = Field(
        False,
        description="Also evaluate the other weighting on the same folds (scorer "
        "`model_weighted` or `model_unweighted`).",
    )
    max_weight: float = Field(20.0, gt=1, description="Cap on an example's weight, 1 / p.")

    @model_validator(mode="after")
    def _needs_propensity(self) -> SelectionSection:
        if not self.propensity and (self.weighting != "none" or self.compare_weighting):
            raise ValueError("weighting needs propensity = true")
        return self


class InspectorSection(_Strict):
    """Outcomes depend on who inspected: account for it in training, never in ranking."""

    adjust: bool = Field(
        False,
        description="Train with the visiting inspector's strictness (finding rate over the "
        "office's) as a feature, fixed to the office average at scoring.",
    )
    compare_adjustment: bool = Field(
        False,
        description="Also evaluate the other choice on the same folds (scorer "
        "`model_inspector_adjusted` or `model_unadjusted`).",
    )
    prior_inspections: int = Field(
        30, ge=0, description="Pseudo-visits at the office rate that shrink a new inspector's."
    )


FairnessMetric = Literal[
    "selection_rate", "precision", "false_discovery_rate", "false_negative_rate"
]


class FairnessSection(_Strict):
    """The audit of the model's ranking by group, and the band the promotion gate keeps."""

    attributes: list[str] = Field(
        default_factory=lambda: ["state", "size_band", "sector2"],
        description="Features whose values form the groups (any categorical feature, "
        "e.g. a contract attribute `attr_*`).",
    )
    capacity: float | int = Field(0.05, description="Selection at this share or count.")
    band: tuple[float, float] = Field(
        (0.8, 1.25), description="Disparity ratios (group / reference) allowed."
    )
    gated_metrics: list[FairnessMetric] = Field(
        default_factory=lambda: ["false_discovery_rate", "false_negative_rate"],
        description="Disparities the promotion gate watches.",
    )
    min_labelled: int = Field(
        50,
        ge=1,
        description="A rate over fewer workplaces (e.g. false discoveries over fewer labelled "
        "selected ones), in the group or its reference, is reported, not gated.",
    )

    @field_validator("band")
    @classmethod
    def _band(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not 0 < low < 1 < high:
            raise ValueError(f"{list(value)} must be [low, high] with 0 < low < 1 < high")
        return value

    @field_validator("capacity")
    @classmethod
    def _capacity(cls, value: float | int) -> float | int:
        return _check_capacity(value)


def _check_capacity(value: float | int) -> float | int:
    share = isinstance(value, float) and 0 < value < 1
    if not (share or (isinstance(value, int) and value >= 1)):
        raise ValueError(f"{value!r} is neither a share in (0, 1) nor a count >= 1")
    return value


class TrainConfig(_Strict):
    temporal: TemporalSection = TemporalSection()
    model: ModelSection = ModelSection()
    promotion: PromotionSection = PromotionSection()
    selection: SelectionSection = SelectionSection()
    inspectors: InspectorSection = InspectorSection()
    fairness: FairnessSection = FairnessSection()
    capacities: list[float | int] = Field(
        default_factory=lambda: [0.01, 0.05, 0.10, 100],
        description="Shares of workplaces (0-1) or numbers of visits.",
    )
    categories: list[str] | None = Field(None, description="Default: the settings' categories.")
    seed: int = 0
    registered_model: str = "employer-risk"
    experiment: str = "employer-risk"

    @field_validator("capacities")
    @classmethod
    def _capacities(cls, values: list[float | int]) -> list[float | int]:
        for value in values:
            _check_capacity(value)
        return values


def parse_config(data: dict[str, Any], source: str = "configuration") -> TrainConfig:
    return validate(TrainConfig, data, source)


def load_config(path: Path | None) -> TrainConfig:
    """The defaults, or a TOML (``.toml``) or YAML (``.yaml``/``.yml``) file."""
    if path is None:
        return TrainConfig()
    return parse_config(read_config_file(Path(path)), str(path))
