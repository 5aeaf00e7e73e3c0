"""A score's reasons as the API sends them: each stored feature contribution in plain words.

Rankings and employer risk pages show the same reasons the same way, so both build them here
from the JSON stored for each explained snapshot score (``snapshot_reasons.reasons``).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from pydantic import BaseModel, Field

from models.explanations import Reason, sentence


class RiskReason(BaseModel):
    feature: str = Field(description="The feature (see docs/feature-catalogue.md).")
    contribution: float = Field(description="How much it raises the score (log-odds).")
    value: float | str | None = Field(description="The workplace's value of the feature.")
    text_es: str = Field(description="The reason in plain Spanish.")
    text_en: str = Field(description="The reason in plain English.")


def explained(stored: str | None) -> list[dict[str, Any]]:
    """The stored reasons with their Spanish and English sentences, as :class:`RiskReason`
    fields (plain dicts: a ranking page sends 300 of them, and building models only to
    serialise them again was a fifth of its time); [] when none were stored."""
    if not stored:
        return []
    reasons = []
    for r in json.loads(stored):
        feature, value = str(r["feature"]), r.get("value")
        text_es, text_en = _sentences(feature, type(value), value)
        reasons.append(
            {
                "feature": feature,
                "contribution": float(r["contribution"]),
                "value": value,
                "text_es": text_es,
                "text_en": text_en,
            }
        )
    return reasons


@functools.lru_cache(maxsize=65_536)
def _sentences(feature: str, kind: type, value: float | str | None) -> tuple[str, str]:
    """A reason's sentences depend only on its feature and value, and a page of 100 workplaces
    repeats the same few (one violation in the last year, no inspection in 5 years, ...):
    composing 600 sentences per page was most of a ranking's time. ``kind`` keeps 1 and 1.0
    apart (they hash alike but may read differently)."""
    reason = Reason(feature, 0.0, value)
    return sentence(reason, "es"), sentence(reason, "en")
