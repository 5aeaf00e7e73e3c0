"""The importer against the synthetic world: clean imports clean, messy damage is caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calle.settings import Settings
from features.contract_import import import_folder
from features.world import WorldConfig, generate_world


def test_small_world_imports_without_rejects(settings: Settings, small_world: Path) -> None:
    report = import_folder(small_world, settings)
    assert report.rejected == 0, report.render()
    for table in report.tables:
        assert table.read == table.inserted, table.table
    assert report.table("employers").inserted == 3000


@pytest.fixture(scope="module")
def messy_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("messy-world")
    config = WorldConfig.from_cli(employers=3000, years=4, seed=3, messy=0.03, end=None)
    generate_world(config, out, "csv")
    return out


def test_messy_world_rejects_at_least_every_damaged_row(
    settings: Settings, messy_world: Path
) -> None:
    damage: dict[str, dict[str, int]] = json.loads((messy_world / "damage.json").read_text())
    report = import_folder(messy_world, settings)
    for table in report.tables:
        assert table.read == table.accepted + table.rejected, table.table
        damaged = sum(damage.get(table.table, {}).values())
        assert table.rejected >= damaged, (table.table, damage.get(table.table), table.to_dict())
