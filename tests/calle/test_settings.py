from pathlib import Path

import pytest

from calle.settings import MEXICO_CATEGORIES, MEXICO_STATE_CODES, Settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "CALLE_HOME",
        "CALLE_DATABASE_URL",
        "CALLE_CATEGORIES",
        "CALLE_REGION_CODES",
        "MLFLOW_TRACKING_URI",
        "CALLE_MLFLOW_TRACKING_URI",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_put_everything_under_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CALLE_HOME", str(tmp_path / "h"))
    settings = Settings()
    assert settings.store_url == f"sqlite:///{(tmp_path / 'h' / 'calle.db').resolve()}"
    assert settings.tracking_uri == f"sqlite:///{(tmp_path / 'h' / 'mlflow.db').resolve()}"
    assert settings.rejects_dir == tmp_path / "h" / "rejects"
    assert settings.categories == list(MEXICO_CATEGORIES)
    assert settings.region_codes == list(MEXICO_STATE_CODES)
    assert settings.region_codes[0] == "01" and settings.region_codes[-1] == "32"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CALLE_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    monkeypatch.setenv("CALLE_CATEGORIES", "safety_health, wages")
    monkeypatch.setenv("CALLE_REGION_CODES", "")
    settings = Settings()
    assert settings.store_url == "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    assert settings.categories == ["safety_health", "wages"]
    assert settings.region_codes == []


def test_mlflow_tracking_uri_is_respected(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert Settings().tracking_uri == "http://127.0.0.1:5000"
    monkeypatch.setenv("CALLE_MLFLOW_TRACKING_URI", "sqlite:///x.db")
    assert Settings().tracking_uri == "sqlite:///x.db"
