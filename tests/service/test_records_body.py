"""A ``records`` body read by Arrow gives exactly what the general parser gives, or nothing."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from features.matrix import feature_matrix
from features.store_frames import load_frames
from models.packaging import load_version
from models.risk_model import RiskModel
from service.feature_records import FeatureColumns, records_features
from service.records_body import read_records
from service.score import MAX_BATCH, ScoreRequest
from tests.service.conftest import TrainedRegistry


@pytest.fixture(scope="module")
def champion(trained_registry: TrainedRegistry) -> RiskModel:
    return load_version(trained_registry.uri, "employer-risk", "1")


def parsed_the_general_way(raw: bytes, model: RiskModel) -> FeatureColumns:
    return records_features(ScoreRequest.model_validate_json(raw).records or [], model)


def assert_same_columns(got: FeatureColumns, want: FeatureColumns) -> None:
    assert got.rows == want.rows
    assert list(got.columns) == list(want.columns)
    for name, values in want.columns.items():
        mine = got.columns[name]
        if isinstance(values, np.ndarray):
            assert isinstance(mine, np.ndarray) and mine.dtype == values.dtype, name
            assert np.array_equal(mine, values, equal_nan=True), name
            assert np.array_equal(np.signbit(mine), np.signbit(values)), name
        else:
            assert mine.dtype == values.dtype, name
            assert list(pd.Series(mine).fillna("<NA>")) == list(pd.Series(values).fillna("<NA>"))


def test_real_records_read_by_arrow_equal_the_general_parsers(world_engine, champion):
    features = feature_matrix(
        load_frames(world_engine), date(2023, 1, 1), champion.categories, champion.attribute_kinds
    ).iloc[:300]
    records = [
        {"employer_id": str(employer_id), **{k: None if pd.isna(v) else v for k, v in row.items()}}
        for employer_id, row in features.iterrows()
    ]
    records[1] = dict(reversed(list(records[1].items())))  # another key order
    del records[2]["state"], records[2]["violations_3y"]  # features left out: missing
    del records[3]["employer_id"]
    raw = json.dumps({"records": records}, default=float).encode()
    batch = read_records(raw, champion, MAX_BATCH)
    assert batch is not None
    assert_same_columns(batch.features, parsed_the_general_way(raw, champion))
    assert batch.ids == [r.get("employer_id") for r in records]


@pytest.mark.parametrize(
    "number",
    [
        "0.1",
        "-0.0",
        "1e-320",  # subnormal
        "2.2250738585072011e-308",
        "9007199254740993",  # 2**53 + 1: rounds to even
        "123456789012345678901234567890",
        "1.7976931348623157e308",
        "0.30000000000000004",
        "3",
        "-17",
    ],
)
def test_numbers_are_read_to_the_same_float(champion, number):
    raw = (
        '{"records": [{"violations_3y": ' + number + ', "state": "Michoac\\u00e1n \\ud83d\\ude00"},'
        ' {"violations_3y": null}]}'
    ).encode()
    batch = read_records(raw, champion, MAX_BATCH)
    assert batch is not None
    assert_same_columns(batch.features, parsed_the_general_way(raw, champion))
    assert batch.features.columns["state"][0] == "Michoacán 😀"


@pytest.mark.parametrize(
    "body",
    [
        '{"records": [{"violations_3y": NaN}]}',
        '{"records": [{"violations_3y": Infinity}]}',
        '{"records": [{"violations_3y": 1e999}]}',
        '{"records": [{"violations_3y": 1' + "0" * 400 + "}]}",
        '{"records": [{"violations_3y": "3"}]}',
        '{"records": [{"violations_3y": true}]}',
        '{"records": [{"violations_3y": [1]}]}',
        '{"records": [{"violations_3y": {"n": 1}}]}',
        '{"records": [{"state": 11}]}',
        '{"records": [{"employer_id": 7}]}',
        '{"records": [{"secret_sauce": 1}]}',
        '{"records": [{"violations_3y": 1, "violations_3y": 2}]}',
        '{"records": [{"violations_3y": 1}], "records": [{"violations_3y": 2}]}',
        '{"records": [{"violations_3y": 1}], "as_of": "2023-01-01"}',
        '{"records": [{"violations_3y": 1}]}\n{"records": [{"violations_3y": 2}]}',
        '{"records": [{"violations_3y": 1}]} and more',
        '{"records": [{"violations_3y": 1}]',
        '{"records": null}',
        '{"records": [null]}',
        '{"records": [1]}',
        '{"records": []}',
        '{"records": [{}, {}, {}]}',  # more than max_rows (2 here)
        '{"employer_ids": ["E1"]}',
        '{"columns": {"violations_3y": [1]}}',
        "\ufeff" + '{"records": [{}]}',
        '[{"violations_3y": 1}]',
        '{"records": [{"state": "\\ud800"}]}',
    ],
)
def test_anything_but_a_plain_valid_batch_is_left_to_the_general_parser(champion, body):
    assert read_records(body.encode(), champion, max_rows=2) is None


def test_a_body_that_is_not_utf8_is_left_to_the_general_parser(champion):
    assert read_records(b'{"records": [{"state": "\xff"}]}', champion, MAX_BATCH) is None


def test_a_body_over_several_lines_is_read(champion):
    raw = b'{\n  "records": [\n    {"violations_3y": 2,\n     "state": "11"},\n    {}\n  ]\n}\n'
    batch = read_records(raw, champion, MAX_BATCH)
    assert batch is not None and batch.features.rows == 2
    assert_same_columns(batch.features, parsed_the_general_way(raw, champion))
