"""The `calle` command: one subcommand per job of the product."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from calle.logging_setup import configure_logging
from calle.settings import Settings

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


@app.command("world")
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
def import_(
    folder: Annotated[Path, typer.Argument(help="A contract folder (CSV or Parquet files).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Also print the report as one JSON object, last line.")
    ] = False,
) -> None:
    """Validate a contract folder and load it into the store (idempotent)."""
    from features.contract_import import ContractError, import_folder

    settings = _settings()
    try:
        report = import_folder(folder, settings)
    except ContractError as error:
        typer.echo(f"import stopped, nothing was written: {error}", err=True)
        if as_json:
            typer.echo(json.dumps({"ok": False, "error": str(error)}))
        raise typer.Exit(code=2) from None
    typer.echo(report.render())
    if as_json:
        typer.echo(json.dumps(report.to_dict(), sort_keys=True))


def main() -> None:  # pragma: no cover - console entry point
    app(prog_name="calle")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
