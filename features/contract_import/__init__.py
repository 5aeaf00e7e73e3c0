"""Importing a contract folder (shared/contract.md) into the store.

``import_folder(folder, settings) -> ImportReport``; :class:`ContractError` when the folder
as a whole breaks the contract. Modules: ``reading`` (files to canonical text),
``cells`` (per-value checks), ``reconcile`` (duplicates, store, references, labels),
``loading`` (store reads and bulk writes), ``rejects``, ``report``, ``run`` (the sequence).

Where the contract is silent:
- values are trimmed of surrounding whitespace; ``""`` is missing; integers accept ``12.0``,
  flags ``0``/``1`` (Parquet booleans become 0/1, timestamps their day);
- one reason per rejected row: the first failing check, in column order, then
  duplicates, references, labels; a CSV row with the wrong field count is ``malformed_row``
  (no values are written for it: they cannot be attributed to columns);
- a duplicate key with different content rejects every row of that key, even if one of
  them equals the store; a finding rejected for its own reason does not reject its
  inspection unless the remaining findings then disagree with ``violation_found``;
- employers' "same content" includes the ``attr_*`` columns the file carries (missing =
  missing); attribute columns absent from the file are not compared;
- the day of the import is ``date.today()`` unless ``today`` is given; "future" is after it.
"""

from features.contract_import.errors import ContractError
from features.contract_import.report import ImportReport, TableReport
from features.contract_import.run import import_folder

__all__ = ["ContractError", "ImportReport", "TableReport", "import_folder"]
