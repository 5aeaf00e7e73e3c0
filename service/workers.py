"""`calle serve --workers N`: N uvicorn processes, fed connections in turn by the parent.

Why not uvicorn's own workers: they share one socket inherited from the parent, and the
worker that wakes first accepts a whole burst of connections (asyncio accepts up to a
hundred per wake-up). Clients that keep their connections open, as the ECMS and wrk do,
then all talk to one worker: measured with four clients scoring batches, one worker at
116% CPU and the other idle. Nor one ``SO_REUSEPORT`` socket per worker: the kernel hashes
each connection to a socket, so four kept-open connections landed all on one of two
workers one time in eight and three on one of them one time in two (`POST /score` at four
clients from 39 to 70 requests/s from run to run). The parent accepts every connection
and hands it to the next started worker over a Unix socket (``SCM_RIGHTS``), as Node's
cluster module does; the worker adopts it into its event loop as if it had accepted it.
Where descriptors cannot be passed, uvicorn's own workers run instead.

The parent supervises: it binds the port before starting anyone (a taken port is one clear
error, not N crashing workers), restarts a worker that dies after having started, stops
everything if a worker dies while starting (a bad store or model would only fail again),
and passes SIGINT or SIGTERM on so every worker finishes its requests. A worker counts as
started once uvicorn has run the app's startup (store opened, model follower running), and
only then gets connections; until the first has started, the port refuses them.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
import socket
import sys
import threading
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


def handoff_available() -> bool:
    return sys.platform.startswith("linux") and hasattr(socket, "send_fds")


def _bound_socket(host: str, port: int) -> socket.socket:
    """A socket bound to the port, not yet listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class _Worker(uvicorn.Server):
    """uvicorn's server without a listening socket of its own: it serves the connections
    the parent passes down ``channel``, and tells the parent once the app has started."""

    def __init__(self, config: uvicorn.Config, started: Event, channel: socket.socket) -> None:
        super().__init__(config)
        self._started_event = started
        self._channel = channel
        self._adopting: set[asyncio.Task[Any]] = set()  # held: the loop keeps tasks weakly

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # the app's startup; no listener
        if not self.started:
            return
        loop = asyncio.get_running_loop()
        self._channel.setblocking(False)
        loop.add_reader(self._channel.fileno(), self._adopt, loop)
        self._started_event.set()

    def _protocol(self) -> asyncio.Protocol:
        # what uvicorn's startup makes for each connection its own listener accepts
        return self.config.http_protocol_class(  # type: ignore[call-arg]
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state
        )

    def _adopt(self, loop: asyncio.AbstractEventLoop) -> None:
        """Serve each connection the parent has passed; stop when the parent is gone."""
        while True:
            try:
                message, descriptors, _, _ = socket.recv_fds(self._channel, 1, 1)
            except BlockingIOError:
                return
            except OSError:
                message, descriptors = b"", []
            if not message:  # the parent closed its end: it has stopped
                loop.remove_reader(self._channel.fileno())
                self.should_exit = True
                return
            for descriptor in descriptors:
                connection = socket.socket(fileno=descriptor)
                connection.setblocking(False)
                task = loop.create_task(loop.connect_accepted_socket(self._protocol, connection))
                self._adopting.add(task)
                task.add_done_callback(self._adopting.discard)


def _run_worker(options: dict[str, Any], channel: socket.socket, started: Event) -> None:
    """One worker: the app built from the environment, served on the connections passed."""
    config = uvicorn.Config(APP, factory=True, **options)
    config.load()
    _Worker(config, started, channel).run()


class _Dispatcher:
    """Accepts on the port and hands each connection to the next started worker."""

    def __init__(self, listener: socket.socket, workers: int) -> None:
        self.listener = listener
        self.channels: list[socket.socket | None] = [None] * workers  # None: not serving
        self.listening = False
        self._next = 0
        self._thread = threading.Thread(target=self._run, name="calle-dispatcher", daemon=True)

    def start(self) -> None:
        """Listen, once the first worker has started: until then clients are refused, as
        by a service that is not up yet."""
        self.listener.listen(2048)
        self.listening = True
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # the listener was shut down: the service is stopping
                return
            with connection:  # the worker holds its own copy once passed
                self._hand(connection)

    def _hand(self, connection: socket.socket) -> None:
        for _ in range(len(self.channels)):
            i, self._next = self._next, (self._next + 1) % len(self.channels)
            channel = self.channels[i]
            if channel is None:
                continue
            try:
                socket.send_fds(channel, [b"c"], [connection.fileno()])
                return
            except OSError:  # that worker has just died; the supervisor replaces it
                continue
        log.warning("no worker could take a connection; it was closed")

    def stop(self) -> None:
        if self.listening:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes accept() with an error
            self._thread.join(timeout=5)
        self.listener.close()


def run_workers(host: str, port: int, workers: int, options: dict[str, Any]) -> None:
    """Serve with ``workers`` processes until SIGINT or SIGTERM; see the module docstring."""
    if not handoff_available():
        uvicorn.run(APP, factory=True, host=host, port=port, workers=workers, **options)
        return
    dispatcher = _Dispatcher(_bound_socket(host, port), workers)  # a taken port fails here
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}

    def start() -> tuple[BaseProcess, Event, socket.socket]:
        started = context.Event()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        worker_options = {**options, "host": host, "port": port}  # for its log line
        process = context.Process(target=_run_worker, args=(worker_options, theirs, started))
        process.start()
        theirs.close()
        return process, started, ours

    running = [start() for _ in range(workers)]
    try:
        while not stopping:
            time.sleep(0.2)
            for i, (process, started, channel) in enumerate(running):
                if process.is_alive() or stopping:
                    if started.is_set() and dispatcher.channels[i] is None:
                        dispatcher.channels[i] = channel
                        if not dispatcher.listening:
                            dispatcher.start()
                    continue
                dispatcher.channels[i] = None
                channel.close()
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
        dispatcher.stop()  # no new connections; the workers finish the ones they have
        for process, _, _ in running:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + STOP_SECONDS
        for process, _, channel in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
            channel.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
