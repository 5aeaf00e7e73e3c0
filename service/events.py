"""``POST /api/v1/inspections|findings|complaints``: events from the case-management system.

Each body is one record of the contract table of that name, with the contract's field
names (shared/contract.md). It is checked by :mod:`features.contract_import.records`,
which runs the bulk import's own checks on it, so an event and a file row are accepted or
rejected alike and with the same reason codes; accepted records go into the contract
tables the import fills and are training data for the next retrain.

Answers:

- 201 with the record as stored: new. 200 with the stored record: the same record again
  (idempotent by the table's key: ``inspection_id``; ``inspection_id`` + ``category``;
  ``complaint_id``). The comparison is the import's (every contract field).
- 409 ``duplicate_conflict``: the key is stored with other content. A stored record never
  changes over HTTP, as it never changes on re-import.
- 409 ``violation_found_mismatch``: a finding with ``violation = 1`` for an inspection
  stored with ``violation_found = 0``. Findings may arrive after their inspection and one
  by one, so the rule "``violation_found`` = any finding's violation", which the import
  judges over a whole file, is judged here only where one finding already contradicts
  the stored inspection; a non-violating finding under ``violation_found = 1`` is accepted
  (the violating one may still come). The stored inspection is left as it is.
- 422 naming the field and the import's reason code (``bad_type:date``,
  ``future_date:date``, ``missing_value:origin``, ``not_allowed:category``,
  ``unknown_employer``, ``unknown_inspection``, ...); fields outside the contract are
  ``unknown_field``. Complaints protect the complainant: an unknown complaint field is
  refused by name only, its value is never stored, echoed or logged.

One transaction per request; a concurrent insert of the same key is retried once and then
answers 200 or 409. No risk is returned, so nothing is audited; each accepted event gets
one INFO log line with its ids only (a complaint: its id and the employer's).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, create_model

from calle.settings import Settings
from features.contract import COMPLAINTS, FINDINGS, INSPECTIONS, Column, ColumnType, Table
from features.contract_import.records import (
    CONFLICTS,
    RecordCheck,
    check_record,
    hold_off_imports,
    insert_record,
    unknown_fields,
)
from service.auth import require
from service.dependencies import EngineDep, PeerRatesDep, SettingsDep
from service.keys import ApiKey
from service.problems import FieldError, Problem, problem_responses
from service.roles import Role

log = logging.getLogger(__name__)

#: What each field means (shared/contract.md), for the OpenAPI document.
_MEANING: dict[str, dict[str, str]] = {
    "inspections": {
        "inspection_id": "Unique id of the inspection.",
        "employer_id": "The inspected workplace; must be stored already.",
        "date": "Day of the visit (YYYY-MM-DD, not in the future).",
        "origin": "Why it was inspected: random, planned, complaint, follow_up or other.",
        "office": "Inspecting office.",
        "inspector_id": "Pseudonymous inspector code.",
        "violation_found": "1 if at least one violation was confirmed for sanction, else 0.",
    },
    "findings": {
        "inspection_id": "The inspection; must be stored already.",
        "category": "The inspected subject, one of the installation's categories.",
        "violation": "1 if a violation was confirmed in this category, else 0.",
        "sanction_amount": "Fine proposed, in local currency (≥ 0).",
    },
    "complaints": {
        "complaint_id": "Unique id of the complaint.",
        "employer_id": "The workplace complained about; must be stored already.",
        "date": "Day received (YYYY-MM-DD, not in the future).",
        "category": "One of the installation's categories, if known.",
        "channel": "phone, web, in person, union petition, ...",
    },
}

_EXAMPLES: dict[str, dict[str, Any]] = {
    "inspections": {
        "inspection_id": "INS-2026-000123",
        "employer_id": "E0001234",
        "date": "2026-03-02",
        "origin": "complaint",
        "office": "11-LEO",
        "inspector_id": "INSP-0042",
        "violation_found": 1,
    },
    "findings": {
        "inspection_id": "INS-2026-000123",
        "category": "safety_health",
        "violation": 1,
        "sanction_amount": 25000.0,
    },
    "complaints": {
        "complaint_id": "Q-2026-000077",
        "employer_id": "E0001234",
        "date": "2026-02-20",
        "category": "working_conditions",
        "channel": "web",
    },
}

_JSON_TYPES: dict[ColumnType, dict[str, Any]] = {
    ColumnType.TEXT: {"type": "string"},
    ColumnType.DATE: {"type": "string", "format": "date"},
    ColumnType.FLAG: {"type": "integer", "enum": [0, 1]},
    ColumnType.INTEGER: {"type": "integer", "minimum": 0},
    ColumnType.NUMBER: {"type": "number"},
}

_PYTHON_TYPES: dict[ColumnType, type] = {
    ColumnType.TEXT: str,
    ColumnType.DATE: date,
    ColumnType.FLAG: int,
    ColumnType.INTEGER: int,
    ColumnType.NUMBER: float,
}


def _json_schema(column: Column) -> dict[str, Any]:
    schema = dict(_JSON_TYPES[column.type])
    if column.allowed:
        schema["enum"] = list(column.allowed)
    if column.minimum is not None:
        schema["minimum"] = column.minimum
    if column.maximum is not None:
        schema["maximum"] = column.maximum
    return schema if column.required else {"anyOf": [schema, {"type": "null"}]}


def _event_model(table: Table, name: str) -> type[BaseModel]:
    """The request body of ``table``: its contract fields, documented with their types.

    Values are taken as they come (``Any``) so that a wrong type is judged by the import's
    checks and answered with its reason code, not by a second validator here; extra fields
    are kept aside only to be refused by name.
    """
    fields: dict[str, Any] = {
        column.name: (
            Annotated[Any, WithJsonSchema(_json_schema(column))],
            Field(default=None, description=_MEANING[table.name][column.name]),
        )
        for column in table.columns
    }
    config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "required": list(table.required_columns),
            "additionalProperties": False,
            "examples": [_EXAMPLES[table.name]],
        },
    )
    return create_model(name, __config__=config, **fields)


def _record_model(table: Table, name: str) -> type[BaseModel]:
    """The response: the record as stored, typed."""
    fields: dict[str, Any] = {}
    for column in table.columns:
        kind = _PYTHON_TYPES[column.type]
        fields[column.name] = (
            kind if column.required else kind | None,
            Field(description=_MEANING[table.name][column.name]),
        )
    config = ConfigDict(json_schema_extra={"examples": [_EXAMPLES[table.name]]})
    return create_model(name, __config__=config, **fields)


InspectionEvent = _event_model(INSPECTIONS, "InspectionEvent")
FindingEvent = _event_model(FINDINGS, "FindingEvent")
ComplaintEvent = _event_model(COMPLAINTS, "ComplaintEvent")
InspectionRecord = _record_model(INSPECTIONS, "InspectionRecord")
FindingRecord = _record_model(FINDINGS, "FindingRecord")
ComplaintRecord = _record_model(COMPLAINTS, "ComplaintRecord")

_NOUN = {"inspections": "inspection", "findings": "finding", "complaints": "complaint"}

router = APIRouter(tags=["events"])

EcmsKey = Annotated[ApiKey, Depends(require(Role.ecms))]


def _responses(record: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"model": record, "description": "Already stored with the same content."},
        201: {"model": record, "description": "Stored."},
        **problem_responses(400, 401, 403, 409, 422),  # 400: a body that is not JSON at all
    }


def _receive(
    table: Table, event: BaseModel, engine: sa.Engine, settings: Settings, response: Response
) -> dict[str, Any]:
    """Check, store (if new) and answer one event; see the module docstring."""
    extra = unknown_fields(table, (event.model_extra or {}).keys())
    if extra:
        # names only: an unknown complaint field may carry a complainant's identity
        raise Problem(
            422,
            "invalid-request",
            f"Fields outside the contract's {table.name} are refused and not stored: "
            + ", ".join(extra),
            errors=[
                FieldError(location="body", field=name, reason="unknown_field") for name in extra
            ],
        )
    record = {name: getattr(event, name) for name in table.column_names}
    check = _check_and_store(table, record, engine, settings)
    if check.reason is not None:
        raise _rejection(check)
    response.status_code = 201 if check.status == "insert" else 200
    _log_accepted(check)
    return check.values


def _check_and_store(
    table: Table, record: dict[str, Any], engine: sa.Engine, settings: Settings
) -> RecordCheck:
    """One transaction; if another request stored the same key meanwhile, check again (the
    record is then present or a conflict)."""
    for attempt in range(2):
        try:
            with engine.begin() as connection:
                hold_off_imports(connection)
                check = check_record(connection, table, record, settings, date.today())
                if check.reason is None and check.status == "insert":
                    insert_record(connection, check)
            return check
        except sa.exc.IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def _rejection(check: RecordCheck) -> Problem:
    noun = _NOUN[check.table.name]
    reason = check.reason
    assert reason is not None
    if reason == "duplicate_conflict":
        key = " + ".join(check.table.key)
        differing = ", ".join(check.differing) or "content"
        article = "An" if noun[0] in "aeiou" else "A"
        return Problem(
            409,
            "conflict",
            f"{article} {noun} with this {key} is stored with a different {differing}; a stored "
            "record is never changed. Same body again: 200.",
            errors=[
                FieldError(location="body", field=name, reason=reason) for name in check.differing
            ]
            or [FieldError(location="body", field=check.field, reason=reason)],
        )
    if reason == "violation_found_mismatch":
        return Problem(
            409,
            "conflict",
            "The inspection is stored with violation_found = 0, so none of its findings can "
            "have violation = 1; the finding is refused and the inspection left as stored.",
            errors=[FieldError(location="body", field="violation", reason=reason)],
        )
    assert reason not in CONFLICTS
    return Problem(
        422,
        "invalid-request",
        f"The {noun} is rejected as `calle import` rejects such a row: {reason}",
        errors=[FieldError(location="body", field=check.field, reason=reason)],
    )


def _printable(value: Any) -> str:
    text = str(value)
    return text if text.isprintable() else repr(text)


def _log_accepted(check: RecordCheck) -> None:
    """One readable line, ids only (never free text: a complaint's could name someone)."""
    what = "stored" if check.status == "insert" else "already stored, unchanged"
    values = check.values
    if check.table is COMPLAINTS:
        ids = f"complaint {_printable(values['complaint_id'])} about employer "
        ids += _printable(values["employer_id"])
    elif check.table is FINDINGS:
        ids = f"finding {_printable(values['inspection_id'])}/{_printable(values['category'])}"
    else:
        ids = f"inspection {_printable(values['inspection_id'])} of employer "
        ids += _printable(values["employer_id"])
    log.info("ECMS event: %s %s", ids, what)


@router.post(
    "/inspections",
    response_model=InspectionRecord,
    status_code=201,
    summary="Receive one inspection from the ECMS (ecms, admin)",
    responses=_responses(InspectionRecord),
)
def post_inspection(
    event: InspectionEvent,  # type: ignore[valid-type]
    response: Response,
    engine: EngineDep,
    settings: SettingsDep,
    peer_rates: PeerRatesDep,
    _key: EcmsKey,
) -> dict[str, Any]:
    stored = _receive(INSPECTIONS, event, engine, settings, response)
    if response.status_code == 201:
        peer_rates.clear()  # a new outcome moves its cell's peer rate
    return stored


@router.post(
    "/findings",
    response_model=FindingRecord,
    status_code=201,
    summary="Receive one finding (inspection + category) from the ECMS (ecms, admin)",
    responses=_responses(FindingRecord),
)
def post_finding(
    event: FindingEvent,  # type: ignore[valid-type]
    response: Response,
    engine: EngineDep,
    settings: SettingsDep,
    peer_rates: PeerRatesDep,
    _key: EcmsKey,
) -> dict[str, Any]:
    stored = _receive(FINDINGS, event, engine, settings, response)
    if response.status_code == 201:
        peer_rates.clear()  # a new outcome moves its cell's peer rate
    return stored


@router.post(
    "/complaints",
    response_model=ComplaintRecord,
    status_code=201,
    summary="Receive one complaint from the ECMS (ecms, admin); never anything naming a person",
    responses=_responses(ComplaintRecord),
)
def post_complaint(
    event: ComplaintEvent,  # type: ignore[valid-type]
    response: Response,
    engine: EngineDep,
    settings: SettingsDep,
    _key: EcmsKey,
) -> dict[str, Any]:
    return _receive(COMPLAINTS, event, engine, settings, response)
