"""Generate a whole world: draw, simulate, tabulate, damage if asked, write."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import numpy as np

from calle.offices import render_office_areas
from features.contract import TABLES
from features.world.config import WorldConfig
from features.world.inspectorate import build_inspectorate
from features.world.messy import damage_tables
from features.world.population import draw_population
from features.world.simulate import simulate
from features.world.summary import WorldSummary, summarise
from features.world.tables import (
    display_names,
    employers_table,
    event_tables,
    ids,
    office_areas,
)
from features.world.truth import truth_file_stem, truth_table
from features.world.writer import FORMATS, write_json, write_table

logger = logging.getLogger(__name__)

TABLE_ORDER: tuple[str, ...] = tuple(table.name for table in TABLES)
TRUTH_FOLDER = "truth"
#: The world's office areas (calle.offices), for CALLE_OFFICES_FILE.
OFFICES_FILE = "offices.toml"


def _streams(seed: int) -> dict[str, np.random.Generator]:
    """Independent random streams per stage, so that messiness never changes the clean world."""
    children = np.random.SeedSequence(seed).spawn(4)
    names = ("population", "simulation", "names", "damage")
    return {
        name: np.random.Generator(np.random.PCG64(child))
        for name, child in zip(names, children, strict=True)
    }


def generate_world(config: WorldConfig, out: Path, file_format: str = "csv") -> WorldSummary:
    """Write the world's contract tables, truth files, office areas, world.json (and
    damage.json if messy)."""
    if file_format not in FORMATS:
        raise ValueError(f"file format must be one of {FORMATS}, got {file_format!r}")
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    streams = _streams(config.seed)
    logger.info(
        "generating %d workplaces over %d years (%s to %s), seed %d",
        config.employers, config.years, config.start, config.end, config.seed,
    )  # fmt: skip

    population = draw_population(config, streams["population"])
    inspectorate = build_inspectorate(streams["population"], population)
    log = simulate(config, streams["simulation"], population, inspectorate)

    tables = {"employers": employers_table(population, display_names(streams["names"], population))}
    tables.update(event_tables(log, population, inspectorate))
    summary = summarise(tables, log.employer_years, truth_files=len(log.risk_snapshots))

    truth_dir = out / TRUTH_FOLDER
    if truth_dir.exists():
        shutil.rmtree(truth_dir)
    truth_dir.mkdir()
    employer_ids = ids("E", population.size)
    for as_of, violation in sorted(log.risk_snapshots.items()):
        table = truth_table(as_of, violation, population, employer_ids, inspectorate.mean_skill)
        write_table(table, truth_dir, truth_file_stem(as_of), file_format)
    del log

    damage_path = out / "damage.json"
    if config.messy > 0:
        tables, damage = damage_tables(streams["damage"], tables, config.messy)
        summary = WorldSummary(**{**summary.to_dict(), "damage": damage})
        write_json(damage, damage_path)
    elif damage_path.exists():
        damage_path.unlink()

    for name in TABLE_ORDER:
        for stale in out.glob(f"{name}.*"):
            stale.unlink()
        write_table(tables[name], out, name, file_format)
    (out / OFFICES_FILE).write_text(
        render_office_areas(office_areas(population, inspectorate)), encoding="utf-8"
    )
    write_json(
        {"config": config.to_dict(), "format": file_format, "summary": summary.to_dict()},
        out / "world.json",
    )
    logger.info("world written to %s in %.1f s", out, time.perf_counter() - started)
    return summary
