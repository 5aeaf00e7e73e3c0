"""Figures for `calle world` and `calle import`: time, rows per second, peak memory.

    .venv/bin/python -m benchmarks.world_import --employers 100000 1000000

For each size it generates a 10-year world, imports it into a fresh SQLite store and
a fresh PostgreSQL database, and, as the baseline measured in the same run, loads the
same CSV files into PostgreSQL with a plain COPY into unconstrained text tables (no
validation, no keys): the floor any import into PostgreSQL can reach.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from benchmarks.stage_runner import StageResult, run_stage
from features.contract import TABLES

CALLE = str(Path(sys.executable).with_name("calle"))
TARGETS = {"world": (120, 6144), "import postgres": (180, 6144)}  # seconds, MB at 1M


def _rows_in(world: Path) -> int:
    total = 0
    for table in TABLES:
        path = world / f"{table.name}.csv"
        if path.exists():
            with path.open("rb") as handle:
                total += sum(1 for _ in handle) - 1
    return total


def _libpq(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _plain_copy_seconds(world: Path, admin_url: str) -> float:
    """Baseline: COPY the CSV files as text into a fresh database, nothing else."""
    name = f"calle_bench_copy_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq(admin_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(admin_url).set(database=name)
        with psycopg.connect(_libpq(url.render_as_string(hide_password=False))) as conn:
            started = time.perf_counter()
            for table in TABLES:
                path = world / f"{table.name}.csv"
                if not path.exists():
                    continue
                header = path.open().readline().strip().split(",")
                columns = ", ".join(f'"{c}" text' for c in header)
                conn.execute(f'CREATE TABLE "{table.name}" ({columns})')
                with (
                    conn.cursor().copy(
                        f'COPY "{table.name}" FROM STDIN (FORMAT csv, HEADER true)'
                    ) as copy,
                    path.open("rb") as handle,
                ):
                    while chunk := handle.read(1 << 20):
                        copy.write(chunk)
            conn.commit()
            return time.perf_counter() - started
    finally:
        with psycopg.connect(_libpq(admin_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_size(employers: int, years: int, workdir: Path, admin_url: str) -> list[StageResult]:
    world = workdir / f"world-{employers}"
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    results: list[StageResult] = []

    argv = [CALLE, "world", "--employers", str(employers), "--years", str(years)]
    argv += ["--seed", "1", "--out", str(world)]
    seconds, peak = run_stage("world", employers, argv, {}, logs / f"world-{employers}.log")
    rows = _rows_in(world)
    results.append(StageResult("world", employers, seconds, peak, rows))
    print(f"  world            {seconds:8.1f} s  {peak:8.0f} MB  ({rows:,} contract rows)")

    home = workdir / f"home-{employers}"
    env = {"CALLE_HOME": str(home), "CALLE_DATABASE_URL": ""}
    log = logs / f"import-sqlite-{employers}.log"
    seconds, peak = run_stage("import sqlite", employers, [CALLE, "import", str(world)], env, log)
    results.append(StageResult("import sqlite", employers, seconds, peak, rows))
    print(f"  import sqlite    {seconds:8.1f} s  {peak:8.0f} MB")

    name = f"calle_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq(admin_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        env = {"CALLE_HOME": str(home), "CALLE_DATABASE_URL": url}
        log = logs / f"import-postgres-{employers}.log"
        argv = [CALLE, "import", str(world)]
        seconds, peak = run_stage("import postgres", employers, argv, env, log)
    finally:
        with psycopg.connect(_libpq(admin_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    results.append(StageResult("import postgres", employers, seconds, peak, rows))
    print(f"  import postgres  {seconds:8.1f} s  {peak:8.0f} MB")

    copy_seconds = _plain_copy_seconds(world, admin_url)
    results.append(
        StageResult("plain COPY (baseline)", employers, copy_seconds, float("nan"), rows)
    )
    print(
        f"  plain COPY       {copy_seconds:8.1f} s  "
        f"(import reaches {copy_seconds / seconds:.2f} of its speed)"
    )
    shutil.rmtree(world, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    return results


def render(results: list[StageResult]) -> str:
    lines = [
        "| employers | stage | seconds | rows/s | peak MB | target (1M) |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for r in results:
        target = ""
        if r.stage in TARGETS and r.employers >= 1_000_000:
            max_s, max_mb = TARGETS[r.stage]
            met = r.seconds <= max_s and r.peak_mb <= max_mb
            target = f"≤ {max_s} s, ≤ {max_mb / 1024:.0f} GB: {'met' if met else 'MISSED'}"
        peak = "" if r.peak_mb != r.peak_mb else f"{r.peak_mb:,.0f}"
        lines.append(
            f"| {r.employers:,} | {r.stage} | {r.seconds:,.1f} | {r.rows_per_second:,.0f} "
            f"| {peak} | {target} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    parser.add_argument("--workdir", type=Path, help="Default: a temporary folder.")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="calle-bench-"))
    results: list[StageResult] = []
    for employers in args.employers:
        print(f"{employers:,} employers, {args.years} years:")
        results += bench_size(employers, args.years, workdir, args.postgres)
    print()
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=2))


if __name__ == "__main__":
    main()
