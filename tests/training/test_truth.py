from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from training.truth import TruthFiles


def test_a_fold_on_a_written_date_reads_the_truth(small_world: Path):
    truth = TruthFiles(small_world / "truth")
    day = truth.dates()[-1]
    frame = truth.for_fold(day)
    assert frame is not None and len(frame) > 0


def test_a_fold_without_truth_says_so_and_names_the_dates_there_are(
    small_world: Path, caplog: pytest.LogCaptureFixture
):
    """Events posted by the ECMS after the world's end move the folds off the truth's dates:
    the oracle row then goes, and a data scientist must hear why (found by a newcomer)."""
    truth = TruthFiles(small_world / "truth")
    with caplog.at_level(logging.WARNING, logger="training.truth"):
        assert truth.for_fold(date(2026, 12, 3)) is None
    assert "as of 2026-12-03" in caplog.text
    assert truth.dates()[0].isoformat() in caplog.text
    assert "no oracle" in caplog.text
