"""Reasons explained when first read, for the scores a snapshot was written without.

`calle score` explains only the scores planners read first (:mod:`training.read_first`):
TreeSHAP for every workplace's six targets would take ten minutes to an hour per million on
two cores, by the model's size, and six rows per workplace in ``snapshot_reasons``, while
planners read the tops of a few rankings. Any other score a ranking page or an employer's
risk shows is explained here, the first time it is read: by the model version that scored
the snapshot, from the feature rows the snapshot kept (:mod:`calle.store.snapshot_features`;
for a snapshot that kept none, the workplace's features as of its date, from its records and
the population's peer rates the snapshot keeps), then kept for the next read: held by the
worker until its :class:`~service.reasons_writer.ReasonsWriter` stores them
(``snapshot_reasons``), behind the answer. Once the service follows a newer champion than
the snapshot's model, the old model is no longer at hand: such scores stay without reasons
until `calle score` writes the next snapshot.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import sqlalchemy as sa

from calle.store import schema, statement_connection
from calle.store.snapshot_features import FeatureRows, chunk_starts, feature_columns, read_rows
from features.matrix import population_peer_rates
from features.peer_rates import PeerRateTables
from features.store_frames import PEER_RATE_TABLES, load_frames
from models.explanations import reasons_json, top_reasons
from models.risk_model import SERVING_THREADS, RiskModel
from service.model_follower import ModelFollower
from service.reasons_writer import ReasonsWriter, ScoreKey
from service.snapshots import SnapshotInfo
from service.store_features import features_from_store

log = logging.getLogger(__name__)


class Explainer(Protocol):
    def __call__(self, snapshot: SnapshotInfo, wanted: list[ScoreKey]) -> dict[ScoreKey, str]:
        """The reasons (JSON text) of the ``wanted`` scores it could explain."""
        ...


class SnapshotPeerRates:
    """The peer rates each snapshot was scored with, read from it once per worker.

    `calle score` keeps them with the snapshot (``score_snapshots.peer_rates``); for a
    snapshot stored without them (before migration 0009) they are computed from the store as
    of its date, which reads every inspection: tens of seconds at national scale, once."""

    def __init__(self) -> None:
        self._entry: tuple[str, PeerRateTables] | None = None
        self._lock = threading.Lock()  # one read at a time; the others wait for it

    def get(
        self, engine: sa.Engine, snapshot: SnapshotInfo, categories: list[str]
    ) -> PeerRateTables:
        with self._lock:
            if self._entry is not None and self._entry[0] == snapshot.snapshot_id:
                return self._entry[1]
            with engine.connect() as connection:
                kept = connection.execute(
                    sa.select(schema.score_snapshots.c.peer_rates).where(
                        schema.score_snapshots.c.snapshot_id == snapshot.snapshot_id
                    )
                ).scalar_one_or_none()
            if kept is not None:
                tables = PeerRateTables.from_json(kept)
            else:
                started = time.perf_counter()
                frames = load_frames(engine, PEER_RATE_TABLES)
                tables = population_peer_rates(frames, snapshot.as_of, categories)
                log.warning(
                    "snapshot %s keeps no peer rates (scored before they were kept): computed "
                    "from the store in %.1f s",
                    snapshot.snapshot_id,
                    time.perf_counter() - started,
                )
            self._entry = (snapshot.snapshot_id, tables)
            return tables


class SnapshotFeatureChunks:
    """Where each workplace's stored feature row is in the current snapshot's chunks, read
    once per worker and snapshot (:mod:`calle.store.snapshot_features`)."""

    def __init__(self) -> None:
        self._entry: tuple[str, list[str]] | None = None
        self._lock = threading.Lock()

    def rows(self, engine: sa.Engine, snapshot_id: str, employer_ids: list[str]) -> FeatureRows:
        """The stored rows of those of ``employer_ids`` the snapshot still keeps."""
        with statement_connection(engine) as connection:
            with self._lock:
                if self._entry is None or self._entry[0] != snapshot_id:
                    self._entry = (snapshot_id, chunk_starts(connection, snapshot_id))
                starts = self._entry[1]
            return read_rows(connection, snapshot_id, starts, employer_ids)


@dataclass(frozen=True)
class ReasonsOnRead:
    """An :class:`Explainer` over the service's store, served model, and what each snapshot
    keeps to explain its scores: its feature rows and its peer rates. What it explains is
    kept by ``writer``, which finds it again until it is stored."""

    engine: sa.Engine
    follower: ModelFollower
    peer_rates: SnapshotPeerRates
    feature_chunks: SnapshotFeatureChunks
    writer: ReasonsWriter

    def __call__(self, snapshot: SnapshotInfo, wanted: list[ScoreKey]) -> dict[ScoreKey, str]:
        held = self.writer.held(snapshot.snapshot_id, wanted)
        rest = [key for key in wanted if key not in held]
        try:
            found = explain_on_read(
                self.engine, self.follower, self.peer_rates, self.feature_chunks, snapshot, rest
            )
        except Exception:  # the scores still answer: reasons are what a failure costs
            log.exception(
                "could not explain %d scores of snapshot %s on read",
                len(rest),
                snapshot.snapshot_id,
            )
            return held
        self.writer.add(snapshot.snapshot_id, found)
        return held | found


def stored_reasons_only(snapshot: SnapshotInfo, wanted: list[ScoreKey]) -> dict[ScoreKey, str]:
    """An :class:`Explainer` for readers without a served model (benchmarks of the query)."""
    return {}


def explain_on_read(
    engine: sa.Engine,
    follower: ModelFollower,
    peer_rates: SnapshotPeerRates,
    feature_chunks: SnapshotFeatureChunks,
    snapshot: SnapshotInfo,
    wanted: list[ScoreKey],
) -> dict[ScoreKey, str]:
    """The reasons (JSON text, as stored) of the ``wanted`` scores of ``snapshot``; {}
    when the model that scored it is not the one served."""
    if not wanted:
        return {}
    served = follower.served
    if served is None or (served.model_name, served.version) != (
        snapshot.model_name,
        snapshot.model_version,
    ):
        log.info(
            "%d scores of snapshot %s left without reasons: its model version %s is not the "
            "one served",
            len(wanted),
            snapshot.snapshot_id,
            snapshot.model_version,
        )
        return {}
    started = time.perf_counter()
    model = served.model
    ids = sorted({employer_id for _, employer_id in wanted})
    found_ids, columns = _feature_rows(engine, peer_rates, feature_chunks, model, snapshot, ids)
    position = {employer_id: i for i, employer_id in enumerate(found_ids)}
    by_target: dict[str, list[str]] = {}
    for target, employer_id in wanted:
        if target in model.targets and employer_id in position:
            by_target.setdefault(target, []).append(employer_id)
    found: dict[ScoreKey, str] = {}
    # encoded once for every target: for a few rows encoding costs more than TreeSHAP
    encoded = model.encoded_columns(columns, len(found_ids))
    for target, employer_ids in by_target.items():
        rows = [position[e] for e in employer_ids]
        subset = (
            columns
            if rows == list(range(len(found_ids)))
            else {name: values[rows] for name, values in columns.items()}
        )
        explained = top_reasons(
            model, subset, target, encoded=encoded[rows], threads=SERVING_THREADS
        )
        for employer_id, reasons in zip(employer_ids, explained, strict=True):
            found[(target, employer_id)] = reasons_json(reasons)
    log.debug(
        "explained %d scores of snapshot %s on read in %.1f ms",
        len(found),
        snapshot.snapshot_id,
        1000 * (time.perf_counter() - started),
    )
    return found


def _feature_rows(
    engine: sa.Engine,
    peer_rates: SnapshotPeerRates,
    feature_chunks: SnapshotFeatureChunks,
    model: RiskModel,
    snapshot: SnapshotInfo,
    ids: list[str],
) -> tuple[list[str], dict[str, np.ndarray]]:
    """The feature rows of those of ``ids`` the snapshot scored, as columns of the model's
    inputs: as the snapshot kept them, else computed from the store's records as of its
    date (a snapshot written before rows were kept, or whose rows a newer one dropped)."""
    inputs = model.encoded_inputs
    stored = feature_chunks.rows(engine, snapshot.snapshot_id, ids)
    columns = stored.columns()
    if stored.employer_ids and not set(inputs) <= columns.keys():
        log.warning(
            "snapshot %s keeps feature rows without some of its model's inputs: recomputed",
            snapshot.snapshot_id,
        )
        stored, columns = FeatureRows([], {}, {}), {}
    kept = set(stored.employer_ids)
    rest = [employer_id for employer_id in ids if employer_id not in kept]
    if not rest:
        return stored.employer_ids, {name: columns[name] for name in inputs}
    tables = peer_rates.get(engine, snapshot, model.categories)
    features, _ = features_from_store(engine, tables, model, rest, snapshot.as_of)
    categorical = [name for name in inputs if name in model.encoder.categorical]
    numeric = [name for name in inputs if name not in categorical]
    computed = feature_columns(features, numeric, categorical)
    if not kept:
        return list(features.index.astype(str)), computed
    return [*stored.employer_ids, *features.index.astype(str)], {
        name: np.concatenate([columns[name], computed[name]]) for name in inputs
    }


def stored_reasons(
    connection: sa.Connection, snapshot_id: str, targets: list[str], employer_ids: list[str]
) -> dict[ScoreKey, str]:
    """The reasons explained so far of these workplaces' scores for ``targets``."""
    if not employer_ids:
        return {}
    table = schema.snapshot_reasons
    rows = connection.execute(
        sa.select(table.c.target, table.c.employer_id, table.c.reasons).where(
            table.c.snapshot_id == snapshot_id,
            table.c.target.in_(targets),
            table.c.employer_id.in_(employer_ids),
        )
    ).all()
    return {(row.target, row.employer_id): row.reasons for row in rows}
