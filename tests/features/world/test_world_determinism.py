"""Same config, same bytes; another seed, another world."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.world import WorldConfig, generate_world


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.*"))}


def _world(folder: Path, seed: int, file_format: str, messy: float = 0.0) -> dict[str, bytes]:
    config = WorldConfig.from_cli(employers=1500, years=2, seed=seed, messy=messy, end=None)
    generate_world(config, folder, file_format)
    return _files(folder)


@pytest.mark.parametrize(("file_format", "messy"), [("csv", 0.0), ("parquet", 0.0), ("csv", 0.05)])
def test_same_seed_gives_byte_identical_files(
    tmp_path: Path, file_format: str, messy: float
) -> None:
    first = _world(tmp_path / "a", 11, file_format, messy)
    second = _world(tmp_path / "b", 11, file_format, messy)
    assert sorted(first) == sorted(second)
    assert len([name for name in first if name.startswith("truth")]) == 3
    for name, content in first.items():
        assert content == second[name], f"{name} differs between two runs"


def test_another_seed_gives_another_world(tmp_path: Path) -> None:
    first = _world(tmp_path / "a", 11, "csv")
    other = _world(tmp_path / "b", 12, "csv")
    for name in ("employers.csv", "inspections.csv", "findings.csv", "truth/risk_2025-12-31.csv"):
        assert first[name] != other[name], name


def test_messiness_leaves_the_truth_and_remediations_untouched(tmp_path: Path) -> None:
    clean = _world(tmp_path / "clean", 11, "csv")
    messy = _world(tmp_path / "messy", 11, "csv", messy=0.05)
    for name in clean:
        if name.startswith("truth") or name == "remediations.csv":
            assert clean[name] == messy[name], name
    assert clean["employers.csv"] != messy["employers.csv"]


def test_regenerating_into_a_used_folder_leaves_no_stale_files(tmp_path: Path) -> None:
    _world(tmp_path, 11, "csv", messy=0.05)
    files = _world(tmp_path, 11, "parquet")
    assert not [name for name in files if name.endswith(".csv")]
    assert "damage.json" not in files
