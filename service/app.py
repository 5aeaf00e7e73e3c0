"""The application factory: one FastAPI app per call, nothing built at import.

The store is opened (and its schema upgraded) when the app starts and disposed when it
stops; routes reach it and the settings through :mod:`service.dependencies`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from anyio import to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from calle.offices import load_office_areas
from calle.settings import Settings
from calle.store import open_store
from service import audit, employers, events, health, metrics, plans, rankings, registry, score
from service.heap import freeze_long_lived_objects
from service.model_follower import ModelFollower, compiling_loader
from service.peer_rate_cache import PeerRateCache
from service.problems import install_handlers
from service.read_cache import ServiceCaches
from service.reasons_on_read import SnapshotFeatureChunks, SnapshotPeerRates
from service.reasons_writer import ReasonsWriter
from service.snapshot_warmup import SnapshotWarmer
from service.ui import pages

API_PREFIX = "/api/v1"
UI_FILES = Path(pages.__file__).parent


def create_app(settings: Settings) -> FastAPI:
    """A CALLE service over the store that ``settings`` names, scoring with the champion of
    the registry that ``settings.tracking_uri`` names."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # this event loop's pool for synchronous endpoints and dependencies (anyio's
        # default is 40): fewer threads interleave fewer requests on the GIL
        to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        app.state.engine = open_store(settings)
        follower = ModelFollower(
            settings.tracking_uri,
            registry.MODEL_NAME,
            settings.model_poll_seconds,
            compiling_loader(settings.compiled_trees_dir if settings.compiled_trees else None),
            freeze_long_lived_objects if settings.freeze_heap else None,
        )
        app.state.model_follower = follower
        follower.start()
        warmer = SnapshotWarmer(
            app.state.engine, app.state.caches.ranked, settings.snapshot_poll_seconds
        )
        warmer.start()
        app.state.reasons_writer = ReasonsWriter(app.state.engine)
        app.state.reasons_writer.start()
        try:
            yield
        finally:
            app.state.reasons_writer.stop()  # what it holds is stored before the store closes
            warmer.stop()
            follower.stop()
            app.state.engine.dispose()

    app = FastAPI(
        title="CALLE",
        summary="Ranked, explainable labor-inspection risk for planners and case management.",
        version="1",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.office_areas = load_office_areas(settings.offices_file)  # a bad file: no app
    app.state.peer_rates = PeerRateCache(settings.peer_rates_max_age_seconds)
    app.state.snapshot_peer_rates = SnapshotPeerRates()
    app.state.snapshot_feature_chunks = SnapshotFeatureChunks()
    app.state.caches = ServiceCaches.from_settings(settings)
    install_handlers(app)
    metrics.install_metrics(app)
    app.include_router(health.router)
    app.include_router(rankings.router, prefix=API_PREFIX)
    app.include_router(employers.router, prefix=API_PREFIX)
    app.include_router(registry.router, prefix=API_PREFIX)
    app.include_router(audit.router, prefix=API_PREFIX)
    app.include_router(score.router, prefix=API_PREFIX)
    app.include_router(events.router, prefix=API_PREFIX)
    app.include_router(plans.router, prefix=API_PREFIX)
    app.include_router(metrics.router, prefix=API_PREFIX)
    app.state.ui_templates = Jinja2Templates(directory=UI_FILES / "templates")
    app.mount(f"{pages.PREFIX}/static", StaticFiles(directory=UI_FILES / "static"), "ui-static")
    app.include_router(pages.router)
    app.add_exception_handler(pages.SignInRequired, pages.sign_in_redirect)
    return app
