"""The contract tables as pandas frames, and their point-in-time view.

Feature code works on :class:`ContractFrames` only, never on the store, so the same
functions serve the store, a contract folder, notebooks and tests. Dates are
``datetime64`` columns; ids are strings.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields, replace
from datetime import date

import numpy as np
import pandas as pd

from features.string_membership import is_in

DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "employers": ("registered_on",),
    "inspections": ("date",),
    "complaints": ("date",),
    "remediations": ("opened_on", "closed_on"),
}


@dataclass(frozen=True)
class ContractFrames:
    """One inspectorate's data. ``attributes`` is long: employer_id, name, value, kind."""

    employers: pd.DataFrame
    inspections: pd.DataFrame
    findings: pd.DataFrame
    complaints: pd.DataFrame
    remediations: pd.DataFrame
    attributes: pd.DataFrame

    def normalised(self) -> ContractFrames:
        """Same data with date columns as ``datetime64[s]`` (stores return text or dates)."""
        changes: dict[str, pd.DataFrame] = {}
        for table, columns in DATE_COLUMNS.items():
            frame = getattr(self, table).copy()
            for column in columns:
                frame[column] = pd.to_datetime(frame[column], errors="raise").astype(
                    "datetime64[s]"
                )
            changes[table] = frame
        return replace(self, **changes)

    def last_event_day(self) -> date:
        """The latest day anything happened on record: in practice the day of the extract."""
        days = [
            self.inspections["date"].max(),
            self.complaints["date"].max(),
            self.remediations["opened_on"].max(),
            self.remediations["closed_on"].max(),
        ]
        known = [d for d in days if pd.notna(d)]
        if not known:
            raise ValueError("no events on record: import data first")
        return max(known).date()

    def fingerprint(self) -> str:
        """A short hash of every table's content: the same data gives the same fingerprint."""
        digest = hashlib.sha256()
        for table in fields(self):
            frame = getattr(self, table.name)
            ordered = frame.sort_values(list(frame.columns)).reset_index(drop=True)
            digest.update(f"{table.name}:{len(frame)}:".encode())
            digest.update(pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes())
        return digest.hexdigest()[:16]

    def of_employers(self, employer_ids: pd.Index | pd.Series) -> ContractFrames:
        """Every record of the workplaces ``employer_ids``, and nothing of anyone else (what
        :func:`features.store_frames.load_frames_for` reads from a store, from memory)."""
        employers = self.employers[is_in(self.employers["employer_id"], employer_ids)]
        inspections = self.inspections[is_in(self.inspections["employer_id"], employer_ids)]
        return ContractFrames(
            employers=employers,
            inspections=inspections,
            findings=self.findings[
                is_in(self.findings["inspection_id"], inspections["inspection_id"])
            ],
            complaints=self.complaints[is_in(self.complaints["employer_id"], employer_ids)],
            remediations=self.remediations[is_in(self.remediations["employer_id"], employer_ids)],
            attributes=self.attributes[is_in(self.attributes["employer_id"], employer_ids)],
        )

    def as_of(self, as_of: date) -> ContractFrames:
        """What was known at the start of ``as_of``: nothing dated on or after it.

        Workplaces registered on or after ``as_of`` do not exist yet. A remediation
        closed on or after ``as_of`` is shown as still open, as it was then.
        """
        cutoff = np.datetime64(as_of, "s")
        employers = self.employers[
            self.employers["registered_on"].isna() | (self.employers["registered_on"] < cutoff)
        ]
        inspections = self.inspections[self.inspections["date"] < cutoff]
        inspected = is_in(self.findings["inspection_id"], inspections["inspection_id"])
        findings = self.findings[inspected]
        complaints = self.complaints[self.complaints["date"] < cutoff]
        remediations = self.remediations[self.remediations["opened_on"] < cutoff].copy()
        remediations.loc[remediations["closed_on"] >= cutoff, "closed_on"] = pd.NaT
        existing = is_in(self.attributes["employer_id"], employers["employer_id"])
        attributes = self.attributes[existing]
        return ContractFrames(
            employers=employers,
            inspections=inspections,
            findings=findings,
            complaints=complaints,
            remediations=remediations,
            attributes=attributes,
        )
