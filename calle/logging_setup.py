"""Readable logs for people: time, level, where, message."""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record is emitted.

    A handler holding the stream it was created with keeps writing to it after it is
    closed or replaced (a finished command's captured output, a test's): the service's
    background threads then fail with "--- Logging error ---" dumps on the new stderr.
    """

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:  # StreamHandler.__init__ assigns one; ignored
        pass


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        handlers=[_CurrentStderr()],
        force=True,  # replaces the handlers of an earlier command in the same process
    )
    # Alembic announces its dialect every time the store opens; only problems matter here.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # MLflow draws a progress bar for every model it loads (on each swap in the service): a
    # line of noise for files that are local or a few megabytes.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
