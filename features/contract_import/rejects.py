"""The rejects files: every rejected row with its file, line, reason and values as read.

Written beside the store under ``rejects/<import id>/<table>.csv``; first into a
``.partial`` folder that is renamed only once the store has committed, so a folder
without the suffix always belongs to an import that happened.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from features.contract_import.cells import CheckedTable

MALFORMED_ROW = "malformed_row"


def rejected_rows(checked: CheckedTable) -> pd.DataFrame:
    """file, line, reason and the row's contract columns (as read), in line order."""
    source = checked.source
    mask = checked.reason.notna().to_numpy()
    rows = source.rows[mask]
    frame = pd.DataFrame(
        {
            "file": source.path.name,
            "line": rows.index.to_numpy(),
            "reason": checked.reason[mask].to_numpy(),
        }
    )
    frame = pd.concat([frame, rows.reset_index(drop=True)], axis=1)
    if source.malformed_lines:
        malformed = pd.DataFrame(
            {"file": source.path.name, "line": source.malformed_lines, "reason": MALFORMED_ROW}
        )
        frame = pd.concat([frame, malformed], ignore_index=True)
    return frame.sort_values("line", kind="stable").reset_index(drop=True)


def write_partial(folder: Path, tables: list[CheckedTable]) -> Path | None:
    """Write each table's rejects into ``folder.partial``; None when nothing was rejected."""
    frames = {checked.name: rejected_rows(checked) for checked in tables}
    frames = {name: frame for name, frame in frames.items() if len(frame)}
    if not frames:
        return None
    partial = partial_path(folder)
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name, frame in frames.items():
        frame.to_csv(partial / f"{name}.csv", index=False)
    return partial


def partial_path(folder: Path) -> Path:
    return folder.with_name(folder.name + ".partial")


def publish(folder: Path) -> None:
    """Give the committed import's rejects their final name."""
    partial_path(folder).rename(folder)
