"""The Dask path beside the single-process path, on one world, in one run.

Prints, for a world of ``--employers`` workplaces imported into a fresh SQLite store:
- one as-of date's features in this process and on a local cluster of ``--workers``
  processes (seconds, and whether the two matrices are equal);
- the risk model grown here and on the cluster from the same examples, each booster on one
  worker (the default) and on all ``--workers`` (data-parallel), with the shipped parameters
  and with numeric levels and no draws: seconds, and how alike they rank the next year's
  population (Spearman correlation, shared share of the top 10%, whether the order is the
  same, the largest probability gap of any target), beside the same figures for two
  single-process models that differ only in their seed: the yardstick for "alike".

    .venv/bin/python -m benchmarks.dask_path --employers 20000 --workers 2
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
from distributed import Client, LocalCluster

from calle.settings import Settings
from calle.store import open_store
from features.contract_import import import_folder
from features.distributed_matrix import distributed_feature_matrix, employer_ranges
from features.matrix import attribute_kinds_of, feature_matrix
from features.store_frames import load_frames
from features.world import WorldConfig, generate_world
from models.distributed_boosting import DaskBoosterFit
from models.risk_model import LightGBMParams, fit_risk_model
from training.examples import ExampleBuilder

TRAIN = (date(2022, 1, 1), date(2023, 1, 1))
VALID = date(2024, 1, 1)
SCORE = date(2025, 1, 1)


def _alike(a: pd.Series, b: pd.Series) -> tuple[float, float]:
    top = max(1, len(a) // 10)
    shared = len(set(a.nlargest(top).index) & set(b.nlargest(top).index)) / top
    return float(a.corr(b, method="spearman")), shared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employers", type=int, default=20_000)
    parser.add_argument("--years", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="calle-dask-") as work:
        folder = Path(work) / "world"
        generate_world(
            WorldConfig.from_cli(args.employers, args.years, 0, messy=0.0, end=None), folder, "csv"
        )
        settings = Settings(home=Path(work) / "home")
        import_folder(folder, settings)
        engine = open_store(settings)
        frames = load_frames(engine)
        categories = list(settings.categories)
        kinds = attribute_kinds_of(frames)

        started = time.perf_counter()
        here = feature_matrix(frames, SCORE, categories, kinds)
        here_seconds = time.perf_counter() - started

        with (
            LocalCluster(
                n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            ranges = employer_ranges(engine, 4 * args.workers)
            started = time.perf_counter()
            there = client.compute(
                distributed_feature_matrix(settings.store_url, ranges, SCORE, categories, kinds)
            ).result()
            there_seconds = time.perf_counter() - started
            print(f"features of {len(here):,} workplaces as of {SCORE}:")
            print(f"  this process       {here_seconds:7.1f} s")
            print(
                f"  cluster, {args.workers} workers {there_seconds:7.1f} s   "
                f"equal: {there.sort_index().equals(here)}"
            )

            builder = ExampleBuilder(frames, categories, 365)
            x_train, l_train = builder.stacked(TRAIN)
            x_valid, l_valid = builder.examples(VALID)
            specs = builder.specs

            def fit(params: LightGBMParams, **options: object) -> tuple[pd.DataFrame, float]:
                started = time.perf_counter()
                model = fit_risk_model(
                    x_train, l_train, x_valid, l_valid, specs, categories, params, **options
                )
                return model.predict(here), time.perf_counter() - started

            shipped = LightGBMParams()
            base, base_seconds = fit(shipped)
            one_worker, one_worker_seconds = fit(shipped, fit_booster=DaskBoosterFit(client, 1))
            clustered, cluster_seconds = fit(
                shipped, fit_booster=DaskBoosterFit(client, args.workers)
            )
            other_seed, _ = fit(replace(shipped, seed=1))
            levelled = replace(
                shipped, numeric_levels=255, feature_fraction=1.0, bagging_fraction=1.0
            )
            levelled_here, _ = fit(levelled)
            levelled_cluster, _ = fit(levelled, fit_booster=DaskBoosterFit(client, args.workers))
        engine.dispose()

    print(f"risk model on {len(x_train):,} training examples:")
    print(f"  this process       {base_seconds:7.1f} s")
    print(
        f"  cluster, 1 worker per booster {one_worker_seconds:7.1f} s   "
        "(LightGBM's early stopping on the worker)"
    )
    print(
        f"  cluster, {args.workers} workers per booster {cluster_seconds:7.1f} s   "
        "(every round grown: no early stopping across workers)"
    )
    print(
        f"how alike they rank {len(here):,} workplaces (overall risk; every target's largest gap):"
    )
    for label, one, other in (
        (
            "shipped parameters, 1 worker per booster (the default): cluster vs here",
            base,
            one_worker,
        ),
        (
            f"shipped parameters, {args.workers} workers per booster: cluster vs here",
            base,
            clustered,
        ),
        (
            f"numeric levels, no bagging or column sampling, {args.workers} workers per booster: "
            "cluster vs here",
            levelled_here,
            levelled_cluster,
        ),
        ("yardstick: shipped parameters here, seed 1 vs seed 0", base, other_seed),
    ):
        rho, shared = _alike(one["p_any"], other["p_any"])
        same = one["p_any"].rank(method="first").equals(other["p_any"].rank(method="first"))
        gap = float((one - other).abs().to_numpy().max())
        print(f"  {label}")
        print(
            f"    Spearman {rho:.4f}   top 10% shared {shared:.1%}   same order: {same}"
            f"   largest |probability gap| {gap:.2e}"
        )


if __name__ == "__main__":
    main()
