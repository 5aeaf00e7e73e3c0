"""The roles a key can have; kept free of the store so the CLI can offer them cheaply."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a key may do (issue 4); ``admin`` may do everything."""

    planner = "planner"
    ecms = "ecms"
    data_scientist = "data_scientist"
    admin = "admin"
