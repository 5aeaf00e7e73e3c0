"""Turn a feature matrix into what the estimators take, the same way at training and scoring.

Categorical levels are learned once, at training, and frozen with the model: a level
unseen in training (a new municipality, say) becomes missing rather than shifting
every other level's code.
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


@dataclass
class FeatureEncoder:
    numeric: list[str]
    categorical: list[str]
    levels: dict[str, list[str]] = field(default_factory=dict)
    monotone: dict[str, int] = field(default_factory=dict)

    @classmethod
    def fit(cls, features: pd.DataFrame, specs: list[FeatureSpec]) -> FeatureEncoder:
        numeric = [s.name for s in specs if s.kind == Kind.NUMERIC]
        categorical = [s.name for s in specs if s.kind == Kind.CATEGORICAL]
        levels = {}
        for name in categorical:
            counts = features[name].astype("string").value_counts(dropna=True)
            # frequency first, then the level itself: deterministic under ties
            ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_LEVELS]
            levels[name] = sorted(level for level, _ in ordered)
        monotone = {s.name: s.monotone for s in specs if s.monotone}
        return cls(numeric, categorical, levels, monotone)

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

    def transform(self, features: pd.DataFrame) -> pd.DataFrame:
        self._require_columns(features)
        out = features[self.numeric].astype(np.float64)
        for name in self.categorical:
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
            out[:, j] = (
                values
                if isinstance(values, np.ndarray)
                else values.to_numpy(dtype=np.float64, na_value=np.nan)
            )
        offset = len(self.numeric)
        for j, name in enumerate(self.categorical):
            texts = pd.array(columns[name], dtype="string").to_numpy(dtype=object, na_value=None)
            codes = self._level_index[name].get_indexer(texts)  # -1: unseen
            out[:, offset + j] = np.where(codes >= 0, codes, np.nan)
        return out
