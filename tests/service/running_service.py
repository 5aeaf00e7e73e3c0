"""Start `calle serve` in its own process for tests that need real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from calle.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_service(settings: Settings, timeout: float = 60) -> Iterator[str]:
    """The base URL of a `calle serve` over ``settings``' store, answering /health."""
    port = free_port()
    env = {
        **os.environ,
        "CALLE_HOME": str(settings.home),
        "CALLE_DATABASE_URL": settings.store_url,
    }
    settings.home.mkdir(parents=True, exist_ok=True)
    log = settings.home / "serve.log"  # a file, not a pipe: an unread pipe fills and blocks
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "calle.cli", "serve", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert process.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, f"the service did not start in {timeout} s"
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
