"""Importing a contract folder (shared/contract.md) into the store.

``import_folder(folder, settings) -> ImportReport``; :class:`ContractError` when the folder
as a whole breaks the contract. Modules: ``reading`` (files to canonical text),
``cells`` (per-value checks), ``reconcile`` (duplicates, store, references, labels),
``loading`` (store reads and bulk writes), ``rejects``, ``report``, ``run`` (the sequence).
"""

from features.contract_import.errors import ContractError
from features.contract_import.report import ImportReport, TableReport
from features.contract_import.run import import_folder

__all__ = ["ContractError", "ImportReport", "TableReport", "import_folder"]
