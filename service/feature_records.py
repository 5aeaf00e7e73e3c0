"""Features a caller sends to ``POST /score``, turned into the model's feature matrix.

Two shapes carry the same content: ``records`` (one object per workplace, as most clients
write them) and ``columns`` (one array per feature, as a batch client holding a table has
them: a fifth of the bytes, and half the parsing, for 1,000 workplaces of 100 features).
A feature left out is missing; a name the model does not know, or a value of the wrong type,
is refused with a 422 that names the record (or column) and feature.

This is the hot path of the ECMS's batches: each column's types are checked at once, and
only a batch with a bad value is walked value by value, to name it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.catalogue import Kind
from models.feature_encoding import ColumnValues
from models.risk_model import RiskModel
from service.problems import FieldError, Problem

#: The one key that is not a feature: echoed back to match answers to workplaces.
RECORD_ID = "employer_id"
#: Field errors listed in one problem document; the detail gives the total.
MAX_LISTED_ERRORS = 50
#: What ``infer_dtype`` calls a column of text (``empty``: all missing).
_TEXTS = {"string", "empty"}
#: The Python types a JSON number or null parses to (not bool, a subclass of int).
_PLAIN_NUMBERS = frozenset({int, float, type(None)})
NOT_A_FEATURE = "not a feature of the model (see docs/feature-catalogue.md)"


def invalid(errors: list[FieldError], what: str) -> Problem:
    """A 422 listing the first ``MAX_LISTED_ERRORS`` errors and counting them all."""
    listed = errors[:MAX_LISTED_ERRORS]
    more = f" (the first {len(listed)} are listed)" if len(errors) > len(listed) else ""
    return Problem(
        422, "invalid-request", f"{len(errors)} {what}{more}: {listed[0].field}", errors=listed
    )


@dataclass(frozen=True)
class FeatureColumns:
    """A request's features: one column per input feature of the model, as
    :meth:`RiskModel.predict_columns` takes them (no frame: it would only be taken apart)."""

    columns: dict[str, ColumnValues]
    rows: int


def records_features(records: list[dict[str, Any]], model: RiskModel) -> FeatureColumns:
    """The records' features by the model's columns; 422 naming each bad value."""
    kinds = _kinds(model)
    columns = _columns_of(records, {*kinds, RECORD_ID})
    if columns is not None:
        typed = _typed_columns(columns, len(records), model)
        if typed is not None:
            return typed
    errors = [
        FieldError(location="body", field=f"records.{i}.{name}", reason=reason)
        for i, record in enumerate(records)
        for name, value in record.items()
        if (reason := _value_error(name, value, kinds)) is not None
    ]
    if errors:
        raise invalid(errors, "feature values are invalid")
    # valid, in a mix of types the fast path does not take
    return _converted(pd.DataFrame.from_records(records), model)


def columns_features(columns: Mapping[str, Sequence[Any]], model: RiskModel) -> FeatureColumns:
    """The columns' features by the model's columns; 422 naming each bad value.

    Every column has the same length (the request's validation sees to it)."""
    kinds = _kinds(model)
    unknown = [
        FieldError(location="body", field=f"columns.{name}", reason=NOT_A_FEATURE)
        for name in columns
        if name not in kinds and name != RECORD_ID
    ]
    if unknown:
        raise invalid(unknown, "columns are not features of the model")
    rows = len(next(iter(columns.values())))
    typed = _typed_columns(columns, rows, model)
    if typed is not None:
        return typed
    errors = [
        FieldError(location="body", field=f"columns.{name}.{i}", reason=reason)
        for name, values in columns.items()
        for i, value in enumerate(values)
        if (reason := _value_error(name, value, kinds)) is not None
    ]
    if errors:
        raise invalid(errors, "feature values are invalid")
    return _converted(pd.DataFrame({name: list(values) for name, values in columns.items()}), model)


def ids_of_columns(columns: Mapping[str, Sequence[Any]]) -> list[str | None]:
    """The ``employer_id`` column, or None for every row without one."""
    ids = columns.get(RECORD_ID)
    return list(ids) if ids is not None else [None] * len(next(iter(columns.values())))


def _typed_columns(
    columns: Mapping[str, Any], rows: int, model: RiskModel
) -> FeatureColumns | None:
    """The features, if every column holds values of its feature's one type; else None."""
    frame: dict[str, ColumnValues] = {}
    for spec in model.input_specs:
        values = columns.get(spec.name)
        if values is None:  # a feature nobody sent: missing everywhere
            values = [None] * rows
        if spec.kind == Kind.NUMERIC:
            numbers = _numbers(values)
            if numbers is None:
                return None
            frame[spec.name] = numbers
        elif pd.api.types.infer_dtype(values, skipna=True) in _TEXTS:
            frame[spec.name] = pd.array(values, dtype="string")
        else:
            return None
    ids = columns.get(RECORD_ID)
    if ids is not None and pd.api.types.infer_dtype(ids, skipna=True) not in _TEXTS:
        return None
    return FeatureColumns(frame, rows)


def _numbers(values: Sequence[Any]) -> np.ndarray | None:
    """The values as floats (None as NaN) if all are finite numbers or None; else None.

    The types are checked in one C pass before numpy converts, since numpy would read
    True as 1.0 and "3" as 3.0; three times faster than ``infer_dtype`` and an object array.
    """
    if not _PLAIN_NUMBERS.issuperset(map(type, values)):
        return None
    try:
        numbers = np.array(values, dtype=np.float64)
    except OverflowError:  # an integer of hundreds of digits: the slow path names it
        return None
    if not np.isfinite(numbers[~np.isnan(numbers)]).all():
        return None
    return numbers


def _columns_of(records: list[dict[str, Any]], allowed: set[str]) -> dict[str, Any] | None:
    """Each key's values, in record order (missing keys as None); None if a record has a
    key not ``allowed``."""
    first = tuple(records[0])
    if all(tuple(record) == first for record in records):  # the usual machine-made batch
        if not allowed.issuperset(first):  # keys checked once, not once per record
            return None
        # transposed in C: one tuple of values per key
        return dict(zip(first, zip(*(r.values() for r in records), strict=True), strict=True))
    if not all(map(allowed.issuperset, records)):
        return None
    keys = dict.fromkeys(key for record in records for key in record)
    return {key: [record.get(key) for record in records] for key in keys}


def _value_error(name: str, value: object, kinds: dict[str, Kind]) -> str | None:
    """Why ``value`` cannot be feature ``name``'s, or None if it can."""
    if name == RECORD_ID:
        return None if value is None or isinstance(value, str) else "must be text"
    kind = kinds.get(name)
    if kind is None:
        return NOT_A_FEATURE
    if value is None:
        return None
    if kind == Kind.NUMERIC and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value)
    ):
        return "must be a finite number"
    if kind == Kind.CATEGORICAL and not isinstance(value, str):
        return "must be text"
    return None


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer of hundreds of digits: no float holds it
        return False


def _kinds(model: RiskModel) -> dict[str, Kind]:
    return {spec.name: spec.kind for spec in model.input_specs}


def _converted(given: pd.DataFrame, model: RiskModel) -> FeatureColumns:
    frame = given.reindex(columns=[spec.name for spec in model.input_specs])
    columns: dict[str, ColumnValues] = {}
    for spec in model.input_specs:
        if spec.kind == Kind.NUMERIC:
            columns[spec.name] = pd.to_numeric(frame[spec.name]).astype("float64")
        else:
            columns[spec.name] = frame[spec.name].astype("string")
    return FeatureColumns(columns, len(frame))
