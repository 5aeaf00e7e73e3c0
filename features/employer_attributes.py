"""What the directory says about a workplace: place, sector hierarchy, size, age, ``attr_*``.

``name`` is display-only and never a feature.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from features.catalogue import FeatureSpec, Kind
from features.employer_index import EmployerIndex
from features.frames import ContractFrames

FAMILY = "attributes"
CAT = Kind.CATEGORICAL


def attribute_specs(attribute_kinds: dict[str, str]) -> list[FeatureSpec]:
    specs = [
        FeatureSpec("state", "state (region) code", FAMILY, CAT),
        FeatureSpec("municipality", "municipality code", FAMILY, CAT),
        FeatureSpec("sector2", "2-digit sector prefix (SCIAN sector)", FAMILY, CAT),
        FeatureSpec("sector3", "3-digit sector prefix (subsector)", FAMILY, CAT),
        FeatureSpec("sector4", "4-digit sector prefix (industry group)", FAMILY, CAT),
        FeatureSpec("size_band", "size band as the directory records it", FAMILY, CAT),
        FeatureSpec("employees", "headcount (often missing)", FAMILY),
        FeatureSpec("age_days", "days since the workplace entered the registry", FAMILY),
        FeatureSpec("latitude", "latitude (WGS84)", FAMILY),
        FeatureSpec("longitude", "longitude (WGS84)", FAMILY),
    ]
    for name, kind in sorted(attribute_kinds.items()):
        specs.append(
            FeatureSpec(name, f"inspectorate attribute {name} as supplied", FAMILY, Kind(kind))
        )
    return specs


def attribute_features(
    frames: ContractFrames, index: EmployerIndex, as_of: date, attribute_kinds: dict[str, str]
) -> pd.DataFrame:
    emp = frames.employers.set_index("employer_id").reindex(index.ids)
    sector = emp["sector"].astype("string")
    cutoff = np.datetime64(as_of, "s")
    out = pd.DataFrame(
        {
            "state": emp["state"].astype("string"),
            "municipality": emp["municipality"].astype("string"),
            "sector2": sector.str.slice(0, 2),
            "sector3": sector.str.slice(0, 3),
            "sector4": sector.str.slice(0, 4),
            "size_band": emp["size_band"].astype("string"),
            "employees": pd.to_numeric(emp["employees"]).astype("float64"),
            "age_days": (cutoff - emp["registered_on"].to_numpy())
            .astype("timedelta64[D]")
            .astype("float64"),
            "latitude": pd.to_numeric(emp["latitude"]).astype("float64"),
            "longitude": pd.to_numeric(emp["longitude"]).astype("float64"),
        },
        index=index.ids,
    )
    attrs = frames.attributes
    for name, kind in sorted(attribute_kinds.items()):
        values = attrs.loc[attrs["name"] == name].set_index("employer_id")["value"]
        column = values.reindex(index.ids)
        if kind == Kind.NUMERIC:
            out[name] = pd.to_numeric(column, errors="coerce").astype("float64")
        else:
            out[name] = column.astype("string")
    return out
