"""Build small contract histories by hand, for tests whose right answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.frames import ContractFrames


def frames_of(
    employers: list[tuple],
    inspections: list[tuple] = (),
    findings: list[tuple] = (),
    complaints: list[tuple] = (),
    remediations: list[tuple] = (),
    attributes: list[tuple] = (),
) -> ContractFrames:
    return ContractFrames(
        employers=pd.DataFrame(
            employers,
            columns=["employer_id", "state", "sector", "size_band", "employees", "registered_on"],
        ).assign(municipality=None, latitude=np.nan, longitude=np.nan, name="x"),
        inspections=pd.DataFrame(
            inspections,
            columns=["inspection_id", "employer_id", "date", "origin", "violation_found"],
        ).assign(office=None, inspector_id=None),
        findings=pd.DataFrame(
            findings, columns=["inspection_id", "category", "violation", "sanction_amount"]
        ),
        complaints=pd.DataFrame(
            complaints, columns=["complaint_id", "employer_id", "date", "category", "channel"]
        ),
        remediations=pd.DataFrame(
            remediations, columns=["employer_id", "opened_on", "closed_on", "source"]
        ),
        attributes=pd.DataFrame(attributes, columns=["employer_id", "name", "value", "kind"]),
    ).normalised()
