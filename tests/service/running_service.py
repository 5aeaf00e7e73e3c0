"""Start `calle serve` in its own process for tests that need real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from calle.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_service(
    settings: Settings, timeout: float = 60, ready: bool = False, workers: int = 1
) -> Iterator[str]:
    """The base URL of a `calle serve` over ``settings``' store and registry, answering
    /health (and /ready too, if ``ready``)."""
    port = free_port()
    env = {
        **os.environ,
        "CALLE_HOME": str(settings.home),
        "CALLE_DATABASE_URL": settings.store_url,
        "CALLE_MLFLOW_TRACKING_URI": settings.tracking_uri,
        "CALLE_MODEL_POLL_SECONDS": str(settings.model_poll_seconds),
    }
    if settings.offices_file is not None:
        env["CALLE_OFFICES_FILE"] = str(settings.offices_file)
    settings.home.mkdir(parents=True, exist_ok=True)
    log = settings.home / "serve.log"  # a file, not a pipe: an unread pipe fills and blocks
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "calle.cli", "serve"),
                *("--port", str(port), "--workers", str(workers)),
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        for path in ("/health", "/ready") if ready else ("/health",):
            while not _answers(f"{base}{path}"):
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, f"{path} did not answer 200 in {timeout} s"
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    # HTTPError (e.g. 503) is a URLError; a timeout is a worker still starting
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _socket_holders(port: int, state: str) -> Counter[int]:
    """How many sockets on local ``port`` in TCP ``state`` each process holds (/proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                local, here, inode = fields[1], fields[3], fields[9]
                if here == state and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{inode}]")
    held: Counter[int] = Counter()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                if os.readlink(f"/proc/{entry}/fd/{fd}") in inodes:
                    held[int(entry)] += 1
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return held


def listening_pids(port: int) -> set[int]:
    """The processes holding a socket that listens on ``port``."""
    return set(_socket_holders(port, "0A"))  # 0A: LISTEN


def serving_pids(port: int) -> Counter[int]:
    """How many accepted connections on ``port`` each process holds."""
    return _socket_holders(port, "01")  # 01: ESTABLISHED
