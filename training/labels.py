"""Labels: what an inspection found, for workplaces inspected soon after an as-of date.

An example is a workplace that existed before ``as_of`` and was inspected in
``[as_of, as_of + horizon_days)``; its label is what the first such inspection found:
overall (``violation_found``) and per category where that category was inspected
(missing otherwise: "not inspected" is not "compliant").
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from features.frames import ContractFrames
from features.string_membership import is_in

LABEL = "label"


def label_column(category: str | None) -> str:
    return LABEL if category is None else f"{LABEL}_{category}"


def label_examples(
    frames: ContractFrames, as_of: date, horizon_days: int, categories: list[str]
) -> pd.DataFrame:
    """One row per example, indexed by employer_id, sorted by it.

    Besides the labels it keeps the inspection's origin, office and inspector, which
    the honest-evaluation and inspector-effect work needs (never model features).
    """
    start = np.datetime64(as_of, "s")
    end = np.datetime64(as_of + timedelta(days=horizon_days), "s")
    existed = frames.employers["registered_on"].isna() | (frames.employers["registered_on"] < start)
    population = frames.employers.loc[existed, "employer_id"]
    insp = frames.inspections
    window = insp[
        (insp["date"] >= start) & (insp["date"] < end) & is_in(insp["employer_id"], population)
    ]
    first = window.sort_values(["employer_id", "date", "inspection_id"]).drop_duplicates(
        "employer_id", keep="first"
    )
    examples = pd.DataFrame(
        {
            "inspection_id": first["inspection_id"].to_numpy(),
            "inspection_date": first["date"].to_numpy(),
            "origin": first["origin"].to_numpy(),
            "office": first["office"].to_numpy(),
            "inspector_id": first["inspector_id"].to_numpy(),
            LABEL: first["violation_found"].to_numpy(dtype=np.float64),
        },
        index=pd.Index(first["employer_id"].astype(str).to_numpy(), name="employer_id"),
    )
    found = frames.findings[is_in(frames.findings["inspection_id"], examples["inspection_id"])]
    by_category = found.pivot_table(
        index="inspection_id", columns="category", values="violation", aggfunc="max"
    )
    for c in categories:
        column = by_category[c] if c in by_category else pd.Series(dtype=np.float64)
        examples[label_column(c)] = (
            examples["inspection_id"].map(column).astype(np.float64).to_numpy()
        )
    examples.insert(0, "as_of", pd.Timestamp(as_of))
    return examples.sort_index()
