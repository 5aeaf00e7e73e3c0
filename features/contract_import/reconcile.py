"""Row checks that need other rows: duplicates, the store, references, labels.

Set-based against the store: the stored rows of a table are read once into pandas
(``COPY ... TO STDOUT`` on PostgreSQL) and compared by key with the file's rows. A store
holds one inspectorate's history, a few million rows per table at most, which fits in
memory; one sequential read plus a hash join in pandas is cheaper than staging the
file into a temporary table and joining in SQL, and keeps one code path for both
engines. On a first load the store is empty and the comparison costs nothing.

"Same content" compares every contract column (employers: plus the ``attr_*`` columns
the file carries — an attribute column the file does not carry is not compared) as
canonical text, through a 64-bit row hash.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from calle.store.schema import remediation_key
from features.contract_import.cells import CheckedTable
from features.string_membership import is_in

KEY_SEPARATOR = remediation_key("", "", None)[0]


def key_of(frame: pd.DataFrame, key: tuple[str, ...]) -> pd.Series:
    """One text key per row (parts joined as in the store's remediation key)."""
    if len(key) == 1:
        return frame[key[0]].astype("str")
    parts = [frame[name].astype("str").fillna("") for name in key]
    return parts[0].str.cat(parts[1:], sep=KEY_SEPARATOR)


def content_hash(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """A 64-bit hash of each row's ``columns`` as canonical text (missing ≠ any text)."""
    text = pd.DataFrame({name: _canonical_text(frame[name]) for name in columns}, index=frame.index)
    return pd.util.hash_pandas_object(text, index=False).to_numpy()


def _canonical_text(values: pd.Series) -> pd.Series:
    # Arrow prints numbers the same way for the file's and the store's float64 values.
    text = pa.array(values, from_pandas=True).cast(pa.string()).fill_null("\x00")
    return pd.Series(text.to_numpy(zero_copy_only=False), index=values.index, dtype=object)


def content_columns(checked: CheckedTable) -> list[str]:
    return [name for name in checked.typed.columns if name not in checked.source.table.key]


def reject_conflicts_in_file(checked: CheckedTable) -> None:
    """Same key, different content within the file: no way to tell which row is right, so
    every row of that key goes. Exact repeats are kept once (marked ``repeat``)."""
    open_rows = checked.open.to_numpy()
    keys = key_of(checked.typed, checked.source.table.key)
    repeated_key = open_rows & keys.duplicated(keep=False).to_numpy()
    # a key's first open row may come after a rejected one; only open rows count
    checked.repeat = pd.Series(False, index=checked.typed.index)
    if not repeated_key.any():
        return
    sub_keys = keys[repeated_key]
    hashes = pd.Series(content_hash(checked.typed[repeated_key], content_columns(checked)))
    variants = hashes.groupby(sub_keys.to_numpy()).nunique()
    conflicting = is_in(sub_keys, variants.index[variants > 1])
    conflict = np.zeros(len(keys), dtype=bool)
    conflict[np.flatnonzero(repeated_key)[conflicting]] = True
    checked.reject(conflict, "duplicate_conflict")
    still_open = checked.open.to_numpy()
    later = still_open & keys.where(still_open).duplicated(keep="first").to_numpy()
    checked.repeat = pd.Series(later & keys.notna().to_numpy(), index=checked.typed.index)


def reject_unknown_references(
    checked: CheckedTable, column: str, known: pd.Index, code: str
) -> None:
    """Rows pointing at an id neither the store nor this import's accepted rows hold."""
    values = checked.typed[column]
    checked.reject(values.notna().to_numpy() & ~is_in(values, known), code)


def compare_with_store(checked: CheckedTable, stored: pd.DataFrame) -> None:
    """Mark open rows ``present`` (stored with the same content) or ``insert``; a stored key
    with other content is a ``duplicate_conflict``."""
    key = checked.source.table.key
    columns = content_columns(checked)
    status = pd.Series("", index=checked.typed.index, dtype=object)
    open_rows = checked.open.to_numpy()
    if len(stored) and open_rows.any():
        stored_hash = pd.Series(content_hash(stored, columns), index=key_of(stored, key).values)
        candidates = checked.typed[open_rows]
        position = stored_hash.index.get_indexer(key_of(candidates, key))
        found = position >= 0
        same = found & (content_hash(candidates, columns) == stored_hash.to_numpy()[position])
        conflict = np.zeros(len(status), dtype=bool)
        conflict[np.flatnonzero(open_rows)[found & ~same]] = True
        checked.reject(conflict, "duplicate_conflict")
        present = np.zeros(len(status), dtype=bool)
        present[np.flatnonzero(open_rows)[same]] = True
        status[present] = "present"
    status[checked.open.to_numpy() & (status == "").to_numpy()] = "insert"
    checked.status = status


def accepted(checked: CheckedTable) -> pd.DataFrame:
    """The accepted rows, once per key."""
    assert checked.repeat is not None
    return checked.typed[(checked.open & ~checked.repeat).to_numpy()]


def to_insert(checked: CheckedTable) -> pd.DataFrame:
    """The accepted rows the store lacks, once per key."""
    assert checked.status is not None and checked.repeat is not None
    mask = checked.open & ~checked.repeat & (checked.status == "insert")
    return checked.typed[mask.to_numpy()]


def reject_label_mismatches(
    inspections: CheckedTable,
    findings: CheckedTable,
    stored_inspections: pd.DataFrame,
    stored_findings: pd.DataFrame,
) -> None:
    """An inspection whose ``violation_found`` disagrees with "any finding has violation = 1"
    (its stored findings plus the new ones) carries an untrustworthy label: its new rows
    and its new findings are rejected. Stored rows were consistent when they came in."""
    new_inspections = to_insert(inspections)
    new_findings = to_insert(findings)
    if new_findings.empty and new_inspections.empty:
        return
    touched = pd.Index(new_inspections["inspection_id"]).union(
        pd.Index(new_findings["inspection_id"])
    )
    combined = pd.concat(
        [
            stored_findings.loc[
                is_in(stored_findings["inspection_id"], touched), ["inspection_id", "violation"]
            ],
            new_findings[["inspection_id", "violation"]],
        ],
        ignore_index=True,
    )
    if combined.empty:
        return
    any_violation = combined.groupby("inspection_id")["violation"].max()
    label = pd.concat(
        [
            stored_inspections.set_index("inspection_id")["violation_found"],
            new_inspections.set_index("inspection_id")["violation_found"],
        ]
    )
    label = label[~label.index.duplicated(keep="last")]
    found = label.reindex(any_violation.index)
    mismatched = any_violation.index[(found.notna() & (found != any_violation)).to_numpy()]
    if mismatched.empty:
        return
    for checked in (inspections, findings):
        assert checked.status is not None
        is_new = (checked.status == "insert").to_numpy()
        hit = is_in(checked.typed["inspection_id"], mismatched)
        checked.reject(is_new & hit, "violation_found_mismatch")
