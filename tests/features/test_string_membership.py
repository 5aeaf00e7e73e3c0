"""Arrow's membership test answers as pandas' ``isin`` does, missing values included."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.string_membership import is_in


def test_membership_is_pandas_isin():
    values = pd.Series(["a", "b", None, "c", "a"], dtype="str")
    known = pd.Index(["a", "c", "z", "c"])
    assert is_in(values, known).tolist() == values.isin(known).tolist()
    assert is_in(values, known).tolist() == [True, False, False, True, True]


def test_a_missing_value_is_in_only_a_set_with_one():
    values = pd.Series(["a", None], dtype="str")
    assert is_in(values, pd.Series(["x", None], dtype="str")).tolist() == [False, True]
    assert is_in(pd.Index([], dtype="str"), pd.Index(["a"])).dtype == np.bool_
