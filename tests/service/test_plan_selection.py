"""Plan selection: capacities, mandatory visits, exclusions and exploration, exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from service.plan_selection import (
    OfficeQuota,
    PlanError,
    Selection,
    exploration_count,
    select,
)


def candidates(n: int = 200, mandatory=(), excluded=()) -> pd.DataFrame:
    ids = [f"E{i:04d}" for i in range(n)]
    return pd.DataFrame(
        {
            "employer_id": ids,
            "rank": np.arange(1, n + 1),
            "score": np.linspace(0.9, 0.1, n),
            "state": ["01" if i % 2 else "02" for i in range(n)],
            "mandatory": [e in mandatory for e in ids],
            "excluded": [e in excluded for e in ids],
        }
    )


def quota(frame: pd.DataFrame, office: str, capacity: int, state: str | None = None):
    covers = np.ones(len(frame), bool) if state is None else (frame["state"] == state).to_numpy()
    return OfficeQuota(office, capacity, covers)


@pytest.mark.parametrize(
    ("share", "capacity", "expected"), [(0.1, 15, 2), (0.1, 14, 1), (0.1, 5, 1), (0.0, 9, 0)]
)
def test_the_exploration_count_rounds_half_up(share, capacity, expected):
    assert exploration_count(share, capacity) == expected


def test_each_office_gets_exactly_its_capacity_with_the_shares_it_asked_for():
    frame = candidates(mandatory={"E0150", "E0003"}, excluded={"E0001", "E0005", "E0150"})
    visits, outcomes = select(frame, [quota(frame, "OF-A", 22, "01")], 0.1, seed=3)
    assert len(visits) == 22 and outcomes[0].planned == 22 and outcomes[0].shortfall == 0
    by = {s: [v for v in visits if v.selection == s] for s in Selection}
    # mandatory first, even when recently inspected, each certain
    assert [v.employer_id for v in by[Selection.mandatory]] == ["E0003"]
    assert all(v.selection_probability == 1.0 for v in by[Selection.mandatory])
    # "E0150" is mandatory but in state 02: not this office's
    assert "E0150" not in {v.employer_id for v in visits}
    # 10% of the 21 non-mandatory visits, rounded half up: 2
    assert len(by[Selection.exploration]) == 2 and len(by[Selection.model]) == 19
    # the model takes the top of the eligible ranking: state 01 (odd ids), not excluded
    eligible = [e for e in frame["employer_id"] if int(e[1:]) % 2 and e not in {"E0001", "E0005"}]
    eligible.remove("E0003")
    assert [v.employer_id for v in by[Selection.model]] == eligible[:19]
    pool = eligible[19:]
    for v in by[Selection.exploration]:
        assert v.employer_id in pool
        assert v.selection_probability == pytest.approx(2 / len(pool))
    assert outcomes[0].exploration_pool == len(pool)


def test_recently_inspected_workplaces_are_never_drawn():
    excluded = {f"E{i:04d}" for i in range(0, 200, 3)}
    frame = candidates(excluded=excluded)
    for seed in range(20):
        visits, _ = select(frame, [quota(frame, "OF-A", 30)], 0.5, seed)
        assert not excluded & {v.employer_id for v in visits}


def test_the_same_seed_gives_the_same_plan_and_another_seed_another_draw():
    frame = candidates()
    quotas = [quota(frame, "OF-A", 20, "01"), quota(frame, "OF-B", 20, "02")]
    first, _ = select(frame, quotas, 0.3, seed=11)
    again, _ = select(frame, quotas, 0.3, seed=11)
    other, _ = select(frame, quotas, 0.3, seed=12)
    assert first == again
    drawn = {v.employer_id for v in first if v.selection == Selection.exploration}
    assert drawn != {v.employer_id for v in other if v.selection == Selection.exploration}


def test_a_workplace_two_offices_cover_is_planned_once_by_the_first_office():
    frame = candidates(n=50)
    quotas = [quota(frame, "OF-B", 10), quota(frame, "OF-A", 10, "01")]
    visits, outcomes = select(frame, quotas, 0.0, seed=0)
    ids = [v.employer_id for v in visits]
    assert len(ids) == len(set(ids)) == 20
    assert [o.office for o in outcomes] == ["OF-A", "OF-B"]
    a = [v.employer_id for v in visits if v.office == "OF-A"]
    assert a == [f"E{i:04d}" for i in range(1, 21, 2)]  # the top of state 01
    b = [v.employer_id for v in visits if v.office == "OF-B"]
    assert b == [f"E{i:04d}" for i in range(0, 20, 2)]  # what OF-A left: state 02's top


def test_more_mandatory_workplaces_than_capacity_is_an_error_naming_the_office():
    frame = candidates(mandatory={"E0001", "E0003", "E0005"})
    with pytest.raises(PlanError, match="office OF-A: 3 mandatory workplaces exceed its capacity"):
        select(frame, [quota(frame, "OF-A", 2, "01")], 0.1, seed=0)


def test_a_small_area_leaves_a_shortfall_instead_of_overfilling():
    frame = candidates(n=10)
    visits, outcomes = select(frame, [quota(frame, "OF-A", 8, "01")], 0.25, seed=0)
    assert len(visits) == 5 and outcomes[0].shortfall == 3


def test_exploration_probabilities_match_how_often_each_workplace_is_drawn():
    """Over many seeds, each pool member is drawn about as often as its stated probability
    says: what lets an evaluation weight exploration visits by 1 / probability."""
    frame = candidates(n=120)
    counts: dict[str, int] = {}
    probabilities = set()
    runs = 400
    for seed in range(runs):
        visits, _ = select(frame, [quota(frame, "OF-A", 40)], 0.25, seed)
        for v in visits:
            if v.selection == Selection.exploration:
                counts[v.employer_id] = counts.get(v.employer_id, 0) + 1
                probabilities.add(v.selection_probability)
    assert probabilities == {10 / 90}
    frequencies = np.array([counts.get(f"E{i:04d}", 0) / runs for i in range(30, 120)])
    assert frequencies.mean() == pytest.approx(10 / 90, rel=1e-9)
    assert np.abs(frequencies - 10 / 90).max() < 0.06  # 400 draws: sd ~ 0.016
