"""Membership of string ids in a large set, through Arrow.

``Series.isin`` on pandas' Arrow-backed strings turns every candidate into a Python scalar
first: at a million ids that was a tenth of a feature matrix's time (measured 14x slower
than Arrow's hash lookup on 2M ids against 500k).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def is_in(values: pd.Series | pd.Index, known: pd.Index | pd.Series) -> np.ndarray:
    """``values.isin(known)`` as a boolean array; a missing value is in ``known`` only if
    a missing value is."""
    value_set = pa.array(np.asarray(known, dtype=object), type=pa.string(), from_pandas=True)
    found = pc.is_in(pa.array(values, type=pa.string(), from_pandas=True), value_set=value_set)
    return found.to_numpy(zero_copy_only=False).astype(bool)
