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
from tests.service.running_service import running_service

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
