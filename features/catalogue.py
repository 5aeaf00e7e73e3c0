"""What every feature means: the catalogue is generated from the code that computes it.

Each feature family declares its :class:`FeatureSpec` list next to its computation;
a test checks that the computed columns and the declared specs are the same set.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    meaning: str
    family: str
    kind: Kind = Kind.NUMERIC
    #: Days looked back from the as-of date; None for "ever" or for attributes.
    window_days: int | None = None
    #: +1: more never means less risk; -1: more never means more; 0: no known direction.
    monotone: int = 0


def window_suffix(days: int | None) -> str:
    if days is None:
        return "ever"
    if days % 365 == 0:
        return f"{days // 365}y"
    return f"{days}d"


def window_text(days: int | None) -> str:
    return "ever before the as-of date" if days is None else f"in the {days} days before"


def render_markdown(specs: list[FeatureSpec]) -> str:
    """The catalogue as a Markdown table, for the README, MLflow and the docs."""
    lines = [
        "| feature | family | kind | window | monotone | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for s in specs:
        window = "" if s.window_days is None else f"{s.window_days} d"
        sign = {1: "+", -1: "−", 0: ""}[s.monotone]
        lines.append(f"| `{s.name}` | {s.family} | {s.kind} | {window} | {sign} | {s.meaning} |")
    return "\n".join(lines)
