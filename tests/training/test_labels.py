from datetime import date

import numpy as np
import pytest

from tests.contract_frames import frames_of
from training.labels import label_examples

CATS = ["safety_health", "subcontracting"]


@pytest.fixture
def frames():
    return frames_of(
        employers=[
            ("E1", "05", "336310", "large", 800, "2010-01-01"),
            ("E2", "05", "336390", "large", None, "2015-06-01"),
            ("E3", "09", "461110", "micro", None, "2024-03-01"),  # registered after as-of
            ("E4", "09", "461110", "micro", None, None),
        ],
        inspections=[
            ("I0", "E1", "2023-12-31", "random", 1),  # before the window
            ("I1", "E1", "2024-02-01", "random", 0),  # first in window
            ("I2", "E1", "2024-06-01", "planned", 1),  # second in window: ignored
            ("I3", "E2", "2024-12-31", "complaint", 1),  # last day in window
            ("I4", "E4", "2025-01-01", "planned", 1),  # first day after the window
            ("I5", "E3", "2024-04-01", "random", 1),  # workplace did not exist at as-of
        ],
        findings=[
            ("I1", "safety_health", 0, None),
            ("I3", "subcontracting", 1, 100.0),
            ("I3", "safety_health", 0, None),
        ],
    )


def test_examples_are_the_first_inspection_in_the_horizon(frames):
    examples = label_examples(frames, date(2024, 1, 1), 366, CATS)
    assert list(examples.index) == ["E1", "E2"]
    assert examples.loc["E1", "inspection_id"] == "I1" and examples.loc["E1", "label"] == 0
    assert examples.loc["E2", "inspection_id"] == "I3" and examples.loc["E2", "label"] == 1
    assert examples.loc["E2", "origin"] == "complaint"


def test_category_labels_are_missing_where_not_inspected(frames):
    examples = label_examples(frames, date(2024, 1, 1), 366, CATS)
    assert examples.loc["E1", "label_safety_health"] == 0
    assert np.isnan(examples.loc["E1", "label_subcontracting"])
    assert examples.loc["E2", "label_subcontracting"] == 1


def test_horizon_end_is_exclusive(frames):
    assert "E4" not in label_examples(frames, date(2024, 1, 1), 366, CATS).index
    assert "E4" in label_examples(frames, date(2024, 1, 1), 367, CATS).index
