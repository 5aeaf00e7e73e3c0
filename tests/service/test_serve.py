import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from typer.testing import CliRunner

from calle.cli import app

runner = CliRunner()


def test_calle_serve_help_names_host_and_port():
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    assert "--host" in result.output and "--port" in result.output


def test_calle_serve_refuses_a_bad_port():
    result = runner.invoke(app, ["serve", "--port", "70000"])
    assert result.exit_code == 2 and "--port" in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_calle_serve_answers_health_over_http(tmp_path: Path):
    port = _free_port()
    env = {
        **os.environ,
        "CALLE_HOME": str(tmp_path / "home"),
        "CALLE_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "calle.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read().decode()  # type: ignore[union-attr]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    assert r.status == 200 and b'"ok"' in r.read()
                    break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "the service did not start within 60 s"
                time.sleep(0.2)
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/rankings", timeout=2)
        except urllib.error.HTTPError as error:
            assert error.code == 401
            assert error.headers["content-type"] == "application/problem+json"
    finally:
        process.terminate()
        process.wait(timeout=30)
