"""``POST /api/v1/score``: probabilities for up to 10,000 workplaces, for the ECMS.

Two ways in, one per request:

- ``employer_ids``: features are computed from the store as of ``as_of`` (default: now,
  i.e. seeing every event dated up to today). Each workplace's own records are read by id;
  its peer rates come from the whole population (:mod:`service.peer_rate_cache`), so the
  result equals what ``calle score`` would give it as of the same date with the same model.
- ``records`` or ``columns``: the caller's own features, by the catalogue's names
  (docs/feature-catalogue.md), one object per workplace or one array per feature
  (:mod:`service.feature_records`; a plain batch of records is read by Arrow straight into
  columns, :mod:`service.records_body`); a feature left out is missing (unknown), a name the
  model does not know or a value of the wrong type is refused, naming the record or column.

Both score with the model the service follows (the registry's ``champion``,
:mod:`service.model_follower`), read once per request so a swap mid-request cannot mix
versions. The answer carries that version. Scores are employer risk, so every call is
audited with the employer ids (or the number of records) it scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import to_json

from models.risk_model import OVERALL, SERVING_THREADS, RiskModel, probability_column
from service.audit import record_access
from service.auth import require
from service.dependencies import EngineDep, FollowerDep, PeerRatesDep
from service.feature_records import (
    RECORD_ID,
    FeatureColumns,
    columns_features,
    ids_of_columns,
    invalid,
    records_features,
)
from service.keys import ApiKey
from service.model_follower import ModelFollower, ServedModel
from service.peer_rate_cache import PeerRateCache
from service.problems import FieldError, Problem, problem_responses
from service.records_body import RecordsBatch, read_records
from service.roles import Role
from service.store_features import features_from_store

ENDPOINT = "/api/v1/score"
#: Workplaces (ids or records) one request may score.
MAX_BATCH = 10_000
EmployerId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
#: A feature's value: a number, text or null. Parsed as any JSON value (checked per column
#: against the model's feature kinds, which is several times faster than a typed union).
FeatureValue = Annotated[Any, WithJsonSchema({"type": ["number", "string", "null"]})]
FeatureColumn = Annotated[list[FeatureValue], Field(min_length=1, max_length=MAX_BATCH)]


class ScoreRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"employer_ids": ["E0001234", "E0004711"]},
                {"employer_ids": ["E0001234"], "as_of": "2026-01-01"},
                {
                    "columns": {
                        "employer_id": ["new-1", "new-2"],
                        "state": ["11", "05"],
                        "size_band": ["large", "small"],
                        "violations_3y": [2, 0],
                        "complaints_1y": [3, None],
                    }
                },
                {
                    "records": [
                        {
                            "employer_id": "new-1",
                            "state": "11",
                            "sector2": "33",
                            "size_band": "large",
                            "violations_3y": 2,
                            "safety_health_violations_3y": 1,
                            "complaints_1y": 3,
                        }
                    ]
                },
            ]
        },
    )

    employer_ids: list[EmployerId] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_BATCH,
        description="Workplaces in the store, scored from their records as of `as_of`.",
    )
    records: list[dict[str, FeatureValue]] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_BATCH,
        description="Feature records by catalogue name (numbers, or text for categorical "
        "features; null or left out = missing), each optionally with an `employer_id` to echo.",
    )
    columns: dict[str, FeatureColumn] | None = Field(
        default=None,
        min_length=1,
        description="The same features as `records`, one array per feature (all of one "
        "length; a feature left out is missing for every workplace), optionally with an "
        "`employer_id` array to echo. Batch clients should prefer it: a fifth of the bytes of "
        "`records`, and about two thirds of the server's work per workplace.",
    )
    as_of: date | None = Field(
        default=None,
        description="With `employer_ids`: the day the features are computed as of (they see "
        "events dated before it). Default: tomorrow, i.e. everything on record until now.",
    )

    @model_validator(mode="after")
    def _one_way_in(self) -> ScoreRequest:
        given = [self.employer_ids, self.records, self.columns]
        if sum(way is not None for way in given) != 1:
            raise ValueError("give exactly one of `employer_ids`, `records` and `columns`")
        if self.as_of is not None and self.employer_ids is None:
            raise ValueError("`as_of` goes with `employer_ids`: records carry their features")
        if self.columns is not None:
            lengths = {name: len(values) for name, values in self.columns.items()}
            first, rows = next(iter(lengths.items()))
            for name, length in lengths.items():
                if length != rows:
                    raise ValueError(
                        f"column `{name}` has {length} values and `{first}` {rows}: every "
                        "column holds one value per workplace"
                    )
        return self


class ScoredWorkplace(BaseModel):
    employer_id: str | None = Field(
        description="The id asked for, or the record's `employer_id` (null if it had none)."
    )
    probabilities: dict[str, float] = Field(
        description="Calibrated probability that an inspection finds a violation: `any` "
        "(overall) and one per finding category."
    )


class ScoreResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model_name": "employer-risk",
                    "model_version": "7",
                    "as_of": "2026-11-24",
                    "scored": 1,
                    "results": [
                        {
                            "employer_id": "E0001234",
                            "probabilities": {"any": 0.61, "safety_health": 0.34},
                        }
                    ],
                }
            ]
        }
    )

    model_name: str
    model_version: str = Field(description="The registered version that scored this request.")
    as_of: date | None = Field(description="The features' as-of date (null for records).")
    scored: int
    results: list[ScoredWorkplace] = Field(description="One per id or record, in request order.")


router = APIRouter(tags=["scoring"])


def _served(follower: ModelFollower) -> ServedModel:
    served = follower.served
    if served is None:
        why = follower.state.error or "the model is still loading"
        raise Problem(503, "no-model", f"No model is loaded for scoring: {why}.")
    return served


def _store_features(
    engine: sa.Engine,
    peer_rates: PeerRateCache,
    model: RiskModel,
    employer_ids: list[str],
    as_of: date,
) -> pd.DataFrame:
    """The workplaces' features as of ``as_of``, in request order; 422 naming unknown ids."""
    tables = peer_rates.get(engine, as_of, model.categories)
    matrix, known = features_from_store(engine, tables, model, employer_ids, as_of)
    errors = []
    for i, employer_id in enumerate(employer_ids):
        if employer_id not in known:
            reason = "unknown employer: not in the store"
        elif employer_id not in matrix.index:
            reason = f"not registered before as_of {as_of}: it has no features then"
        else:
            continue
        errors.append(FieldError(location="body", field=f"employer_ids.{i}", reason=reason))
    if errors:
        raise invalid(errors, "employer ids cannot be scored")
    return matrix.loc[employer_ids]


@dataclass(frozen=True)
class RecordsBody:
    """A ``records`` body already read into the model's columns, with the model it was read
    for: the request scores with that version even if the champion moves meanwhile."""

    batch: RecordsBatch
    served: ServedModel


def _given_features(body: ScoreRequest | RecordsBody, model: RiskModel) -> FeatureColumns:
    """The caller's own features: records Arrow has read already, or what pydantic parsed
    (checked here, naming each bad value)."""
    if isinstance(body, RecordsBody):
        return body.batch.features
    if body.columns is not None:
        return columns_features(body.columns, model)
    return records_features(body.records or [], model)


def _results(
    probabilities: pd.DataFrame, model: RiskModel, ids: list[str | None]
) -> list[dict[str, Any]]:
    targets = [OVERALL, *model.categories]
    values = probabilities[[probability_column(t) for t in targets]].to_numpy().tolist()
    return [
        {"employer_id": employer_id, "probabilities": dict(zip(targets, row, strict=True))}
        for employer_id, row in zip(ids, values, strict=True)
    ]


async def read_score_request(request: Request, follower: FollowerDep) -> ScoreRequest | RecordsBody:
    """The body, parsed and validated in one pass.

    A batch of 1,000 records is about 100,000 values: parsing them into Python first (as
    FastAPI does for a body parameter) and validating after costs more than scoring them.
    A plain batch of records is read by Arrow straight into columns
    (:mod:`service.records_body`); any other body, or one with a mistake, by pydantic's
    JSON parser. Errors come out as FastAPI's own would: 422 naming each field, 400 for
    broken JSON.
    """
    raw = await request.body()
    served = follower.served
    if served is not None:
        batch = read_records(raw, served.model, MAX_BATCH)
        if batch is not None:
            return RecordsBody(batch, served)
    try:
        return ScoreRequest.model_validate_json(raw)
    except ValidationError as error:
        problems = error.errors(include_url=False)
        if any(p["type"] == "json_invalid" for p in problems):
            raise Problem(400, "malformed-body", "The body is not valid JSON.") from None
        raise RequestValidationError(
            [{**p, "loc": ("body", *p["loc"])} for p in problems]
        ) from None


_REQUEST_SCHEMA = ScoreRequest.model_json_schema(ref_template="#/components/schemas/{model}")


@router.post(
    "/score",
    response_model=ScoreResponse,
    summary="Score up to 10,000 workplaces by id (features from the store) or as feature records",
    description="For the case-management system. Scores with the model the service follows "
    "(the registry's `champion`; its version is in the answer). By id, features are computed "
    "from the store as of `as_of` (default: now); as features, one object per workplace "
    "(`records`) or one array per feature (`columns`). 422 names every unknown id, unknown feature "
    "or value of the wrong type; 400 for a body that is not JSON; 503 while no model is loaded. "
    "Audited.",
    responses=problem_responses(400, 401, 403, 422, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _REQUEST_SCHEMA}},
        }
    },
)
def score(
    request: Request,
    # the key first: FastAPI resolves dependencies in this order, and a caller without a
    # valid key must get 401/403 before its body is even read
    key: Annotated[ApiKey, Depends(require(Role.ecms))],
    body: Annotated[ScoreRequest | RecordsBody, Depends(read_score_request)],
    engine: EngineDep,
    follower: FollowerDep,
    peer_rates: PeerRatesDep,
) -> Response:
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    as_of: date | None = None
    employer_ids: list[str] = []
    if isinstance(body, RecordsBody):
        ids: list[str | None] = body.batch.ids
        audited: dict[str, Any] = {"records": ids}
    elif body.employer_ids is not None:
        as_of = body.as_of or tomorrow
        employer_ids = body.employer_ids
        ids = list(employer_ids)
        audited = {"employer_ids": ids, "as_of": as_of}
    elif body.columns is not None:
        ids = ids_of_columns(body.columns)
        audited = {"columns": ids}
    else:
        ids = [r.get(RECORD_ID) for r in body.records or []]
        audited = {"records": ids}
    try:
        served = body.served if isinstance(body, RecordsBody) else _served(follower)
        if as_of is not None:
            if as_of > tomorrow:
                raise Problem.invalid("body", "as_of", f"may not be after tomorrow ({tomorrow})")
            features = _store_features(engine, peer_rates, served.model, employer_ids, as_of)
            probabilities = served.model.predict(features, threads=SERVING_THREADS)
        else:
            given = _given_features(body, served.model)
            probabilities = served.model.predict_columns(
                given.columns, given.rows, threads=SERVING_THREADS
            )
        results = _results(probabilities, served.model, ids)
    except Problem as problem:
        record_access(engine, key, request.method, ENDPOINT, audited, 0, problem.status)
        raise
    audited["model_version"] = served.version
    record_access(engine, key, request.method, ENDPOINT, audited, len(results), 200)
    answer = {
        "model_name": served.model_name,
        "model_version": served.version,
        "as_of": as_of,
        "scored": len(results),
        "results": results,
    }
    # serialised directly (ScoreResponse documents it): re-validating thousands of rows
    # of floats the model just made would double the cost of the answer
    return Response(to_json(answer), media_type="application/json")
