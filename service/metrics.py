"""Prometheus metrics: requests, latencies, the model version served, the snapshot's age.

The model figures (``calle_model_served_info``, ``calle_model_update_failing``) come from
the model follower; alert on the second to learn that a new champion did not load.

Each app has its own registry (no process-wide state), so two apps in one process, as
in the tests, count separately. The snapshot figures are read from the store when
Prometheus scrapes, so they are never stale.

With ``calle serve --workers N`` a scrape reaches one worker at random, so request counts
and latencies are kept in prometheus_client's multiprocess files (a directory the serving
command empties and names in ``PROMETHEUS_MULTIPROC_DIR`` before the workers start) and
every scrape sums all workers; the model figures are those of the worker that answers.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import values as metric_values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from calle.store import schema
from service.auth import ApiKey, require
from service.roles import Role
from service.timestamps import as_utc

router = APIRouter(tags=["operations"])


class _SnapshotCollector(Collector):
    """Which snapshot and model version the service answers from, and how old it is."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._served_model()
        engine = getattr(self.app.state, "engine", None)
        if engine is None:  # not started yet: nothing to report
            return
        table = schema.score_snapshots
        with engine.connect() as connection:
            row = connection.execute(
                sa.select(table.c.snapshot_id, table.c.model_version, table.c.created_at)
                .order_by(table.c.created_at.desc(), table.c.snapshot_id.desc())
                .limit(1)
            ).one_or_none()
        if row is None:
            return
        info = GaugeMetricFamily(
            "calle_snapshot_info",
            "The snapshot served and the model version that scored it (value 1).",
            labels=["snapshot_id", "model_version"],
        )
        info.add_metric([row.snapshot_id, str(row.model_version)], 1.0)
        yield info
        age = datetime.now(UTC) - as_utc(row.created_at)
        yield GaugeMetricFamily(
            "calle_snapshot_age_seconds",
            "Seconds since the snapshot served was scored.",
            value=age.total_seconds(),
        )

    def _served_model(self) -> Iterator[GaugeMetricFamily]:
        follower = getattr(self.app.state, "model_follower", None)
        if follower is None:
            return
        state = follower.state
        if state.served is not None:
            info = GaugeMetricFamily(
                "calle_model_served_info",
                "The registered model version POST /score answers with (value 1).",
                labels=["model_name", "model_version"],
            )
            info.add_metric([state.served.model_name, state.served.version], 1.0)
            yield info
        yield GaugeMetricFamily(
            "calle_model_update_failing",
            "1 while the last registry check could not serve the champion, else 0.",
            value=0.0 if state.error is None else 1.0,
        )


MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def prepare_worker_metrics(directory: Path) -> None:
    """An empty directory for the workers' shared counts, named in the environment the
    workers inherit (counts of an earlier run would otherwise be summed in)."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROCESS_DIR] = str(directory)


def _shared_across_processes() -> bool:
    """Whether this process's counters live in the multiprocess files: prometheus_client
    decides when it is first imported, by the environment."""
    return bool(getattr(metric_values.ValueClass, "_multiprocess", False))


class ServiceMetrics:
    def __init__(self, app: FastAPI) -> None:
        self.registry = CollectorRegistry()
        shared = _shared_across_processes()
        # shared counters are exposed through the files, not through an app's registry
        own = None if shared else self.registry
        self.requests = Counter(
            "calle_requests",
            "HTTP requests answered, by route template and status.",
            ["method", "route", "status"],
            registry=own,
        )
        self.latency = Histogram(
            "calle_request_seconds",
            "Time to answer, by route template.",
            ["method", "route"],
            registry=own,
        )
        if shared:
            MultiProcessCollector(self.registry)
        self.registry.register(_SnapshotCollector(app))


def route_template(scope: Scope) -> str:
    """The matched route's full template, e.g. ``/api/v1/employers/{employer_id}/risk``.

    Routers included under a prefix keep their path relative to it, so the prefix is taken
    from the request's own leading segments (prefixes hold no parameters).
    """
    route = scope.get("route")
    relative = getattr(route, "path", None)
    if relative is None:
        return "unmatched"
    segments = str(scope.get("path", "")).rstrip("/").split("/")
    depth = len(relative.rstrip("/").split("/"))
    prefix = "/".join(segments[: max(1, len(segments) - depth + 1)])
    return f"{prefix}{relative}"


class _RequestMetrics:
    """Pure ASGI middleware (Starlette's ``BaseHTTPMiddleware`` re-wraps every body and
    response, which costs milliseconds on a large scoring batch)."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            template = route_template(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)


def install_metrics(app: FastAPI) -> None:
    """Count and time every request by its route template (never the raw path: ids in
    paths would make one series per workplace)."""
    metrics = ServiceMetrics(app)
    app.state.metrics = metrics
    app.add_middleware(_RequestMetrics, metrics=metrics)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="Requests, latencies, the model version served and the snapshot's age, in "
    "Prometheus' text format. Roles: data_scientist, admin.",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
def metrics_endpoint(
    request: Request,
    _key: Annotated[ApiKey, Depends(require(Role.data_scientist))],
) -> Response:
    metrics: ServiceMetrics = request.app.state.metrics
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
