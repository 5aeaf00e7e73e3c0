"""What a training run does, as a file a data scientist can keep: TOML or YAML.

Unknown keys are refused (a typo must not silently fall back to a default) and every
error names the field, e.g. ``temporal.horizon_days: must be greater than 0``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
    feature_fraction: float = Field(0.8, gt=0, le=1)
    bagging_fraction: float = Field(0.8, gt=0, le=1)
    lambda_l2: float = Field(1.0, ge=0)
    cat_smooth: float = Field(20.0, ge=0)
    excluded_features: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EXCLUDED),
        description="Features the risk model does not use (they stay in the catalogue).",
    )

    def params(self, seed: int) -> LightGBMParams:
        values = self.model_dump()
        values["excluded_features"] = tuple(values["excluded_features"])
        return LightGBMParams(**values, seed=seed)


class PromotionSection(_Strict):
    metric: str = Field("precision_at_5pct", description="Mean over folds, higher is better.")
    target: str = Field("any", description="`any` or a category.")


class TrainConfig(_Strict):
    temporal: TemporalSection = TemporalSection()
    model: ModelSection = ModelSection()
    promotion: PromotionSection = PromotionSection()
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
            if not (
                (isinstance(value, float) and 0 < value < 1)
                or (isinstance(value, int) and value >= 1)
            ):
                raise ValueError(f"{value!r} is neither a share in (0, 1) nor a count >= 1")
        return values


def parse_config(data: dict[str, Any], source: str = "configuration") -> TrainConfig:
    return validate(TrainConfig, data, source)


def load_config(path: Path | None) -> TrainConfig:
    """The defaults, or a TOML (``.toml``) or YAML (``.yaml``/``.yml``) file."""
    if path is None:
        return TrainConfig()
    return parse_config(read_config_file(Path(path)), str(path))
