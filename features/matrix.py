"""The point-in-time feature matrix: one row per workplace that existed before the as-of date."""

from __future__ import annotations

from datetime import date

import pandas as pd

from features.catalogue import FeatureSpec
from features.complaint_history import complaint_features, complaint_specs
from features.employer_attributes import attribute_features, attribute_specs
from features.employer_index import EmployerIndex
from features.frames import ContractFrames
from features.history import history_features, history_specs
from features.peer_rates import (
    PeerRateTables,
    apply_peer_rates,
    peer_rate_specs,
    peer_rate_tables,
)


def attribute_kinds_of(frames: ContractFrames) -> dict[str, str]:
    """Each ``attr_*`` name and its kind (numeric or categorical), as the import decided."""
    attrs = frames.attributes
    if attrs.empty:
        return {}
    kinds = attrs.drop_duplicates("name").set_index("name")["kind"]
    return {str(k): str(v) for k, v in kinds.items()}


def feature_specs(categories: list[str], attribute_kinds: dict[str, str]) -> list[FeatureSpec]:
    """The catalogue, in the column order of :func:`feature_matrix`."""
    return (
        attribute_specs(attribute_kinds)
        + history_specs(categories)
        + complaint_specs(categories)
        + peer_rate_specs(categories)
    )


def feature_matrix(
    frames: ContractFrames,
    as_of: date,
    categories: list[str],
    attribute_kinds: dict[str, str] | None = None,
    peer_rates: PeerRateTables | None = None,
) -> pd.DataFrame:
    """Features of every workplace as known at the start of ``as_of``, indexed by employer_id.

    ``frames`` is the whole history (normalised); the point-in-time cut happens here,
    so no caller can forget it. Rows are sorted by employer_id for determinism.

    ``frames`` may hold only some workplaces' records (all of them, for those workplaces)
    if ``peer_rates`` gives the population's cell rates as of the same date
    (:func:`population_peer_rates`): the rows are then those of the whole population's matrix.
    """
    kinds = attribute_kinds_of(frames) if attribute_kinds is None else attribute_kinds
    past = frames.as_of(as_of)
    index = EmployerIndex(past.employers["employer_id"].sort_values())
    attributes = attribute_features(past, index, as_of, kinds)
    parts = [
        attributes,
        history_features(past, index, as_of, categories),
        complaint_features(past, index, as_of, categories),
        apply_peer_rates(peer_rates or peer_rate_tables(past, attributes, categories), attributes),
    ]
    matrix = pd.concat(parts, axis=1)
    expected = [s.name for s in feature_specs(categories, kinds)]
    return matrix[expected]


def population_peer_rates(
    frames: ContractFrames, as_of: date, categories: list[str]
) -> PeerRateTables:
    """The cell rates of the whole population as of ``as_of``, for :func:`feature_matrix`.

    Only employers, inspections and findings are read from ``frames``.
    """
    past = frames.as_of(as_of)
    index = EmployerIndex(past.employers["employer_id"].sort_values())
    return peer_rate_tables(past, attribute_features(past, index, as_of, {}), categories)
