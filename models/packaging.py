"""The risk model as an MLflow pyfunc, so the registry can hold, version and serve it."""

from __future__ import annotations

import tempfile
from importlib.metadata import version
from typing import Any

import mlflow.artifacts
import mlflow.pyfunc
import pandas as pd

from models.risk_model import RiskModel


class RiskModelPyfunc(mlflow.pyfunc.PythonModel):
    """Feature records in, calibrated probabilities (``p_any``, ``p_<category>``) out."""

    def __init__(self, risk_model: RiskModel) -> None:
        self.risk_model = risk_model

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict | None = None):
        return self.risk_model.predict(model_input)


#: What loading the model needs; listed so MLflow need not infer it (slow: it imports and
#: traces the model in a subprocess).
RUNTIME_PACKAGES = ("mlflow", "lightgbm", "scikit-learn", "pandas", "numpy", "pyarrow", "scipy")


def pip_requirements() -> list[str]:
    return [f"{name}=={version(name)}" for name in RUNTIME_PACKAGES]


def as_records(features: pd.DataFrame) -> pd.DataFrame:
    """Features with plain Python missing values, as MLflow's schema inference expects."""
    out = features.reset_index(drop=True).copy()
    for column in out.columns:
        if out[column].dtype == "string" or out[column].dtype == object:
            out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out


def unwrap(pyfunc_model: mlflow.pyfunc.PyFuncModel) -> RiskModel:
    """The :class:`RiskModel` inside a loaded pyfunc (for explanations and importances)."""
    return pyfunc_model.unwrap_python_model().risk_model


def load_version(tracking_uri: str, model_name: str, version: str) -> RiskModel:
    """One registered version of the risk model, read from the registry at ``tracking_uri``.

    The URI is passed explicitly rather than through ``mlflow.set_tracking_uri``: that sets
    process-wide state, which a long-running service following one registry (or a test
    holding several) must not depend on. The copy downloaded from a tracking server is
    removed once the model is in memory.
    """
    client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    # resolved here: MLflow resolves a `models:/` URI against the process-wide registry
    location = client.get_model_version_download_uri(model_name, version)
    with tempfile.TemporaryDirectory(prefix="calle-model-") as folder:
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=location, dst_path=folder, tracking_uri=tracking_uri
        )
        return unwrap(mlflow.pyfunc.load_model(local))
