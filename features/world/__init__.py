"""The synthetic Mexico-shaped world with known truth (shared/world.md).

``generate_world(WorldConfig(...), out)`` writes the contract tables, the truth files
and world.json; the same config gives the same bytes.
"""

from features.world.config import WorldConfig
from features.world.generate import generate_world
from features.world.summary import WorldSummary
from features.world.truth import truth_columns

__all__ = ["WorldConfig", "WorldSummary", "generate_world", "truth_columns"]
