"""`calle serve --workers N`: N uvicorn processes, each with its own listening socket.

Why not uvicorn's own workers: they share one socket inherited from the parent, and the
worker that wakes first accepts a whole burst of connections (asyncio accepts up to a
hundred per wake-up). Clients that keep their connections open, as the ECMS and wrk do,
then all talk to one worker: measured with four clients scoring batches, one worker at
116% CPU and the other idle, and throughput at four clients no better than at one. With
Linux's ``SO_REUSEPORT`` every worker binds its own socket to the same address and the
kernel spreads new connections over them. Where that option is missing, uvicorn's own
workers run instead.

The parent supervises: it checks the port before starting anyone (a taken port is one clear
error, not N crashing workers), restarts a worker that dies after having started, stops
everything if a worker dies while starting (a bad store or model would only fail again),
and passes SIGINT or SIGTERM on so every worker finishes its requests. A worker counts as
started once uvicorn has run the app's startup (store opened, model follower running).
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import time
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from types import FrameType
from typing import Any

import uvicorn

log = logging.getLogger(__name__)

#: How long the workers get to finish their requests once asked to stop.
STOP_SECONDS = 30.0
APP = "service.asgi:app"


class WorkerStartFailed(RuntimeError):
    """A worker exited while starting: its own log lines say why."""


def reuse_port_available() -> bool:
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _bound_socket(host: str, port: int) -> socket.socket:
    """A socket bound to the port's ``SO_REUSEPORT`` group, not yet listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class _Worker(uvicorn.Server):
    """uvicorn's server, telling the parent once the app has started."""

    def __init__(self, config: uvicorn.Config, started: Event) -> None:
        super().__init__(config)
        self._started_event = started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._started_event.set()


def _run_worker(host: str, port: int, options: dict[str, Any], started: Event) -> None:
    """One worker: the app built from the environment, then its own socket in the port's
    group. The socket is bound but not listening: asyncio listens on it only after uvicorn
    has run the app's startup, so the kernel never queues connections for a worker still
    importing its libraries or opening its store, and a worker that listens has started."""
    config = uvicorn.Config(APP, factory=True, host=host, port=port, **options)
    config.load()
    sock = _bound_socket(host, port)
    _Worker(config, started).run(sockets=[sock])


def run_workers(host: str, port: int, workers: int, options: dict[str, Any]) -> None:
    """Serve with ``workers`` processes until SIGINT or SIGTERM; see the module docstring."""
    if not reuse_port_available():
        uvicorn.run(APP, factory=True, host=host, port=port, workers=workers, **options)
        return
    _bound_socket(host, port).close()  # a taken port fails here, once
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}

    def start() -> tuple[BaseProcess, Event]:
        started = context.Event()
        process = context.Process(target=_run_worker, args=(host, port, options, started))
        process.start()
        return process, started

    running = [start() for _ in range(workers)]
    try:
        while not stopping:
            time.sleep(0.2)
            for i, (process, started) in enumerate(running):
                if process.is_alive() or stopping:
                    continue
                if not started.is_set():
                    raise WorkerStartFailed(
                        f"worker {process.pid} exited with code {process.exitcode} while "
                        "starting; its log lines above say why"
                    )
                log.warning(
                    "worker %s exited with code %s; starting another",
                    process.pid,
                    process.exitcode,
                )
                running[i] = start()
    finally:
        for process, _ in running:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + STOP_SECONDS
        for process, _ in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
