"""Complaints per employer, as of a date: counts by category and channel, recency.

Complaints carry no personal data in the store; these are counts only.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from features.catalogue import FeatureSpec, window_suffix, window_text
from features.employer_index import EmployerIndex
from features.frames import ContractFrames

FAMILY = "complaints"
COMPLAINT_WINDOWS: tuple[int, ...] = (90, 365, 1095)
#: Channels counted on their own; any other channel is counted as ``other``.
CHANNELS: tuple[str, ...] = ("phone", "web", "in_person", "union_petition", "other")


def complaint_specs(categories: list[str]) -> list[FeatureSpec]:
    specs: list[FeatureSpec] = []
    for w in COMPLAINT_WINDOWS:
        sfx, txt = window_suffix(w), window_text(w)
        specs.append(
            FeatureSpec(f"complaints_{sfx}", f"complaints {txt}", FAMILY, window_days=w, monotone=1)
        )
        for c in categories:
            specs.append(
                FeatureSpec(
                    f"complaints_{c}_{sfx}",
                    f"complaints about {c} {txt}",
                    FAMILY,
                    window_days=w,
                    monotone=1,
                )
            )
        for ch in CHANNELS:
            specs.append(
                FeatureSpec(
                    f"complaints_via_{ch}_{sfx}",
                    f"complaints received by {ch.replace('_', ' ')} {txt}",
                    FAMILY,
                    window_days=w,
                )
            )
    specs.append(FeatureSpec("days_since_complaint", "days since the last complaint", FAMILY))
    return specs


def complaint_features(
    frames: ContractFrames, index: EmployerIndex, as_of: date, categories: list[str]
) -> pd.DataFrame:
    """``frames`` must already be the point-in-time view at ``as_of``."""
    cutoff = np.datetime64(as_of, "s")
    comp = frames.complaints
    pos = index.positions(comp["employer_id"])
    age = (cutoff - comp["date"].to_numpy()).astype("timedelta64[D]").astype(np.float64)
    category = comp["category"].fillna("").to_numpy(dtype=object)
    channel = comp["channel"].fillna("other").to_numpy(dtype=object)
    channel = np.where(np.isin(channel, CHANNELS), channel, "other")

    out: dict[str, np.ndarray] = {}
    for w in COMPLAINT_WINDOWS:
        sfx = window_suffix(w)
        in_w = age <= w
        out[f"complaints_{sfx}"] = index.count(pos, in_w)
        for c in categories:
            out[f"complaints_{c}_{sfx}"] = index.count(pos, in_w & (category == c))
        for ch in CHANNELS:
            out[f"complaints_via_{ch}_{sfx}"] = index.count(pos, in_w & (channel == ch))
    out["days_since_complaint"] = -index.last(pos, -age, -age)
    return pd.DataFrame(out, index=index.ids)
