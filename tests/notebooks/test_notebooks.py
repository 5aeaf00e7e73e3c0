"""The notebooks run top to bottom on the small demo world, through the product's own modules,
in a kernel of this environment; they are stored without outputs."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

pytestmark = pytest.mark.slow


def _notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def test_the_three_notebooks_are_there_and_stored_without_outputs():
    assert [p.name for p in _notebooks()] == [
        "01_explore_data.ipynb",
        "02_compare_runs.ipynb",
        "03_add_feature_and_promote.ipynb",
    ]
    for path in _notebooks():
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_a_notebook_runs_top_to_bottom(
    path: Path, small_world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("CALLE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CALLE_NOTEBOOK_WORLD", str(small_world))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for name in ("CALLE_DATABASE_URL", "CALLE_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    notebook = nbformat.read(path, as_version=4)
    run_in = {"metadata": {"path": str(tmp_path)}}
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources=run_in)
    client.execute()  # raises CellExecutionError naming the cell that failed
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert outputs and not any(o.output_type == "error" for o in outputs)
    assert os.environ["CALLE_HOME"] == str(tmp_path / "home")
