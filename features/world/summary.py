"""The realism figures of a world, read off its clean tables, for people and for world.json."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pyarrow as pa

from calle.settings import MEXICO_CATEGORIES
from features.contract import INSPECTION_ORIGINS


def _share(part: int | float, whole: int | float) -> float:
    return round(float(part) / float(whole), 4) if whole else 0.0


@dataclass(frozen=True)
class WorldSummary:
    """Rows, origin mix, violation rates, missingness, inspection intensity, damage."""

    rows: dict[str, int]
    origin_share: dict[str, float]
    violation_rate: float
    violation_rate_random: float
    violation_rate_targeted: float
    category_violation_rate: dict[str, float]
    employees_missing: float
    size_band_missing: float
    inspections_per_employer_year: float
    truth_files: int
    damage: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def render(self) -> str:
        lines = ["Synthetic world", "  rows:"]
        lines += [f"    {name:<13} {count:>12,}" for name, count in self.rows.items()]
        lines.append("  inspections by origin:")
        lines += [f"    {name:<13} {share:>7.1%}" for name, share in self.origin_share.items()]
        lines += [
            f"  violation rate: {self.violation_rate:.1%} overall, "
            f"{self.violation_rate_random:.1%} random, "
            f"{self.violation_rate_targeted:.1%} other origins",
            "  violation rate by category (among findings of that category):",
        ]
        lines += [
            f"    {name:<24} {rate:>7.1%}" for name, rate in self.category_violation_rate.items()
        ]
        lines += [
            f"  employees missing: {self.employees_missing:.1%}; "
            f"size_band missing: {self.size_band_missing:.1%}",
            f"  inspections per employer-year: {self.inspections_per_employer_year:.3f}",
            f"  truth files: {self.truth_files}",
        ]
        if self.damage:
            lines.append("  damaged rows (messy mode):")
            for table, kinds in self.damage.items():
                detail = ", ".join(f"{kind} {count}" for kind, count in kinds.items())
                lines.append(f"    {table:<13} {detail}")
        return "\n".join(lines)


def summarise(tables: dict[str, pa.Table], employer_years: float, truth_files: int) -> WorldSummary:
    """Compute the figures from the clean tables (before any damage)."""
    inspections = tables["inspections"]
    findings = tables["findings"]
    employers = tables["employers"]
    origin = np.asarray(inspections.column("origin").to_numpy(zero_copy_only=False))
    found = inspections.column("violation_found").to_numpy()
    is_random = origin == "random"
    category = np.asarray(findings.column("category").to_numpy(zero_copy_only=False))
    violation = findings.column("violation").to_numpy()
    return WorldSummary(
        rows={name: table.num_rows for name, table in tables.items()},
        origin_share={o: _share((origin == o).sum(), len(origin)) for o in INSPECTION_ORIGINS},
        violation_rate=_share(found.sum(), len(found)),
        violation_rate_random=_share(found[is_random].sum(), is_random.sum()),
        violation_rate_targeted=_share(found[~is_random].sum(), (~is_random).sum()),
        category_violation_rate={
            c: _share(violation[category == c].sum(), (category == c).sum())
            for c in MEXICO_CATEGORIES
        },
        employees_missing=_share(employers.column("employees").null_count, employers.num_rows),
        size_band_missing=_share(employers.column("size_band").null_count, employers.num_rows),
        inspections_per_employer_year=round(inspections.num_rows / employer_years, 4)
        if employer_years
        else 0.0,
        truth_files=truth_files,
    )
