"""The national-scale benchmark: every stage at several sizes, baselines in the same run.

For each size: a 10-year world is generated, imported into SQLite and into a fresh
PostgreSQL database (beside a plain COPY of the same files, the import's baseline), the
features of one as-of date are computed from PostgreSQL, the model is trained with its
temporal evaluation, every workplace is scored (beside raw LightGBM on the same matrix, the
scoring's baseline), the snapshot is written and filtered rankings are read from it. Sizes
given only for scoring reuse the largest world's features, repeated (see
:mod:`calle.bench.stage_worker`). Every stage is its own process: its peak memory is its own.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from calle.bench.copy_baseline import (
    contract_rows,
    create_database,
    drop_database,
    plain_copy_seconds,
)
from calle.bench.growth import growth_exponent, n_log_n_exponent
from calle.bench.stage_process import run_stage

CALLE = str(Path(sys.executable).with_name("calle"))
PYTHON = sys.executable

#: Targets at the reference size on the 2-core, 24 GB reference machine (issue 7).
TARGET_SIZE = 1_000_000
TARGET_SECONDS = {"features": 60.0, "training": 600.0}
TARGET_PEAK_MB = 8 * 1024
#: Rescoring and writing the snapshot of this many workplaces, in seconds.
RESCORE_SIZE, RESCORE_SECONDS = 5_000_000, 120.0
#: End-to-end scoring over raw LightGBM, import into PostgreSQL over plain COPY.
MIN_SCORING_RATIO, MIN_IMPORT_RATIO = 0.7, 0.5


@dataclass(frozen=True)
class Figure:
    """One stage at one size: wall seconds, the rows it handled, its process's peak memory."""

    stage: str
    employers: int
    seconds: float
    rows: int
    peak_mb: float | None = None
    note: str = ""

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("nan")


@dataclass(frozen=True)
class BenchPlan:
    sizes: list[int]
    years: int
    score_sizes: list[int]
    postgres_url: str
    work: Path
    reasons_sample: int = 20_000
    seed: int = 1


@dataclass
class BenchReport:
    plan: BenchPlan
    figures: list[Figure] = field(default_factory=list)

    def of(self, stage: str, employers: int) -> Figure | None:
        return next(
            (f for f in self.figures if f.stage == stage and f.employers == employers), None
        )

    def to_json(self) -> str:
        plan = {**asdict(self.plan), "work": str(self.plan.work)}
        plan.pop("postgres_url")
        return json.dumps(
            {"plan": plan, "figures": [asdict(f) for f in self.figures]}, indent=2, default=str
        )

    @classmethod
    def from_json(cls, text: str) -> BenchReport:
        """A saved run back, to render its table and plot again without re-running it."""
        data = json.loads(text)
        plan = BenchPlan(**{**data["plan"], "work": Path(data["plan"]["work"]), "postgres_url": ""})
        return cls(plan, [Figure(**f) for f in data["figures"]])


def _worker(
    stage: str, employers: int, work: Path, env: dict[str, str], extra: list[str]
) -> tuple[dict, float]:
    argv = [PYTHON, "-m", "calle.bench.stage_worker", stage, "--work", str(work), *extra]
    _, peak = run_stage(stage, employers, argv, env, work / f"{stage}.log")
    return json.loads((work / f"{stage}.json").read_text()), peak


def _score(
    report: BenchReport,
    employers: int,
    work: Path,
    env: dict[str, str],
    version: str,
    rows: int | None,
) -> None:
    extra = ["--version", version, "--reasons-sample", str(report.plan.reasons_sample)]
    if rows is not None:
        extra += ["--rows", str(rows)]
    result, peak = _worker("score", employers, work, env, extra)
    seconds, n = result["seconds"], result["rows"]
    note = "" if rows is None else "the largest world's features, repeated"
    add = report.figures.append
    compiled = (
        f"boosters compiled in {seconds['compile']:.1f} s, once per model version"
        if "compile" in seconds
        else "LightGBM's own prediction"
    )
    add(
        Figure(
            "scoring",
            employers,
            seconds["predict"],
            n,
            peak,
            "; ".join(filter(None, [note, compiled])),
        )
    )
    add(Figure("raw LightGBM (baseline)", employers, seconds["raw_lightgbm"], n, None, note))
    add(
        Figure(
            "reasons (TreeSHAP, sample)",
            employers,
            seconds["reasons_sample"],
            result["reasons_rows"],
            peak,
            f"{result['reasons_rows']:,} rows × {result['targets']} targets",
        )
    )
    add(
        Figure(
            "reasons (read first)",
            employers,
            seconds["reasons_read_first"],
            result["read_first_rows"],
            peak,
            "scores explained before the write: the top of every ranking read first",
        )
    )
    add(
        Figure(
            "snapshot write",
            employers,
            seconds["snapshot_write"],
            result["snapshot_rows"],
            peak,
            f"one row per workplace, {result['targets']} targets each",
        )
    )


def _size_folder(plan: BenchPlan, employers: int) -> Path:
    return plan.work / f"n{employers}"


def _store_env(work: Path, url: str) -> dict[str, str]:
    """The environment of every stage after the import: one size's PostgreSQL store and its
    own MLflow registry."""
    return {
        "CALLE_HOME": str(work / "home" / "postgres"),
        "CALLE_DATABASE_URL": url,
        "CALLE_MLFLOW_TRACKING_URI": f"sqlite:///{(work / 'home' / 'mlflow.db').resolve()}",
        "CALLE_LOG_LEVEL": "WARNING",
    }


def bench_size(
    report: BenchReport, employers: int, keep_store: bool, progress: Callable[[str], None]
) -> tuple[str, str] | None:
    """Every stage at one size; the PostgreSQL URL and model version if ``keep_store``."""
    plan = report.plan
    work = _size_folder(plan, employers)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    world, home = work / "world", work / "home"
    add = report.figures.append

    def stage(name: str, argv: list[str], env: dict[str, str], rows: int) -> float:
        seconds, peak = run_stage(name, employers, argv, env, work / f"{name}.log")
        add(Figure(name, employers, seconds, rows, peak))
        progress(f"{employers:>10,}  {name:<28} {seconds:9.1f} s  {peak:8,.0f} MB")
        return seconds

    argv = [CALLE, "world", "--employers", str(employers), "--years", str(plan.years)]
    stage("world", [*argv, "--seed", str(plan.seed), "--out", str(world)], {}, employers)
    rows = contract_rows(world)
    sqlite_env = {"CALLE_HOME": str(home / "sqlite"), "CALLE_DATABASE_URL": ""}
    stage("import SQLite", [CALLE, "import", str(world)], sqlite_env, rows)
    shutil.rmtree(home / "sqlite", ignore_errors=True)

    url = create_database(plan.postgres_url, "calle_bench")
    env = _store_env(work, url)
    try:
        stage("import PostgreSQL", [CALLE, "import", str(world)], env, rows)
        copy = plain_copy_seconds(world, plan.postgres_url)
        add(Figure("plain COPY (baseline)", employers, copy, rows))
        progress(f"{employers:>10,}  {'plain COPY (baseline)':<28} {copy:9.1f} s")
        shutil.rmtree(world, ignore_errors=True)

        result, peak = _worker("features", employers, work, env, [])
        seconds = result["seconds"]
        add(Figure("features (read store)", employers, seconds["load"], result["rows"], peak))
        add(Figure("features", employers, seconds["features"], result["rows"], peak))
        progress(
            f"{employers:>10,}  {'features':<28} {seconds['load']:9.1f} s read + "
            f"{seconds['features']:.1f} s built  {peak:8,.0f} MB"
        )

        stage("training", [CALLE, "train", "--json"], env, employers)
        summary = json.loads((work / "training.log").read_text().strip().splitlines()[-1])
        version = str(summary["version"])

        _score(report, employers, work, env, version, None)
        progress(f"{employers:>10,}  {'scoring, reasons, snapshot':<28} done")

        result, peak = _worker("rankings", employers, work, env, [])
        add(
            Figure(
                "rankings (top 100, filtered)",
                employers,
                result["seconds"]["queries"],
                result["rows"],
                peak,
                f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms per query; "
                f"snapshot read into memory first in {result['seconds']['load']:.1f} s",
            )
        )
        progress(f"{employers:>10,}  {'rankings':<28} p99 {result['p99_ms']:.1f} ms")
    except BaseException:
        drop_database(plan.postgres_url, url)
        raise
    if keep_store:
        return url, version
    drop_database(plan.postgres_url, url)
    return None


def run_bench(plan: BenchPlan, progress: Callable[[str], None] = print) -> BenchReport:
    report = BenchReport(plan)
    sizes = sorted(plan.sizes)
    extra_scores = sorted(s for s in plan.score_sizes if s not in sizes)
    for employers in sizes:
        keep = employers == sizes[-1] and bool(extra_scores)
        kept = bench_size(report, employers, keep, progress)
        if kept is None:
            continue
        url, version = kept
        work = _size_folder(plan, employers)
        env = _store_env(work, url)
        try:
            for rows in extra_scores:
                _score(report, rows, work, env, version, rows)
                progress(f"{rows:>10,}  {'scoring, reasons, snapshot':<28} done")
        finally:
            drop_database(plan.postgres_url, url)
    return report


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def targets(report: BenchReport) -> list[str]:
    """Each target of issue 7 the report can judge, with the figure and the verdict."""
    lines = []
    for stage, limit in TARGET_SECONDS.items():
        figure = report.of(stage, TARGET_SIZE)
        if figure is not None:
            lines.append(
                f"{stage} at {TARGET_SIZE:,}: {figure.seconds:.0f} s (target ≤ {limit:.0f} s): "
                + _verdict(figure.seconds <= limit)
            )
    at_target = [f for f in report.figures if f.employers == TARGET_SIZE and f.peak_mb]
    if at_target:
        worst = max(at_target, key=lambda f: f.peak_mb or 0)
        lines.append(
            f"peak memory at {TARGET_SIZE:,}: {worst.peak_mb:,.0f} MB in {worst.stage} "
            f"(target ≤ {TARGET_PEAK_MB:,} MB): " + _verdict((worst.peak_mb or 0) <= TARGET_PEAK_MB)
        )
    rescoring = [
        report.of(stage, RESCORE_SIZE)
        for stage in ("scoring", "reasons (read first)", "snapshot write")
    ]
    if all(rescoring):
        total = sum(f.seconds for f in rescoring if f)
        lines.append(
            f"rescoring {RESCORE_SIZE:,} and writing the snapshot: {total:.0f} s (target ≤ "
            f"{RESCORE_SECONDS:.0f} s; with the reasons of the rankings read first): "
            + _verdict(total <= RESCORE_SECONDS)
        )
    #: (what, stage, its baseline, the least share of the baseline's speed)
    ratios = (
        ("scoring", "scoring", "raw LightGBM (baseline)", MIN_SCORING_RATIO),
        ("import", "import PostgreSQL", "plain COPY (baseline)", MIN_IMPORT_RATIO),
    )
    for employers in sorted({f.employers for f in report.figures}):
        for what, stage, baseline, least in ratios:
            ours, theirs = report.of(stage, employers), report.of(baseline, employers)
            if ours and theirs:
                ratio = theirs.seconds / ours.seconds  # the same rows: a ratio of speeds
                lines.append(
                    f"{what} at {employers:,}: {ratio:.2f} of {baseline.split(' (')[0]}'s "
                    f"speed (target ≥ {least}): {_verdict(ratio >= least)}"
                )
    return lines


def growth(report: BenchReport) -> list[tuple[str, float, float]]:
    """(stage, fitted exponent, n log n's exponent over the same sizes) per stage timed at
    two or more sizes."""
    out = []
    for stage in dict.fromkeys(f.stage for f in report.figures):
        points = sorted((f.employers, f.seconds) for f in report.figures if f.stage == stage)
        sizes = [p[0] for p in points]
        if len(set(sizes)) < 2 or min(p[1] for p in points) <= 0:
            continue
        out.append((stage, growth_exponent(sizes, [p[1] for p in points]), n_log_n_exponent(sizes)))
    return out


def render(report: BenchReport) -> str:
    lines = [
        "| employers | stage | seconds | rows | rows/s | peak MB | note |",
        "|---:|---|---:|---:|---:|---:|---|",
    ]
    for f in sorted(report.figures, key=lambda f: f.employers):
        peak = "" if f.peak_mb is None else f"{f.peak_mb:,.0f}"
        lines.append(
            f"| {f.employers:,} | {f.stage} | {f.seconds:,.1f} | {f.rows:,} | "
            f"{f.rows_per_second:,.0f} | {peak} | {f.note} |"
        )
    fits = growth(report)
    if fits:
        lines += ["", "| stage | growth exponent | n log n's over these sizes |", "|---|---:|---:|"]
        lines += [f"| {stage} | {b:.2f} | {ref:.2f} |" for stage, b, ref in fits]
    lines += ["", *targets(report)]
    return "\n".join(lines)


def plot(report: BenchReport, path: Path) -> Path:
    """Seconds against workplaces per stage, both axes logarithmic."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5.5))
    stages = list(dict.fromkeys(f.stage for f in report.figures))
    colours = plt.get_cmap("tab20")
    for i, stage in enumerate(stages):
        points = sorted((f.employers, f.seconds) for f in report.figures if f.stage == stage)
        baseline = "baseline" in stage
        axes.plot(
            *zip(*points, strict=True),
            marker="os^Dv<>ph*"[i % 10],
            linestyle="--" if baseline else "-",
            color=colours(i % 20),
            label=stage,
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("workplaces")
    axes.set_ylabel("seconds")
    axes.set_title("calle bench: time per stage")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
