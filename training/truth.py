"""The synthetic world's truth files, read only to evaluate (never to train or score)."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)


class TruthFiles:
    """``truth/risk_YYYY-MM-DD.{csv,parquet}`` as written by `calle world`."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise FileNotFoundError(f"{self.folder}: no such truth folder")

    def dates(self) -> list[date]:
        found = {date.fromisoformat(p.stem.removeprefix("risk_")) for p in self._files()}
        return sorted(found)

    def at(self, as_of: date) -> pd.DataFrame | None:
        """True probabilities at ``as_of`` indexed by employer_id, or None if not written."""
        for path in self._files():
            if path.stem == f"risk_{as_of.isoformat()}":
                if path.suffix == ".parquet":
                    frame = pd.read_parquet(path)
                else:
                    frame = pd.read_csv(path, dtype={"employer_id": str})
                return frame.set_index("employer_id")
        return None

    def for_fold(self, as_of: date) -> pd.DataFrame | None:
        """Like ``at``, but a missing date is said: without it the oracle row silently goes."""
        truth = self.at(as_of)
        if truth is None:
            written = ", ".join(d.isoformat() for d in self.dates()) or "none"
            log.warning(
                "no true risk in %s as of %s (written as of %s): this fold has no oracle; "
                "set [temporal] last_day so the test dates fall on those (events posted "
                "after the world's last day move them)",
                self.folder,
                as_of,
                written,
            )
        return truth

    def _files(self) -> list[Path]:
        return [p for p in self.folder.glob("risk_*") if p.suffix in (".csv", ".parquet")]
