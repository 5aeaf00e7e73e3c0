import urllib.error
import urllib.request
from pathlib import Path

from typer.testing import CliRunner

from calle.cli import app
from calle.settings import Settings
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
