"""Run one stage of the product as a child process and measure it.

Each stage runs in its own process so that its peak memory (max RSS, from the
kernel's rusage of that one child) is its own and not the benchmark's.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path


class StageFailed(RuntimeError):
    """A stage's process ended with an error; the message names its log and last line."""


def run_stage(
    stage: str, employers: int, argv: list[str], env: dict[str, str], log: Path
) -> tuple[float, float]:
    """Run ``argv``; return (wall seconds, peak resident MB). Fails loudly on a non-zero exit."""
    started = time.perf_counter()
    with log.open("w") as out:
        child = subprocess.Popen(argv, env={**os.environ, **env}, stdout=out, stderr=out)
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        lines = log.read_text(errors="replace").strip().splitlines()
        last = f" ({lines[-1][:300]})" if lines else ""
        raise StageFailed(f"{stage} at {employers:,} employers failed; see {log}{last}")
    return seconds, usage.ru_maxrss / 1024
