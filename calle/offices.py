"""Office areas: which workplaces each inspection office covers.

An office covers whole states, single municipalities, or both; planners filter rankings by
office and plans give each office its capacity. The areas are the inspectorate's to say, in
a TOML or YAML file named by ``CALLE_OFFICES_FILE``::

    [offices."OF-11"]
    states = ["11"]

    [offices."OF-14B"]
    municipalities = ["14002", "14004"]
    capacity = 25          # optional: visits per plan (``calle plan``, POST /plans)

``calle world`` writes such a file (``offices.toml``) for the offices of its world. A
workplace may fall in more than one office's area (an office covering a state and another
covering one of its municipalities); each office sees it.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from calle.config_files import read_config_file, validate

OFFICE_NAME = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$"


class OfficeArea(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    states: tuple[str, ...] = Field(default=(), description="State codes covered whole.")
    municipalities: tuple[str, ...] = Field(default=(), description="Municipality codes.")
    capacity: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="Visits a plan gives the office unless the plan request says otherwise.",
    )

    @model_validator(mode="after")
    def _covers_something(self) -> OfficeArea:
        if not self.states and not self.municipalities:
            raise ValueError("an office must cover at least one state or municipality")
        return self


class OfficeAreas(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    offices: dict[str, OfficeArea] = Field(min_length=1)

    @model_validator(mode="after")
    def _names(self) -> OfficeAreas:
        bad = [name for name in self.offices if not re.fullmatch(OFFICE_NAME, name)]
        if bad:
            raise ValueError(
                f"office names are 1-64 letters, digits, spaces, '.', '_' or '-': {bad[:5]}"
            )
        return self

    def area(self, office: str) -> OfficeArea:
        try:
            return self.offices[office]
        except KeyError:
            known = ", ".join(sorted(self.offices)[:40])
            raise KeyError(f"unknown office {office!r}; offices: {known}") from None


def load_office_areas(path: Path | None) -> OfficeAreas | None:
    """The office areas in ``path``; None if no file is configured."""
    if path is None:
        return None
    return validate(OfficeAreas, read_config_file(path), str(path))


def render_office_areas(areas: dict[str, dict[str, list[str] | int]]) -> str:
    """A TOML file of office areas (the format :func:`load_office_areas` reads)."""
    lines = [
        "# Office areas: which states and municipalities each inspection office covers.",
        "# Point CALLE_OFFICES_FILE at this file to filter rankings and build plans by office.",
    ]
    for office in sorted(areas):
        lines += ["", f'[offices."{office}"]']
        for key in ("states", "municipalities"):
            values = areas[office].get(key) or []
            if values:
                assert isinstance(values, list)
                lines.append(f"{key} = [" + ", ".join(f'"{v}"' for v in values) + "]")
        capacity = areas[office].get("capacity")
        if capacity is not None:
            lines.append(f"capacity = {capacity}")
    return "\n".join(lines) + "\n"
