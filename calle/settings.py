"""The product's settings, in one typed place.

Every path, URL and tunable comes from here; values are read from the environment
(prefix ``CALLE_``) when a :class:`Settings` is constructed, never at import time.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: The five inspected subjects of Mexico's federal inspectorate (contract.md).
MEXICO_CATEGORIES: tuple[str, ...] = (
    "safety_health",
    "working_conditions",
    "subcontracting",
    "freedom_of_association",
    "gender_discrimination",
)

#: INEGI state codes "01".."32".
MEXICO_STATE_CODES: tuple[str, ...] = tuple(f"{i:02d}" for i in range(1, 33))

#: ``CALLE_DASK_SCHEDULER``: a cluster on this machine, or a scheduler's address.
_DASK_SCHEDULER = re.compile(r"local(:[1-9][0-9]*)?|(tcp|tls|inproc|ucx)://\S+")


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Configuration of a CALLE installation.

    Lists are given in the environment as comma-separated values,
    e.g. ``CALLE_CATEGORIES=safety_health,subcontracting``.
    """

    model_config = SettingsConfigDict(env_prefix="CALLE_", extra="ignore")

    home: Path = Field(
        default=Path(".calle"),
        description="Folder for the embedded store, MLflow data, rejects and snapshots.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the store; default: a SQLite file `$CALLE_HOME/calle.db`. "
        "Production: `postgresql+psycopg://USER@HOST:5432/DB`.",
    )
    mlflow_tracking_uri: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CALLE_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI"),
        description="MLflow tracking URI (`MLFLOW_TRACKING_URI` is respected too); "
        "default `sqlite:///$CALLE_HOME/mlflow.db`.",
    )
    categories: Annotated[list[str], NoDecode] = Field(
        default=list(MEXICO_CATEGORIES),
        description="Finding categories the inspectorate uses (comma-separated).",
    )
    region_codes: Annotated[list[str], NoDecode] = Field(
        default=list(MEXICO_STATE_CODES),
        description="Valid `state` codes; an employer with another code is rejected on import. "
        "Empty accepts any non-empty code.",
    )
    offices_file: Path | None = Field(
        default=None,
        description="TOML or YAML file of office areas (which states and municipalities each "
        "office covers) for the `office` filter and plans; `calle world` writes one. "
        "Default: none, and the `office` filter is refused.",
    )
    model_poll_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How often the service asks the registry whether the `champion` alias has "
        "moved (seconds); 0 checks only at start and on `POST /api/v1/models/reload`.",
    )
    snapshot_poll_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How often each service worker looks for a newer snapshot and reads it "
        "into memory ahead of requests (seconds); 0 reads only the one there at start, later "
        "ones on the first request that needs them.",
    )
    peer_rates_max_age_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How long the service keeps the population's peer rates for scoring "
        "workplaces by id before reading them from the store again (seconds).",
    )
    key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="How long a running service trusts an API key it has looked up (seconds): "
        "a key revoked with `calle keys revoke` is refused within this long. 0 looks the key "
        "up on every request.",
    )
    read_cache_seconds: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="How long a running service keeps which snapshot is the latest (seconds): "
        "a new snapshot from `calle score` is served within this long. Ranked pages of a "
        "snapshot never change and are kept until newer ones push them out. Every access is "
        "audited either way. 0 reads the store on every request and keeps no page.",
    )
    read_cache_pages: int = Field(
        default=2048,
        ge=1,
        description="Ranked pages a service worker keeps (each about 1 KB per row with "
        "reasons; the least recently read go first).",
    )
    compiled_trees: bool = Field(
        default=True,
        description="Score with the model's boosters compiled to machine code (lleaves; the "
        "same probabilities, several times faster), in the service and in `calle score`. "
        "false: LightGBM's own prediction.",
    )
    compiled_trees_cache: Path | None = Field(
        default=None,
        description="Folder the compiled boosters are kept in, by booster, compiler and CPU, "
        "so a version is compiled once (a few seconds per booster); processes may share it. "
        "Default: `$CALLE_HOME/compiled-trees`.",
    )
    snapshot_reasons_top: int = Field(
        default=100,
        ge=0,
        description="Scores `calle score` explains when it writes a snapshot, per target: the "
        "top this many nationally, in every state and in every municipality an office area "
        "names (so every office's top too). The service explains any other score when it is "
        "first read, and stores it. 0: every score (ten minutes to an hour per million "
        "workplaces on two cores, by the model's size, and a stored row per score).",
    )
    request_threads: int = Field(
        default=2,
        ge=1,
        le=256,
        description="Requests a service worker works on at once (the rest wait their turn). "
        "Threads share one interpreter lock, so many at once only interleave: measured at 10 "
        "clients on 2 workers, 2 threads each gave rankings a p99 of 27-50 ms against "
        "46-196 ms with 40. A long export holds one while it runs.",
    )
    freeze_heap: bool = Field(
        default=True,
        description="After each model load, move the service worker's long-lived objects out "
        "of the garbage collector's full passes (gc.freeze), which otherwise stall a request "
        "for a few hundred ms now and then. false: CPython's default.",
    )
    dask_scheduler: str = Field(
        default="",
        description="Where `calle train` and `calle score` compute features and grow boosters: "
        "empty for this process; `local` (one worker per core) or `local:N` for a Dask "
        "cluster of N worker processes on this machine; or a Dask scheduler's address "
        "(`tcp://HOST:8786`), whose workers must reach the store at `CALLE_DATABASE_URL`.",
    )
    dask_training_workers: int = Field(
        default=1,
        ge=0,
        description="Workers of the Dask cluster that grow each booster together. 1: one "
        "worker grows the very model this process would (the examples of a national history "
        "fit one machine; the history they are made from need not). 0: every worker, "
        "data-parallel, for examples that do not fit one worker: a model close to, not equal "
        "to, the one-process model (LightGBM's data-parallel learner looks at features its "
        "one-process learner skips).",
    )
    dask_slices: int = Field(
        default=0,
        ge=0,
        description="Slices of the population (by employer id) the Dask cluster computes "
        "features in, each one task; 0: four per worker.",
    )
    drift_warning_psi: float = Field(
        default=0.25,
        gt=0,
        description="Population stability index of a feature or score (training population "
        "against the latest snapshot's) past which `calle score` warns and monitoring flags it.",
    )
    hit_rate_warning_z: float = Field(
        default=3.0,
        gt=0,
        description="Standard errors between the realised and the predicted hit rate of "
        "inspections since a model's first snapshot past which monitoring flags the target.",
    )
    ui_session_hours: float = Field(
        default=8.0,
        gt=0,
        le=24 * 7,
        description="How long a dashboard sign-in lasts before the key must be given again "
        "(hours).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Logging level: DEBUG, INFO, WARNING or ERROR."
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("dask_scheduler")
    @classmethod
    def _check_scheduler(cls, value: str) -> str:
        if value and not _DASK_SCHEDULER.fullmatch(value):
            raise ValueError(
                f"{value!r} is not empty, `local`, `local:N` (N >= 1) or a scheduler address "
                "such as tcp://HOST:8786"
            )
        return value

    @field_validator("categories", "region_codes", mode="before")
    @classmethod
    def _parse_list(cls, value: object) -> object:
        return _split_list(value)

    @property
    def compiled_trees_dir(self) -> Path:
        return self.compiled_trees_cache or self.home / "compiled-trees"

    @property
    def store_url(self) -> str:
        """The store's SQLAlchemy URL, the SQLite default resolved under ``home``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'calle.db').resolve()}"

    @property
    def tracking_uri(self) -> str:
        """MLflow's tracking URI, the SQLite default resolved under ``home``."""
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{(self.home / 'mlflow.db').resolve()}"

    @property
    def rejects_dir(self) -> Path:
        """Where `calle import` writes the rows it rejected, beside the store."""
        return self.home / "rejects"
