"""Turn a feature matrix into what the estimators take, the same way at training and scoring.

Categorical levels are learned once, at training, and frozen with the model: a level
unseen in training (a new municipality, say) becomes missing rather than shifting
every other level's code.

Numeric features can be cut into levels the same way (``numeric_levels``): each value becomes
the number of its feature's cut points below it. LightGBM bins every feature from the rows it
is given; on a Dask cluster each worker would bin from its own rows and grow another model.
With the levels fixed once, here, every worker sees the same few values and finds the same
bins as one process (what still parts the two models: models.distributed_boosting). The cuts
are quantiles, so the trees lose little: LightGBM's own bins are quantiles too.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.catalogue import FeatureSpec, Kind

#: One feature's values: a Series, floats (numeric features) or a pandas text array.
ColumnValues = pd.Series | np.ndarray | pd.api.extensions.ExtensionArray

#: Rarer levels than the most frequent ``MAX_LEVELS`` are treated as missing.
MAX_LEVELS = 256
#: Training rows of a level, numeric or categorical, at the least when levels are fixed for a
#: cluster: every level must reach every worker with a few rows (LightGBM merges a value seen
#: fewer than 3 times into its neighbour's bin), up to some thirty workers.
MIN_ROWS_PER_LEVEL = 100


def quantile_cuts(values: np.ndarray, levels: int, min_rows: int = 0) -> np.ndarray:
    """Cut points splitting ``values`` (missing ignored) into at most ``levels`` levels of
    about equal counts, none with fewer than ``min_rows`` rows: a value's level is the number
    of cut points below it. Cut points are values seen; a value is never split between two
    levels, so a frequent one makes its level larger and a rare one joins its neighbours."""
    seen, counts = np.unique(values[~np.isnan(values)], return_counts=True)
    total = int(counts.sum())
    target = max(min_rows, -(-total // max(levels, 1)))
    cuts: list[float] = []
    in_level, left = 0, total
    for value, count in zip(seen[:-1], counts[:-1], strict=True):
        in_level += int(count)
        left -= int(count)
        if in_level >= target and left >= min_rows and len(cuts) < levels - 1:
            cuts.append(float(value))
            in_level = 0
    return np.array(cuts, dtype=np.float64)


@dataclass
class FeatureEncoder:
    numeric: list[str]
    categorical: list[str]
    levels: dict[str, list[str]] = field(default_factory=dict)
    monotone: dict[str, int] = field(default_factory=dict)
    #: Each numeric feature's cut points, if its values are cut into levels (see the module).
    cuts: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        features: pd.DataFrame,
        specs: list[FeatureSpec],
        numeric_levels: int = 0,
        min_level_rows: int = 0,
    ) -> FeatureEncoder:
        """``numeric_levels``: cut each numeric feature into at most this many levels
        (:func:`quantile_cuts`); 0 keeps values. ``min_level_rows``: no level, numeric or
        categorical, with fewer rows (a rarer category becomes missing)."""
        numeric = [s.name for s in specs if s.kind == Kind.NUMERIC]
        categorical = [s.name for s in specs if s.kind == Kind.CATEGORICAL]
        levels = {}
        for name in categorical:
            counts = features[name].astype("string").value_counts(dropna=True)
            # frequency first, then the level itself: deterministic under ties
            ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            # the most frequent level stays even if rarer than min_level_rows
            kept = [level for i, (level, n) in enumerate(ordered) if n >= min_level_rows or i == 0]
            levels[name] = sorted(kept[:MAX_LEVELS])
        monotone = {s.name: s.monotone for s in specs if s.monotone}
        cuts = (
            {
                name: quantile_cuts(
                    features[name].to_numpy(np.float64, na_value=np.nan),
                    numeric_levels,
                    min_level_rows,
                )
                for name in numeric
            }
            if numeric_levels
            else {}
        )
        return cls(numeric, categorical, levels, monotone, cuts)

    @property
    def columns(self) -> list[str]:
        return self.numeric + self.categorical

    @functools.cached_property
    def _level_index(self) -> dict[str, pd.Index]:
        """Each categorical feature's levels as an index, its hash table built once: a
        scoring request of a thousand rows spent a tenth of its encoding rebuilding them."""
        return {name: pd.Index(levels, dtype=object) for name, levels in self.levels.items()}

    def _require_columns(self, features: pd.DataFrame) -> None:
        missing = [c for c in self.columns if c not in features.columns]
        if missing:
            raise KeyError(f"feature matrix lacks {missing[:5]}{'…' if len(missing) > 5 else ''}")

    def _numeric_values(self, name: str, values: np.ndarray) -> np.ndarray:
        """``values`` of numeric feature ``name`` as the boosters read them: its level, if it
        is cut (missing stays missing)."""
        cuts = getattr(self, "cuts", {}).get(name)  # encoders pickled before cuts existed
        if cuts is None:
            return values
        level = np.searchsorted(cuts, values, side="left").astype(np.float64)
        level[np.isnan(values)] = np.nan
        return level

    def transform(self, features: pd.DataFrame) -> pd.DataFrame:
        self._require_columns(features)
        out = pd.DataFrame(
            {
                name: self._numeric_values(
                    name, features[name].to_numpy(np.float64, na_value=np.nan)
                )
                for name in self.numeric
            },
            index=features.index,
        )
        for name in self.categorical:
            if not self.levels[name]:
                # no value in training: missing, as a number; LightGBM's data-parallel learner
                # kills the worker that bins a categorical feature with no value
                out[name] = np.nan
                continue
            values = features[name].astype("string")
            known = values.isin(self.levels[name]).fillna(False)
            out[name] = pd.Categorical(
                values.where(known).to_numpy(dtype=object, na_value=None),
                categories=self.levels[name],
            )
        return out[self.columns]

    def monotone_vector(self) -> list[int]:
        return [self.monotone.get(c, 0) for c in self.columns]

    def matrix(self, features: pd.DataFrame) -> np.ndarray:
        """The encoded features as one float matrix: categorical levels as their codes.

        What LightGBM itself makes of :meth:`transform`'s frame (its categories are the
        frozen levels, missing is NaN), built once for all targets instead of once per
        target and call: the cost that dominates scoring small batches.
        """
        self._require_columns(features)
        return self.columns_matrix({name: features[name] for name in self.columns}, len(features))

    def columns_matrix(self, columns: Mapping[str, ColumnValues], rows: int) -> np.ndarray:
        """:meth:`matrix` of features held as columns (Series, or arrays of floats and of
        text), for callers that have no frame: building one only to take it apart again
        was a third of ``POST /score``'s work on a batch."""
        out = np.empty((rows, len(self.columns)), dtype=np.float64)
        for j, name in enumerate(self.numeric):
            values = columns[name]
            out[:, j] = self._numeric_values(
                name,
                values
                if isinstance(values, np.ndarray)
                else values.to_numpy(dtype=np.float64, na_value=np.nan),
            )
        offset = len(self.numeric)
        for j, name in enumerate(self.categorical):
            texts = pd.array(columns[name], dtype="string").to_numpy(dtype=object, na_value=None)
            codes = self._level_index[name].get_indexer(texts)  # -1: unseen
            out[:, offset + j] = np.where(codes >= 0, codes, np.nan)
        return out
