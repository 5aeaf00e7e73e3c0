"""The one exception that stops an import before anything is written."""

from __future__ import annotations


class ContractError(Exception):
    """The folder breaks the contract as a whole (missing file or column, unreadable file,
    a column of the wrong type): no row can be trusted, so nothing is imported."""
