"""One test per import rule of contract.md, on SQLite and PostgreSQL, asserting the report,
the rows in the store and the rejects file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from calle.settings import Settings
from calle.store import bulk, open_store
from features.contract_import import ContractError, ImportReport, import_folder

Folder = Callable[..., Path]
Snapshot = Callable[[], dict[str, list[tuple]]]

TODAY = date(2025, 12, 31)


def run(folder: Path, settings: Settings) -> ImportReport:
    report = import_folder(folder, settings, today=TODAY)
    for table in report.tables:
        assert table.read == table.accepted + table.rejected, table.table
    return report


def rejects_of(report: ImportReport, table: str) -> pd.DataFrame:
    assert report.rejects_dir is not None
    return pd.read_csv(report.rejects_dir / f"{table}.csv", dtype=str, keep_default_na=False)


def stored(settings: Settings, sql: str) -> list[tuple]:
    engine = open_store(settings)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(sql)).all()
    finally:
        engine.dispose()


def assert_store_empty(snapshot: Snapshot) -> None:
    rows = snapshot()
    assert all(not table_rows for name, table_rows in rows.items()), rows


# --- stop-the-import problems ------------------------------------------------------------


def test_missing_required_file_stops_and_writes_nothing(
    settings: Settings, contract_folder: Folder, store_rows: Snapshot
) -> None:
    folder = contract_folder(replace={"inspections": None})
    with pytest.raises(ContractError, match="inspections"):
        run(folder, settings)
    assert_store_empty(store_rows)


def test_both_formats_of_one_table_is_ambiguous(
    settings: Settings, contract_folder: Folder, store_rows: Snapshot
) -> None:
    folder = contract_folder()
    pq.write_table(pa_csv.read_csv(folder / "complaints.csv"), folder / "complaints.parquet")
    with pytest.raises(ContractError, match="ambiguous"):
        run(folder, settings)
    assert_store_empty(store_rows)


def test_missing_required_column_names_file_and_column(
    settings: Settings, contract_folder: Folder, store_rows: Snapshot
) -> None:
    findings = "inspection_id,category,sanction_amount\nI1,safety_health,10\n"
    with pytest.raises(ContractError, match=r"findings\.csv.*'violation'"):
        run(contract_folder(replace={"findings": findings}), settings)
    assert_store_empty(store_rows)


def test_unreadable_file_stops(
    settings: Settings, contract_folder: Folder, store_rows: Snapshot
) -> None:
    folder = contract_folder()
    (folder / "complaints.csv").write_bytes(
        b"complaint_id,employer_id,date\nC1,E1,2020-01-01\nC2,E\xff\xfe,2020-01-01\n"
    )
    with pytest.raises(ContractError, match=r"complaints\.csv.*unreadable"):
        run(folder, settings)
    assert_store_empty(store_rows)


def test_wrong_type_for_a_whole_column_stops(
    settings: Settings, contract_folder: Folder, store_rows: Snapshot
) -> None:
    inspections = (
        "inspection_id,employer_id,date,origin,violation_found\n"
        "I1,E1,15/01/2020,random,1\n"
        "I2,E2,01/06/2021,planned,0\n"
    )
    with pytest.raises(ContractError, match=r"inspections\.csv.*'date'.*date"):
        run(contract_folder(replace={"inspections": inspections, "findings": None}), settings)
    assert_store_empty(store_rows)


# --- rejected rows -----------------------------------------------------------------------


def test_wrong_type_in_a_cell_rejects_the_row(settings: Settings, contract_folder: Folder) -> None:
    folder = contract_folder(
        append={
            "employers": (
                "E4,Delta,09,001,311,12.5,small,,,,,\n"  # line 5
                "E5,Eps,09,001,311,3,small,2019-02-30,,,,\n"  # line 6: no such day
                "E6,Zeta,09,001,311,3,small,31/12/2019,,,,\n"  # line 7: not ISO
                "E7,Eta,09,001,311,3,small,2019-01-01,north,,,\n"  # line 8
            )
        }
    )
    report = run(folder, settings)
    employers = report.table("employers")
    assert (employers.read, employers.inserted, employers.rejected) == (7, 3, 4)
    assert employers.rejected_by_reason == {
        "bad_type:employees": 1,
        "bad_type:registered_on": 2,
        "bad_type:latitude": 1,
    }
    rejects = rejects_of(report, "employers")
    assert rejects[["file", "line", "reason", "employer_id"]].values.tolist() == [
        ["employers.csv", "5", "bad_type:employees", "E4"],
        ["employers.csv", "6", "bad_type:registered_on", "E5"],
        ["employers.csv", "7", "bad_type:registered_on", "E6"],
        ["employers.csv", "8", "bad_type:latitude", "E7"],
    ]
    assert rejects.loc[0, "employees"] == "12.5"  # the value as read
    ids = stored(settings, "SELECT employer_id FROM employers ORDER BY employer_id")
    assert ids == [("E1",), ("E2",), ("E3",)]


def test_missing_required_value_and_negative_number(
    settings: Settings, contract_folder: Folder
) -> None:
    folder = contract_folder(
        append={
            "employers": "E4,Delta,,001,311,1,small,,,,,\nE5,Eps,09,001,311,-2,small,,,,,\n"
            "E6,Zeta,09,001,311,3,small,,91.5,-99.1,,\n"
            "E7,Eta,09,001,311,3,small,,19.4,-181,,\n",
            "findings": "I3,safety_health,0,-10\n",
        }
    )
    report = run(folder, settings)
    assert report.table("employers").rejected_by_reason == {
        "missing_value:state": 1,
        "out_of_range:employees": 1,
        "out_of_range:latitude": 1,
        "out_of_range:longitude": 1,
    }
    assert report.table("findings").rejected_by_reason == {"out_of_range:sanction_amount": 1}
    assert stored(settings, "SELECT count(*) FROM findings WHERE inspection_id = 'I3'") == [(0,)]


def test_unknown_employer(settings: Settings, contract_folder: Folder) -> None:
    folder = contract_folder(
        append={
            "inspections": "I9,E404,2020-01-01,random,,,0\n",
            "complaints": "C9,E404,2020-01-01,,web\n",
            "remediations": "E404,2020-01-01,,rrm\n",
        }
    )
    report = run(folder, settings)
    for table in ("inspections", "complaints", "remediations"):
        assert report.table(table).rejected_by_reason == {"unknown_employer": 1}, table
        assert rejects_of(report, table)["employer_id"].tolist() == ["E404"]
    assert stored(settings, "SELECT count(*) FROM inspections WHERE employer_id = 'E404'") == [(0,)]


def test_unknown_inspection_including_a_rejected_one(
    settings: Settings, contract_folder: Folder
) -> None:
    folder = contract_folder(
        append={
            "inspections": "I8,E1,2020-13-01,random,,,0\n",  # rejected: bad date
            "findings": "I8,safety_health,0,\nI404,safety_health,0,\n",
        }
    )
    report = run(folder, settings)
    assert report.table("inspections").rejected_by_reason == {"bad_type:date": 1}
    assert report.table("findings").rejected_by_reason == {"unknown_inspection": 2}
    assert rejects_of(report, "findings")["line"].tolist() == ["5", "6"]
    assert stored(settings, "SELECT count(*) FROM findings") == [(3,)]


def test_duplicate_id_with_other_content_in_the_file_rejects_every_row_of_it(
    settings: Settings, contract_folder: Folder
) -> None:
    folder = contract_folder(append={"complaints": "C1,E1,2019-12-02,safety_health,web\n"})
    report = run(folder, settings)
    complaints = report.table("complaints")
    assert (complaints.read, complaints.accepted) == (3, 1)
    assert complaints.rejected_by_reason == {"duplicate_conflict": 2}
    assert rejects_of(report, "complaints")["line"].tolist() == ["2", "4"]
    assert stored(settings, "SELECT complaint_id FROM complaints") == [("C2",)]


def test_duplicate_id_with_other_content_than_the_store_is_rejected(
    settings: Settings, contract_folder: Folder, store_rows: Snapshot
) -> None:
    run(contract_folder(), settings)
    before = store_rows()
    changed = dict(
        employers=CLEAN_EMPLOYERS.replace("E2,Beta,14,039,46,,", "E2,Beta,14,039,46,7,"),
        inspections=None,
    )
    folder = contract_folder(
        replace={
            "employers": changed["employers"],
            "findings": "inspection_id,category,violation,sanction_amount\nI1,safety_health,1,99\n",
        }
    )
    report = run(folder, settings)
    assert report.table("employers").rejected_by_reason == {"duplicate_conflict": 1}
    assert report.table("employers").already_present == 2
    assert report.table("findings").rejected_by_reason == {"duplicate_conflict": 1}
    after = store_rows()
    assert {k: v for k, v in after.items() if k != "imports"} == {
        k: v for k, v in before.items() if k != "imports"
    }


def test_exact_duplicate_rows_are_accepted_once(
    settings: Settings, contract_folder: Folder
) -> None:
    folder = contract_folder(append={"complaints": "C1,E1,2019-12-01,safety_health,web\n"})
    report = run(folder, settings)
    complaints = report.table("complaints")
    assert (complaints.read, complaints.inserted, complaints.repeated, complaints.rejected) == (
        3,
        2,
        1,
        0,
    )
    assert stored(settings, "SELECT count(*) FROM complaints") == [(2,)]


def test_future_dates_are_rejected(settings: Settings, contract_folder: Folder) -> None:
    folder = contract_folder(
        append={
            "inspections": "I7,E1,2026-01-01,random,,,0\nI8,E1,2025-12-31,random,,,0\n",
            "remediations": "E2,2025-01-01,2026-02-01,rrm\n",
        }
    )
    report = run(folder, settings)
    assert report.table("inspections").rejected_by_reason == {"future_date:date": 1}
    assert report.table("remediations").rejected_by_reason == {"future_date:closed_on": 1}
    ids = stored(settings, "SELECT inspection_id FROM inspections ORDER BY inspection_id")
    assert ("I8",) in ids and ("I7",) not in ids


def test_values_outside_the_vocabulary(settings: Settings, contract_folder: Folder) -> None:
    folder = contract_folder(
        append={
            "employers": "E4,Delta,Jalisco,001,311,1,small,,,,,\n",
            "inspections": "I7,E1,2020-01-01,lottery,,,0\n",
            "findings": "I3,wages,0,\n",
            "complaints": "C3,E1,2020-01-01,wages,web\n",
        }
    )
    report = run(folder, settings)
    assert report.table("employers").rejected_by_reason == {"not_allowed:state": 1}
    assert report.table("inspections").rejected_by_reason == {"not_allowed:origin": 1}
    assert report.table("findings").rejected_by_reason == {"not_allowed:category": 1}
    assert report.table("complaints").rejected_by_reason == {"not_allowed:category": 1}


def test_any_state_is_allowed_when_region_codes_are_empty(
    settings: Settings, contract_folder: Folder
) -> None:
    open_settings = settings.model_copy(update={"region_codes": []})
    folder = contract_folder(append={"employers": "E4,Delta,Jalisco,001,311,1,small,,,,,\n"})
    report = run(folder, open_settings)
    assert report.table("employers").rejected == 0
    assert stored(settings, "SELECT state FROM employers WHERE employer_id = 'E4'") == [
        ("Jalisco",)
    ]


def test_violation_found_disagreeing_with_findings_rejects_inspection_and_findings(
    settings: Settings, contract_folder: Folder
) -> None:
    folder = contract_folder(
        append={
            "inspections": "I7,E1,2020-01-01,random,,,1\n",
            "findings": "I7,safety_health,0,\nI7,subcontracting,0,\nI3,safety_health,1,\n",
        }
    )
    report = run(folder, settings)
    # I7 says violation but no finding has one; I3 says none but a finding has one
    assert report.table("inspections").rejected_by_reason == {"violation_found_mismatch": 2}
    assert report.table("findings").rejected_by_reason == {"violation_found_mismatch": 3}
    ids = stored(settings, "SELECT inspection_id FROM inspections ORDER BY inspection_id")
    assert ids == [("I1",), ("I2",)]
    assert stored(settings, "SELECT DISTINCT inspection_id FROM findings ORDER BY 1") == [
        ("I1",),
        ("I2",),
    ]


def test_closed_before_opened(settings: Settings, contract_folder: Folder) -> None:
    report = run(
        contract_folder(append={"remediations": "E2,2021-01-01,2020-01-01,rrm\n"}), settings
    )
    assert report.table("remediations").rejected_by_reason == {"closed_before_opened": 1}


def test_malformed_csv_row_is_rejected_with_its_line(
    settings: Settings, contract_folder: Folder
) -> None:
    folder = contract_folder(append={"complaints": "C3,E1,2020-01-01\nC4,E2,2020-01-02,,web\n"})
    report = run(folder, settings)
    complaints = report.table("complaints")
    assert (complaints.read, complaints.inserted) == (4, 3)
    assert complaints.rejected_by_reason == {"malformed_row": 1}
    assert rejects_of(report, "complaints")["line"].tolist() == ["4"]
    assert stored(settings, "SELECT count(*) FROM complaints WHERE complaint_id = 'C4'") == [(1,)]


def test_employer_attributes_are_stored_with_their_kind(
    settings: Settings, contract_folder: Folder
) -> None:
    report = run(contract_folder(), settings)
    assert report.attributes == {"attr_score": "numeric", "attr_union": "categorical"}
    assert stored(settings, "SELECT name, kind FROM attributes ORDER BY name") == [
        ("attr_score", "numeric"),
        ("attr_union", "categorical"),
    ]
    values = stored(settings, "SELECT employer_id, name, value FROM employer_attributes")
    assert sorted(values) == [
        ("E1", "attr_score", "1.5"),
        ("E1", "attr_union", "yes"),
        ("E2", "attr_score", "2"),
        ("E2", "attr_union", "no"),
        ("E3", "attr_score", "7"),
    ]


# --- protection, formats, idempotence, atomicity -------------------------------------------

SECRET = "Xochiquetzal Quintanilla-Oyarzabal"
PHONE = "+52 55 9876 5432"


def test_personal_columns_of_complaints_never_leave_the_file(
    settings: Settings,
    contract_folder: Folder,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    complaints = (
        "complaint_id,employer_id,date,category,channel,complainant_name,phone\n"
        f"C1,E1,2019-12-01,safety_health,web,{SECRET},{PHONE}\n"
        f"C2,E404,2019-12-01,safety_health,web,{SECRET},{PHONE}\n"  # rejected row
        f"C3,E1,2019-12-01,bad category,web,{SECRET},{PHONE}\n"
    )
    caplog.set_level("DEBUG")
    report = run(contract_folder(replace={"complaints": complaints}), settings)
    complaints_report = report.table("complaints")
    assert complaints_report.dropped_columns == ["complainant_name", "phone"]
    assert complaints_report.rejected == 2
    rejects = rejects_of(report, "complaints")
    assert "complainant_name" not in rejects.columns and "phone" not in rejects.columns

    outputs = [report.render(), str(report.to_dict()), caplog.text, *capsys.readouterr()]
    for path in (settings.rejects_dir).rglob("*"):
        if path.is_file():
            outputs.append(path.read_text(encoding="utf-8"))
    outputs.append("\n".join(map(repr, _all_text_in_store(settings))))
    if settings.store_url.startswith("sqlite:///"):  # the file's bytes, free pages included
        database = Path(settings.store_url.removeprefix("sqlite:///"))
        outputs.append(database.read_bytes().decode("latin-1"))
    for text in outputs:
        assert "Xochiquetzal" not in text and "9876" not in text


def _all_text_in_store(settings: Settings) -> list[tuple]:
    engine = open_store(settings)
    try:
        with engine.connect() as connection:
            rows: list[tuple] = []
            for name in sa.inspect(connection).get_table_names():
                rows += connection.execute(sa.text(f'SELECT * FROM "{name}"')).all()
            return rows
    finally:
        engine.dispose()


def write_typed_parquet(csv_path: Path, parquet_path: Path) -> None:
    """A Parquet file as an export would type it: codes as text, dates, numbers, flags as
    booleans."""
    codes = {name: pa.string() for name in ("state", "municipality", "sector")}
    table = pa_csv.read_csv(csv_path, convert_options=pa_csv.ConvertOptions(column_types=codes))
    for flag in ("violation", "violation_found"):
        if flag in table.column_names:
            index = table.column_names.index(flag)
            table = table.set_column(index, flag, table[flag].cast(pa.bool_()))
    pq.write_table(table, parquet_path)


def test_parquet_input_loads_the_same_rows_as_csv(
    settings: Settings, contract_folder: Folder, store_rows: Snapshot, tmp_path: Path
) -> None:
    csv_folder = contract_folder()
    parquet_folder = tmp_path / "parquet"
    parquet_folder.mkdir()
    for path in csv_folder.glob("*.csv"):
        write_typed_parquet(path, parquet_folder / f"{path.stem}.parquet")
    report = run(parquet_folder, settings)
    assert report.rejected == 0
    assert report.table("employers").file == "employers.parquet"
    from_parquet = store_rows()
    second = run(csv_folder, settings)  # same content through CSV: already present
    assert all(t.inserted == 0 for t in second.tables)
    assert sum(t.already_present for t in second.tables) == sum(t.read for t in second.tables)
    after = store_rows()
    assert {k: v for k, v in after.items() if k != "imports"} == {
        k: v for k, v in from_parquet.items() if k != "imports"
    }


def test_parquet_rejects_carry_row_numbers(
    settings: Settings, contract_folder: Folder, tmp_path: Path
) -> None:
    folder = tmp_path / "pq"
    folder.mkdir()
    source = contract_folder(append={"complaints": "C9,E404,2020-01-01,,web\n"})
    for path in source.glob("*.csv"):
        write_typed_parquet(path, folder / f"{path.stem}.parquet")
    report = run(folder, settings)
    rejects = rejects_of(report, "complaints")
    assert rejects[["file", "line", "reason"]].values.tolist() == [
        ["complaints.parquet", "3", "unknown_employer"]
    ]


def test_reimporting_the_same_folder_changes_nothing(
    settings: Settings, contract_folder: Folder, store_rows: Snapshot
) -> None:
    folder = contract_folder(
        append={
            "complaints": "C1,E1,2019-12-01,safety_health,web\nC9,E404,2020-01-01,,web\n",
        }
    )
    first = run(folder, settings)
    before = store_rows()
    second = run(folder, settings)
    after = store_rows()
    assert {k: v for k, v in after.items() if k != "imports"} == {
        k: v for k, v in before.items() if k != "imports"
    }
    assert len(after["imports"]) == 2
    for one, two in zip(first.tables, second.tables, strict=True):
        assert two.inserted == 0
        assert two.already_present == one.inserted
        assert two.rejected_by_reason == one.rejected_by_reason
    assert rejects_of(first, "complaints").equals(rejects_of(second, "complaints"))


def test_interrupted_import_leaves_the_store_as_before(
    settings: Settings,
    contract_folder: Folder,
    store_rows: Snapshot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run(contract_folder(), settings)
    before = store_rows()
    real_insert = bulk.insert_rows
    written: list[str] = []

    def insert_then_fail(connection, table, rows, progress=None):  # type: ignore[no-untyped-def]
        if table.name == "complaints":
            raise KeyboardInterrupt("killed while loading complaints")
        written.append(table.name)
        return real_insert(connection, table, rows, progress)

    monkeypatch.setattr(bulk, "insert_rows", insert_then_fail)
    folder = contract_folder(
        append={
            "employers": "E4,Delta,09,001,311,1,small,,,,x,3\n",
            "inspections": "I7,E4,2020-01-01,random,,,0\n",
            "complaints": "C7,E4,2020-01-01,,web\n",
        }
    )
    with pytest.raises(KeyboardInterrupt):
        import_folder(folder, settings, today=TODAY)
    assert {"employers", "inspections", "employer_attributes"} <= set(written)
    assert store_rows() == before
    assert not list(settings.rejects_dir.glob("*.partial"))


CLEAN_EMPLOYERS = (
    "employer_id,name,state,municipality,sector,employees,size_band,registered_on,"
    "latitude,longitude,attr_union,attr_score\n"
    "E1,Acme,09,001,311,12,small,2019-02-28,19.4326,-99.1332,yes,1.5\n"
    "E2,Beta,14,039,46,,micro,,,,no,2\n"
    "E3,Gamma,01,001,236220,250,large,2001-01-01,21.88,-102.29,,7\n"
)
