"""A ``POST /score`` body of ``records`` read by Arrow's JSON reader straight into columns.

A batch of 1,000 records is about 100,000 values, each name repeated in every record.
Parsed into Python objects (a dict per record) and then turned into one array per
feature, it cost about twice the time of the rest of the request; Arrow's C++ reader,
told the model's features and their types, parses it into typed columns in one pass.

This is only a fast path: it takes a body that is exactly ``{"records": [...]}`` with
1 to ``max_rows`` objects whose every key is a feature of the model (or ``employer_id``)
and whose every value is of its feature's type, finite, or null. Anything else (another
field, a wrong type, an unknown name, NaN, a repeated key, a body that is not JSON) makes
it answer None, and the endpoint parses the body the general way, which names what is
wrong. Both ways give the same features for the same body (tests compare them).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import cache

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as arrow_json

from features.catalogue import Kind
from models.risk_model import RiskModel
from service.feature_records import RECORD_ID, FeatureColumns

#: Bodies that can only be ``{"records": ...}``: any other is declined before Arrow reads it.
_RECORDS_ONLY = re.compile(rb'\s*\{\s*"records"\s*:')


@dataclass(frozen=True)
class RecordsBatch:
    """The features of a ``records`` body, and each record's ``employer_id`` (or None)."""

    features: FeatureColumns
    ids: list[str | None]


def read_records(raw: bytes, model: RiskModel, max_rows: int) -> RecordsBatch | None:
    """The body's records as the model's columns, or None if the body is anything but a
    valid batch of records for this model (the general parser then says what is wrong)."""
    if _RECORDS_ONLY.match(raw) is None:
        return None
    specs = model.input_specs
    parse = _parse_options(tuple((spec.name, spec.kind) for spec in specs))
    try:
        table = arrow_json.read_json(
            io.BytesIO(raw),
            # one block: the body is one JSON document, however long its line
            read_options=arrow_json.ReadOptions(use_threads=False, block_size=len(raw) + 1),
            parse_options=parse,
        )
        table.validate(full=True)  # Arrow's reader leaves text's UTF-8 unchecked
    except (pa.ArrowException, ValueError):  # not JSON, or not records of this model
        return None
    if table.num_rows != 1:  # several JSON documents one after the other
        return None
    batch = table.column("records").combine_chunks()
    if batch.null_count:  # "records": null
        return None
    records = batch.flatten()
    if not 1 <= len(records) <= max_rows or records.null_count:  # a null record
        return None
    columns = {}
    for spec in specs:
        values = records.field(spec.name)
        if spec.kind == Kind.NUMERIC:
            if pc.all(pc.is_finite(values)).as_py() is False:  # nulls skipped
                return None  # NaN or Infinity (Arrow reads them, JSON has no such numbers)
            columns[spec.name] = values.to_numpy(zero_copy_only=False)
        else:
            columns[spec.name] = pd.array(values.to_pylist(), dtype="string")
    ids = records.field(RECORD_ID).to_pylist()
    return RecordsBatch(FeatureColumns(columns, len(records)), ids)


@cache
def _parse_options(specs: tuple[tuple[str, Kind], ...]) -> arrow_json.ParseOptions:
    """``{"records": [{feature: value, ...}]}`` with each feature's type, and nothing else:
    Arrow refuses a name not in it, a value of another type and a key given twice."""
    fields = [
        pa.field(name, pa.float64() if kind == Kind.NUMERIC else pa.string())
        for name, kind in specs
    ]
    record = pa.struct([*fields, pa.field(RECORD_ID, pa.string())])
    return arrow_json.ParseOptions(
        explicit_schema=pa.schema([pa.field("records", pa.list_(record))]),
        unexpected_field_behavior="error",
        newlines_in_values=True,  # a body written over several lines
    )
