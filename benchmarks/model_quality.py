"""Figures for the risk model: quality against every baseline and the oracle, time, memory.

    .venv/bin/python -m benchmarks.model_quality --employers 200000 --years 8

Generates a world, imports it into a fresh SQLite store, runs `calle train --truth` in its
own process (timed, peak memory measured), and prints the model's figures beside the
baselines', all measured on the same folds in the same run. The run also trains the model
weighted by inverse inspection propensity on the same folds (scorer ``model_weighted``),
and prints how far each estimate of precision (all inspections, the lottery's alone,
inverse-propensity weighted) lies from the world's truth.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

import mlflow
import pandas as pd

from calle.bench.stage_process import run_stage
from training.config import FairnessSection
from training.fairness import DENOMINATOR, out_of_band

CALLE = str(Path(sys.executable).with_name("calle"))
BASELINES = ("random", "business_as_usual", "cell_rate", "logistic")
#: The risk model trained otherwise on the same folds: inverse-propensity weights; the
#: inspector's strictness learnt and neutralised.
VARIANTS = ("model_weighted", "model_inspector_adjusted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employers", type=int, default=200_000)
    parser.add_argument("--years", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="calle-model-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    world, home = work / "world", work / "home"
    env = {"CALLE_HOME": str(home), "CALLE_DATABASE_URL": "", "MLFLOW_TRACKING_URI": ""}
    argv = [
        CALLE,
        "world",
        "--employers",
        str(args.employers),
        "--years",
        str(args.years),
        "--seed",
        str(args.seed),
        "--out",
        str(world),
    ]
    run_stage("world", args.employers, argv, env, work / "world.log")
    run_stage("import", args.employers, [CALLE, "import", str(world)], env, work / "import.log")
    config = work / "train.toml"
    config.write_text(
        "[selection]\ncompare_weighting = true\n[inspectors]\ncompare_adjustment = true\n"
    )
    argv = [CALLE, "train", "--config", str(config), "--truth", str(world / "truth"), "--json"]
    seconds, peak = run_stage("train", args.employers, argv, env, work / "train.log")
    result = json.loads((work / "train.log").read_text().strip().splitlines()[-1])

    mlflow.set_tracking_uri(f"sqlite:///{home / 'mlflow.db'}")
    client = mlflow.MlflowClient()
    local = client.download_artifacts(result["run_id"], "summary.csv", str(work))
    summary = pd.read_csv(local).set_index(["scorer", "target"]).xs("any", level="target")

    print(
        f"{args.employers:,} workplaces, {args.years} years, seed {args.seed}; "
        f"training with temporal evaluation: {seconds:.0f} s, peak {peak / 1024:.2f} GB"
    )
    print()
    print("| scorer | precision@5% (inspected) | lift@5% | oracle efficiency@5% | ROC AUC |")
    print("|---|---:|---:|---:|---:|")
    for scorer in ("model", *VARIANTS, *BASELINES, "oracle"):
        row = summary.loc[scorer]
        print(
            f"| {scorer} | {row['precision_at_5pct']:.3f} | {row['lift_at_5pct']:.2f} | "
            f"{row['oracle_efficiency_at_5pct']:.3f} | {row['roc_auc']:.3f} |"
        )
    print()
    print(
        "Selective labels: precision@5% of each ranking as the inspections judge it (all of "
        "them; the lottery's alone; all, weighted by inverse modelled propensity) against "
        "the world's truth (mean true probability of the top 5%):"
    )
    print()
    print(
        "| scorer | truth | all inspections (bias) | lottery inspections (bias) "
        "| weighted (bias) | inspected in the top 5% (lottery) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    bias: dict[str, list[float]] = {"naive": [], "lottery": [], "weighted": []}
    for scorer in ("model", *VARIANTS, *BASELINES):
        row = summary.loc[scorer]
        truth = row["true_precision_at_5pct"]
        naive, lottery = row["precision_at_5pct"], row["random_precision_at_5pct"]
        weighted = row["weighted_precision_at_5pct"]
        for name, value in (("naive", naive), ("lottery", lottery), ("weighted", weighted)):
            bias[name].append(abs(value - truth))
        print(
            f"| {scorer} | {truth:.3f} | {naive:.3f} ({naive - truth:+.3f}) | "
            f"{lottery:.3f} ({lottery - truth:+.3f}) | {weighted:.3f} ({weighted - truth:+.3f}) "
            f"| {row['labelled_in_top_5pct']:.0f} ({row['random_labelled_in_top_5pct']:.0f}) |"
        )
    print()
    print(
        "mean absolute bias over the rankings: "
        + ", ".join(f"{name} {sum(v) / len(v):.3f}" for name, v in bias.items())
    )
    plain = summary.loc["model"]
    for variant in VARIANTS:
        other = summary.loc[variant]
        print(
            f"{variant} vs model (unweighted, unadjusted), same folds: oracle efficiency@5% "
            f"{other['oracle_efficiency_at_5pct']:.3f} vs {plain['oracle_efficiency_at_5pct']:.3f}"
            f"; true precision@5% {other['true_precision_at_5pct']:.3f} vs "
            f"{plain['true_precision_at_5pct']:.3f}; Brier {other['brier']:.4f} vs "
            f"{plain['brier']:.4f}"
        )
    print()
    _print_fairness(client, result["run_id"], work)
    print()
    model = summary.loc["model"]
    best = max(BASELINES[1:], key=lambda b: summary.loc[b, "precision_at_5pct"])
    for baseline in BASELINES:
        gain = model["precision_at_5pct"] / summary.loc[baseline, "precision_at_5pct"] - 1
        print(f"model precision@5% vs {baseline}: {gain:+.1%}")
    gain_best = model["precision_at_5pct"] / summary.loc[best, "precision_at_5pct"] - 1
    print(
        f"targets: oracle efficiency@5% {model['oracle_efficiency_at_5pct']:.3f} (target 0.90); "
        f"precision@5% {gain_best:+.1%} over the best baseline, {best} (target +20%); "
        f"{seconds / 60:.1f} min (target 5); {peak / 1024:.2f} GB (target 6)"
    )


def _print_fairness(client: mlflow.MlflowClient, run_id: str, work: Path) -> None:
    """The audit's groups that leave the default band, widest first, as the gate sees them."""
    table = pd.read_csv(
        client.download_artifacts(run_id, "fairness.csv", str(work)), dtype={"group": str}
    )
    rule = FairnessSection()
    metrics = ["false_discovery_rate", "false_negative_rate"]
    outside = out_of_band(table, metrics, rule.band, rule.min_labelled)
    print(
        f"Fairness audit at {rule.capacity:.0%} (pooled folds): {len(table)} groups of "
        f"{', '.join(rule.attributes)}; {len(outside)} FDR or FNR disparities outside "
        f"{rule.band[0]}-{rule.band[1]} on rates over at least {rule.min_labelled} workplaces:"
    )
    print()
    print(
        "| attribute | group (reference) | basis | metric | disparity | over "
        "| selection rate ratio |"
    )
    print("|---|---|---|---|---:|---:|---:|")
    rows = table.set_index(["attribute", "group"])
    outside = outside.assign(
        distance=(outside["disparity"].clip(lower=1e-3)).map(lambda d: abs(math.log(d)))
    )
    for r in outside.sort_values("distance", ascending=False).head(12).itertuples():
        row = rows.loc[(r.attribute, r.group)]
        print(
            f"| {r.attribute} | {r.group} ({row['reference']}) | {row['basis']} | {r.metric} | "
            f"{r.disparity:.2f} | {row[DENOMINATOR[r.metric]]} | "
            f"{row['selection_rate_disparity']:.2f} |"
        )


if __name__ == "__main__":
    main()
