"""Messy mode: damage a known share of rows the way real exports are damaged.

Every damaged row breaks a rule of contract.md, so an importer that follows the
contract must reject it: a date that is not a valid ISO date, an employer id that does
not exist, a second row with an existing id and different content (appended after the
original, so the original is the first occurrence), a state that is not an INEGI
two-digit code, a negative headcount.

Cascades are avoided where the world allows: damaged employers are chosen among
workplaces without any event. An inspection damaged in place takes its findings with
it (they point to an inspection that will be rejected); those findings are counted as
``findings.parent_inspection_damaged``. ``duplicate_conflict`` counts the added copies;
an importer that rejects every occurrence of a conflicting id rejects twice as many rows,
and then also the findings counted as ``findings.parent_inspection_duplicated``.
Findings rows themselves are never altered. Counts go to damage.json; the truth is never
damaged.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from features.world.geography import STATES

Damage = dict[str, dict[str, int]]


def _split(rng: np.random.Generator, total: int, kinds: dict[str, float]) -> dict[str, int]:
    weights = np.array(list(kinds.values()))
    return dict(zip(kinds, rng.multinomial(total, weights / weights.sum()).tolist(), strict=True))


def _as_text(column: pa.ChunkedArray) -> np.ndarray:
    """A column as an object array of strings (None for missing), ready to be damaged."""
    return np.asarray(column.cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object)


def _bad_date(rng: np.random.Generator, iso: str | None) -> str:
    """An impossible or non-ISO date near the original: "2019-02-30" or "31/12/2019"."""
    year = int(iso[:4]) if iso else 2020
    if rng.random() < 0.5:
        return f"{year}-02-{30 + int(rng.integers(0, 2))}"
    day = dt.date.fromisoformat(iso) if iso else dt.date(year, 12, 31)
    return day.strftime("%d/%m/%Y")


def _misspelled_state(rng: np.random.Generator, code: str) -> str:
    """The state's name (with or without accents) or its code without the leading zero."""
    name = STATES[int(code) - 1].name
    choice = int(rng.integers(0, 3))
    if choice == 2 and int(code) < 10:
        return str(int(code))
    if choice == 1:
        return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return name


def _unknown_ids(prefix: str, start: int, count: int, width: int) -> list[str]:
    return [f"{prefix}{start + k:0{width}d}" for k in range(count)]


def _valid_dates(table: pa.Table) -> pa.Array:
    """The distinct valid dates of a clean table, as text: new content for a duplicate."""
    return pc.unique(table.column("date").combine_chunks().cast(pa.string()))


def _replace(table: pa.Table, name: str, values: np.ndarray) -> pa.Table:
    index = table.column_names.index(name)
    return table.set_column(index, name, pa.array(values, pa.string()))


def _append_conflicts(
    rng: np.random.Generator, table: pa.Table, originals: np.ndarray, change: str, pool: pa.Array
) -> pa.Table:
    """Copies of the original rows with ``change`` set to another value from ``pool``."""
    copies = table.take(pa.array(originals, pa.int64()))
    current = copies.column(change).to_pylist()
    values = pool.to_pylist()
    replaced = []
    for value in current:
        other = values[int(rng.integers(0, len(values)))]
        while other == value and len(set(values)) > 1:
            other = values[int(rng.integers(0, len(values)))]
        replaced.append(other)
    index = copies.column_names.index(change)
    copies = copies.set_column(index, change, pa.array(replaced, copies.schema.field(change).type))
    return pa.concat_tables([table, copies.cast(table.schema)])


def damage_tables(
    rng: np.random.Generator, tables: dict[str, pa.Table], share: float
) -> tuple[dict[str, pa.Table], Damage]:
    """Damaged copies of employers, inspections and complaints, and what was done."""
    employers, inspections = tables["employers"], tables["inspections"]
    complaints, findings = tables["complaints"], tables["findings"]
    damage: Damage = {}
    out = dict(tables)
    id_width = len(employers.column("employer_id")[0].as_py()) - 1
    unknown_start = employers.num_rows + 1

    # -- employers: only workplaces without events, so nothing else is dragged along ------
    with_events = pc.unique(
        pa.concat_arrays(
            [
                t.column("employer_id").combine_chunks()
                for t in (inspections, complaints, tables["remediations"])
            ]
        )
    )
    quiet = np.flatnonzero(
        ~pc.is_in(employers.column("employer_id"), value_set=with_events).to_numpy(
            zero_copy_only=False
        )
    )
    total = min(round(share * employers.num_rows), len(quiet))
    kinds = _split(
        rng,
        total,
        {
            "misspelled_state": 3,
            "bad_date": 2.5,
            "negative_employees": 1.5,
            "duplicate_conflict": 3,
        },
    )
    chosen = rng.permutation(quiet)[:total]
    parts = np.split(chosen, np.cumsum(list(kinds.values()))[:-1])
    state = _as_text(employers.column("state"))
    state[parts[0]] = [_misspelled_state(rng, code) for code in state[parts[0]]]
    registered = _as_text(employers.column("registered_on"))
    registered[parts[1]] = [_bad_date(rng, iso) for iso in registered[parts[1]]]
    employees = employers.column("employees").to_numpy(zero_copy_only=False).astype(float)
    employees[parts[2]] = -rng.integers(1, 60, len(parts[2]))
    damaged = _replace(employers, "state", state)
    damaged = _replace(damaged, "registered_on", registered)
    damaged = damaged.set_column(
        damaged.column_names.index("employees"),
        "employees",
        pa.array(employees, mask=np.isnan(employees)).cast(pa.int64()),
    )
    sectors = pc.unique(employers.column("sector").combine_chunks())
    out["employers"] = _append_conflicts(rng, damaged, np.sort(parts[3]), "sector", sectors)
    damage["employers"] = kinds

    # -- inspections: bad dates and unknown employers in place, conflicting copies added ---
    total = round(share * inspections.num_rows)
    kinds = _split(rng, total, {"bad_date": 1, "unknown_employer": 1, "duplicate_conflict": 1})
    chosen = rng.permutation(inspections.num_rows)[:total]
    parts = np.split(chosen, np.cumsum(list(kinds.values()))[:-1])
    dates = _as_text(inspections.column("date"))
    dates[parts[0]] = [_bad_date(rng, iso) for iso in dates[parts[0]]]
    employer_ids = _as_text(inspections.column("employer_id"))
    employer_ids[parts[1]] = _unknown_ids("E", unknown_start, len(parts[1]), id_width)
    unknown_start += len(parts[1])
    damaged = _replace(_replace(inspections, "date", dates), "employer_id", employer_ids)
    out["inspections"] = _append_conflicts(
        rng, damaged, np.sort(parts[2]), "date", _valid_dates(inspections)
    )
    damage["inspections"] = kinds
    in_place = inspections.column("inspection_id").take(pa.array(np.concatenate(parts[:2])))
    orphaned = pc.sum(
        pc.is_in(findings.column("inspection_id"), value_set=in_place.combine_chunks())
    )
    duplicated = inspections.column("inspection_id").take(pa.array(parts[2], pa.int64()))
    shadowed = pc.sum(
        pc.is_in(findings.column("inspection_id"), value_set=duplicated.combine_chunks())
    )
    damage["findings"] = {
        "parent_inspection_damaged": int(orphaned.as_py() or 0),
        "parent_inspection_duplicated": int(shadowed.as_py() or 0),
    }

    # -- complaints ------------------------------------------------------------------------
    total = round(share * complaints.num_rows)
    kinds = _split(rng, total, {"bad_date": 1, "unknown_employer": 1, "duplicate_conflict": 1})
    chosen = rng.permutation(complaints.num_rows)[:total]
    parts = np.split(chosen, np.cumsum(list(kinds.values()))[:-1])
    dates = _as_text(complaints.column("date"))
    dates[parts[0]] = [_bad_date(rng, iso) for iso in dates[parts[0]]]
    employer_ids = _as_text(complaints.column("employer_id"))
    employer_ids[parts[1]] = _unknown_ids("E", unknown_start, len(parts[1]), id_width)
    damaged = _replace(_replace(complaints, "date", dates), "employer_id", employer_ids)
    out["complaints"] = _append_conflicts(
        rng, damaged, np.sort(parts[2]), "date", _valid_dates(complaints)
    )
    damage["complaints"] = kinds
    return out, damage
