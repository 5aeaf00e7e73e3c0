"""A score's reasons as the API sends them: each stored feature contribution in plain words.

Rankings and employer risk pages show the same reasons the same way, so both build them here
from the JSON stored with every snapshot score (``snapshot_scores.reasons``).
"""

from __future__ import annotations

import json

from pydantic import BaseModel, Field

from models.explanations import Reason, sentence


class RiskReason(BaseModel):
    feature: str = Field(description="The feature (see docs/feature-catalogue.md).")
    contribution: float = Field(description="How much it raises the score (log-odds).")
    value: float | str | None = Field(description="The workplace's value of the feature.")
    text_es: str = Field(description="The reason in plain Spanish.")
    text_en: str = Field(description="The reason in plain English.")


def explained(stored: str | None) -> list[RiskReason]:
    """The stored reasons with their Spanish and English sentences; [] when none were stored."""
    reasons = [Reason.from_dict(r) for r in json.loads(stored)] if stored else []
    return [
        RiskReason(
            feature=r.feature,
            contribution=r.contribution,
            value=r.value,
            text_es=sentence(r, "es"),
            text_en=sentence(r, "en"),
        )
        for r in reasons
    ]
