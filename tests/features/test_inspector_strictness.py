"""The inspector's strictness: relative to the office, shrunk, and blind to the future."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from features.inspector_strictness import NEUTRAL, inspector_strictness, strictness_of


def _visits(rows: list[tuple[str, str, str, bool]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "inspector_id": [r[0] for r in rows],
            "office": [r[1] for r in rows],
            "date": pd.to_datetime([r[2] for r in rows]).astype("datetime64[s]"),
            "violation_found": [r[3] for r in rows],
        }
    )


def test_strictness_is_the_smoothed_rate_over_the_office_rate():
    # office O1: A finds 8/10, B finds 2/10 → office 0.5; office O2: C finds 9/10 alone
    rows = [("A", "O1", "2020-01-01", i < 8) for i in range(10)]
    rows += [("B", "O1", "2020-01-01", i < 2) for i in range(10)]
    rows += [("C", "O2", "2020-01-01", i < 9) for i in range(10)]
    table = inspector_strictness(_visits(rows), date(2021, 1, 1), prior_inspections=10)
    assert table["A"] == pytest.approx(((8 + 10 * 0.5) / 20) / 0.5)  # 1.3
    assert table["B"] == pytest.approx(((2 + 10 * 0.5) / 20) / 0.5)  # 0.7
    assert table["C"] == pytest.approx(1.0)  # alone: as strict as the office, by definition
    unsmoothed = inspector_strictness(_visits(rows), date(2021, 1, 1), prior_inspections=0)
    assert unsmoothed["A"] == pytest.approx(1.6)


def test_visits_on_or_after_the_as_of_date_are_not_seen():
    rows = [("A", "O1", "2020-06-01", True), ("B", "O1", "2020-06-01", False)]
    later = [("A", "O1", "2021-01-01", False)] * 50  # would make A lenient
    visits = _visits(rows + later)
    before = inspector_strictness(visits, date(2021, 1, 1), prior_inspections=0)
    assert before["A"] == pytest.approx(2.0) and before["B"] == pytest.approx(0.0)
    assert before.equals(inspector_strictness(_visits(rows), date(2021, 1, 1), 0))


def test_unknown_and_new_inspectors_are_neutral():
    visits = _visits([("A", "O1", "2020-01-01", True)])
    ids = pd.Series(["A", "Z", None])
    values = strictness_of(ids, visits, date(2021, 1, 1), prior_inspections=30)
    assert values[0] == pytest.approx(1.0)  # the only inspector of the office: its average
    assert values[1] == NEUTRAL and values[2] == NEUTRAL
    assert np.all(strictness_of(ids, visits, date(2019, 1, 1)) == NEUTRAL)  # no history yet
