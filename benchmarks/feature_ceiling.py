"""How well could any model rank with CALLE's features? The feature ceiling.

    .venv/bin/python -m benchmarks.feature_ceiling --home DIR --truth DIR/truth --as-of 2025-01-01

Fits LightGBM to the world's *true* probabilities (as if labels were unlimited and free of
noise) from the same features, on a random half of the workplaces, and measures oracle
efficiency on the other half, beside the registered champion's on that same half. The gap
between the ceiling and 1.0 is risk that no feature reveals; the gap between the champion
and the ceiling is what better learning could still win.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import lightgbm as lgb
import mlflow
import numpy as np

from calle.settings import Settings
from calle.store import open_store
from features.store_frames import load_frames
from models.feature_encoding import FeatureEncoder
from training.examples import ExampleBuilder
from training.metrics import capacity_k, oracle_efficiency
from training.scoring import load_champion
from training.truth import TruthFiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="CALLE_HOME of a trained world")
    parser.add_argument("--truth", type=Path, required=True)
    parser.add_argument("--as-of", type=date.fromisoformat, required=True)
    args = parser.parse_args()
    settings = Settings(home=args.home)
    mlflow.set_tracking_uri(settings.tracking_uri)
    version, model = load_champion(settings, "employer-risk")
    builder = ExampleBuilder(load_frames(open_store(settings)), model.categories, 365)
    population = builder.population(args.as_of)
    truth = TruthFiles(args.truth).at(args.as_of)["p_any"].reindex(population.index).fillna(0)
    rng = np.random.default_rng(0)
    half = rng.random(len(population)) < 0.5
    encoder = FeatureEncoder.fit(population, [s for s in builder.specs if s.name != "name"])
    x = encoder.transform(population)
    logit = np.log(np.clip(truth, 1e-4, 1 - 1e-4) / (1 - np.clip(truth, 1e-4, 1 - 1e-4)))
    booster = lgb.train(
        {
            "objective": "regression",
            "num_leaves": 63,
            "learning_rate": 0.05,
            "verbosity": -1,
            "min_child_samples": 50,
            "seed": 0,
            "deterministic": True,
            "num_threads": 2,
        },
        lgb.Dataset(x[half], logit[half]),
        num_boost_round=600,
    )
    test = ~half
    ids = population.index.to_numpy().astype(str)[test]
    k = capacity_k(int(test.sum()), 0.05)
    truth_test = truth.to_numpy()[test]
    ceiling = oracle_efficiency(truth_test, booster.predict(x[test]), ids, k)
    champion = oracle_efficiency(
        truth_test, model.predict(population)["p_any"].to_numpy()[test], ids, k
    )
    print(f"as of {args.as_of}, {int(test.sum()):,} held-out workplaces, capacity 5%:")
    print(f"  feature ceiling (fitted to the truth itself): oracle efficiency {ceiling:.3f}")
    print(f"  champion (version {version}, fitted to inspection outcomes): {champion:.3f}")


if __name__ == "__main__":
    main()
