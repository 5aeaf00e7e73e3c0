"""Inspection history per employer, as of a date: counts, recency, outcomes, sanctions.

Everything here is computed from the point-in-time view (``ContractFrames.as_of``),
so it cannot see the as-of date or anything after it.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from features.catalogue import FeatureSpec, window_suffix, window_text
from features.employer_index import EmployerIndex
from features.frames import ContractFrames

FAMILY = "history"
HISTORY_WINDOWS: tuple[int | None, ...] = (365, 1095, None)


def history_specs(categories: list[str]) -> list[FeatureSpec]:
    specs: list[FeatureSpec] = []
    for w in HISTORY_WINDOWS:
        sfx, txt = window_suffix(w), window_text(w)
        specs += [
            FeatureSpec(f"inspections_{sfx}", f"inspections {txt}", FAMILY, window_days=w),
            FeatureSpec(
                f"violations_{sfx}",
                f"inspections that found a violation {txt}",
                FAMILY,
                window_days=w,
                monotone=1,
            ),
            FeatureSpec(f"sanctions_{sfx}", f"sum of proposed fines {txt}", FAMILY, window_days=w),
        ]
        for c in categories:
            specs += [
                FeatureSpec(
                    f"{c}_inspected_{sfx}", f"inspections covering {c} {txt}", FAMILY, window_days=w
                ),
                FeatureSpec(
                    f"{c}_violations_{sfx}",
                    f"violations of {c} confirmed {txt}",
                    FAMILY,
                    window_days=w,
                    monotone=1,
                ),
            ]
    specs += [
        FeatureSpec("random_inspections_ever", "random (lottery) inspections ever", FAMILY),
        FeatureSpec(
            "random_violations_ever",
            "random inspections that found a violation, ever",
            FAMILY,
            monotone=1,
        ),
        FeatureSpec("days_since_inspection", "days since the last inspection", FAMILY),
        FeatureSpec("days_since_violation", "days since the last violation found", FAMILY),
        FeatureSpec(
            "last_inspection_violation",
            "whether the last inspection found a violation (missing: never inspected)",
            FAMILY,
        ),
        FeatureSpec("sanction_max_ever", "largest fine proposed in one finding, ever", FAMILY),
        FeatureSpec(
            "remediations_open", "remediation plans or sanctions open at the as-of date", FAMILY
        ),
        FeatureSpec("remediations_ever", "remediation plans opened, ever", FAMILY),
        FeatureSpec("rrm_ever", "USMCA Rapid Response remediations (source rrm), ever", FAMILY),
    ]
    return specs


def history_features(
    frames: ContractFrames, index: EmployerIndex, as_of: date, categories: list[str]
) -> pd.DataFrame:
    """``frames`` must already be the point-in-time view at ``as_of``."""
    cutoff = np.datetime64(as_of, "s")
    insp = frames.inspections
    pos = index.positions(insp["employer_id"])
    age = (cutoff - insp["date"].to_numpy()).astype("timedelta64[D]").astype(np.float64)
    violation = insp["violation_found"].to_numpy(dtype=np.float64)
    is_random = (insp["origin"] == "random").to_numpy()

    find = frames.findings.merge(
        insp[["inspection_id", "employer_id", "date"]], on="inspection_id", how="inner"
    )
    fpos = index.positions(find["employer_id"])
    fage = (cutoff - find["date"].to_numpy()).astype("timedelta64[D]").astype(np.float64)
    fviol = find["violation"].to_numpy(dtype=np.float64)
    fine = find["sanction_amount"].fillna(0).to_numpy(dtype=np.float64)
    fcat = find["category"].to_numpy()

    out: dict[str, np.ndarray] = {}
    for w in HISTORY_WINDOWS:
        sfx = window_suffix(w)
        in_w = np.ones(len(age), bool) if w is None else age <= w
        fin_w = np.ones(len(fage), bool) if w is None else fage <= w
        out[f"inspections_{sfx}"] = index.count(pos, in_w)
        out[f"violations_{sfx}"] = index.total(pos, violation, in_w)
        out[f"sanctions_{sfx}"] = index.total(fpos, fine, fin_w)
        for c in categories:
            is_c = fin_w & (fcat == c)
            out[f"{c}_inspected_{sfx}"] = index.count(fpos, is_c)
            out[f"{c}_violations_{sfx}"] = index.total(fpos, fviol, is_c)
    out["random_inspections_ever"] = index.count(pos, is_random)
    out["random_violations_ever"] = index.total(pos, violation, is_random)
    out["days_since_inspection"] = -index.last(pos, -age, -age)
    out["days_since_violation"] = -index.last(pos, -age, -age, violation == 1)
    out["last_inspection_violation"] = index.last(pos, -age, violation)
    sanction_max = index.last(fpos, fine, fine)
    out["sanction_max_ever"] = np.where(np.isnan(sanction_max), 0.0, sanction_max)

    rem = frames.remediations
    rpos = index.positions(rem["employer_id"])
    out["remediations_open"] = index.count(rpos, rem["closed_on"].isna().to_numpy())
    out["remediations_ever"] = index.count(rpos)
    out["rrm_ever"] = index.count(rpos, (rem["source"] == "rrm").fillna(False).to_numpy())
    return pd.DataFrame(out, index=index.ids)
