"""The `calle` command: one subcommand per job of the product."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pydantic
import sqlalchemy as sa
import typer

from calle.logging_setup import configure_logging
from calle.settings import Settings
from service.roles import Role

app = typer.Typer(
    name="calle",
    help="Predictive labor-inspection targeting: worlds, import, models, service.",
    no_args_is_help=True,
    add_completion=False,
)


class FileFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level)
    return settings


def _one_line(error: BaseException) -> str:
    """A person-readable reason: no traceback, no password, the first line only."""
    if isinstance(error, pydantic.ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()
        )
    if isinstance(error, sa.exc.DBAPIError) and error.orig is not None:
        return str(error.orig).strip().splitlines()[0]
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _store_label() -> str:
    try:
        url = Settings().store_url
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # the URL itself is what is wrong
        return "the configured store"


def _as_of_date(as_of: str | None) -> date | None:
    """The ``--as-of`` option's day (None when not given)."""
    try:
        return date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise typer.BadParameter(
            f"{as_of!r} is not a date YYYY-MM-DD", param_hint="--as-of"
        ) from None


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Known failures end in one clear line on stderr and exit code 2, never a traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        from calle.bench.stage_process import StageFailed
        from calle.config_files import ConfigError
        from features.contract_import import ContractError
        from service.workers import WorkerStartFailed
        from training.registry import RegistryError

        as_json = bool(kwargs.get("as_json"))
        try:
            return command(*args, **kwargs)
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            typer.echo("interrupted: nothing was written", err=True)
            raise typer.Exit(code=130) from None
        except pydantic.ValidationError as error:
            message = f"invalid setting: {_one_line(error)}"
        except (sa.exc.ArgumentError, sa.exc.OperationalError) as error:
            message = f"cannot open the store at {_store_label()}: {_one_line(error)}"
        except ContractError as error:
            message = f"import stopped, nothing was written: {_one_line(error)}"
        except (
            ConfigError,
            RegistryError,
            StageFailed,
            WorkerStartFailed,
            OSError,
            ValueError,
        ) as error:
            message = f"{command.__name__.strip('_')} stopped: {_one_line(error)}"
        typer.echo(message, err=True)
        if as_json:
            typer.echo(json.dumps({"ok": False, "error": message}))
        raise typer.Exit(code=2)

    return run


@app.command("world")
@reports_errors
def world(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the contract tables to.")],
    employers: Annotated[int, typer.Option("--employers", min=100, help="Workplaces.")] = 10_000,
    years: Annotated[int, typer.Option("--years", min=1, max=30, help="Years of history.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same files, byte for byte.")] = 0,
    file_format: Annotated[
        FileFormat, typer.Option("--format", help="File format of the tables.")
    ] = FileFormat.csv,
    messy: Annotated[
        float,
        typer.Option("--messy", min=0.0, max=0.5, help="Share of rows to damage (0 = clean)."),
    ] = 0.0,
    end: Annotated[
        str | None,
        typer.Option("--end", help="The world's last day, YYYY-MM-DD (default 2025-12-31)."),
    ] = None,
) -> None:
    """Generate a synthetic Mexico-shaped world with known truth (world.md)."""
    from features.world import WorldConfig, generate_world

    _settings()
    try:
        config = WorldConfig.from_cli(
            employers=employers, years=years, seed=seed, messy=messy, end=end
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    summary = generate_world(config, out, file_format=file_format.value)
    typer.echo(summary.render())


@app.command("import")
@reports_errors
def import_(
    folder: Annotated[Path, typer.Argument(help="A contract folder (CSV or Parquet files).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Also print the report as one JSON object, last line.")
    ] = False,
) -> None:
    """Validate a contract folder and load it into the store (idempotent)."""
    from features.contract_import import import_folder

    settings = _settings()
    report = import_folder(folder, settings)
    typer.echo(report.render())
    if as_json:
        typer.echo(json.dumps(report.to_dict(), sort_keys=True))


@app.command("train")
@reports_errors
def train_(
    config_file: Annotated[
        Path | None, typer.Option("--config", help="TOML or YAML training configuration.")
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option("--truth", help="A synthetic world's truth folder, for oracle efficiency."),
    ] = None,
    promote: Annotated[
        bool, typer.Option("--promote", help="Then move `champion` to it if it beats it.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Also print a JSON summary.")] = False,
) -> None:
    """Evaluate on rolling temporal folds against the baselines, then log and register."""
    from training.compute import open_compute
    from training.config import load_config
    from training.experiment import describe_result, result_json, train

    settings = _settings()
    config = load_config(config_file)
    with open_compute(settings) as compute:
        result = train(settings, config, truth, compute=compute)
    typer.echo(describe_result(result, config.capacities))
    if promote:
        _promote(settings, config.registered_model, result.model_version, config_file)
    if as_json:
        typer.echo(result_json(result))


def _promote(settings: Settings, model: str, version: str | None, config_file: Path | None):
    import mlflow

    from training.config import load_config
    from training.registry import promote

    mlflow.set_tracking_uri(settings.tracking_uri)
    config = load_config(config_file)
    gate = promote(mlflow.MlflowClient(), model, version, config.promotion, config.fairness)
    verdict = "promoted to champion" if gate.promoted else "not promoted"
    typer.echo(f"{model} version {gate.version}: {verdict} ({gate.reason})")
    if gate.promoted and settings.compiled_trees:
        _compile_champion(settings, model, gate.version)


def _compile_champion(settings: Settings, model: str, version: str) -> None:
    """Compile the new champion's boosters into the shared cache now, so that the next
    rescoring and each service worker find them compiled (about 45 s for a model trained
    on a million workplaces, paid here once instead of inside the first rescoring)."""
    import time

    from models.compiled_forest import compiled_if_possible
    from models.packaging import load_version

    started = time.perf_counter()
    try:  # only a head start: the promotion stands, and scoring compiles what is missing
        compiled = compiled_if_possible(
            load_version(settings.tracking_uri, model, version), settings.compiled_trees_dir
        )
    except Exception as error:
        typer.echo(f"its boosters were not compiled ahead ({type(error).__name__}: {error})")
        return
    if not any(target.compiled for target in compiled.targets.values()):
        typer.echo("its boosters were not compiled ahead (see the warning above)")
        return
    typer.echo(
        f"compiled its boosters for scoring in {time.perf_counter() - started:.1f} s "
        f"(cached in {settings.compiled_trees_dir})"
    )


@app.command("promote")
@reports_errors
def promote_(
    version: Annotated[
        str | None, typer.Option("--version", help="Default: the newest version.")
    ] = None,
    model: Annotated[str, typer.Option("--model", help="Registered model name.")] = (
        "employer-risk"
    ),
    config_file: Annotated[
        Path | None, typer.Option("--config", help="Configuration with the promotion rule.")
    ] = None,
) -> None:
    """Move the `champion` alias to a version only if it beats the current champion."""
    settings = _settings()
    _promote(settings, model, version, config_file)


@app.command("score")
@reports_errors
def score_(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="YYYY-MM-DD; default: the day after the latest event on record."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the scores to a .csv or .parquet.")
    ] = None,
    model: Annotated[str, typer.Option("--model", help="Registered model name.")] = (
        "employer-risk"
    ),
) -> None:
    """Score every workplace with the champion and store a snapshot."""
    from training.compute import open_compute
    from training.scoring import score_population, write_scores

    settings = _settings()
    day = _as_of_date(as_of)
    if out is not None and out.suffix not in (".csv", ".parquet"):
        raise typer.BadParameter("write a .csv or .parquet file", param_hint="--out")
    with open_compute(settings) as compute:
        snapshot = score_population(settings, day, model, compute=compute)
    typer.echo(
        f"snapshot {snapshot.snapshot_id}: {len(snapshot.scores):,} workplaces scored by "
        f"{model} version {snapshot.model_version} as of {snapshot.as_of}"
    )
    if out is not None:
        typer.echo(f"scores written to {write_scores(snapshot, out)}")


@app.command("plan")
@reports_errors
def plan_(
    capacity: Annotated[
        list[str] | None,
        typer.Option(
            "--capacity",
            help="OFFICE=VISITS, repeatable: plan these offices (areas from the office file) "
            "with these capacities; default: every office of the file that has a capacity.",
        ),
    ] = None,
    category: Annotated[
        str, typer.Option("--category", help="Rank by this category (`any`: overall).")
    ] = "any",
    include: Annotated[
        list[str] | None,
        typer.Option("--include", help="A workplace that must be visited; repeatable."),
    ] = None,
    open_remediations: Annotated[
        bool,
        typer.Option(
            "--open-remediations/--no-open-remediations",
            help="Make workplaces with an open remediation mandatory.",
        ),
    ] = True,
    exclude_days: Annotated[
        int,
        typer.Option(
            "--exclude-inspected-days", min=0, max=3650, help="Leave out recent inspections."
        ),
    ] = 180,
    exploration: Annotated[
        float,
        typer.Option("--exploration", min=0.0, max=1.0, help="Share drawn at random per office."),
    ] = 0.10,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, max=2**31 - 1, help="Default: from the request.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The plan's day, YYYY-MM-DD; default: today.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the plan as CSV: office, employer_id, rank, score, selection, "
            "selection_probability.",
        ),
    ] = None,
    model: Annotated[
        str,
        typer.Option(
            "--model",
            help="Plan from the newest snapshot of this registered model (a campaign's own).",
        ),
    ] = "employer-risk",
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Build an inspection plan from the latest snapshot and store it (same request, same plan)."""
    from calle.offices import load_office_areas
    from calle.store import open_store
    from service.planning import OfficeRequest, PlanRequest, build_plan, plan_csv
    from service.problems import Problem

    settings = _settings()
    offices: dict[str, OfficeRequest] | None = None
    if capacity:
        offices = {}
        for item in capacity:
            office, _, visits = item.rpartition("=")
            if not office or not visits.strip().isdigit():
                raise typer.BadParameter(f"{item!r} is not OFFICE=VISITS", param_hint="--capacity")
            offices[office.strip()] = OfficeRequest(capacity=int(visits))
    day = _as_of_date(as_of)
    request = PlanRequest(
        offices=offices,
        category=category,
        must_include=include or [],
        include_open_remediations=open_remediations,
        exclude_inspected_within_days=exclude_days,
        exploration_share=exploration,
        seed=seed,
        as_of=day,
    )
    areas = load_office_areas(settings.offices_file)
    engine = open_store(settings)
    try:
        plan, made = build_plan(engine, request, areas, created_by="cli", model_name=model)
    except Problem as problem:
        reasons = "; ".join(f"{e.field}: {e.reason}" for e in problem.errors or [])
        raise ValueError(reasons or problem.detail) from None
    finally:
        engine.dispose()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(plan_csv(plan), encoding="utf-8")
    if as_json:
        typer.echo(plan.model_dump_json(indent=2))
        return
    state = "made" if made else "already stored"
    typer.echo(
        f"plan {plan.plan_id} ({state}): {len(plan.visits):,} visits, snapshot "
        f"{plan.snapshot_id} ({plan.model_name} version {plan.model_version}), "
        f"category {plan.category}, as of {plan.as_of}, seed {plan.seed}"
    )
    header = ("office", "capacity", "mandatory", "model", "exploration", "shortfall")
    rows = [header] + [(o.office, *(str(getattr(o, k)) for k in header[1:])) for o in plan.offices]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    if out is not None:
        typer.echo(f"plan written to {out}")


keys_app = typer.Typer(
    help="API keys of the HTTP service: create (shown once), list, revoke.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
@reports_errors
def create(
    role: Annotated[Role, typer.Option("--role", help="What the key may do.")],
    name: Annotated[str, typer.Option("--name", help="Who or what will use the key.")],
) -> None:
    """Create a key; it is printed alone on the last line, this once (only its hash is kept)."""
    from calle.store import open_store
    from service.keys import create_key

    engine = open_store(_settings())
    try:
        record, key = create_key(engine, role, name)
    finally:
        engine.dispose()
    typer.echo(
        f"key {record.key_id} ({record.role.value}) for {record.name!r} created; "
        "store it now, it is not shown again:"
    )
    typer.echo(key)


@keys_app.command("list")
@reports_errors
def list_() -> None:
    """List every key: id, name, role, when created and revoked (never the key)."""
    from calle.store import open_store
    from service.keys import list_keys

    engine = open_store(_settings())
    try:
        records = list_keys(engine)
    finally:
        engine.dispose()
    if not records:
        typer.echo("no keys yet: create one with `calle keys create --role ROLE --name NAME`")
        return
    header = ("key_id", "name", "role", "created", "revoked")
    rows = [
        (
            r.key_id,
            r.name,
            r.role.value,
            f"{r.created_at:%Y-%m-%d %H:%M:%S}",
            f"{r.revoked_at:%Y-%m-%d %H:%M:%S}" if r.revoked_at else "-",
        )
        for r in records
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


@keys_app.command("revoke")
@reports_errors
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id, as `calle keys list` shows it.")],
) -> None:
    """Revoke a key: from now on requests with it get 401."""
    from calle.store import open_store
    from service.keys import revoke_key

    engine = open_store(_settings())
    try:
        record = revoke_key(engine, key_id)
    finally:
        engine.dispose()
    typer.echo(
        f"key {record.key_id} ({record.name!r}) revoked at {record.revoked_at:%Y-%m-%d %H:%M:%S}"
    )


@app.command("serve")
@reports_errors
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Worker processes answering requests (one per core; two per core spread a "
            "few clients that keep their connections open more evenly, at some cost to many "
            "small reads): each loads the model and follows the registry on its own; /metrics "
            "counts them all.",
        ),
    ] = 1,
) -> None:
    """Run the HTTP service (rankings, audit; /health, /ready; docs at /docs) with uvicorn."""
    import uvicorn

    from calle.store import open_store
    from service.metrics import prepare_worker_metrics

    settings = _settings()
    open_store(settings).dispose()  # a bad store URL ends here in one line, not in a traceback
    plural = "s" if workers > 1 else ""
    typer.echo(
        f"CALLE service on http://{host}:{port} with {workers} worker{plural} "
        "(API docs at /docs); Ctrl-C stops it"
    )
    options: dict[str, Any] = {
        "log_config": None,  # keep CALLE's log format (configured by _settings)
        "log_level": settings.log_level.lower(),
    }
    if workers == 1:
        from service.app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, **options)
        return
    # the workers are fresh processes: they build the app from the same environment
    prepare_worker_metrics(settings.home / "run" / "metrics")
    from service.workers import run_workers

    run_workers(host, port, workers, options)


@app.command("bench")
@reports_errors
def bench(
    employers: Annotated[
        list[int] | None,
        typer.Option(
            "--employers",
            min=100,
            help="A size to run every stage at; repeat for several (default 10k, 100k, 1M).",
        ),
    ] = None,
    score_employers: Annotated[
        list[int] | None,
        typer.Option(
            "--score-employers",
            min=0,
            help="A size to score only, from the largest world's features repeated; repeat "
            "for several (default 5M; 0 for none).",
        ),
    ] = None,
    years: Annotated[int, typer.Option("--years", min=1, max=30, help="Years of history.")] = 10,
    postgres: Annotated[
        str,
        typer.Option(
            "--postgres",
            help="A PostgreSQL database the benchmark may create and drop databases beside.",
        ),
    ] = "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    work: Annotated[
        Path, typer.Option("--work", help="Folder for the worlds, stores and logs.")
    ] = Path(".calle/bench"),
    reasons_sample: Annotated[
        int, typer.Option("--reasons-sample", min=100, help="Rows whose reasons are timed.")
    ] = 20_000,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write every figure here.")
    ] = None,
    plot_file: Annotated[
        Path | None,
        typer.Option("--plot", help="The time-per-stage plot (default WORK/bench.png)."),
    ] = None,
    saved: Annotated[
        Path | None,
        typer.Option(
            "--from",
            exists=True,
            dir_okay=False,
            help="Render the table, targets and plot of a run saved with --json; run nothing.",
        ),
    ] = None,
) -> None:
    """Time every stage at several sizes against its baseline; table, growth and plot."""
    from calle.bench.national import BenchPlan, BenchReport, plot, render, run_bench

    if saved is not None:
        try:
            report = BenchReport.from_json(saved.read_text())
        except (ValueError, KeyError, TypeError) as error:
            raise typer.BadParameter(
                f"{saved} is not a report written by `calle bench --json`: {error}",
                param_hint="--from",
            ) from error
        typer.echo(render(report))
        typer.echo(f"plot: {plot(report, plot_file or work / 'bench.png')}")
        return
    _settings()
    plan = BenchPlan(
        sizes=employers or [10_000, 100_000, 1_000_000],
        years=years,
        score_sizes=[n for n in (score_employers or [5_000_000]) if n > 0],
        postgres_url=postgres,
        work=work,
        reasons_sample=reasons_sample,
    )
    report = run_bench(plan, progress=typer.echo)
    typer.echo("")
    typer.echo(render(report))
    typer.echo(f"plot: {plot(report, plot_file or work / 'bench.png')}")
    if json_file is not None:
        json_file.write_text(report.to_json())
        typer.echo(f"figures: {json_file}")


def main() -> None:  # pragma: no cover - console entry point
    app(prog_name="calle")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
