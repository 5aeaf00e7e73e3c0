"""Counting events per employer with array arithmetic instead of group-bys."""

from __future__ import annotations

import numpy as np
import pandas as pd


class EmployerIndex:
    """Positions of employers, so events can be summed with ``np.bincount``."""

    def __init__(self, employer_ids: pd.Series) -> None:
        self.ids = pd.Index(employer_ids.astype(str), name="employer_id")
        self.size = len(self.ids)

    def positions(self, employer_ids: pd.Series) -> np.ndarray:
        """Position of each event's employer; -1 where the employer is not in the index."""
        return self.ids.get_indexer(employer_ids.astype(str))

    def count(self, positions: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        keep = positions >= 0 if mask is None else (positions >= 0) & mask
        return np.bincount(positions[keep], minlength=self.size).astype(np.float64)

    def total(self, positions: np.ndarray, values: np.ndarray, mask: np.ndarray | None = None):
        keep = positions >= 0 if mask is None else (positions >= 0) & mask
        return np.bincount(positions[keep], weights=values[keep], minlength=self.size)

    def last(
        self,
        positions: np.ndarray,
        order: np.ndarray,
        values: np.ndarray,
        mask: np.ndarray | None = None,
    ) -> np.ndarray:
        """Per employer the ``values`` of its event with the largest ``order`` (NaN where none).

        Ties in ``order`` are broken by the event's position in the input, so the
        result is deterministic for a deterministic input order.
        """
        keep = positions >= 0 if mask is None else (positions >= 0) & mask
        pos, key, val = positions[keep], order[keep], values[keep]
        out = np.full(self.size, np.nan)
        if len(pos) == 0:
            return out
        sort = np.lexsort((np.arange(len(pos)), key, pos))
        pos, val = pos[sort], val[sort]
        is_last = np.append(pos[1:] != pos[:-1], True)
        out[pos[is_last]] = val[is_last]
        return out
