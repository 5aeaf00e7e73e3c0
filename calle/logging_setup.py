"""Readable logs for people: time, level, where, message."""

from __future__ import annotations

import logging
import os


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        force=True,  # each command binds to the stderr of its own invocation
    )
    # Alembic announces its dialect every time the store opens; only problems matter here.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # MLflow draws a progress bar for every model it loads (on each swap in the service): a
    # line of noise for files that are local or a few megabytes.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
