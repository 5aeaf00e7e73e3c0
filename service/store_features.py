"""A few workplaces' features from the store, as the population's matrix would give them.

``POST /score`` by id and reasons explained on read both need the feature rows of a handful
of workplaces as of a date: their own records are read by id, and the population's peer
rates (:mod:`service.peer_rate_cache`) make the rows equal to the whole matrix's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd
import sqlalchemy as sa

from features.matrix import feature_matrix
from features.peer_rates import PeerRateTables
from features.store_frames import load_frames_for
from models.risk_model import RiskModel


def features_from_store(
    engine: sa.Engine,
    peer_rates: PeerRateTables,
    model: RiskModel,
    employer_ids: Sequence[str],
    as_of: date,
) -> tuple[pd.DataFrame, set[str]]:
    """The feature rows of ``employer_ids`` registered before ``as_of`` (indexed by id), and
    which of the ids the store knows at all."""
    frames = load_frames_for(engine, employer_ids)
    matrix = feature_matrix(
        frames, as_of, model.categories, model.attribute_kinds, peer_rates=peer_rates
    )
    return matrix, set(frames.employers["employer_id"])
