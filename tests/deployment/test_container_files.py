"""The Dockerfile and compose.yaml, checked without a container engine (none runs on the build
machines): the compose file parses and wires what the README says, every CALLE_* variable it
sets is a real setting, and the image installs the way the tests' own setup does."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

from calle.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def _setting_names() -> set[str]:
    names = {f"CALLE_{name.upper()}" for name in Settings.model_fields}
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        names |= set(getattr(alias, "choices", []) or [])
    return names


def test_compose_runs_the_service_a_tracking_server_two_databases_and_a_retrain_job(compose):
    services = compose["services"]
    assert set(services) == {"store-db", "mlflow-db", "mlflow", "service", "retrain"}
    mlflow = services["mlflow"]
    assert mlflow["entrypoint"] == ["mlflow"]
    command = mlflow["command"]
    backend = command[command.index("--backend-store-uri") + 1]
    assert backend.startswith("postgresql+psycopg://")
    assert backend.endswith("@mlflow-db:5432/mlflow")
    artifacts = command[command.index("--artifacts-destination") + 1]
    assert any(v.endswith(f":{artifacts}") for v in mlflow["volumes"])  # kept in a volume
    assert "mlflow-artifacts" in compose["volumes"] and "store-data" in compose["volumes"]
    for name in ("service", "retrain"):
        env = services[name]["environment"]
        assert env["CALLE_MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
        assert "@store-db:5432/calle" in env["CALLE_DATABASE_URL"]
        assert services[name]["depends_on"]["mlflow"]["condition"] == "service_healthy"
    job = services["retrain"]["command"][0]
    assert "calle import" in job and "calle train --promote && calle score" in job
    assert "sleep" in job


def test_compose_is_configured_by_environment_with_real_setting_names(compose):
    known = _setting_names()
    for name, service in compose["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith("CALLE_"):
                assert variable in known, f"{name}: {variable} is not a CALLE setting"
    text = (ROOT / "compose.yaml").read_text()
    assert "${CALLE_DB_PASSWORD:?" in text and "${MLFLOW_DB_PASSWORD:?" in text  # no default secret
    assert not re.search(r"PASSWORD: [^$]", text)


def test_the_image_is_multi_stage_slim_non_root_and_checks_its_health(dockerfile):
    stages = [line for line in dockerfile if line.startswith("FROM ")]
    assert len(stages) == 2 and all("-slim" in line for line in stages)
    user = next(line for line in dockerfile if line.startswith("USER "))
    assert user.split()[1] not in ("root", "0")
    health = next(line for line in dockerfile if line.startswith("HEALTHCHECK "))
    assert "127.0.0.1:8000/health" in health
    assert 'ENTRYPOINT ["calle"]' in dockerfile
    cmd = next(line for line in dockerfile if line.startswith("CMD "))
    assert cmd.startswith('CMD ["serve", "--host", "0.0.0.0", "--port", "8000"')


def test_the_image_installs_like_the_tests_do(dockerfile):
    install = next(line for line in dockerfile if "pip install" in line)
    words = shlex.split(install)
    assert words[words.index("-c") + 1] == "constraints.txt"  # the same pins as bootstrap.sh
    bootstrap = (ROOT / "scripts" / "bootstrap.sh").read_text()
    assert '-c "$ROOT/constraints.txt"' in bootstrap
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    copied = {
        line.split()[1] for line in dockerfile if line.startswith("COPY ") and "--from" not in line
    }
    assert {p.rstrip("*") for p in packages} <= copied
    python = next(line for line in dockerfile if line.startswith("FROM ")).split(":")[1]
    assert python.startswith("3.11")  # the version the tests run on (pyproject: >=3.11)
