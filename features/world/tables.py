"""Turn the population and the event log into the contract's tables (Arrow).

Column names and order come from features/contract.py. Ids are assigned here, in
chronological order, so that the files read like an export of a real system.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from calle.settings import MEXICO_CATEGORIES
from features.contract import (
    COMPLAINTS,
    EMPLOYERS,
    FINDINGS,
    INSPECTION_ORIGINS,
    INSPECTIONS,
    REMEDIATIONS,
    SIZE_BANDS,
    Table,
)
from features.world.config import MISSING_DAY
from features.world.geography import STATE_CODES
from features.world.inspectorate import Inspectorate
from features.world.population import MISSING, Population
from features.world.sectors import SECTOR_CODES, SECTORS
from features.world.simulate import CHANNELS, REMEDIATION_SOURCES, EventLog

ATTRIBUTE_COLUMNS: tuple[str, ...] = (
    "attr_repse_registered",
    "attr_collective_agreement",
    "attr_women_share",
)
_SURNAMES = (
    "García", "Hernández", "Martínez", "López", "González", "Pérez", "Rodríguez", "Sánchez",
    "Ramírez", "Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Reyes", "Jiménez", "Torres",
    "Díaz", "Gutiérrez", "Ruiz", "Mendoza", "Aguilar", "Ortiz", "Moreno", "Castillo", "Romero",
    "Álvarez", "Méndez", "Chávez", "Rivera", "Juárez", "Ramos", "Domínguez", "Herrera",
    "Medina", "Castro", "Vargas", "Guzmán", "Velázquez", "Muñoz", "Rojas", "Contreras",
    "Salazar", "Luna", "Ortega", "Santiago", "Guerrero", "Estrada", "Bautista", "Cortés",
)  # fmt: skip
_SUFFIXES = ("", "", "", " SA de CV", " S de RL de CV", " e Hijos", " Hermanos")


def ids(prefix: str, count: int, minimum_width: int = 7) -> pa.Array:
    """ "E0000001", "E0000002"...: the prefix and a number zero-padded to a fixed width."""
    width = max(minimum_width, len(str(count)))
    numbers = pa.array(np.arange(1, count + 1, dtype=np.int64)).cast(pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(numbers, width, "0"), "")


def _lookup(labels: tuple[str, ...], index: np.ndarray) -> pa.Array:
    """Labels by index; a negative index (MISSING) becomes a null."""
    indices = pa.array(index.astype(np.int32), mask=index < 0)
    return pc.take(pa.array(labels, pa.string()), indices)


def _nullable(values: np.ndarray, missing: np.ndarray, kind: pa.DataType) -> pa.Array:
    return pa.array(values, mask=missing).cast(kind)


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype(np.int32), mask=days == MISSING_DAY).cast(pa.date32())


def _table(spec: Table, columns: dict[str, pa.Array]) -> pa.Table:
    names = list(spec.column_names) + [c for c in columns if c not in spec.column_names]
    return pa.table({name: columns[name] for name in names})


def display_names(rng: np.random.Generator, population: Population) -> pa.Array:
    """Made-up business names, e.g. "Taquería Flores Ortiz": display only, no real firms."""
    n = population.size
    labels = _lookup(tuple(s.label for s in SECTORS), population.sector.astype(np.int32))
    first = _lookup(_SURNAMES, rng.integers(0, len(_SURNAMES), n))
    second = _lookup(_SURNAMES, rng.integers(0, len(_SURNAMES), n))
    suffix = _lookup(_SUFFIXES, rng.integers(0, len(_SUFFIXES), n))
    joined = pc.binary_join_element_wise(labels, first, second, " ")
    return pc.binary_join_element_wise(joined, suffix, "")


def municipality_codes(population: Population) -> pa.Array:
    """Five-digit codes: the state's two digits, then the municipality's three."""
    municipality = (population.state.astype(np.int64) + 1) * 1000 + population.municipality
    return pc.utf8_lpad(pa.array(municipality).cast(pa.string()), 5, "0")


#: Planned visits per inspector in one plan (about a month of an inspector's work): the
#: capacity each office is given in the world's ``offices.toml``.
VISITS_PER_INSPECTOR = 8


def office_areas(
    population: Population, inspectorate: Inspectorate
) -> dict[str, dict[str, list[str] | int]]:
    """Each office's area (calle.offices): the municipalities of the workplaces it inspects,
    and a plan's capacity from its inspectors."""
    offices = np.asarray(inspectorate.office_names)[inspectorate.employer_office]
    codes = np.asarray(municipality_codes(population).to_pylist())
    pairs = sorted(set(zip(offices.tolist(), codes.tolist(), strict=True)))
    inspectors = np.bincount(
        inspectorate.inspector_office, minlength=len(inspectorate.office_names)
    )
    capacity = dict(zip(inspectorate.office_names, inspectors * VISITS_PER_INSPECTOR, strict=True))
    areas: dict[str, dict[str, list[str] | int]] = {}
    for office, code in pairs:
        area = areas.setdefault(office, {"municipalities": [], "capacity": int(capacity[office])})
        municipalities = area["municipalities"]
        assert isinstance(municipalities, list)
        municipalities.append(code)
    return areas


def employers_table(population: Population, names: pa.Array) -> pa.Table:
    return _table(
        EMPLOYERS,
        {
            "employer_id": ids("E", population.size),
            "name": names,
            "state": _lookup(STATE_CODES, population.state.astype(np.int32)),
            "municipality": municipality_codes(population),
            "sector": _lookup(SECTOR_CODES, population.sector.astype(np.int32)),
            "employees": _nullable(
                population.employees_visible, population.employees_visible == MISSING, pa.int64()
            ),
            "size_band": _lookup(SIZE_BANDS, population.size_band_visible),
            "registered_on": _dates(population.registered_day),
            "latitude": pa.array(population.latitude, pa.float64()),
            "longitude": pa.array(population.longitude, pa.float64()),
            "attr_repse_registered": _nullable(
                population.attr_repse_registered,
                population.attr_repse_registered == MISSING,
                pa.int64(),
            ),
            "attr_collective_agreement": _nullable(
                population.attr_collective_agreement,
                population.attr_collective_agreement == MISSING,
                pa.int64(),
            ),
            "attr_women_share": _nullable(
                population.attr_women_share, np.isnan(population.attr_women_share), pa.float64()
            ),
        },
    )


def inspection_order(log: EventLog) -> np.ndarray:
    """Chronological order of the inspections (day, then workplace, then occurrence)."""
    occurrence = np.arange(len(log.inspection_day))
    return np.lexsort((occurrence, log.inspection_employer, log.inspection_day))


def event_tables(
    log: EventLog, population: Population, inspectorate: Inspectorate
) -> dict[str, pa.Table]:
    """inspections, findings, complaints, remediations in the contract's shape."""
    employer_ids = ids("E", population.size)

    order = inspection_order(log)
    inspection_ids = ids("I", len(order))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    employer = log.inspection_employer[order]
    office = inspectorate.employer_office[employer].astype(np.int32)
    inspections = _table(
        INSPECTIONS,
        {
            "inspection_id": inspection_ids,
            "employer_id": pc.take(employer_ids, pa.array(employer)),
            "date": _dates(log.inspection_day[order]),
            "origin": _lookup(INSPECTION_ORIGINS, log.inspection_origin[order]),
            "office": _lookup(inspectorate.office_names, office),
            "inspector_id": pa.array(inspectorate.inspector_names(log.inspection_inspector[order])),
            "violation_found": pa.array(log.inspection_violation[order].astype(np.int64)),
        },
    )

    finding_rank = rank[log.finding_inspection]
    finding_order = np.lexsort((log.finding_category, finding_rank))
    sanction = log.finding_sanction[finding_order]
    findings = _table(
        FINDINGS,
        {
            "inspection_id": pc.take(inspection_ids, pa.array(finding_rank[finding_order])),
            "category": _lookup(MEXICO_CATEGORIES, log.finding_category[finding_order]),
            "violation": pa.array(log.finding_violation[finding_order].astype(np.int64)),
            "sanction_amount": _nullable(sanction, np.isnan(sanction), pa.float64()),
        },
    )

    complaint_order = np.lexsort(
        (np.arange(len(log.complaint_day)), log.complaint_employer, log.complaint_day)
    )
    complaints = _table(
        COMPLAINTS,
        {
            "complaint_id": ids("C", len(complaint_order)),
            "employer_id": pc.take(employer_ids, pa.array(log.complaint_employer[complaint_order])),
            "date": _dates(log.complaint_day[complaint_order]),
            "category": _lookup(MEXICO_CATEGORIES, log.complaint_category[complaint_order]),
            "channel": _lookup(CHANNELS, log.complaint_channel[complaint_order]),
        },
    )

    plan_order = np.lexsort(
        (log.remediation_source, log.remediation_employer, log.remediation_opened)
    )
    # Two plans of one source opened the same day for one workplace are one plan on
    # record (the contract keys remediations by employer, day and source): keep the first.
    plan_key = np.stack(
        [
            log.remediation_opened[plan_order],
            log.remediation_employer[plan_order],
            log.remediation_source[plan_order],
        ]
    )
    repeats = np.zeros(len(plan_order), bool)
    repeats[1:] = (plan_key[:, 1:] == plan_key[:, :-1]).all(axis=0)
    plan_order = plan_order[~repeats]
    remediations = _table(
        REMEDIATIONS,
        {
            "employer_id": pc.take(employer_ids, pa.array(log.remediation_employer[plan_order])),
            "opened_on": _dates(log.remediation_opened[plan_order]),
            "closed_on": _dates(log.remediation_closed[plan_order]),
            "source": _lookup(REMEDIATION_SOURCES, log.remediation_source[plan_order]),
        },
    )
    return {
        "inspections": inspections,
        "findings": findings,
        "complaints": complaints,
        "remediations": remediations,
    }
