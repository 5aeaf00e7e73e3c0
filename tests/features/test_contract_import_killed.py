"""A `calle import` process killed outright (SIGKILL, no cleanup) mid-write changes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from calle.settings import Settings
from features.contract_import import import_folder

#: Runs the real CLI, but the process kills itself the moment it starts writing complaints,
#: after employers, attributes and inspections went to the store in the open transaction.
KILLED_IMPORT = textwrap.dedent(
    """
    import os, signal, sys
    from calle.store import bulk

    real_insert = bulk.insert_rows

    def insert_or_die(connection, table, rows, progress=None):
        if table.name == "complaints":
            sys.stderr.write("about to be killed\\n"); sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return real_insert(connection, table, rows, progress)

    bulk.insert_rows = insert_or_die
    from calle.cli import app
    app(["import", sys.argv[1]], prog_name="calle")
    """
)


def test_killed_import_leaves_the_store_as_before(
    settings: Settings,
    contract_folder: Callable[..., Path],
    store_rows: Callable[[], dict[str, list[tuple]]],
) -> None:
    import_folder(contract_folder(), settings)
    before = store_rows()
    published_before = _published_rejects(settings)
    folder = contract_folder(
        append={
            "employers": "E4,Delta,09,001,311,1,small,,,,x,3\n",
            "inspections": "I7,E4,2020-01-01,random,,,0\n",
            "complaints": "C7,E4,2020-01-01,,web\n",
        }
    )
    env = {
        **os.environ,
        "CALLE_HOME": str(settings.home),
        "CALLE_DATABASE_URL": settings.store_url,
    }
    done = subprocess.run(
        [sys.executable, "-c", KILLED_IMPORT, str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert "about to be killed" in done.stderr
    assert "inspections: 1 rows written" in done.stderr  # earlier tables were written
    assert store_rows() == before
    assert _published_rejects(settings) == published_before


def _published_rejects(settings: Settings) -> list[str]:
    if not settings.rejects_dir.exists():
        return []
    return sorted(p.name for p in settings.rejects_dir.iterdir() if ".partial" not in p.name)
