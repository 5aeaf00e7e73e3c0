"""The app as uvicorn's worker processes build it: settings read from the environment.

``calle serve --workers N`` hands uvicorn this factory by import path (``service.asgi:app``)
because each worker is a fresh process and must build its own app, store connections and
model follower; with one worker ``calle serve`` builds the app itself.
"""

from __future__ import annotations

from fastapi import FastAPI

from calle.logging_setup import configure_logging
from calle.settings import Settings
from service.app import create_app


def app() -> FastAPI:
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)
