"""Point-in-time features on a hand-built history whose right answers are known."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from features.frames import ContractFrames
from features.matrix import feature_matrix, feature_specs
from tests.contract_frames import frames_of

CATS = ["safety_health", "subcontracting"]
AS_OF = date(2024, 1, 1)


@pytest.fixture
def history() -> ContractFrames:
    return frames_of(
        employers=[
            ("E1", "05", "336310", "large", 800, "2010-01-01"),
            ("E2", "05", "336390", "large", None, "2015-06-01"),
            ("E3", "09", "461110", "micro", None, None),
        ],
        inspections=[
            ("I1", "E1", "2023-06-01", "random", 1),  # 214 days before AS_OF
            ("I2", "E1", "2020-03-01", "planned", 0),  # 1401 days before
            ("I3", "E2", "2023-12-31", "complaint", 0),  # 1 day before
        ],
        findings=[
            ("I1", "safety_health", 1, 5000.0),
            ("I1", "subcontracting", 0, None),
            ("I2", "safety_health", 0, None),
            ("I3", "subcontracting", 0, None),
        ],
        complaints=[
            ("C1", "E2", "2023-11-15", "subcontracting", "web"),
            ("C2", "E2", "2021-01-01", None, "fax"),
        ],
        remediations=[
            ("E1", "2023-06-10", "2024-03-01", "sanction"),  # closes after AS_OF: open then
            ("E1", "2019-01-01", "2019-06-01", "rrm"),
        ],
        attributes=[("E1", "attr_repse_registered", "1", "numeric")],
    )


def test_columns_are_exactly_the_catalogue(history: ContractFrames):
    matrix = feature_matrix(history, AS_OF, CATS)
    specs = feature_specs(CATS, {"attr_repse_registered": "numeric"})
    assert list(matrix.columns) == [s.name for s in specs]
    assert len({s.name for s in specs}) == len(specs)
    assert list(matrix.index) == ["E1", "E2", "E3"]


def test_history_counts_windows_and_recency(history: ContractFrames):
    m = feature_matrix(history, AS_OF, CATS)
    e1 = m.loc["E1"]
    assert (e1["inspections_1y"], e1["inspections_3y"], e1["inspections_ever"]) == (1, 1, 2)
    assert (e1["violations_1y"], e1["violations_ever"]) == (1, 1)
    assert e1["safety_health_inspected_ever"] == 2 and e1["safety_health_violations_1y"] == 1
    assert e1["subcontracting_inspected_1y"] == 1 and e1["subcontracting_violations_1y"] == 0
    assert e1["days_since_inspection"] == 214 and e1["days_since_violation"] == 214
    assert e1["last_inspection_violation"] == 1
    assert e1["sanctions_ever"] == 5000 and e1["sanction_max_ever"] == 5000
    assert e1["random_inspections_ever"] == 1 and e1["random_violations_ever"] == 1
    assert e1["remediations_open"] == 1 and e1["remediations_ever"] == 2 and e1["rrm_ever"] == 1
    assert e1["attr_repse_registered"] == 1.0
    e2 = m.loc["E2"]
    assert e2["days_since_inspection"] == 1 and np.isnan(e2["days_since_violation"])
    assert e2["last_inspection_violation"] == 0
    e3 = m.loc["E3"]
    assert e3["inspections_ever"] == 0 and np.isnan(e3["days_since_inspection"])
    assert np.isnan(e3["last_inspection_violation"]) and np.isnan(e3["attr_repse_registered"])


def test_complaints_by_window_category_and_channel(history: ContractFrames):
    e2 = feature_matrix(history, AS_OF, CATS).loc["E2"]
    assert (e2["complaints_90d"], e2["complaints_1y"], e2["complaints_3y"]) == (1, 1, 2)
    assert e2["complaints_subcontracting_90d"] == 1 and e2["complaints_safety_health_3y"] == 0
    assert e2["complaints_via_web_90d"] == 1
    assert e2["complaints_via_other_3y"] == 1  # "fax" is not a known channel
    assert e2["days_since_complaint"] == 47


def test_attributes_and_sector_hierarchy(history: ContractFrames):
    e1 = feature_matrix(history, AS_OF, CATS).loc["E1"]
    assert (e1["sector2"], e1["sector3"], e1["sector4"]) == ("33", "336", "3363")
    assert e1["age_days"] == (AS_OF - date(2010, 1, 1)).days
    assert e1["employees"] == 800


def test_peer_rates_are_smoothed_toward_the_overall_rate(history: ContractFrames):
    m = feature_matrix(history, AS_OF, CATS)
    overall = 1 / 3  # I1 violation, I2 and I3 not
    # E1 and E2 share the cell 05|33|large: 1 violation in 3 inspections
    cell = (1 + 20 * overall) / (3 + 20)
    assert m.loc["E1", "peer_rate_state_sector2_size"] == pytest.approx(cell)
    assert m.loc["E2", "peer_rate_state_sector2_size"] == pytest.approx(cell)
    # E3's cell has no inspections: the overall rate
    assert m.loc["E3", "peer_rate_state_sector2_size"] == pytest.approx(overall)


def test_no_leakage_events_on_or_after_the_as_of_date_change_nothing(history: ContractFrames):
    before = feature_matrix(history, AS_OF, CATS)
    late = frames_of(
        employers=[
            ("E1", "05", "336310", "large", 800, "2010-01-01"),
            ("E2", "05", "336390", "large", None, "2015-06-01"),
            ("E3", "09", "461110", "micro", None, None),
            ("E4", "05", "336310", "large", 10, "2024-01-01"),  # registered on the as-of date
        ],
        inspections=[
            ("I1", "E1", "2023-06-01", "random", 1),
            ("I2", "E1", "2020-03-01", "planned", 0),
            ("I3", "E2", "2023-12-31", "complaint", 0),
            ("I4", "E3", "2024-01-01", "random", 1),  # on the as-of date
            ("I5", "E1", "2025-05-05", "follow_up", 1),
            ("I6", "E4", "2024-02-01", "planned", 1),
        ],
        findings=[
            ("I1", "safety_health", 1, 5000.0),
            ("I1", "subcontracting", 0, None),
            ("I2", "safety_health", 0, None),
            ("I3", "subcontracting", 0, None),
            ("I4", "safety_health", 1, 100.0),
            ("I5", "subcontracting", 1, 9.0),
            ("I6", "safety_health", 1, 9.0),
        ],
        complaints=[
            ("C1", "E2", "2023-11-15", "subcontracting", "web"),
            ("C2", "E2", "2021-01-01", None, "fax"),
            ("C3", "E3", "2024-01-01", "safety_health", "phone"),
            ("C4", "E1", "2030-01-01", "subcontracting", "web"),
        ],
        remediations=[
            ("E1", "2023-06-10", "2024-01-01", "sanction"),  # closes on the as-of date
            ("E1", "2019-01-01", "2019-06-01", "rrm"),
            ("E3", "2024-01-01", None, "rrm"),
        ],
        attributes=[
            ("E1", "attr_repse_registered", "1", "numeric"),
            ("E4", "attr_repse_registered", "0", "numeric"),
        ],
    )
    after = feature_matrix(late, AS_OF, CATS)
    pd.testing.assert_frame_equal(before, after)


def test_random_late_events_never_change_features(history: ContractFrames):
    """Many random additions dated on or after the as-of date: features stay identical."""
    rng = np.random.default_rng(11)
    before = feature_matrix(history, AS_OF, CATS)
    for trial in range(20):
        n = int(rng.integers(1, 6))
        days = rng.integers(0, 800, n)
        dates = [str(np.datetime64(AS_OF) + int(d)) for d in days]
        emps = rng.choice(["E1", "E2", "E3"], n)
        extra_insp = pd.DataFrame(
            {
                "inspection_id": [f"X{trial}_{i}" for i in range(n)],
                "employer_id": emps,
                "date": pd.to_datetime(dates).astype("datetime64[s]"),
                "origin": rng.choice(["random", "planned", "complaint"], n),
                "violation_found": rng.integers(0, 2, n),
                "office": None,
                "inspector_id": None,
            }
        )
        extra_find = pd.DataFrame(
            {
                "inspection_id": extra_insp["inspection_id"],
                "category": rng.choice(CATS, n),
                "violation": extra_insp["violation_found"],
                "sanction_amount": rng.uniform(0, 1e5, n),
            }
        )
        extra_comp = pd.DataFrame(
            {
                "complaint_id": [f"XC{trial}_{i}" for i in range(n)],
                "employer_id": emps,
                "date": pd.to_datetime(dates).astype("datetime64[s]"),
                "category": rng.choice(CATS, n),
                "channel": rng.choice(["web", "phone", "union_petition"], n),
            }
        )
        changed = ContractFrames(
            employers=history.employers,
            inspections=pd.concat([history.inspections, extra_insp], ignore_index=True),
            findings=pd.concat([history.findings, extra_find], ignore_index=True),
            complaints=pd.concat([history.complaints, extra_comp], ignore_index=True),
            remediations=history.remediations,
            attributes=history.attributes,
        )
        pd.testing.assert_frame_equal(before, feature_matrix(changed, AS_OF, CATS))


def test_last_event_day_looks_at_every_kind_of_event(history: ContractFrames):
    # the latest is the remediation closed on 2024-03-01, after every inspection and complaint
    assert history.last_event_day() == date(2024, 3, 1)
