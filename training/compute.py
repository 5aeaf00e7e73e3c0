"""Where training and scoring do their heavy work: in this process, or on a Dask cluster.

The heavy parts are a population's features for an as-of date and growing the boosters.
With ``CALLE_DASK_SCHEDULER`` set, features are computed by the cluster's workers, each
reading its slice of workplaces from the store (:mod:`features.distributed_matrix`), and
boosters are grown data-parallel by LightGBM's Dask interface
(:mod:`models.distributed_boosting`). Everything else (labels, folds, baselines, metrics,
calibration, MLflow) runs here, on the labelled examples and the scores.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Protocol

import lightgbm
import pandas as pd
import sqlalchemy as sa

from calle.settings import Settings
from features.frames import ContractFrames
from features.matrix import feature_matrix
from features.peer_rates import PeerRateTables
from models.risk_model import BoosterFit, fit_booster_here

if TYPE_CHECKING:  # distributed is imported only when a cluster is configured
    from models.distributed_boosting import DaskBoosterFit

log = logging.getLogger(__name__)

#: Slices per worker when ``CALLE_DASK_SCHEDULER`` is set and ``CALLE_DASK_SLICES`` is 0:
#: a few per worker keep every worker busy while slices differ in size.
SLICES_PER_WORKER = 4
#: How long to wait for a remote scheduler to answer (seconds).
CONNECT_SECONDS = 30


class Compute(Protocol):
    fit_booster: BoosterFit

    @property
    def booster_workers(self) -> int:
        """Processes that grow each booster together (more than one: data-parallel)."""
        ...

    def features(
        self,
        frames: ContractFrames,
        as_of: date,
        categories: list[str],
        attribute_kinds: dict[str, str],
        peer_rates: PeerRateTables | None = None,
    ) -> pd.DataFrame:
        """The population's feature matrix as of ``as_of`` (as :func:`feature_matrix`);
        ``peer_rates``: the population's, if the caller has computed them already."""
        ...


@dataclass(frozen=True)
class InProcess:
    """Everything in this process, from the frames already read."""

    fit_booster: BoosterFit = field(default=fit_booster_here)

    @property
    def booster_workers(self) -> int:
        return 1

    def features(
        self,
        frames: ContractFrames,
        as_of: date,
        categories: list[str],
        attribute_kinds: dict[str, str],
        peer_rates: PeerRateTables | None = None,
    ) -> pd.DataFrame:
        return feature_matrix(frames, as_of, categories, attribute_kinds, peer_rates)


IN_PROCESS = InProcess()


@dataclass(frozen=True)
class OnDask:
    """Features and boosters on a Dask cluster; ``frames`` are not sent anywhere, the workers
    read their own slices (``ranges``) of the store at ``store_url``."""

    client: object  # distributed.Client (imported only when a cluster is configured)
    store_url: str
    ranges: list[tuple[str | None, str | None]]
    workers: int
    fit_booster: DaskBoosterFit

    @property
    def booster_workers(self) -> int:
        return self.fit_booster.partitions

    def features(
        self,
        frames: ContractFrames,
        as_of: date,
        categories: list[str],
        attribute_kinds: dict[str, str],
        peer_rates: PeerRateTables | None = None,
    ) -> pd.DataFrame:
        # the workers add up their slices' cell counts into the same tables themselves
        from features.distributed_matrix import distributed_feature_matrix

        matrix = distributed_feature_matrix(
            self.store_url, self.ranges, as_of, categories, attribute_kinds
        )
        return self.client.compute(matrix).result().sort_index()  # type: ignore[attr-defined]


@contextmanager
def open_compute(settings: Settings) -> Iterator[Compute]:
    """The configured place to compute, for the length of one command."""
    if not settings.dask_scheduler:
        yield IN_PROCESS
        return
    from distributed import Client, LocalCluster

    from features.distributed_matrix import employer_ranges
    from models.distributed_boosting import DaskBoosterFit

    # LightGBM's Dask interface prints its progress ("Finding random open ports for
    # workers"); through logging it reads like the rest
    lightgbm.register_logger(logging.getLogger("lightgbm"))
    # distributed sets its own loggers up on import and narrates every worker's life
    logging.getLogger("distributed").setLevel(logging.WARNING)
    scheduler = settings.dask_scheduler
    with ExitStack() as stack:
        if scheduler.startswith("local"):
            workers = int(scheduler.partition(":")[2] or os.cpu_count() or 1)
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            )
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(scheduler, timeout=CONNECT_SECONDS))
            except OSError as error:
                raise OSError(f"CALLE_DASK_SCHEDULER {scheduler}: {error}") from None
        workers = len(client.nthreads())
        if workers == 0:
            raise OSError(f"CALLE_DASK_SCHEDULER {scheduler}: the cluster has no workers")
        engine = sa.create_engine(settings.store_url)
        try:
            ranges = employer_ranges(engine, settings.dask_slices or SLICES_PER_WORKER * workers)
        finally:
            engine.dispose()
        booster_workers = min(settings.dask_training_workers or workers, workers)
        log.info(
            "computing on the Dask cluster at %s: %d workers, %d slices of workplaces, "
            "each booster grown on %d",
            client.scheduler.address,
            workers,
            len(ranges),
            booster_workers,
        )
        yield OnDask(
            client,
            settings.store_url,
            ranges,
            workers,
            DaskBoosterFit(client, booster_workers),
        )
