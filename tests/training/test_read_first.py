"""Which scores a snapshot explains when written: the tops planners open first."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.read_first import Area, rows_read_first


def population(n: int = 2_000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    state = rng.choice(["01", "11", "19", "32"], n, p=[0.6, 0.3, 0.09, 0.01])
    municipality = np.array(
        [f"{s}{m:03d}" for s, m in zip(state, rng.integers(1, 30, n), strict=True)]
    )
    directory = pd.DataFrame({"state": state, "municipality": municipality})
    ranks = pd.DataFrame({f"rank_{t}": rng.permutation(n) + 1 for t in ("any", "subcontracting")})
    return ranks, directory


def brute_top(rank: np.ndarray, members: np.ndarray, top: int) -> set[int]:
    """The positions of the ``top`` best-ranked members, the slow obvious way."""
    inside = np.flatnonzero(members)
    return set(inside[np.argsort(rank[inside])][:top].tolist())


AREAS = [
    Area(states=["19"], municipalities=["01004"]),  # a whole state and a municipality elsewhere
    Area(municipalities=["11005", "32007", "99999"]),  # one that holds no workplace
    Area(states=["01"]),
]


@pytest.mark.parametrize("top", [1, 5, 40])
def test_the_national_state_and_office_tops_are_chosen_and_nothing_else(top):
    ranks, directory = population()
    chosen = rows_read_first(ranks, directory, AREAS, top)
    assert set(chosen) == {"any", "subcontracting"}
    for target, positions in chosen.items():
        rank = ranks[f"rank_{target}"].to_numpy()
        expected = brute_top(rank, np.ones(len(rank), bool), top)
        for state in directory["state"].unique():
            expected |= brute_top(rank, (directory["state"] == state).to_numpy(), top)
        for area in AREAS:
            inside = directory["state"].isin(area.states) | directory["municipality"].isin(
                area.municipalities
            )
            expected |= brute_top(rank, inside.to_numpy(), top)
        assert positions.tolist() == sorted(expected)


def test_an_office_naming_every_municipality_costs_its_own_top_not_theirs():
    """The synthetic world's offices name municipalities one by one: each office's top is
    explained, not the top of each of its municipalities."""
    ranks, directory = population(n=20_000, seed=1)
    every = sorted(directory["municipality"].unique())
    offices = [Area(municipalities=[m for m in every if m.startswith(s)]) for s in ("01", "11")]
    chosen = rows_read_first(ranks, directory, offices, 25)["any"]
    # at most: the national top, each state's, each office's
    assert len(chosen) <= 25 * (1 + directory["state"].nunique() + len(offices))
    rank = ranks["rank_any"].to_numpy()
    for office in offices:
        inside = directory["municipality"].isin(office.municipalities).to_numpy()
        assert brute_top(rank, inside, 25) <= set(chosen.tolist())


def test_zero_or_a_top_as_large_as_the_population_chooses_every_row():
    ranks, directory = population(n=50)
    for top in (0, 50, 80):
        chosen = rows_read_first(ranks, directory, [], top)
        assert all(p.tolist() == list(range(50)) for p in chosen.values())


def test_a_workplace_without_a_municipality_is_still_ranked_in_its_state():
    ranks = pd.DataFrame({"rank_any": [4, 1, 3, 2]})
    directory = pd.DataFrame({"state": ["01", "01", "02", "02"], "municipality": [None] * 4})
    areas = [Area(municipalities=["01001"])]
    assert rows_read_first(ranks, directory, areas, 1)["any"].tolist() == [1, 3]
