"""The model the service scores with: the registry's ``champion``, followed while serving.

A :class:`ModelFollower` asks the registry which version carries the ``champion`` alias,
every ``poll_seconds`` in a background thread and whenever ``POST /models/reload`` asks.
When the alias has moved it loads the new version first and then swaps one reference, so a
request sees either the old model or the new one, never a half-loaded one. If the registry
does not answer or the new version fails to load, it keeps serving what it has and keeps
the error for ``/ready`` and the logs; the next check tries again. ``after_swap`` runs in
the follower's thread once a new version serves (the service freezes the heap then:
:mod:`service.heap`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sqlalchemy.engine import make_url

from models.compiled_forest import compiled_if_possible
from models.packaging import load_version
from models.risk_model import RiskModel

log = logging.getLogger(__name__)

#: The alias the promotion gate moves (training.registry.CHAMPION).
CHAMPION = "champion"


@dataclass(frozen=True)
class ServedModel:
    """A loaded version; never mutated, so holding a reference to it is a consistent view."""

    model_name: str
    version: str
    model: RiskModel
    loaded_at: datetime


@dataclass(frozen=True)
class FollowerState:
    """What the follower serves and what happened at its last check."""

    served: ServedModel | None
    champion: str | None  # the version the alias named at the last successful check
    checked_at: datetime | None
    error: str | None  # why the last check could not serve the champion; None if it could


Loader = Callable[[str, str, str], RiskModel]


def compiling_loader(cache_dir: Path | None) -> Loader:
    """Load a version from the registry and compile its boosters into ``cache_dir`` (None:
    predict with LightGBM). Compiling happens here, before the swap, so no request waits
    for it; a version compiled before is read from the cache."""

    def load(tracking_uri: str, model_name: str, version: str) -> RiskModel:
        model = load_version(tracking_uri, model_name, version)
        return model if cache_dir is None else compiled_if_possible(model, cache_dir)

    return load


class ModelFollower:
    """Serves the champion of ``model_name`` from the registry at ``tracking_uri``."""

    def __init__(
        self,
        tracking_uri: str,
        model_name: str,
        poll_seconds: float,
        loader: Loader = load_version,
        after_swap: Callable[[], None] | None = None,
    ) -> None:
        self.tracking_uri = tracking_uri
        self.model_name = model_name
        self.poll_seconds = poll_seconds
        self._loader = loader
        self._after_swap = after_swap
        self._state = FollowerState(None, None, None, None)
        self._check_lock = threading.Lock()  # one check at a time; reads never wait on it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> FollowerState:
        return self._state

    @property
    def served(self) -> ServedModel | None:
        """The model to answer with now (one attribute read: atomic under the GIL)."""
        return self._state.served

    def check(self) -> FollowerState:
        """Ask the registry for the champion; load and swap if it is not the one served."""
        with self._check_lock:
            served = self._state.served
            now = datetime.now(UTC)
            missing = self._missing_registry_file()
            if missing is not None:
                return self._keep(
                    served, None, now, f"no model registry at {missing} yet: run `calle train`"
                )
            try:
                champion = self._champion_version()
            except MlflowException as error:
                return self._keep(served, None, now, f"the model registry did not answer: {error}")
            if champion is None:
                return self._keep(
                    served, None, now, f"{self.model_name} has no champion in the registry"
                )
            if served is not None and served.version == champion:
                return self._keep(served, champion, now, None)
            try:
                model = self._loader(self.tracking_uri, self.model_name, champion)
            except Exception as error:  # any failure to load must leave the served model
                return self._keep(
                    served,
                    champion,
                    now,
                    f"{self.model_name} version {champion} failed to load: "
                    f"{type(error).__name__}: {error}",
                )
            fresh = ServedModel(self.model_name, champion, model, datetime.now(UTC))
            log.info(
                "now serving %s version %s (was %s)",
                self.model_name,
                champion,
                "none" if served is None else served.version,
            )
            self._state = FollowerState(fresh, champion, now, None)
            if self._after_swap is not None:
                self._after_swap()
            return self._state

    def _missing_registry_file(self) -> Path | None:
        """The embedded registry's file, if it does not exist yet. Asking MLflow would create
        it, running MLflow's own migrations from this thread: a service must never write a
        registry it only reads (and Alembic, process-wide, must not run on two threads)."""
        url = make_url(self.tracking_uri) if "://" in self.tracking_uri else None
        if url is None or url.get_backend_name() != "sqlite" or not url.database:
            return None
        path = Path(url.database)
        return None if path.exists() else path

    def _champion_version(self) -> str | None:
        client = MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)
        try:
            return str(client.get_model_version_by_alias(self.model_name, CHAMPION).version)
        except MlflowException as error:
            if error.error_code in {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}:
                return None
            raise

    def _keep(
        self, served: ServedModel | None, champion: str | None, now: datetime, error: str | None
    ) -> FollowerState:
        if error is not None:
            serving = "nothing" if served is None else f"version {served.version}"
            log.warning("model check: %s; still serving %s", error, serving)
        self._state = FollowerState(served, champion, now, error)
        return self._state

    def start(self) -> None:
        """Check at once, then every ``poll_seconds`` (0: only on request), in a daemon thread.

        The first load happens in the background too, so a slow or unreachable registry
        never keeps the service from starting; ``/ready`` says when a model is there.
        """
        self._thread = threading.Thread(
            target=self._follow, name="calle-model-follower", daemon=True
        )
        self._thread.start()

    def _follow(self) -> None:
        while True:
            try:
                self.check()
            except Exception:  # the thread must outlive any surprise; the next check retries
                log.exception("model check failed unexpectedly")
            if self.poll_seconds <= 0 or self._stop.wait(self.poll_seconds):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=120)  # a load in progress finishes; none outlives the app
