import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from typer.testing import CliRunner

from calle.cli import app
from calle.settings import Settings
from calle.store import open_store
from service.keys import create_key
from service.roles import Role
from tests.service.running_service import (
    free_port,
    listening_pids,
    running_service,
    serving_pids,
)

runner = CliRunner()


def test_calle_serve_help_names_host_and_port():
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    assert "--host" in result.output and "--port" in result.output


def test_calle_serve_refuses_a_bad_port():
    result = runner.invoke(app, ["serve", "--port", "70000"])
    assert result.exit_code == 2 and "--port" in result.output


def test_calle_serve_answers_health_over_http(tmp_path: Path):
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'store.db'}")
    with running_service(settings) as base:
        with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
            assert response.status == 200 and b'"ok"' in response.read()
        try:
            urllib.request.urlopen(f"{base}/api/v1/rankings", timeout=2)
        except urllib.error.HTTPError as error:
            assert error.code == 401
            assert error.headers["content-type"] == "application/problem+json"
        else:
            raise AssertionError("rankings answered without a key")


def _get(url: str, headers: dict[str, str] | None = None) -> bytes:
    with urllib.request.urlopen(
        urllib.request.Request(url, headers=headers or {}), timeout=10
    ) as r:
        assert r.status == 200
        return r.read()


def test_several_workers_answer_and_metrics_count_them_all(tmp_path: Path):
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'store.db'}")
    engine = open_store(settings)
    try:
        admin = create_key(engine, Role.admin, "test admin")[1]
    finally:
        engine.dispose()
    line = 'calle_requests_total{method="GET",route="/health",status="200"}'
    scrape = {"Authorization": f"Bearer {admin}"}

    def health_count(base: str) -> float:
        text = _get(f"{base}/api/v1/metrics", scrape).decode()
        return float(next(t for t in text.splitlines() if t.startswith(line)).split()[-1])

    counts = settings.home / "run" / "metrics"
    with running_service(settings, workers=2) as base:
        before = health_count(base)  # the readiness checks' share
        sent, deadline = 0, time.monotonic() + 60
        # one file per worker that counted: send until the second worker (maybe still
        # starting when the first answered) has taken some too
        while len(list(counts.glob("counter_*.db"))) < 2:
            assert time.monotonic() < deadline, "one worker answered every request"
            with ThreadPoolExecutor(8) as pool:  # concurrent, so both workers take some
                list(pool.map(lambda _: _get(f"{base}/health"), range(40)))
            sent += 40
        after = health_count(base)
    assert after - before == sent  # one scrape sums both workers


def _kept_open(base: str, clients: int) -> list[http.client.HTTPConnection]:
    """``clients`` connections, each having had an answer, left open."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    connections = []
    for _ in range(clients):
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", "/health")
        assert connection.getresponse().read()
        connections.append(connection)
    return connections


def test_connections_go_to_the_workers_in_turn_and_a_dead_one_is_replaced(tmp_path: Path):
    """Four clients that keep their connections open are two per worker (the kernel's hash
    of per-worker sockets put all four on one of two workers one time in eight); a worker
    that dies after starting is replaced and the service keeps answering."""
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'store.db'}")
    with running_service(settings, workers=2) as base:
        port = int(base.rsplit(":", 1)[1])
        deadline = time.monotonic() + 60
        while True:  # the second worker may still be starting: until then, all go to one
            connections = _kept_open(base, 4)
            held = serving_pids(port)
            for connection in connections:
                connection.close()
            if sorted(held.values()) == [2, 2]:
                break
            assert time.monotonic() < deadline, f"connections per worker: {held}"
            time.sleep(0.2)
        workers = set(held)
        listeners = listening_pids(port)  # the parent alone: it hands connections out
        assert len(listeners) == 1 and not listeners & workers
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        replaced: set[int] = set()
        while len(replaced) != 2 or victim in replaced:
            assert time.monotonic() < deadline, f"not replaced: {replaced}"
            time.sleep(0.2)
            try:
                connections = _kept_open(base, 2)
            except (ConnectionError, http.client.HTTPException):
                continue  # handed to the victim in the moment it died, as a kernel queue would
            replaced = set(serving_pids(port))
            for connection in connections:
                connection.close()
        assert len(replaced - workers) == 1
        assert _get(f"{base}/health")


def _serve(
    settings: Settings, port: int, workers: int, env: dict[str, str]
) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "calle.cli", "serve", "--port", str(port)]
    return subprocess.run(
        [*argv, "--workers", str(workers)],
        env={
            **os.environ,
            "CALLE_HOME": str(settings.home),
            "CALLE_DATABASE_URL": settings.store_url,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_taken_port_is_one_clear_error(tmp_path: Path):
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'store.db'}")
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        done = _serve(settings, port, 2, {})
    assert done.returncode == 2
    assert "serve stopped" in done.stderr and "in use" in done.stderr
    assert "Traceback" not in done.stderr


def test_workers_that_cannot_start_stop_the_service_with_a_clear_error(tmp_path: Path):
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'store.db'}")
    offices = tmp_path / "offices.toml"
    offices.write_text('[offices."OF-1"]\ncapacity = 3\n')  # covers nothing: refused
    done = _serve(settings, free_port(), 2, {"CALLE_OFFICES_FILE": str(offices)})
    assert done.returncode == 2, done.stderr
    assert "while starting" in done.stderr
