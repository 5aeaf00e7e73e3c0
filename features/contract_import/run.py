"""``import_folder``: read and check every table, then write the accepted rows in one
transaction, record the import and publish its rejects.

Everything the store receives is decided before the first write, table by table in the
contract's dependency order (employers before the rows that reference them). The writes,
the attribute registry and the import record share one transaction: an exception or a
killed process leaves the store exactly as it was.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from tqdm import tqdm

from calle.settings import Settings
from calle.store import open_store, schema
from calle.store.bulk import refresh_statistics
from calle.store.bulk_load import keys_made_after
from features.contract import EMPLOYERS, FINDINGS, INSPECTIONS, TABLES, Table
from features.contract_import import rejects
from features.contract_import.cells import CheckedTable, check_cells
from features.contract_import.errors import ContractError
from features.contract_import.loading import (
    attribute_kinds,
    stored_attribute_kinds,
    stored_employers,
    stored_rows,
    write_attributes,
    write_rows,
)
from features.contract_import.reading import find_file, read_table
from features.contract_import.reconcile import (
    accepted,
    compare_with_store,
    reject_conflicts_in_file,
    reject_label_mismatches,
    reject_unknown_references,
    to_insert,
)
from features.contract_import.report import ImportReport, TableReport

log = logging.getLogger(__name__)

#: Which reference each table must satisfy: (column, table it points to, reason).
REFERENCES: dict[str, tuple[str, str, str]] = {
    "inspections": ("employer_id", "employers", "unknown_employer"),
    "findings": ("inspection_id", "inspections", "unknown_inspection"),
    "complaints": ("employer_id", "employers", "unknown_employer"),
    "remediations": ("employer_id", "employers", "unknown_employer"),
}


def import_folder(folder: Path, settings: Settings, *, today: date | None = None) -> ImportReport:
    """Import a contract folder into the store; see contract.md "Import rules".

    ``today`` is the day of the import (dates after it are rejected); default: today.
    Raises :class:`ContractError`, before anything is written, when the folder as a whole
    breaks the contract.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ContractError(f"{folder}: not a folder")
    today = today or date.today()
    started = datetime.now(UTC)
    report = ImportReport(
        import_id=f"{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}",
        folder=folder.resolve(),
        started_at=started,
    )
    paths = {table.name: find_file(folder, table) for table in TABLES}
    engine = open_store(settings)
    rejects_folder = settings.rejects_dir / report.import_id
    try:
        with engine.begin() as connection:
            _serialise_imports(connection)
            checked = _check_tables(connection, paths, settings, today)
            _write(connection, checked, report)
            for table in TABLES:
                report.tables.append(_table_report(table, checked.get(table.name)))
            partial = rejects.write_partial(rejects_folder, list(checked.values()))
            report.rejects_dir = rejects_folder if partial else None
            report.finished_at = datetime.now(UTC)
            connection.execute(
                schema.imports.insert().values(
                    import_id=report.import_id,
                    folder=str(report.folder),
                    started_at=report.started_at,
                    finished_at=report.finished_at,
                    report=json.dumps(report.to_dict(), sort_keys=True),
                )
            )
        refresh_statistics(engine, [*schema.CONTRACT_TABLES.values(), schema.employer_attributes])
    except BaseException:
        shutil.rmtree(rejects.partial_path(rejects_folder), ignore_errors=True)
        raise
    finally:
        engine.dispose()
    if report.rejects_dir is not None:
        rejects.publish(rejects_folder)
    log.info("import %s done: %d rows rejected", report.import_id, report.rejected)
    return report


def _serialise_imports(connection: sa.Connection) -> None:
    """Two imports at once would each miss the other's rows; PostgreSQL queues them."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("LOCK TABLE imports IN EXCLUSIVE MODE"))


@contextmanager
def _step(what: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    log.info("%s (%.1f s)", what, time.perf_counter() - started)


def vocabularies(table: Table, settings: Settings) -> dict[str, list[str]]:
    """The installation's closed vocabularies of ``table`` (shared with the HTTP intake)."""
    if table.name == "employers":
        return {"state": list(settings.region_codes)}
    if table.name in ("findings", "complaints"):
        return {"category": list(settings.categories)}
    return {}


def _check_tables(
    connection: sa.Connection,
    paths: dict[str, Path | None],
    settings: Settings,
    today: date,
) -> dict[str, CheckedTable]:
    """Read and check every present table; every ContractError comes out of here."""
    sources = {}
    for table in TABLES:
        path = paths[table.name]
        if path is not None:
            with _step(f"{path.name}: read"):
                sources[table.name] = read_table(path, table)
    checked: dict[str, CheckedTable] = {}
    for name, source in sources.items():
        with _step(f"{source.path.name}: cells checked"):
            checked[name] = check_cells(source, vocabularies(source.table, settings), today)
    stored: dict[str, pd.DataFrame] = {}
    for table in TABLES:
        if table.name not in checked:
            continue
        current = checked[table.name]
        with _step(f"{current.source.path.name}: checked against the file and the store"):
            reject_conflicts_in_file(current)
            if table.name in REFERENCES:
                column, target, reason = REFERENCES[table.name]
                # employers and inspections are required files: processed, stored read
                known = pd.Index(stored[target][column].dropna())
                if target in checked:
                    known = known.union(pd.Index(accepted(checked[target])[column]))
                reject_unknown_references(current, column, known, reason)
            if table.name == "employers":
                attributes = _attribute_columns(current)
                stored[table.name] = stored_employers(connection, attributes)
            else:
                stored[table.name] = stored_rows(connection, table)
            compare_with_store(current, stored[table.name])
        if table.name == FINDINGS.name and INSPECTIONS.name in checked:
            reject_label_mismatches(
                checked[INSPECTIONS.name], current, stored["inspections"], stored["findings"]
            )
    return checked


def _attribute_columns(checked: CheckedTable) -> list[str]:
    prefix = EMPLOYERS.extra_prefix or ""
    return [name for name in checked.source.rows.columns if name.startswith(prefix)]


def _write(
    connection: sa.Connection, checked: dict[str, CheckedTable], report: ImportReport
) -> None:
    written = [schema.CONTRACT_TABLES[name] for name in checked]
    with keys_made_after(connection, [*written, schema.employer_attributes]):
        _write_tables(connection, checked, report)


def _write_tables(
    connection: sa.Connection, checked: dict[str, CheckedTable], report: ImportReport
) -> None:
    for name, current in checked.items():
        rows = to_insert(current)
        with tqdm(total=len(rows), desc=f"write {name}", unit="rows", disable=None) as bar:
            written = write_rows(connection, name, rows, bar.update)
        log.info("%s: %d rows written", name, written)
        if name == "employers":
            attributes = _attribute_columns(current)
            known = stored_attribute_kinds(connection)
            kinds = attribute_kinds(accepted(current)[attributes], known)
            write_attributes(connection, rows, attributes, kinds, known)
            report.attributes = kinds


def _table_report(table: Table, checked: CheckedTable | None) -> TableReport:
    if checked is None:
        return TableReport(table.name)
    assert checked.status is not None and checked.repeat is not None
    source = checked.source
    is_open = checked.open.to_numpy()
    repeat = checked.repeat.to_numpy()
    status = checked.status.to_numpy()
    by_reason = checked.reason.dropna().value_counts().to_dict()
    if source.malformed_lines:
        by_reason[rejects.MALFORMED_ROW] = len(source.malformed_lines)
    result = TableReport(
        table=table.name,
        file=source.path.name,
        read=source.read,
        inserted=int((is_open & ~repeat & (status == "insert")).sum()),
        already_present=int((is_open & ~repeat & (status == "present")).sum()),
        repeated=int((is_open & repeat).sum()),
        rejected_by_reason={str(k): int(v) for k, v in sorted(by_reason.items())},
        dropped_columns=list(source.dropped_columns),
    )
    if result.read != result.accepted + result.rejected:  # never: it would lose rows silently
        raise RuntimeError(f"{table.name}: read {result.read} != accepted + rejected; aborted")
    return result
