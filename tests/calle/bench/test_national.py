"""`calle bench` end to end at toy sizes: every stage runs, against real PostgreSQL and
MLflow, and reports figures that add up; the databases it made are gone afterwards."""

import json
import os

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from calle.bench.copy_baseline import create_database, drop_database
from calle.cli import app

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

STAGES = [
    "world",
    "import SQLite",
    "import PostgreSQL",
    "plain COPY (baseline)",
    "features (read store)",
    "features",
    "training",
    "scoring",
    "raw LightGBM (baseline)",
    "reasons (TreeSHAP, sample)",
    "reasons (read first)",
    "snapshot write",
    "rankings (top 100, filtered)",
]
SCORE_ONLY = [
    "scoring",
    "raw LightGBM (baseline)",
    "reasons (TreeSHAP, sample)",
    "reasons (read first)",
    "snapshot write",
]


def _bench_databases(admin_url: str) -> set[str]:
    """The benchmark databases this test process made (other runs may be making theirs)."""
    engine = sa.create_engine(admin_url)
    try:
        with engine.connect() as connection:
            return set(
                connection.execute(
                    sa.text("SELECT datname FROM pg_database WHERE datname LIKE :mine"),
                    {"mine": f"calle_bench%\\_{os.getpid()}\\_%"},
                ).scalars()
            )
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, postgres_server: str):
    work = tmp_path_factory.mktemp("bench")
    before = _bench_databases(postgres_server)
    args = ["bench", "--employers", "800", "--score-employers", "2000", "--years", "5"]
    args += ["--postgres", postgres_server, "--work", str(work / "run")]
    args += ["--reasons-sample", "300", "--json", str(work / "figures.json")]
    result = CliRunner().invoke(app, args)
    return result, work, before, _bench_databases(postgres_server)


def test_every_stage_is_timed_at_each_size(bench):
    result, work, _, _ = bench
    assert result.exit_code == 0, result.output
    figures = json.loads((work / "figures.json").read_text())["figures"]
    assert [f["stage"] for f in figures if f["employers"] == 800] == STAGES
    assert [f["stage"] for f in figures if f["employers"] == 2000] == SCORE_ONLY
    assert all(f["seconds"] > 0 for f in figures if f["stage"] != "plain COPY (baseline)")
    assert all(f["peak_mb"] is None or 50 < f["peak_mb"] < 8192 for f in figures)


def test_the_figures_count_the_rows_each_stage_handled(bench):
    _, work, _, _ = bench
    figures = json.loads((work / "figures.json").read_text())["figures"]
    by = {(f["stage"], f["employers"]): f for f in figures}
    assert by[("world", 800)]["rows"] == 800
    assert by[("import SQLite", 800)]["rows"] == by[("plain COPY (baseline)", 800)]["rows"] > 800
    assert by[("features", 800)]["rows"] <= 800  # those registered by the as-of date
    scored = by[("scoring", 800)]["rows"]
    assert by[("raw LightGBM (baseline)", 800)]["rows"] == scored
    assert by[("snapshot write", 800)]["rows"] == scored  # one row per workplace
    assert by[("scoring", 2000)]["rows"] == 2000
    assert by[("snapshot write", 2000)]["rows"] == 2000
    assert by[("reasons (TreeSHAP, sample)", 2000)]["rows"] == 300
    # at this size every state's top 100 holds most of its workplaces
    assert 2000 <= by[("reasons (read first)", 2000)]["rows"] <= 6 * 2000


def test_the_report_names_targets_growth_and_the_plot(bench):
    result, work, _, _ = bench
    assert "| stage | growth exponent |" in result.output
    assert "of raw LightGBM's speed" in result.output
    assert "of plain COPY's speed" in result.output
    assert (work / "run" / "bench.png").stat().st_size > 10_000


def test_a_saved_run_renders_again_without_running(bench, tmp_path):
    result, work, _, _ = bench
    again = CliRunner().invoke(
        app, ["bench", "--from", str(work / "figures.json"), "--plot", str(tmp_path / "p.png")]
    )
    assert again.exit_code == 0, again.output
    table = [line for line in result.output.splitlines() if line.startswith("| 800 |")]
    assert table and all(line in again.output for line in table)
    assert (tmp_path / "p.png").stat().st_size > 10_000
    assert "       800  world" in result.output  # a run's progress lines...
    assert "       800  world" not in again.output  # ...and none here: nothing ran


def test_a_file_that_is_no_saved_run_is_refused_by_name(tmp_path):
    other = tmp_path / "other.json"
    other.write_text('{"figures": []}')
    result = CliRunner().invoke(app, ["bench", "--from", str(other)])
    assert result.exit_code == 2
    assert "not a report written by `calle bench --json`" in result.output


def test_the_benchmark_leaves_no_database_behind(bench):
    _, _, before, after = bench
    assert after == before


def test_a_benchmark_database_is_seen_as_this_process_s_until_dropped(postgres_server: str):
    url = create_database(postgres_server, "calle_bench")
    name = sa.engine.make_url(url).database
    try:
        assert name in _bench_databases(postgres_server)
    finally:
        drop_database(postgres_server, url)
    assert name not in _bench_databases(postgres_server)
