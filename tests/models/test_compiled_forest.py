"""Compiled boosters: the same probabilities and ranking as LightGBM, cached, never pickled."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.compiled_forest import compiled, compiled_if_possible
from models.risk_model import RiskModel
from training.metrics import ranking_order


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("compiled-trees")


@pytest.fixture(scope="module")
def fast(small_world_model: RiskModel, cache_dir: Path) -> RiskModel:
    return compiled(small_world_model, cache_dir)


def test_same_probabilities_and_ranking_as_lightgbm(
    small_world_model: RiskModel, fast: RiskModel, small_world_population: pd.DataFrame
):
    assert all(t.compiled is not None for t in fast.targets.values() if t.booster is not None)
    slow = small_world_model.predict(small_world_population)
    quick = fast.predict(small_world_population, threads=1)
    pd.testing.assert_frame_equal(slow, quick, check_exact=False, rtol=0, atol=1e-12)
    ids = small_world_population.index.to_numpy().astype(str)
    for column in slow.columns:
        assert np.array_equal(
            ranking_order(slow[column].to_numpy(), ids),
            ranking_order(quick[column].to_numpy(), ids),
        ), column


def test_the_original_model_is_left_as_it_was(small_world_model: RiskModel, fast: RiskModel):
    assert all(t.compiled is None for t in small_world_model.targets.values())
    assert fast.targets["any"].booster is small_world_model.targets["any"].booster


def test_compiled_code_is_cached_once_per_booster(
    small_world_model: RiskModel, fast: RiskModel, cache_dir: Path
):
    boosters = sum(t.booster is not None for t in small_world_model.targets.values())
    files = sorted(cache_dir.iterdir())
    assert len(files) == boosters and all(f.suffix == ".o" for f in files)
    stamps = {f: f.stat().st_mtime_ns for f in files}
    again = compiled(small_world_model, cache_dir)  # read back, not compiled and written again
    assert {f: f.stat().st_mtime_ns for f in cache_dir.iterdir()} == stamps
    rows = np.random.default_rng(0).uniform(0, 5, (50, len(small_world_model.encoder.columns)))
    for name, target in again.targets.items():
        if target.booster is not None:
            assert np.allclose(target.margin(rows), fast.targets[name].margin(rows), atol=1e-12)


def test_a_different_booster_gets_its_own_cache_entry(
    small_world_model: RiskModel, cache_dir: Path
):
    target = small_world_model.targets["any"]
    shorter = compiled(
        RiskModel(
            small_world_model.encoder,
            {"any": target.__class__(target.booster, target.calibrator, 3, 0, 0.0)},
            small_world_model.specs,
        ),
        cache_dir / "shorter",
    )
    entries = list((cache_dir / "shorter").iterdir())
    assert len(entries) == 1 and entries[0].name not in {f.name for f in cache_dir.iterdir()}
    rows = np.random.default_rng(1).uniform(0, 5, (20, len(small_world_model.encoder.columns)))
    expected = target.booster.predict(rows, num_iteration=3, raw_score=True)
    assert np.allclose(shorter.targets["any"].margin(rows), expected, atol=1e-12)


def test_pickling_leaves_the_machine_code_behind(
    fast: RiskModel, small_world_population: pd.DataFrame
):
    restored = pickle.loads(pickle.dumps(fast))
    assert all(t.compiled is None for t in restored.targets.values())
    pd.testing.assert_frame_equal(
        restored.predict(small_world_population), fast.predict(small_world_population)
    )


def test_a_model_that_cannot_be_compiled_is_scored_by_lightgbm(
    small_world_model: RiskModel, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    with caplog.at_level(logging.WARNING, logger="models.compiled_forest"):
        model = compiled_if_possible(small_world_model, not_a_folder)
    assert model is small_world_model
    assert "predicting with LightGBM" in caplog.text
